/* What h2_conn.h promises of every exchange it reports, whatever frames
 * came: the fuzz targets of the HTTP/2 layers check it in their sinks.
 * ctx: the struct h2_limits the connection was made with. */
#ifndef USM_FUZZ_H2_EXCHANGE_CHECK_H
#define USM_FUZZ_H2_EXCHANGE_CHECK_H

#include <assert.h>
#include <string.h>

#include "h2_conn.h"

static void check_exchange(void *ctx, const struct h2_exchange *e)
{
	const struct h2_limits *lim = ctx;
	assert(e->path_len <= lim->max_path_len && strlen(e->path) == e->path_len);
	assert(e->status >= 100 && e->status <= 599);
	assert(e->grpc_status >= -1 && e->grpc_status <= 16);
	assert(e->method < USM_HTTP_METHOD_COUNT);
}

#endif
