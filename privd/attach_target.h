/* ATTACH's identity check: "the file pid P sees at path X" must be a file
 * P really uses, before anything about it is read or answered.
 *
 * attach_target_open() opens X with O_PATH (which reads nothing: a FIFO
 * or device is not opened for I/O) relative to /proc/P/root, fstat()s it,
 * and accepts it only if its (dev, inode) is P's executable or a file P
 * maps (/proc/P/maps, bounded, see proc_read.h). Every failure of that
 * check, a path that does not exist included, is the same -EPERM, so a
 * refusal tells the asker nothing about the file. Path resolution needs
 * no trust: whatever the path resolves to must pass the (dev, inode)
 * check, which names one file on the host.
 *
 * Returns the O_PATH fd (st filled), -EPERM (refused), or -ESRCH (no such
 * process). */
#ifndef USM_PRIVD_ATTACH_TARGET_H
#define USM_PRIVD_ATTACH_TARGET_H

#include <stdint.h>
#include <sys/stat.h>

int attach_target_open(uint32_t pid, const char *path, struct stat *st);

#endif
