/* TLS as a transport (include/tls_xport.h).  x->impl is the SSL object;
 * x->detail keeps the SSL_get_error code of the last failure, which
 * xport_error turns into OpenSSL's reason. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls_xport.h"

/* OpenSSL wants the socket readable or writable: the call is to be made
 * again then.  Returns -1 with errno EAGAIN, *want set. */
static int again(uint8_t *want, int code)
{
	*want = code == SSL_ERROR_WANT_WRITE ? XPORT_WANT_WRITE
	                                     : XPORT_WANT_READ;
	errno = EAGAIN;
	return -1;
}

static int is_want(int code)
{
	return code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE;
}

/* A failure: the socket's errno where the socket failed, EPROTO where
 * TLS did.  No goodbye is said on a broken connection. */
static int fail(struct xport *x, int code, int err)
{
	x->failed = 1;
	x->detail = (uint8_t)code;
	errno = code == SSL_ERROR_SYSCALL && err != 0 ? err : EPROTO;
	return -1;
}

static ssize_t t_recv(struct xport *x, void *buf, size_t len)
{
	SSL *ssl = x->impl;
	int n, code, err;

	ERR_clear_error();
	n = SSL_read(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	err = errno;
	if (n > 0)
		return n;
	code = SSL_get_error(ssl, n);
	if (is_want(code))
		return again(&x->want_recv, code);
	if (code == SSL_ERROR_ZERO_RETURN)      /* close_notify, or a bare FIN */
		return 0;
	return fail(x, code, err);
}

static ssize_t t_send(struct xport *x, const void *buf, size_t len)
{
	SSL *ssl = x->impl;
	int n, code, err;

	ERR_clear_error();
	n = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	err = errno;
	if (n > 0)
		return n;
	code = SSL_get_error(ssl, n);
	if (is_want(code))
		return again(&x->want_send, code);
	return fail(x, code, err);
}

/* close_notify, then (with fin) a FIN. */
static int t_shutdown(struct xport *x, int fin)
{
	int r, code, err;

	if (x->failed)
		return 0;
	ERR_clear_error();
	r = SSL_shutdown(x->impl);
	err = errno;
	if (r >= 0) {
		if (fin)
			shutdown(x->fd, SHUT_WR);
		return 0;
	}
	code = SSL_get_error(x->impl, r);
	if (is_want(code))
		return again(&x->want_send, code);
	if (code == SSL_ERROR_SYSCALL) {
		/* The client is gone already (EPIPE, a reset): everything
		 * before the close_notify was written; its side of the story
		 * comes with its own EOF or error. */
		ERR_clear_error();
		x->failed = 1;
		return 0;
	}
	return fail(x, code, err);
}

static int t_pending(const struct xport *x)
{
	return SSL_has_pending(x->impl);
}

/* OpenSSL's reason for the last failure (clears its error queue). */
static const char *t_error(struct xport *x, int err, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	int code = x->detail;

	if (e != 0)
		ERR_error_string_n(e, buf, len);
	else if (code == SSL_ERROR_SYSCALL && err != 0 && err != EPROTO)
		snprintf(buf, len, "%s", strerror(err));
	else if (code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN)
		snprintf(buf, len, "connection closed");
	else
		snprintf(buf, len, "SSL error %d", code);
	ERR_clear_error();
	return buf;
}

static void t_free(struct xport *x)
{
	SSL_free(x->impl);      /* does not close the fd (SSL_set_fd) */
	ERR_clear_error();
}

static const struct xport_ops tls_ops = {
	.recv = t_recv,
	.send = t_send,
	.shutdown = t_shutdown,
	.pending = t_pending,
	.error = t_error,
	.free = t_free,
};

int tls_xport_start(struct xport *x, const struct tls_ctx *t)
{
	SSL *ssl = tls_ssl_new(t, x->fd);

	if (ssl == NULL)
		return -1;
	x->ops = &tls_ops;
	x->impl = ssl;
	return 0;
}

enum tls_hs tls_xport_handshake(struct xport *x)
{
	int r, code, err;

	ERR_clear_error();
	r = SSL_do_handshake(x->impl);
	err = errno;
	if (r == 1)
		return TLS_HS_DONE;
	code = SSL_get_error(x->impl, r);
	if (is_want(code)) {
		again(&x->want_recv, code);
		return TLS_HS_AGAIN;
	}
	x->failed = 1;
	x->detail = (uint8_t)code;
	errno = err;
	if (code == SSL_ERROR_SYSCALL && xport_errno_is_reset(err))
		return TLS_HS_RESET;
	if ((code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN) &&
	    ERR_peek_error() == 0)
		return TLS_HS_CLOSED;   /* gone before a word */
	return TLS_HS_FAILED;
}

int tls_xport_resumed(const struct xport *x)
{
	return SSL_session_reused(x->impl);
}

const char *tls_xport_version(const struct xport *x)
{
	return SSL_get_version(x->impl);
}

void tls_xport_facts(const struct xport *x, const struct tls_ctx *t,
                     struct pp_tls_facts *f)
{
	tls_facts_get(x->impl, t, f);
}
