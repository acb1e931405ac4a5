#include <stddef.h>

#include "end_reason.h"

static const char *const names[] = {
	[END_CLIENT_CLOSE] = "client_close",
	[END_BACKEND_CLOSE] = "backend_close",
	[END_CLIENT_RESET] = "client_reset",
	[END_BACKEND_RESET] = "backend_reset",
	[END_IDLE_TIMEOUT] = "idle_timeout",
	[END_CONNECT_FAILED] = "connect_failed",
	[END_SHUTDOWN] = "shutdown",
	[END_ERROR] = "error",
	[END_TLS_HANDSHAKE] = "tls_handshake_failed",
	[END_TLS_TIMEOUT] = "tls_handshake_timeout",
	[END_TLS_PROTOCOL] = "tls_protocol",
	[END_PROXY_UNTRUSTED] = "proxy_untrusted",
	[END_PROXY_BAD_HEADER] = "proxy_bad_header",
	[END_PROXY_TIMEOUT] = "proxy_timeout",
	[END_SOURCE_LIMIT] = "source_limit",
};

/* A reason added to the enum without a name fails the build here. */
_Static_assert(sizeof(names) / sizeof(names[0]) == END_REASON_COUNT,
               "every end reason needs its name");

const char *end_reason_name(enum end_reason e)
{
	if ((unsigned)e < END_REASON_COUNT && names[e] != NULL)
		return names[e];
	return "?";
}
