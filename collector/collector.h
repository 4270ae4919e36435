/* The collector's state, shared by its main loop and its query handlers. */
#ifndef USM_COLLECTOR_H
#define USM_COLLECTOR_H

#include <stdint.h>

#include "config.h"
#include "ipc_socket.h"
#include "monitor.h"

struct collector {
	struct usm_config cfg;
	struct monitor monitor;
	struct usm_ipc_server api_server; /* apid's requests */
	struct usm_ipc_client privd;      /* our requests to privd */
	uint64_t privd_call_failures;
};

#endif
