/* The configuration file's syntax beyond keys: '#' and ';' comments,
 * ${NAME} environment references, include = PATTERN (files, order,
 * sections, positions in messages, cycles and depth), and config_dump()
 * whose output loads back to the same configuration. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certs.h"
#include "config.h"
#include "config_errs.h"
#include "unit.h"

#define NAME "t.ini"
#define GOOD_LISTENER \
	"[listener:web]\n" \
	"bind = 127.0.0.1:8000\n" \
	"backend = 127.0.0.1:8080\n"

static char dir[64];


static struct config *check_loaded(int rc, struct config *cfg,
                                   struct config_errors *errs)
{
	ck_assert_msg(rc == 0, "rejected:%s", joined(errs));
	ck_assert_ptr_nonnull(cfg);
	config_errors_free(errs);
	return cfg;
}

static struct config *load_ok(const char *text)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	int rc = config_load_string(text, NAME, &cfg, &errs);

	return check_loaded(rc, cfg, &errs);
}

static struct config *load_file_ok(const char *path)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	int rc = config_load(path, &cfg, &errs);

	return check_loaded(rc, cfg, &errs);
}

/* rc -1 and exactly these messages (@D@ stands for the test directory). */
static void expect_v(int rc, struct config *cfg, struct config_errors *errs,
                     const char *const *want)
{
	size_t n = 0, i;

	while (want[n] != NULL)
		n++;
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(errs->n == n, "want %zu messages, got %zu:%s", n,
	              errs->n, joined(errs));
	for (i = 0; i < n; i++) {
		char w[1024], *at;

		snprintf(w, sizeof(w), "%s", want[i]);
		while ((at = strstr(w, "@D@")) != NULL) {
			char rest[1024];

			snprintf(rest, sizeof(rest), "%s", at + 3);
			snprintf(at, sizeof(w) - (size_t)(at - w), "%s%s", dir,
			         rest);
		}
		ck_assert_msg(strcmp(errs->msg[i], w) == 0,
		              "message %zu: want\n  %s\ngot:%s", i, w,
		              joined(errs));
	}
	config_errors_free(errs);
}

static void expect_string_v(const char *text, const char *const *want)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	int rc = config_load_string(text, NAME, &cfg, &errs);

	expect_v(rc, cfg, &errs, want);
}

static void expect_file_v(const char *path, const char *const *want)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	int rc = config_load(path, &cfg, &errs);

	expect_v(rc, cfg, &errs, want);
}

