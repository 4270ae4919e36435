#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "exit_status.h"
#include "format_docs.h"
#include "format_table.h"
#include "snapshot.h"

int cmd_fail(int status, const char *msg)
{
	fprintf(stderr, "usmctl: %s\n", msg);
	return status;
}

int cmd_print_json(json_object *doc)
{
	/* As apid writes it: "/a", not "\/a". */
	const char *text = json_object_to_json_string_ext(
		doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		return cmd_fail(USMCTL_EFAIL, "out of memory");
	if (printf("%s\n", text) < 0 || fflush(stdout) != 0)
		return cmd_fail(USMCTL_EFAIL, "cannot write to standard output");
	return USMCTL_OK;
}

void cmd_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL); /* a signal cuts it short: the caller checks its flag */
}

/* A formatter's result as an exit status. */
static int formatted(int rc, const struct api *a, const char *why)
{
	if (rc == -EBADMSG) {
		char msg[API_ERROR_MAX + 340];
		snprintf(msg, sizeof(msg), "unexpected JSON from %s: %s", a->where, why);
		return cmd_fail(USMCTL_EMALFORMED, msg);
	}
	if (rc != 0)
		return cmd_fail(USMCTL_EFAIL, "cannot write to standard output");
	return fflush(stdout) == 0 ? USMCTL_OK
				   : cmd_fail(USMCTL_EFAIL, "cannot write to standard output");
}

int cmd_status(struct api *a, const struct usmctl_opts *o)
{
	char err[API_ERROR_MAX];
	json_object *stats, *health;
	int rc = api_get(a, "/usm/stats", 0, &stats, err, sizeof(err));
	if (rc != USMCTL_OK)
		return cmd_fail(rc, err);
	/* 503 is /health's answer when a process is down: a document still. */
	if ((rc = api_get(a, "/health", 503, &health, err, sizeof(err))) != USMCTL_OK) {
		json_object_put(stats);
		return cmd_fail(rc, err);
	}
	if (o->json) {
		json_object *both = json_object_new_object();
		if (!both) {
			json_object_put(stats);
			json_object_put(health);
			return cmd_fail(USMCTL_EFAIL, "out of memory");
		}
		json_object_object_add(both, "stats", stats);
		json_object_object_add(both, "health", health);
		rc = cmd_print_json(both);
		json_object_put(both);
		return rc;
	}
	rc = format_status(stdout, a->where, stats, health, time(NULL), err, sizeof(err));
	json_object_put(stats);
	json_object_put(health);
	return formatted(rc, a, err);
}

typedef int (*doc_format_fn)(FILE *f, json_object *doc, char *err, size_t cap);

static int show_document(struct api *a, const struct usmctl_opts *o, const char *target,
			 doc_format_fn format)
{
	char err[API_ERROR_MAX];
	json_object *doc;
	int rc = api_get(a, target, 0, &doc, err, sizeof(err));
	if (rc != USMCTL_OK)
		return cmd_fail(rc, err);
	if (o->json)
		rc = cmd_print_json(doc);
	else
		rc = formatted(format(stdout, doc, err, sizeof(err)), a, err);
	json_object_put(doc);
	return rc;
}

int cmd_traced(struct api *a, const struct usmctl_opts *o)
{
	return show_document(a, o, "/debug/usm/traced_programs", format_traced);
}

int cmd_blocked(struct api *a, const struct usmctl_opts *o)
{
	return show_document(a, o, "/debug/usm/blocked_processes", format_blocked);
}

int cmd_stats(struct api *a, const struct usmctl_opts *o)
{
	char err[API_ERROR_MAX], target[1024];
	if (api_http_stats_target(o->path, target, sizeof(target)) != 0)
		return cmd_fail(USMCTL_EUSAGE, "--path is too long");
	struct snapshot before, now;
	int rc = snapshot_read(a, target, &before, err, sizeof(err));
	if (rc != USMCTL_OK)
		return cmd_fail(rc, err);
	cmd_sleep_ms(o->interval_ms);
	if ((rc = snapshot_read(a, target, &now, err, sizeof(err))) != USMCTL_OK) {
		snapshot_free(&before);
		return cmd_fail(rc, err);
	}
	struct table services = {0}, endpoints = {0};
	if (snapshot_tables(&now, &before, o->sort, &services, &endpoints) != 0) {
		rc = cmd_fail(USMCTL_EFAIL, "out of memory");
	} else if (o->json) {
		json_object *doc = table_to_json(&services, &endpoints,
						 snapshot_interval(&now, &before), o->sort);
		rc = doc ? cmd_print_json(doc) : cmd_fail(USMCTL_EFAIL, "out of memory");
		json_object_put(doc);
	} else {
		rc = formatted(format_tables(stdout, &services, &endpoints), a, "");
	}
	table_free(&services);
	table_free(&endpoints);
	snapshot_free(&now);
	snapshot_free(&before);
	return rc;
}
