/* GET /: usm's dashboard, a single HTML page with its script and styles
 * inline (apid/dashboard.html), built into usm-apid at build time so that
 * apid, which may open no file, can serve it.
 *
 * The page is static: it asks GET /usm/http_stats once a second from the
 * browser and computes rates there, so serving it asks the collector
 * nothing. It is sent with the headers below, whose Content-Security-Policy
 * lets it load nothing but itself and read nothing but this origin's
 * API: no asset from elsewhere, no frame around it, no form posted. */
#ifndef USM_APID_DASHBOARD_H
#define USM_APID_DASHBOARD_H

#include <stddef.h>

#define DASHBOARD_CONTENT_TYPE "text/html; charset=utf-8"

/* Header names and values to send with the page, in pairs, ending with a
 * NULL name. */
extern const char *const dashboard_headers[];

/* The page: len bytes of ASCII (not NUL-terminated as far as the
 * response is concerned), the same for the life of the process. */
const char *dashboard_page(size_t *len);

#endif
