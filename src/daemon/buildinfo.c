/* Versions and configure options (see buildinfo.h).  A shared library
 * can be upgraded under a running binary, so both the version the
 * headers said at build time and the one loaded now are shown.  inih
 * exports no version at run time: only its build-time one (pkg-config's,
 * recorded by configure) is known. */
#include "auto-config.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "buildinfo.h"

const char *buildinfo_openssl(void)
{
	return OpenSSL_version(OPENSSL_VERSION_STRING);
}

const char *buildinfo_libevent(void)
{
	return event_get_version();
}

void buildinfo_print(FILE *out)
{
	fprintf(out, "mptcp-frontd %s\n", PACKAGE_VERSION);
	fprintf(out, "libevent: built with %s, running %s\n", LIBEVENT_VERSION,
	        event_get_version());
	fprintf(out, "OpenSSL: built with %s, running %s\n",
	        OPENSSL_VERSION_TEXT, OpenSSL_version(OPENSSL_VERSION));
	fprintf(out, "inih: built with %s (no run-time version)\n",
	        FRONTD_INIH_VERSION);
	fprintf(out, "configure options:%s%s\n",
	        FRONTD_CONFIGURE_ARGS[0] != '\0' ? " " : " (none)",
	        FRONTD_CONFIGURE_ARGS);
}
