/* The runtime directory: RUNTIME_DIR/ (root:root 0755, writable by
 * nobody else), privd/ (<bpf uid>:<collector gid> 2750, privd.ipc 0660)
 * and collector/ (<collector uid>:<api gid> 2750, collector.ipc 0660):
 * only the collector's group reaches privd's socket and only apid's
 * reaches the collector's; each socket's owner binds it in a directory it
 * owns. The peer-uid checks are the second wall. Prepared while privd
 * still has its start-up capabilities. */
#ifndef USM_PRIVD_RUNTIME_DIR_H
#define USM_PRIVD_RUNTIME_DIR_H

#include <sys/types.h>

#define USM_PRIVD_SOCKET "privd/privd.ipc"
#define USM_COLLECTOR_SOCKET "collector/collector.ipc"

/* Creates (or cleans and re-creates) the tree. Refuses a runtime_dir that
 * is a symlink, not a directory, not owned by root or writable by others. */
int runtime_dir_prepare(const char *dir, uid_t bpf_uid, uid_t collector_uid, gid_t collector_gid,
			gid_t api_gid);

/* Removes the subdirectories and their sockets, then the directory if it
 * is empty. Best effort; logs what it could not remove. */
void runtime_dir_remove(const char *dir);

#endif
