#include "data_event.h"

#include <string.h>
#include <sys/socket.h>

static int tuple_valid(const struct usm_conn_tuple *t)
{
	if (t->family == 0)
		return 1;
	return (t->family == AF_INET || t->family == AF_INET6) && t->lport != 0 &&
	       t->rport != 0;
}

enum data_event_error data_event_check(const void *rec, size_t size, const uint8_t **data)
{
	const struct usm_data_event *e = rec;
	if (size < sizeof(*e))
		return DATA_EVENT_SHORT;
	if (e->type != USM_EVENT_DATA && e->type != USM_EVENT_CONN_CLOSE &&
	    e->type != USM_EVENT_CONN_BIND)
		return DATA_EVENT_BAD_TYPE;
	if (e->pid == 0 || e->dir > USM_DIR_WRITE || e->tls > 1 ||
	    memchr(e->comm, '\0', sizeof(e->comm)) == NULL || !tuple_valid(&e->tuple))
		return DATA_EVENT_BAD_FIELD;
	if (e->captured > e->len || e->captured > USM_CAPTURE_MAX ||
	    e->captured > size - sizeof(*e) || (e->type != USM_EVENT_DATA && e->len != 0) ||
	    (e->type == USM_EVENT_DATA && e->len == 0))
		return DATA_EVENT_BAD_LENGTH;
	/* a DATA record stands for the call's bytes [offset, next), its
	 * captured ones first; other records for none */
	if (e->type == USM_EVENT_DATA
		    ? e->offset >= e->len || e->next > e->len || e->next <= e->offset ||
			      e->next - e->offset < e->captured
		    : e->offset != 0 || e->next != 0)
		return DATA_EVENT_BAD_LENGTH;
	if (e->type == USM_EVENT_CONN_BIND && (e->tls != 1 || e->tuple.family == 0))
		return DATA_EVENT_BAD_FIELD; /* a bind says which socket a TLS session uses */
	*data = e->data;
	return DATA_EVENT_OK;
}

const char *data_event_error_name(enum data_event_error e)
{
	static const char *const names[] = {"ok", "short", "bad type", "bad field", "bad length"};
	return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "unknown";
}
