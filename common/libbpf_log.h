/* libbpf's messages through usm's log: warnings as warnings, debug
 * output only at log_level = debug (the BPF owner loading and linking
 * programs, the collector reading its ring buffers). */
#ifndef USM_LIBBPF_LOG_H
#define USM_LIBBPF_LOG_H

void usm_libbpf_log_init(void);

#endif
