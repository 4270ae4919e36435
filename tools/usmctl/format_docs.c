#include "format_docs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "message.h"

/* A member of the given type (json-c calls a JSON null absent). */
static json_object *get(json_object *o, const char *key, json_type type)
{
	json_object *v;
	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

static const char *string_or(json_object *o, const char *key, const char *dflt)
{
	json_object *v = get(o, key, json_type_string);
	return v ? json_object_get_string(v) : dflt;
}

/* "3d04h", "2h03m", "5m07s", "42s" */
static void duration(int64_t s, char *out, size_t cap)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, cap, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, cap, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, cap, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else
		snprintf(out, cap, "%" PRId64 "s", s);
}

static int print_process(FILE *f, json_object *p, time_t now)
{
	json_object *pid = get(p, "pid", json_type_int), *up = get(p, "up_since", json_type_int);
	json_object *restarts = get(p, "restarts", json_type_int);
	json_object *last_exit = get(p, "last_exit", json_type_int);
	char since[32] = "";
	if (up && json_object_get_int64(up) > 0)
		duration((int64_t)now - json_object_get_int64(up), since, sizeof(since));
	int n = fprintf(f, "  %-15s %-11s", string_or(p, "name", "?"), string_or(p, "state", "?"));
	if (n >= 0 && pid)
		n = fprintf(f, " pid %-8" PRId64, json_object_get_int64(pid));
	if (n >= 0 && since[0])
		n = fprintf(f, " up %-7s", since);
	if (n >= 0 && restarts)
		n = fprintf(f, " restarts %" PRId64, json_object_get_int64(restarts));
	if (n >= 0 && last_exit)
		n = fprintf(f, " last exit %" PRId64, json_object_get_int64(last_exit));
	return n < 0 || fputc('\n', f) == EOF ? -EIO : 0;
}

static int print_health(FILE *f, json_object *health, time_t now, char *err, size_t cap)
{
	json_object *procs = get(health, "processes", json_type_array);
	if (!get(health, "status", json_type_string) || !procs)
		return message(-EBADMSG, err, cap,
			       "/health: expected {\"status\", \"processes\": [...]}");
	if (fprintf(f, "processes (%s):\n", string_or(health, "status", "?")) < 0)
		return -EIO;
	for (size_t i = 0; i < json_object_array_length(procs); i++) {
		json_object *p = json_object_array_get_idx(procs, i);
		if (!get(p, "name", json_type_string) || !get(p, "state", json_type_string))
			return message(-EBADMSG, err, cap,
				       "/health: process %zu has no name or state", i);
		if (print_process(f, p, now) != 0)
			return -EIO;
	}
	return 0;
}

/* Files in /debug/usm/blocked_processes's shape: the sum of each group's
 * PathIdentifiers; -1 when the shape is not that. */
static long blocked_count(json_object *groups)
{
	long n = 0;
	for (size_t i = 0; i < json_object_array_length(groups); i++) {
		json_object *ids = get(json_object_array_get_idx(groups, i), "PathIdentifiers",
				       json_type_array);
		if (!ids)
			return -1;
		n += (long)json_object_array_length(ids);
	}
	return n;
}

static int print_counters(FILE *f, json_object *counters)
{
	int col = 0;
	json_object_object_foreach(counters, name, value)
	{
		if (!json_object_is_type(value, json_type_int))
			continue;
		if (fprintf(f, "  %-28s %12" PRId64, name, json_object_get_int64(value)) < 0)
			return -EIO;
		if (++col == 2) {
			col = 0;
			if (fputc('\n', f) == EOF)
				return -EIO;
		}
	}
	return col && fputc('\n', f) == EOF ? -EIO : 0;
}

int format_status(FILE *f, const char *where, json_object *stats, json_object *health, time_t now,
		  char *err, size_t cap)
{
	json_object *traced = get(stats, "traced_programs", json_type_array);
	json_object *blocked = get(stats, "blocked_processes", json_type_array);
	json_object *check = get(stats, "last_check", json_type_int);
	json_object *counters = get(stats, "counters", json_type_object);
	long nblocked = blocked ? blocked_count(blocked) : -1;
	if (!get(stats, "state", json_type_string) || !traced || nblocked < 0)
		return message(-EBADMSG, err, cap,
			       "/usm/stats: expected {\"state\", \"traced_programs\": [...], "
			       "\"blocked_processes\": [...]}");
	if (fprintf(f, "usm at %s: %s\n", where, string_or(stats, "state", "?")) < 0)
		return -EIO;
	const char *error = string_or(stats, "error", NULL);
	if (error && fprintf(f, "error: %s\n", error) < 0)
		return -EIO;
	int rc = health ? print_health(f, health, now, err, cap) : 0;
	if (rc != 0)
		return rc;
	if (fprintf(f, "traced files: %zu, blocked files: %ld\n", json_object_array_length(traced),
		    nblocked) < 0)
		return -EIO;
	char ago[32];
	duration(check ? (int64_t)now - json_object_get_int64(check) : 0, ago, sizeof(ago));
	if (check && json_object_get_int64(check) > 0 &&
	    fprintf(f, "last check: %s ago\n", ago) < 0)
		return -EIO;
	if (counters && (fprintf(f, "counters:\n") < 0 || print_counters(f, counters) != 0))
		return -EIO;
	return 0;
}

