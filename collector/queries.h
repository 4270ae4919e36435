/* The collector's request table: every request apid may make. The codec
 * checked sizes and fields; handlers check meaning (cursors). */
#ifndef USM_COLLECTOR_QUERIES_H
#define USM_COLLECTOR_QUERIES_H

#include <stddef.h>

#include "ipc_socket.h"

extern const struct usm_ipc_route collector_routes[];
extern const size_t collector_nroutes;

#endif
