#include "dashboard.h"

/* Generated from dashboard.html by scripts/embed_text.py (apid/meson.build). */
extern const char usm_dashboard_html[];
extern const unsigned long usm_dashboard_html_len;

/* 'unsafe-inline': the script and styles are in the page itself (one
 * file, nothing else to serve); the page writes text from the network
 * with textContent only, never as markup, so nothing injected runs. */
const char *const dashboard_headers[] = {
	"Content-Security-Policy",
	"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
	"img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
	"frame-ancestors 'none'",
	"X-Content-Type-Options", "nosniff",
	"Referrer-Policy", "no-referrer",
	/* A new usm may serve a new page: always ask. */
	"Cache-Control", "no-cache",
	NULL,
};

const char *dashboard_page(size_t *len)
{
	*len = usm_dashboard_html_len;
	return usm_dashboard_html;
}
