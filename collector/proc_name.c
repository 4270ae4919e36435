/* Checking the names a process chose (contract in proc_name.h). */
#include "proc_name.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int proc_name_service(const char *raw, size_t cap, char out[USM_SERVICE_MAX])
{
	out[0] = '\0';
	size_t n = strnlen(raw, cap);
	if (n == 0)
		return -ENOENT;
	if (n == cap || n >= USM_SERVICE_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)raw[i] < 0x20 || (unsigned char)raw[i] == 0x7f)
			return -EILSEQ;
	memcpy(out, raw, n + 1);
	return 0;
}

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int proc_name_container_id(const char *name, char out[USM_CONTAINER_ID_MAX])
{
	static const char scope[] = ".scope";
	size_t n = strlen(name);
	if (n >= sizeof(scope) - 1 && strcmp(name + n - (sizeof(scope) - 1), scope) == 0)
		n -= sizeof(scope) - 1;
	if (n < USM_CONTAINER_ID_LEN)
		return -ENOENT;
	const char *id = name + n - USM_CONTAINER_ID_LEN;
	if ((id != name && id[-1] != '-') || !lower_hex(id, USM_CONTAINER_ID_LEN))
		return -ENOENT;
	memset(out, 0, USM_CONTAINER_ID_MAX);
	memcpy(out, id, USM_CONTAINER_ID_LEN);
	return 0;
}

static const char *service_var(uint8_t from)
{
	return from == USM_SERVICE_OTEL ? "OTEL_SERVICE_NAME" : "DD_SERVICE";
}

int proc_name_from_event(const struct usm_proc_event *e, struct proc_name *out, char *why,
			 size_t why_cap)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (why && why_cap)
		why[0] = '\0';
	if (e->service_from != USM_SERVICE_NONE) {
		int s = proc_name_service(e->service, sizeof(e->service), out->service);
		if (s == -E2BIG || s == -EILSEQ) {
			rc = s;
			if (why)
				snprintf(why, why_cap, "%s %s", service_var(e->service_from),
					 s == -E2BIG ? "longer than 63 bytes"
						     : "holds a control character");
		}
	}
	for (int l = 0; l < USM_CGROUP_LEVELS; l++) {
		if (!memchr(e->cgroup[l], '\0', sizeof(e->cgroup[l]))) {
			if (rc == 0 && why)
				snprintf(why, why_cap, "cgroup name %d is not terminated", l);
			rc = rc ? rc : -EINVAL;
			break;
		}
		if (proc_name_container_id(e->cgroup[l], out->container_id) == 0)
			break;
	}
	return rc;
}
