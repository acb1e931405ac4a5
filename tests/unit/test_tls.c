/* The TLS context and what a handshake tells the backend: certificates
 * chosen by SNI, ALPN by our preference, client certificates (required,
 * optional), resumption, and the PROXY v2 TLVs built from it all, with
 * real handshakes over a socketpair against throwaway certificates. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certs.h"
#include "config.h"
#include "proxy_proto.h"
#include "tls.h"
#include "unit.h"

static struct test_cert ca, other_ca, a, b, c, client, stranger;

static void setup(void)
{
	const char *d = test_cert_dir();

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(test_cert_make(&ca, d, "ca", "Test CA", NULL, NULL, 0),
	                 0);
	ck_assert_int_eq(test_cert_make(&other_ca, d, "other", "Other CA",
	                                NULL, NULL, 0), 0);
	ck_assert_int_eq(test_cert_make(&a, d, "a", "a.test", "DNS:a.test",
	                                &ca, 0), 0);
	ck_assert_int_eq(test_cert_make(&b, d, "b", "b.test",
	                                "DNS:b.test,DNS:*.b.test", &ca, 0), 0);
	/* No SAN: the subject CN is the name; an RSA key, self-signed. */
	ck_assert_int_eq(test_cert_make(&c, d, "c", "C.Test", NULL, NULL, 2048),
	                 0);
	ck_assert_int_eq(test_cert_make(&client, d, "client", "client one",
	                                NULL, &ca, 0), 0);
	ck_assert_int_eq(test_cert_make(&stranger, d, "stranger", "stranger",
	                                NULL, &other_ca, 0), 0);
}

static void teardown(void)
{
	struct test_cert *all[] = { &ca, &other_ca, &a, &b, &c, &client,
	                            &stranger };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		test_cert_free(all[i]);
	test_cert_dir_remove();
}

static char errbuf[2048];

static void collect(void *arg, enum tls_err_what what, const char *msg)
{
	size_t n = strlen(errbuf);

	snprintf(errbuf + n, sizeof(errbuf) - n, "[%d] %s\n", (int)what, msg);
}

/* A context for a, b, c (a is the default) with `alpn` (wire format). */
static struct tls_ctx *make_ctx(const char *alpn, enum tls_verify verify)
{
	struct tls_cfg cfg;
	struct tls_ctx *t;

	memset(&cfg, 0, sizeof(cfg));
	cfg.certs[0] = a.cert_path;
	cfg.keys[0] = a.key_path;
	cfg.certs[1] = b.cert_path;
	cfg.keys[1] = b.key_path;
	cfg.certs[2] = c.cert_path;
	cfg.keys[2] = c.key_path;
	cfg.ncerts = cfg.nkeys = 3;
	cfg.min_version = TLS_VERSION_1_2;
	if (alpn != NULL) {
		cfg.alpn = (uint8_t *)alpn;
		cfg.alpn_len = strlen(alpn);
	}
	cfg.verify = verify;
	cfg.client_ca = ca.cert_path;
	errbuf[0] = '\0';
	t = tls_ctx_new("unit", &cfg, collect, NULL);
	ck_assert_msg(t != NULL, "tls_ctx_new failed:\n%s", errbuf);
	return t;
}

struct conn {
	SSL *cli, *srv;
	SSL_CTX *cctx;
	int fds[2];
	int srv_ok;
};

/* Handshake over a socketpair: our context on one end, a client with
 * the given SNI, ALPN offer (wire format), certificate and session. */
