#include "format_table.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "http_rows.h"

#define LINE_MAX_BYTES (HTTP_ROW_PATH_MAX + HTTP_ROW_SERVICE_MAX + 3 * HTTP_ROW_TEXT_MAX + 128)

/* Cuts the line at width bytes, backing off over UTF-8 continuation
 * bytes so that no character is split. */
static size_t cut(char *out, size_t len, size_t width)
{
	if (width == 0 || len <= width)
		return len;
	len = width;
	while (len > 0 && ((unsigned char)out[len] & 0xc0) == 0x80)
		len--;
	out[len] = '\0';
	return len;
}

/* snprintf's length, clamped to what is in out. */
static size_t written(int n, size_t cap)
{
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

#define COLUMNS "%-16s %-21s %9s %10s %8s %6s %9s %9s"

size_t format_table_header(enum table_level level, char *out, size_t cap, size_t width)
{
	size_t n = written(snprintf(out, cap, COLUMNS, "SERVICE", "SERVER", "REQ/S", "COUNT",
				    "ERRORS", "ERR%", "P50_MS", "P99_MS"),
			   cap);
	if (level == TABLE_ENDPOINTS)
		n += written(snprintf(out + n, cap - n, " %-7s %s", "METHOD", "PATH"), cap - n);
	return cut(out, n, width);
}

/* v with that many decimals, "-" when unknown (NAN). */
static void number(double v, int decimals, char *out, size_t cap)
{
	if (isnan(v))
		snprintf(out, cap, "-");
	else
		snprintf(out, cap, "%.*f", decimals, v);
}

size_t format_table_row(const struct table_row *r, enum table_level level, char *out, size_t cap,
			size_t width)
{
	char rate[32], count[32], errors[32], share[32], p50[32], p99[32];
	number(r->rate, 1, rate, sizeof(rate));
	snprintf(count, sizeof(count), "%llu", (unsigned long long)r->count);
	snprintf(errors, sizeof(errors), "%llu", (unsigned long long)r->errors);
	number(r->count ? 100.0 * (double)r->errors / (double)r->count : NAN, 1, share,
	       sizeof(share));
	number(r->p50_ms, 2, p50, sizeof(p50));
	number(r->p99_ms, 2, p99, sizeof(p99));
	size_t n = written(snprintf(out, cap, COLUMNS, r->key->service, r->key->server, rate, count,
				    errors, share, p50, p99),
			   cap);
	if (level == TABLE_ENDPOINTS)
		n += written(snprintf(out + n, cap - n, " %-7s %s", r->key->method, r->key->path),
			     cap - n);
	return cut(out, n, width);
}

static int lines(FILE *f, const char *title, const struct table *t)
{
	char line[LINE_MAX_BYTES];
	if (fprintf(f, "%s\n", title) < 0)
		return -EIO;
	format_table_header(t->level, line, sizeof(line), 0);
	if (fprintf(f, "%s\n", line) < 0)
		return -EIO;
	for (size_t i = 0; i < t->n; i++) {
		format_table_row(&t->v[i], t->level, line, sizeof(line), 0);
		if (fprintf(f, "%s\n", line) < 0)
			return -EIO;
	}
	if (t->n == 0 && fprintf(f, "(no HTTP exchanges seen)\n") < 0)
		return -EIO;
	return 0;
}

int format_tables(FILE *f, const struct table *services, const struct table *endpoints)
{
	int rc = lines(f, "SERVICES", services);
	if (rc == 0 && fputc('\n', f) == EOF)
		rc = -EIO;
	return rc ? rc : lines(f, "ENDPOINTS", endpoints);
}
