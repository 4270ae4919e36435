/* The collector's state, shared by its main loop, discovery and queries. */
#ifndef USM_COLLECTOR_H
#define USM_COLLECTOR_H

#include <stdint.h>

#include "attach_policy.h"
#include "config.h"
#include "http_monitor.h"
#include "ipc_socket.h"
#include "latency.h"
#include "monitor.h"
#include "registry.h"

struct ring_buffer;

struct collector {
	struct usm_config cfg;
	struct attach_policy policy;
	struct monitor monitor;
	struct usm_ipc_server api_server; /* apid's requests */
	struct usm_ipc_client privd;      /* our requests to privd, made by privd_client.c */
	struct registry *registry;
	struct ring_buffer *proc_ring;    /* discovery events, fd 3 from privd */
	struct http_monitor http;
	uint32_t self_pid, privd_pid;     /* usm's own processes, never traced */
	int openssl_set;                  /* probe set for istio/nodejs executables, -1 none */
	int gotls_set;                    /* probe set for Go executables, -1 none */
	uint64_t counters[USM_CTR_COUNT]; /* those the collector itself counts */
	struct usm_privd_status kernel;   /* privd's last STATUS answer */
	struct latency_window attach_latency; /* event -> probes live, new files */
	int last_attach_rc;               /* privd's answer to the latest ATTACH */
	struct attach_retry *retries;     /* libraries refused before they were mapped */
	unsigned nretries;
};

#include "monotonic.h"


#endif