static void handshake(struct conn *k, const struct tls_ctx *t,
                      const char *sni, const char *alpn,
                      const struct test_cert *cert, SSL_SESSION *sess,
                      int max_version)
{
	int done_c = 0, done_s = 0, i;

	memset(k, 0, sizeof(*k));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, k->fds), 0);
	fcntl(k->fds[0], F_SETFL, O_NONBLOCK);
	fcntl(k->fds[1], F_SETFL, O_NONBLOCK);
	k->srv = tls_ssl_new(t, k->fds[0]);
	ck_assert_ptr_nonnull(k->srv);
	k->cctx = SSL_CTX_new(TLS_client_method());
	if (max_version)
		SSL_CTX_set_max_proto_version(k->cctx, max_version);
	if (cert != NULL) {
		ck_assert_int_eq(SSL_CTX_use_certificate(k->cctx, cert->cert), 1);
		ck_assert_int_eq(SSL_CTX_use_PrivateKey(k->cctx, cert->key), 1);
	}
	k->cli = SSL_new(k->cctx);
	SSL_set_fd(k->cli, k->fds[1]);
	SSL_set_connect_state(k->cli);
	if (sni != NULL)
		SSL_set_tlsext_host_name(k->cli, sni);
	if (alpn != NULL)
		SSL_set_alpn_protos(k->cli, (const unsigned char *)alpn,
		                    (unsigned)strlen(alpn));
	if (sess != NULL)
		SSL_set_session(k->cli, sess);
	for (i = 0; i < 100 && !(done_c && done_s); i++) {
		int r;
		if (!done_c) {
			r = SSL_do_handshake(k->cli);
			if (r == 1)
				done_c = 1;
			else if (SSL_get_error(k->cli, r) != SSL_ERROR_WANT_READ)
				done_c = -1;
		}
		if (!done_s) {
			r = SSL_do_handshake(k->srv);
			if (r == 1)
				done_s = 1;
			else if (SSL_get_error(k->srv, r) != SSL_ERROR_WANT_READ)
				done_s = -1;
		}
		if (done_c < 0 || done_s < 0)
			break;
	}
	ERR_clear_error();
	k->srv_ok = done_s == 1;
	/* Let the client take the session tickets sent after the
	 * handshake. */
	if (k->srv_ok) {
		char x;
		if (SSL_read(k->cli, &x, 1) <= 0)
			ERR_clear_error();
	}
}

static void conn_free(struct conn *k)
{
	/* Freed without a shutdown, a client session is marked not
	 * resumable (OpenSSL's "bad session" rule). */
	if (k->srv_ok && SSL_shutdown(k->cli) < 0)
		ERR_clear_error();
	SSL_free(k->cli);
	SSL_free(k->srv);
	SSL_CTX_free(k->cctx);
	close(k->fds[0]);
	close(k->fds[1]);
}

#define ALPN_H2_H1 "\x02h2\x08http/1.1"
#define ALPN_H1_H2 "\x08http/1.1\x02h2"

START_TEST(cert_for_name)
{
	struct tls_ctx *t = make_ctx(NULL, TLS_VERIFY_OFF);
	const char *const *names;

	ck_assert_uint_eq(tls_cert_count(t), 3);
	ck_assert_uint_eq(tls_cert_names(t, 1, &names), 2);
	ck_assert_str_eq(names[0], "b.test");
	ck_assert_str_eq(names[1], "*.b.test");
	ck_assert_uint_eq(tls_cert_names(t, 2, &names), 1);
	ck_assert_str_eq(names[0], "c.test");      /* lower-cased CN */
	ck_assert_uint_eq(tls_cert_for_name(t, "a.test"), 0);
	ck_assert_uint_eq(tls_cert_for_name(t, "b.test"), 1);
	ck_assert_uint_eq(tls_cert_for_name(t, "B.Test"), 1);
	ck_assert_uint_eq(tls_cert_for_name(t, "www.b.test"), 1);
	ck_assert_uint_eq(tls_cert_for_name(t, "c.test"), 2);
	/* A wildcard covers one label, not two, and not the bare name. */
	ck_assert_uint_eq(tls_cert_for_name(t, "x.www.b.test"), 0);
	ck_assert_uint_eq(tls_cert_for_name(t, ".b.test"), 0);
	ck_assert_uint_eq(tls_cert_for_name(t, "unknown.test"), 0);
	ck_assert_uint_eq(tls_cert_for_name(t, ""), 0);
	tls_ctx_free(t);
}
END_TEST

