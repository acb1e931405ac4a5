/* What this binary was built with and what it runs with: the versions of
 * libevent, OpenSSL and inih, and the configure options.  For -V and the
 * build_info sample of /metrics. */
#ifndef FRONTD_BUILDINFO_H
#define FRONTD_BUILDINFO_H

#include <stdio.h>

/* The -V text: one "NAME: built with X, running Y" line per library. */
void buildinfo_print(FILE *out);

/* Run-time versions, short forms for labels: "3.0.11", "2.1.12-stable". */
const char *buildinfo_openssl(void);
const char *buildinfo_libevent(void);

#endif
