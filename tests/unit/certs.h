/* Throwaway keys and certificates for the unit tests, made with OpenSSL's
 * API in a temporary directory (nothing is committed): a CA, and
 * certificates it signs (or self-signed ones) with chosen names. */
#ifndef FRONTD_TEST_CERTS_H
#define FRONTD_TEST_CERTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

struct test_cert {
	EVP_PKEY *key;
	X509 *cert;
	char key_path[320];
	char cert_path[320];
};

/* An EC P-256 key (RSA with rsa_bits > 0). */
static inline EVP_PKEY *test_key(int rsa_bits)
{
	return rsa_bits > 0 ? EVP_RSA_gen((unsigned)rsa_bits)
	                    : EVP_EC_gen("P-256");
}

static inline int test_add_ext(X509 *x, X509 *issuer, int nid,
                               const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* Make dir/name.key and dir/name.crt: subject CN `cn`, SAN `san` (e.g.
 * "DNS:a.test,DNS:*.a.test", or NULL for none), signed by `ca` (NULL:
 * self-signed, and a CA).  Returns 0 or -1. */
static inline int test_cert_make(struct test_cert *c, const char *dir,
                                 const char *name, const char *cn,
                                 const char *san, const struct test_cert *ca,
                                 int rsa_bits)
{
	X509_NAME *subj;
	FILE *f;
	static long serial = 1;

	memset(c, 0, sizeof(*c));
	snprintf(c->key_path, sizeof(c->key_path), "%s/%s.key", dir, name);
	snprintf(c->cert_path, sizeof(c->cert_path), "%s/%s.crt", dir, name);
	c->key = test_key(rsa_bits);
	c->cert = X509_new();
	if (c->key == NULL || c->cert == NULL)
		return -1;
	X509_set_version(c->cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c->cert), serial++);
	X509_gmtime_adj(X509_getm_notBefore(c->cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c->cert), 86400);
	X509_set_pubkey(c->cert, c->key);
	subj = X509_get_subject_name(c->cert);
	X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c->cert, ca ? X509_get_subject_name(ca->cert)
	                                 : subj);
	if (ca == NULL &&
	    !test_add_ext(c->cert, c->cert, NID_basic_constraints,
	                  "critical,CA:TRUE"))
		return -1;
	if (san != NULL &&
	    !test_add_ext(c->cert, ca ? ca->cert : c->cert,
	                  NID_subject_alt_name, san))
		return -1;
	if (!X509_sign(c->cert, ca ? ca->key : c->key, EVP_sha256()))
		return -1;
	f = fopen(c->key_path, "w");
	if (f == NULL || !PEM_write_PrivateKey(f, c->key, NULL, NULL, 0, NULL,
	                                       NULL))
		return -1;
	fclose(f);
	f = fopen(c->cert_path, "w");
	if (f == NULL || !PEM_write_X509(f, c->cert))
		return -1;
	fclose(f);
	return 0;
}

static inline void test_cert_free(struct test_cert *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	unlink(c->key_path);
	unlink(c->cert_path);
}

/* A fresh private directory for the files. */
static inline const char *test_cert_dir(void)
{
	static char dir[256];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "%s/frontd-unit.XXXXXX",
		         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(dir) == NULL)
			return NULL;
	}
	return dir;
}

/* Remove the directory once its files are unlinked. */
static inline void test_cert_dir_remove(void)
{
	const char *dir = test_cert_dir();

	if (dir != NULL)
		rmdir(dir);
}

#endif