#define EXPECT_ERRORS(text, ...) \
	expect_string_v((text), (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT_FILE_ERRORS(path, ...) \
	expect_file_v((path), (const char *const[]){ __VA_ARGS__, NULL })

/* Write dir/name (mode 0644); returns its path in static storage. */
static const char *put_file(const char *name, const char *fmt, ...)
{
	static char path[4][256];
	static int k;
	va_list ap;
	FILE *f;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	f = fopen(path[k], "w");
	ck_assert_ptr_nonnull(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(f), 0);
	chmod(path[k], 0644);
	return path[k];
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/frontd-syntax-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	chmod(dir, 0755);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ------------------------------------------------------------------ */
/* Comments */

START_TEST(hash_comment_after_every_kind_of_value)
{
	struct config *cfg = load_ok(
		"# a full-line comment\n"
		"[global] # after a header\n"
		"log = /var/log/f.log   # main log\n"
		"access_log = /var/log/a.log\t# access\n"
		"pidfile = /run/f.pid # pid\n"
		"max_connections = 10 # ten\n"
		"[listener:web]   ; after a header\n"
		"bind = 127.0.0.1:8000 # the port\n"
		"backend = 127.0.0.1:8080 ; nginx\n"
		"  # an indented comment\n"
		"mptcp = off # no MPTCP\n");

	ck_assert_str_eq(cfg->log, "/var/log/f.log");
	ck_assert_str_eq(cfg->access_log, "/var/log/a.log");
	ck_assert_str_eq(cfg->pidfile, "/run/f.pid");
	ck_assert_uint_eq(cfg->max_connections, 10);
	ck_assert_int_eq(cfg->listeners[0].mptcp, MPTCP_MODE_OFF);
	config_free(cfg);
}
END_TEST

START_TEST(hash_inside_a_word_is_not_a_comment)
{
	EXPECT_ERRORS(GOOD_LISTENER "proxy_protocol = v2#x\n",
	              "t.ini:4: [listener:web] proxy_protocol: bad value "
	              "\"v2#x\": expected v1, v2 or off");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Environment references */

START_TEST(env_references_expand)
{
	struct config *cfg;

	setenv("FRONTD_T_BACKEND", "127.0.0.1:9000", 1);
	setenv("FRONTD_T_EMPTY", "", 1);
	setenv("FRONTD_T_HASH", "/tmp/a #b", 1);
	unsetenv("FRONTD_T_UNSET");
	cfg = load_ok("[global]\n"
	              "log = ${FRONTD_T_HASH}\n"
	              "access_log = ${FRONTD_T_UNSET:-/var/log/${x}.log}\n"
	              "pidfile = /run/$${HOME}/$x ${FRONTD_T_EMPTY:-d}\n"
	              "[listener:web]\n"
	              "bind = 127.0.0.1:8000\n"
	              "backend = ${FRONTD_T_BACKEND}, 127.0.0.1:${FRONTD_T_UNSET:-9001}\n");
	/* The value from the environment keeps its '#'. */
	ck_assert_str_eq(cfg->log, "/tmp/a #b");
	/* A default is literal text up to the first '}'. */
	ck_assert_str_eq(cfg->access_log, "/var/log/${x.log}");
	ck_assert_str_eq(cfg->pidfile, "/run/${HOME}/$x d");
	ck_assert_uint_eq(cfg->listeners[0].nbackends, 2);
	config_free(cfg);
}
END_TEST

START_TEST(env_reference_errors)
{
	unsetenv("FRONTD_T_UNSET");
	setenv("FRONTD_T_NL", "a\nb", 1);
	EXPECT_ERRORS("[global]\n"
	              "pidfile = /run/${FRONTD_T_UNSET}.pid\n"
	              "log = ${FRONTD_T_NL}\n"
	              "access_log = ${1X}\n"
	              "user = ${NAME\n"
	              "group = ${A-b}\n"
	              "[listener:web]\n"
	              "bind = 127.0.0.1:8000\n"
	              "backend = ${FRONTD_T_UNSET}\n",
	              "t.ini:2: [global] pidfile: environment variable "
	              "FRONTD_T_UNSET is not set (write ${FRONTD_T_UNSET:-default} "
	              "to give a default)",
	              "t.ini:3: [global] log: environment variable FRONTD_T_NL "
	              "holds a line break",
	              "t.ini:4: [global] access_log: bad reference \"${1X}\": "
	              "expected ${NAME} or ${NAME:-default}",
	              "t.ini:5: [global] user: unterminated \"${\": expected "
	              "${NAME} or ${NAME:-default} (write $${ for a literal ${)",
	              "t.ini:6: [global] group: bad reference \"${A-b}\": "
	              "expected ${NAME} or ${NAME:-default}",
	              /* No "missing required key" for a key that is there. */
	              "t.ini:9: [listener:web] backend: environment variable "
	              "FRONTD_T_UNSET is not set (write ${FRONTD_T_UNSET:-default} "
	              "to give a default)");
}
END_TEST

/* ------------------------------------------------------------------ */
/* include */

START_TEST(include_relative_sorted_in_place)
{
	struct config *cfg;
	const char *main_ini;
	char sub[128];

	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/empty.d", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	put_file("conf.d/20-b.ini", "[listener:b]\nbind = 127.0.0.1:8002\n"
	         "backend = 127.0.0.1:80\n");
	put_file("conf.d/10-a.ini", "[listener:a]\nbind = 127.0.0.1:8001\n"
	         "backend = 127.0.0.1:80\n");
	put_file("conf.d/README", "not an ini file\n");
	/* Keys without a header go to the include line's section. */
	put_file("limits.ini", "max_connections = 77\n");
	main_ini = put_file("main.ini",
	                    "include = conf.d/*.ini\n"
	                    "[global]\n"
	                    "include = limits.ini\n"
	                    "log_level = warn\n"
	                    "include = empty.d/*.ini\n");
	cfg = load_file_ok(main_ini);
	ck_assert_uint_eq(cfg->max_connections, 77);
	/* After the included files, [global] goes on. */
	ck_assert_int_eq(cfg->log_level, LOG_LEVEL_WARN);
	ck_assert_uint_eq(cfg->nlisteners, 2);
	ck_assert_str_eq(cfg->listeners[0].name, "a");
	ck_assert_str_eq(cfg->listeners[1].name, "b");
	ck_assert_uint_eq(cfg->nfiles, 4);
	ck_assert_str_eq(cfg->files[0], main_ini);
	ck_assert_ptr_nonnull(strstr(cfg->files[2], "conf.d/20-b.ini"));
	ck_assert_ptr_nonnull(strstr(cfg->files[3], "limits.ini"));
	config_free(cfg);
}
END_TEST

START_TEST(include_errors_name_the_included_file)
{
	const char *main_ini;

	put_file("bad.ini", "; line 1\n[listener:x]\nbind = 127.0.0.1:1\n"
	         "backnd = 127.0.0.1:80\n");
	main_ini = put_file("main.ini",
	                    "[global]\n"
	                    "max_connections = 5\n"
	                    "include = bad.ini\n"
	                    "include = missing.ini\n"
	                    "include = /nonexistent-dir/*.ini\n"
	                    "[listener:web]\n"
	                    "bind = 127.0.0.1:1\n"
	                    "backend = 127.0.0.1:80\n"
	                    "include = ${FRONTD_T_UNSET}\n");
	unsetenv("FRONTD_T_UNSET");
	EXPECT_FILE_ERRORS(main_ini,
	                   "@D@/bad.ini:2: [listener:x]: missing required key "
	                   "\"backend\"",
	                   "@D@/bad.ini:4: [listener:x] backnd: unknown key; did "
	                   "you mean \"backend\"?",
	                   "@D@/main.ini:4: [global] include: @D@/missing.ini: "
	                   "cannot open: No such file or directory",
	                   "@D@/main.ini:5: [global] include: "
	                   "/nonexistent-dir/*.ini: cannot read its directory: "
	                   "No such file or directory",
	                   "@D@/main.ini:7: [listener:web] bind: 127.0.0.1:1 is "
	                   "already bound by [listener:x] on @D@/bad.ini:3",
	                   "@D@/main.ini:9: [listener:web] include: environment "
	                   "variable FRONTD_T_UNSET is not set (write "
	                   "${FRONTD_T_UNSET:-default} to give a default)");
}
END_TEST

START_TEST(include_duplicate_key_across_files)
{
	const char *main_ini;

	put_file("more.ini", "\nmax_connections = 6\n");
	main_ini = put_file("main.ini", "[global]\nmax_connections = 5\n"
	                    "include = more.ini\n" GOOD_LISTENER);
	EXPECT_FILE_ERRORS(main_ini,
	                   "@D@/more.ini:2: [global] max_connections: duplicate "
	                   "key, first set on @D@/main.ini:2");
}
END_TEST

START_TEST(include_cycle_and_depth_bounded)
{
	const char *main_ini;
	char name[32];
	int i;

	put_file("self.ini", "include = self.ini\n");
	main_ini = put_file("main.ini", "include = self.ini\n" GOOD_LISTENER);
	EXPECT_FILE_ERRORS(main_ini,
	                   "@D@/self.ini:1: include: @D@/self.ini: include "
	                   "cycle: this file is already being read");

	/* d0 includes d1 includes ... d9: the ninth level is refused. */
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "d%d.ini", i);
		put_file(name, "include = d%d.ini\n", i + 1);
	}
	main_ini = put_file("main.ini", "include = d0.ini\n" GOOD_LISTENER);
	EXPECT_FILE_ERRORS(main_ini,
	                   "@D@/d7.ini:1: include: too deeply nested (at most 8 "
	                   "levels of include)");
}
END_TEST

START_TEST(include_writable_by_others_refused)
{
	const char *inc = put_file("open.ini", "max_connections = 5\n");
	const char *main_ini;

	chmod(inc, 0666);
	main_ini = put_file("main.ini", "[global]\ninclude = open.ini\n"
	                    GOOD_LISTENER);
	EXPECT_FILE_ERRORS(main_ini,
	                   "@D@/main.ini:2: [global] include: @D@/open.ini: "
	                   "writable by other users (mode 0666); fix with chmod "
	                   "o-w @D@/open.ini");
}
END_TEST

START_TEST(include_needs_a_file)
{
	EXPECT_ERRORS("include = /etc/passwd\n" GOOD_LISTENER,
	              "t.ini:1: include: not available here: the configuration "
	              "is not read from a file");
}
END_TEST

/* ------------------------------------------------------------------ */
/* config_dump */

static char *dump(const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(config_dump(f, cfg), 0);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* Dump, load the dump, dump again: the same text, so the same values. */
static char *round_trip(const char *text)
{
	struct config *cfg = load_ok(text), *again;
	char *first = dump(cfg), *second;

	again = load_ok(first);
	second = dump(again);
	ck_assert_msg(strcmp(first, second) == 0, "first:\n%s\nsecond:\n%s",
	              first, second);
	config_free(cfg);
	config_free(again);
	free(second);
	return first;
}

START_TEST(dump_fills_defaults_and_loads_back)
{
	char *text = round_trip(GOOD_LISTENER);

	/* Every default, by name. */
	ck_assert_ptr_nonnull(strstr(text, "\nlog_level = info\n"));
	ck_assert_ptr_nonnull(strstr(text, "\naccess_log = off\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nmax_connections = 65536\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nshutdown_timeout = 30s\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nworkers = auto\n"));
	ck_assert_ptr_nonnull(strstr(text, "\npipe_size = 262144\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nstats = off\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nmptcp = on\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nproxy_protocol = v2\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nproxy_protocol_tlvs = mptcp\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nconnect_timeout = 5s\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nidle_timeout = 10m\n"));
	ck_assert_ptr_nonnull(strstr(text, "\naccept_proxy = off\n"));
	free(text);
}
END_TEST

START_TEST(dump_round_trip_every_key)
{
	struct test_cert ca, a;
	const char *d = test_cert_dir();
	char conf[4096], *text;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(test_cert_make(&ca, d, "ca", "CA", NULL, NULL, 0), 0);
	ck_assert_int_eq(test_cert_make(&a, d, "a", "a.test", "DNS:a.test",
	                                &ca, 0), 0);
	snprintf(conf, sizeof(conf),
	         "[global]\n"
	         "log_level = debug\n"
	         "log = /var/log/x$${y}.log\n"
	         "access_log = stderr\n"
	         "pidfile = /run/f.pid\n"
	         "max_connections = 1000\n"
	         "shutdown_timeout = 1500ms\n"
	         "workers = 3\n"
	         "splice = off\n"
	         "stats = [::1]:9090\n"
	         "user = root\n"
	         "group = root\n"
	         "[listener:tls]\n"
	         "bind = 127.0.0.1:8443, [::]:8443\n"
	         "v6only = on\n"
	         "mptcp = required\n"
	         "backend = 127.0.0.1:8080, unix:/run/nginx.sock, [::1]:80\n"
	         "proxy_protocol_tlvs = mptcp, alpn, authority, ssl, upstream\n"
	         "connect_timeout = 2m\n"
	         "idle_timeout = 1h\n"
	         "max_connections = 7\n"
	         "accept_proxy = on\n"
	         "accept_proxy_from = 10.0.0.0/8, 2001:db8::1\n"
	         "accept_proxy_timeout = 750ms\n"
	         "tls_cert = %s\n"
	         "tls_key = %s\n"
	         "tls_min_version = 1.3\n"
	         "tls_ciphers = ECDHE+AESGCM\n"
	         "tls_ciphersuites = TLS_AES_128_GCM_SHA256\n"
	         "tls_alpn = h2, http/1.1\n"
	         "tls_verify = optional\n"
	         "tls_client_ca = %s\n"
	         "tls_handshake_timeout = 3s\n"
	         "[listener:v1]\n"
	         "bind = 127.0.0.1:8000\n"
	         "backend = 127.0.0.1:8080\n"
	         "proxy_protocol = v1\n",
	         a.cert_path, a.key_path, ca.cert_path);
	text = round_trip(conf);
	ck_assert_ptr_nonnull(strstr(text, "\nlog = /var/log/x$${y}.log\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nshutdown_timeout = 1500ms\n"));
	ck_assert_ptr_nonnull(strstr(text, "\ntls_alpn = h2, http/1.1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nbackend = 127.0.0.1:8080, "
	                                   "unix:/run/nginx.sock, [::1]:80\n"));
	ck_assert_ptr_nonnull(strstr(text, "\naccept_proxy_from = 10.0.0.0/8, "
	                                   "2001:db8::1/128\n"));
	free(text);
	test_cert_free(&ca);
	test_cert_free(&a);
	test_cert_dir_remove();
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("config_syntax");
	TCase *tc = tcase_create("files");

	UNIT_ADD(s, hash_comment_after_every_kind_of_value);
	UNIT_ADD(s, hash_inside_a_word_is_not_a_comment);
	UNIT_ADD(s, env_references_expand);
	UNIT_ADD(s, env_reference_errors);
	UNIT_ADD(s, include_needs_a_file);
	UNIT_ADD(s, dump_fills_defaults_and_loads_back);
	UNIT_ADD(s, dump_round_trip_every_key);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, include_relative_sorted_in_place);
	tcase_add_test(tc, include_errors_name_the_included_file);
	tcase_add_test(tc, include_duplicate_key_across_files);
	tcase_add_test(tc, include_cycle_and_depth_bounded);
	tcase_add_test(tc, include_writable_by_others_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(make_suite)
