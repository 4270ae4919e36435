/* One-line messages for the caller to print: every usmctl function that
 * can fail writes its reason into a caller's buffer this way. */
#ifndef USMCTL_MESSAGE_H
#define USMCTL_MESSAGE_H

#include <stddef.h>

/* Formats into err (cap bytes, cut if need be) and returns rc. */
int message(int rc, char *err, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