/* "732,1648" with at most FORMAT_PIDS_SHOWN, then "+N". */
static void pid_list(json_object *pids, char *out, size_t cap)
{
	size_t n = json_object_array_length(pids), len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && i < FORMAT_PIDS_SHOWN && len < cap; i++) {
		int w = snprintf(out + len, cap - len, "%s%" PRId64, i ? "," : "",
				 json_object_get_int64(json_object_array_get_idx(pids, i)));
		len += w > 0 ? (size_t)w : 0;
	}
	if (n > FORMAT_PIDS_SHOWN && len < cap)
		snprintf(out + len, cap - len, ",+%zu", n - FORMAT_PIDS_SHOWN);
	if (n == 0)
		snprintf(out, cap, "-");
}

static bool dev_inode(json_object *o, char *out, size_t cap)
{
	json_object *dev = get(o, "Dev", json_type_int), *ino = get(o, "Inode", json_type_int);
	if (!dev || !ino)
		return false;
	snprintf(out, cap, "%" PRId64 ":%" PRId64, json_object_get_int64(dev),
		 json_object_get_int64(ino));
	return true;
}

int format_traced(FILE *f, json_object *traced, char *err, size_t cap)
{
	if (!json_object_is_type(traced, json_type_array))
		return message(-EBADMSG, err, cap, "traced_programs: expected an array");
	size_t n = json_object_array_length(traced);
	if (fprintf(f, "%-17s %-21s %-8s %-24s %s\n", "TYPE", "DEV:INODE", "RESIDENT", "PIDS",
		    "PATH") < 0)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(traced, i);
		json_object *pids = get(e, "PIDs", json_type_array);
		json_object *resident = get(e, "Resident", json_type_boolean);
		char id[48], list[160];
		if (!get(e, "ProgramType", json_type_string) ||
		    !get(e, "FilePath", json_type_string) || !pids ||
		    !dev_inode(get(e, "PathID", json_type_object), id, sizeof(id)))
			return message(
				-EBADMSG, err, cap,
				"traced_programs[%zu]: expected {\"ProgramType\", \"FilePath\", "
				"\"PIDs\", \"PathID\": {\"Dev\", \"Inode\"}}",
				i);
		pid_list(pids, list, sizeof(list));
		if (fprintf(f, "%-17s %-21s %-8s %-24s %s\n", string_or(e, "ProgramType", ""), id,
			    resident && json_object_get_boolean(resident) ? "yes" : "no", list,
			    string_or(e, "FilePath", "")) < 0)
			return -EIO;
	}
	return fprintf(f, "%zu file%s traced\n", n, n == 1 ? "" : "s") < 0 ? -EIO : 0;
}

int format_blocked(FILE *f, json_object *blocked, char *err, size_t cap)
{
	long n = json_object_is_type(blocked, json_type_array) ? blocked_count(blocked) : -1;
	if (n < 0)
		return message(
			-EBADMSG, err, cap,
			"blocked_processes: expected [{\"ProgramType\", \"PathIdentifiers\": "
			"[...]}]");
	if (fprintf(f, "%-17s %-24s %-21s %s\n", "TYPE", "REASON", "DEV:INODE", "SAMPLE PATH") < 0)
		return -EIO;
	for (size_t g = 0; g < json_object_array_length(blocked); g++) {
		json_object *group = json_object_array_get_idx(blocked, g);
		json_object *ids = get(group, "PathIdentifiers", json_type_array);
		const char *type = string_or(group, "ProgramType", NULL);
		for (size_t i = 0; type && i < json_object_array_length(ids); i++) {
			json_object *e = json_object_array_get_idx(ids, i);
			char id[48];
			if (!dev_inode(e, id, sizeof(id)) || !get(e, "Reason", json_type_string))
				return message(-EBADMSG, err, cap,
					       "blocked_processes[%zu][%zu]: expected {\"Dev\", "
					       "\"Inode\", \"Reason\", \"SamplePath\"}",
					       g, i);
			if (fprintf(f, "%-17s %-24s %-21s %s\n", type, string_or(e, "Reason", ""),
				    id, string_or(e, "SamplePath", "")) < 0)
				return -EIO;
		}
		if (!type)
			return message(-EBADMSG, err, cap,
				       "blocked_processes[%zu]: no \"ProgramType\"", g);
	}
	return fprintf(f, "%ld file%s blocked\n", n, n == 1 ? "" : "s") < 0 ? -EIO : 0;
}
