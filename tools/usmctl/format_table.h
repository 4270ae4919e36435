/* The table of stats and top as lines of text, columns aligned:
 *   SERVICE SERVER REQ/S COUNT ERRORS ERR% P50_MS P99_MS [METHOD PATH]
 * the path last, so that a narrow terminal cuts only paths.
 *
 * Pure. Each function writes one line without its newline into out (cap
 * bytes, always NUL-terminated) and returns its length; width > 0 cuts
 * the line to that many bytes, never inside a UTF-8 character. */
#ifndef USMCTL_FORMAT_TABLE_H
#define USMCTL_FORMAT_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "table.h"

size_t format_table_header(enum table_level level, char *out, size_t cap, size_t width);
size_t format_table_row(const struct table_row *r, enum table_level level, char *out, size_t cap,
			size_t width);

/* Both tables under their titles, as usmctl stats prints them. Returns 0
 * or -errno from the stream. */
int format_tables(FILE *f, const struct table *services, const struct table *endpoints);

#endif
