/* The status page served on / and /status.  It is kept as plain HTML in
 * status_page.html (edit that file); the build turns it into the string
 * literal status_page.inc (Makefile.am), so the binary needs no file at
 * run time and the page no asset from elsewhere. */
#include "stats_http.h"

static const char page[] =
#include "status_page.inc"
	;

const char *stats_http_page(size_t *len)
{
	*len = sizeof(page) - 1;
	return page;
}
