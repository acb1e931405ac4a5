/* LD_PRELOAD shim for wrk, built by tests/bench/run.sh for the TLS
 * full-handshake row.
 *
 * wrk 4.1 keeps one SSL object per connection slot and ends every
 * connection with SSL_shutdown + SSL_clear.  SSL_clear keeps the session
 * (and, with TLS 1.3, the last ticket the server sent), so each new
 * connection of a `Connection: close` run offers that ticket and the
 * server resumes: a resumption benchmark.  mptcp-frontd always issues
 * tickets, so the server side cannot prevent it.  This shim drops the
 * session after SSL_clear, so the next SSL_connect on that object starts
 * a full handshake.  Nothing else in wrk changes.
 *
 * Built without OpenSSL headers: the three functions are looked up at
 * run time in the libssl wrk is linked with. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

static int (*real_clear)(SSL *);
static SSL_SESSION *(*get_session)(const SSL *);
static int (*set_session)(SSL *, SSL_SESSION *);

/* At load time: every object is mapped by then, before wrk's threads. */
__attribute__((constructor)) static void resolve(void)
{
	real_clear = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_clear");
	get_session = (SSL_SESSION * (*)(const SSL *))
	              dlsym(RTLD_DEFAULT, "SSL_get_session");
	set_session = (int (*)(SSL *, SSL_SESSION *))
	              dlsym(RTLD_DEFAULT, "SSL_set_session");
	if (real_clear == NULL || get_session == NULL || set_session == NULL) {
		fputs("noresume.so: libssl functions not found\n", stderr);
		abort();
	}
}

int SSL_clear(SSL *s)
{
	int rc;

	rc = real_clear(s);
	if (rc == 1 && get_session(s) != NULL && set_session(s, NULL) != 1)
		rc = 0;
	return rc;
}
