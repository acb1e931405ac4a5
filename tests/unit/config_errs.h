/* For the configuration suites: every message of a failed load, one per
 * line, for failure reports. */
#ifndef FRONTD_TEST_CONFIG_ERRS_H
#define FRONTD_TEST_CONFIG_ERRS_H

#include <stdio.h>

#include "config.h"

static inline const char *joined(const struct config_errors *errs)
{
	static char buf[8192];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < errs->n && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "\n  %s",
		                        errs->msg[i]);
	return buf;
}

#endif