/* The certificate the client got, by subject CN. */
static void assert_peer_cn(SSL *cli, const char *want)
{
	X509 *x = SSL_get0_peer_certificate(cli);
	char cn[128];

	ck_assert_ptr_nonnull(x);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	                          cn, sizeof(cn));
	ck_assert_str_eq(cn, want);
}

START_TEST(sni_picks_certificate)
{
	struct tls_ctx *t = make_ctx(NULL, TLS_VERIFY_OFF);
	static const struct {
		const char *sni, *cn;
	} cases[] = {
		{ "a.test", "a.test" }, { "b.test", "b.test" },
		{ "x.b.test", "b.test" }, { "c.test", "C.Test" },
		{ "nobody.test", "a.test" }, { NULL, "a.test" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conn k;
		handshake(&k, t, cases[i].sni, NULL, NULL, NULL, 0);
		ck_assert_msg(k.srv_ok, "handshake for %s",
		              cases[i].sni ? cases[i].sni : "(no SNI)");
		assert_peer_cn(k.cli, cases[i].cn);
		conn_free(&k);
	}
	tls_ctx_free(t);
}
END_TEST

START_TEST(facts_and_tlvs)
{
	struct tls_ctx *t = make_ctx(ALPN_H2_H1, TLS_VERIFY_REQUIRED);
	struct pp_tls_facts f;
	struct pp_tlv tlvs[4];
	uint8_t scratch[512];
	struct conn k;
	int n;

	/* The client prefers http/1.1, we prefer h2: ours wins. */
	handshake(&k, t, "www.b.test", ALPN_H1_H2, &client, NULL, 0);
	ck_assert(k.srv_ok);
	tls_facts_get(k.srv, t, &f);
	ck_assert_uint_eq(f.alpn_len, 2);
	ck_assert_mem_eq(f.alpn, "h2", 2);
	ck_assert_str_eq(f.sni, "www.b.test");
	ck_assert_int_eq(f.resumed, 0);
	ck_assert_uint_eq(f.ssl.client, PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN |
	                  PP2_CLIENT_CERT_SESS);
	ck_assert_uint_eq(f.ssl.verify, 0);
	ck_assert_str_eq(f.ssl.version, "TLSv1.3");
	ck_assert_str_eq(f.ssl.cipher, SSL_get_cipher_name(k.cli));
	ck_assert_str_eq(f.ssl.sig_alg, "ecdsa-with-SHA256");
	ck_assert_str_eq(f.ssl.key_alg, "EC256");
	ck_assert_str_eq(f.ssl.cn, "client one");

	n = pp_build_tlvs(PP_TLV_MPTCP | PP_TLV_ALPN | PP_TLV_AUTHORITY |
	                PP_TLV_SSL, 1, &f, tlvs, scratch, sizeof(scratch));
	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(tlvs[0].type, PP2_TYPE_FRONTD_MPTCP);
	ck_assert_mem_eq(tlvs[0].value, "mptcp", 5);
	ck_assert_uint_eq(tlvs[1].type, PP2_TYPE_ALPN);
	ck_assert_uint_eq(tlvs[2].type, PP2_TYPE_AUTHORITY);
	ck_assert_uint_eq(tlvs[2].len, strlen("www.b.test"));
	ck_assert_uint_eq(tlvs[3].type, PP2_TYPE_SSL);
	ck_assert_uint_eq(tlvs[3].value[0], 0x07);
	/* Only what the set asks for. */
	n = pp_build_tlvs(PP_TLV_AUTHORITY, 0, &f, tlvs, scratch,
	                sizeof(scratch));
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(tlvs[0].type, PP2_TYPE_AUTHORITY);
	n = pp_build_tlvs(PP_TLV_MPTCP | PP_TLV_SSL, 0, NULL, tlvs, scratch,
	                sizeof(scratch));
	ck_assert_int_eq(n, 1);         /* plain listener: no TLS facts */
	ck_assert_mem_eq(tlvs[0].value, "tcp", 3);
	n = pp_build_tlvs(PP_TLV_SSL, 0, &f, tlvs, scratch, 10);
	ck_assert_int_eq(n, -1);
	conn_free(&k);
	tls_ctx_free(t);
}
END_TEST

START_TEST(rsa_certificate_described)
{
	struct tls_ctx *t = make_ctx(NULL, TLS_VERIFY_OFF);
	struct pp_tls_facts f;
	struct conn k;

	handshake(&k, t, "c.test", NULL, NULL, NULL, TLS1_2_VERSION);
	ck_assert(k.srv_ok);
	tls_facts_get(k.srv, t, &f);
	ck_assert_str_eq(f.ssl.version, "TLSv1.2");
	ck_assert_str_eq(f.ssl.sig_alg, "RSA-SHA256");
	ck_assert_str_eq(f.ssl.key_alg, "RSA2048");
	ck_assert_ptr_null(f.alpn);
	/* No client certificate asked for: not verified, no CN. */
	ck_assert_uint_eq(f.ssl.client, PP2_CLIENT_SSL);
	ck_assert_uint_ne(f.ssl.verify, 0);
	ck_assert_ptr_null(f.ssl.cn);
	conn_free(&k);
	tls_ctx_free(t);
}
END_TEST

START_TEST(alpn_no_overlap_fails)
{
	struct tls_ctx *t = make_ctx(ALPN_H2_H1, TLS_VERIFY_OFF);
	struct conn k;

	handshake(&k, t, "a.test", "\x03" "foo", NULL, NULL, 0);
	ck_assert(!k.srv_ok);
	conn_free(&k);
	/* No ALPN offered: no ALPN, no failure. */
	handshake(&k, t, "a.test", NULL, NULL, NULL, 0);
	ck_assert(k.srv_ok);
	conn_free(&k);
	tls_ctx_free(t);
}
END_TEST

START_TEST(client_cert_required)
{
	struct tls_ctx *t = make_ctx(NULL, TLS_VERIFY_REQUIRED);
	struct conn k;

	handshake(&k, t, "a.test", NULL, NULL, NULL, 0);
	ck_assert(!k.srv_ok);
	conn_free(&k);
	handshake(&k, t, "a.test", NULL, &stranger, NULL, 0);
	ck_assert(!k.srv_ok);
	conn_free(&k);
	handshake(&k, t, "a.test", NULL, &client, NULL, 0);
	ck_assert(k.srv_ok);
	conn_free(&k);
	tls_ctx_free(t);
}
END_TEST

START_TEST(client_cert_optional)
{
	struct tls_ctx *t = make_ctx(NULL, TLS_VERIFY_OPTIONAL);
	struct pp_tls_facts f;
	struct conn k;

	handshake(&k, t, "a.test", NULL, NULL, NULL, 0);
	ck_assert(k.srv_ok);
	tls_facts_get(k.srv, t, &f);
	ck_assert_uint_eq(f.ssl.client, PP2_CLIENT_SSL);
	ck_assert_uint_ne(f.ssl.verify, 0);
	conn_free(&k);
	/* An untrusted certificate passes, with its failed verification. */
	handshake(&k, t, "a.test", NULL, &stranger, NULL, 0);
	ck_assert(k.srv_ok);
	tls_facts_get(k.srv, t, &f);
	ck_assert_uint_eq(f.ssl.client, 0x07);
	/* Its issuer is unknown here: "unable to verify the first
	 * certificate". */
	ck_assert_uint_eq(f.ssl.verify,
	                  X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE);
	ck_assert_str_eq(f.ssl.cn, "stranger");
	conn_free(&k);
	tls_ctx_free(t);
}
END_TEST

START_TEST(resumption_by_ticket)
{
	struct tls_ctx *t = make_ctx(NULL, TLS_VERIFY_OPTIONAL);
	struct tls_ctx *t2 = make_ctx(NULL, TLS_VERIFY_OPTIONAL);
	struct pp_tls_facts f;
	SSL_SESSION *sess;
	struct conn k;

	handshake(&k, t, "a.test", NULL, &client, NULL, 0);
	ck_assert(k.srv_ok);
	sess = SSL_get1_session(k.cli);
	ck_assert_ptr_nonnull(sess);
	ck_assert(SSL_SESSION_is_resumable(sess));
	ck_assert(SSL_SESSION_has_ticket(sess));
	conn_free(&k);

	handshake(&k, t, "a.test", NULL, &client, sess, 0);
	ck_assert(k.srv_ok);
	ck_assert_int_eq(SSL_session_reused(k.cli), 1);
	tls_facts_get(k.srv, t, &f);
	ck_assert_int_eq(f.resumed, 1);
	/* The certificate came with the session, not this connection. */
	ck_assert_uint_eq(f.ssl.client, PP2_CLIENT_SSL | PP2_CLIENT_CERT_SESS);
	ck_assert_uint_eq(f.ssl.verify, 0);
	conn_free(&k);

	/* Another context (a reload) has other ticket keys. */
	handshake(&k, t2, "a.test", NULL, &client, sess, 0);
	ck_assert(k.srv_ok);
	ck_assert_int_eq(SSL_session_reused(k.srv), 0);
	conn_free(&k);
	SSL_SESSION_free(sess);
	tls_ctx_free(t);
	tls_ctx_free(t2);
}
END_TEST

START_TEST(header_max)
{
	struct listener_cfg l;

	memset(&l, 0, sizeof(l));
	/* Plain listener: IPv6 block (52) + the 0xE0 TLV at its longest,
	 * "fallback" (11). */
	l.pp_tlvs = PP_TLV_MPTCP;
	ck_assert_uint_eq(config_pp_header_max(&l), 63);
	l.pp_tlvs = 0;
	ck_assert_uint_eq(config_pp_header_max(&l), 52);

	/* The default TLS set with ALPN h2, http/1.1: 63 + 3 + 8 = 74. */
	l.tls_ctx = make_ctx(ALPN_H2_H1, TLS_VERIFY_OFF);
	l.pp_tlvs = PP_TLV_MPTCP | PP_TLV_ALPN;
	ck_assert_uint_eq(config_pp_header_max(&l), 74);
	ck_assert_uint_le(config_pp_header_max(&l), PP_NGINX_OLD_MAX);
	/* The SNI can be 255 bytes long. */
	l.pp_tlvs |= PP_TLV_AUTHORITY;
	ck_assert_uint_eq(config_pp_header_max(&l), 74 + 3 + 255);
	tls_ctx_free(l.tls_ctx);

	/* No ALPN configured: the ALPN TLV is never sent. */
	l.tls_ctx = make_ctx(NULL, TLS_VERIFY_OFF);
	l.pp_tlvs = PP_TLV_MPTCP | PP_TLV_ALPN;
	ck_assert_uint_eq(config_pp_header_max(&l), 63);
	/* SSL: 8 + version 10 + cipher + sig + key, each 3 + longest. */
	l.pp_tlvs = PP_TLV_SSL;
	ck_assert_uint_gt(config_pp_header_max(&l),
	                  52 + 8 + 10 + 3 + strlen("TLS_AES_256_GCM_SHA384") +
	                  3 + strlen("ecdsa-with-SHA256") + 3 +
	                  strlen("RSA2048") - 1);
	tls_ctx_free(l.tls_ctx);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc;
	struct {
		const char *name;
		const TTest *fn;
	} tests[] = {
		{ "cert_for_name", cert_for_name },
		{ "sni_picks_certificate", sni_picks_certificate },
		{ "facts_and_tlvs", facts_and_tlvs },
		{ "rsa_certificate_described", rsa_certificate_described },
		{ "alpn_no_overlap_fails", alpn_no_overlap_fails },
		{ "client_cert_required", client_cert_required },
		{ "client_cert_optional", client_cert_optional },
		{ "resumption_by_ticket", resumption_by_ticket },
		{ "header_max", header_max },
	};

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		tc = tcase_create(tests[i].name);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 30);
		tcase_add_test(tc, tests[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

UNIT_MAIN(make_suite)
