/* Socket activation's pure parts: LISTEN_PID / LISTEN_FDS, LISTEN_FDNAMES
 * and the matching of inherited sockets to configured binds; the same for
 * a binary upgrade's MPTCP_FRONTD_INHERIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sockact.h"
#include "unit.h"

static char err[256];

START_TEST(count_for_us)
{
	ck_assert_int_eq(sockact_parse_count("42", "2", 42, err, sizeof(err)), 2);
	ck_assert_int_eq(sockact_parse_count("42", "0", 42, err, sizeof(err)), 0);
	ck_assert_int_eq(sockact_parse_count("42", "256", 42, err,
	                                     sizeof(err)), 256);
}
END_TEST

START_TEST(count_not_for_us)
{
	/* Another process's sockets (a parent that did not unset them), or
	 * half of the protocol: not ours, not an error. */
	ck_assert_int_eq(sockact_parse_count("41", "2", 42, err, sizeof(err)), 0);
	ck_assert_int_eq(sockact_parse_count(NULL, "2", 42, err, sizeof(err)), 0);
	ck_assert_int_eq(sockact_parse_count("42", NULL, 42, err, sizeof(err)), 0);
	ck_assert_int_eq(sockact_parse_count(NULL, NULL, 42, err, sizeof(err)), 0);
	/* LISTEN_FDS is not even looked at for another process. */
	ck_assert_int_eq(sockact_parse_count("41", "x", 42, err, sizeof(err)), 0);
}
END_TEST

START_TEST(count_malformed)
{
	ck_assert_int_eq(sockact_parse_count("4x", "2", 42, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "LISTEN_PID=\"4x\" is not a process ID");
	ck_assert_int_eq(sockact_parse_count("", "2", 42, err, sizeof(err)), -1);
	ck_assert_int_eq(sockact_parse_count("-42", "2", 42, err, sizeof(err)), -1);
	ck_assert_int_eq(sockact_parse_count("42", "-1", 42, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "LISTEN_FDS=\"-1\" is not a count from 0 to 256");
	ck_assert_int_eq(sockact_parse_count("42", "257", 42, err, sizeof(err)), -1);
	ck_assert_int_eq(sockact_parse_count("42", "2 ", 42, err, sizeof(err)), -1);
	ck_assert_int_eq(sockact_parse_count("42", " 2", 42, err, sizeof(err)), -1);
	ck_assert_int_eq(sockact_parse_count("42", "", 42, err, sizeof(err)), -1);
	ck_assert_int_eq(sockact_parse_count("42", "99999999999999999999", 42,
	                                     err, sizeof(err)), -1);
}
END_TEST

static void free_names(struct sockact_fd *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(fds[i].name);
		fds[i].name = NULL;
	}
}

START_TEST(names_split_on_colons)
{
	struct sockact_fd fds[3];

	ck_assert_int_eq(sockact_parse_names("web:api:mptcp-frontd.socket", fds,
	                                     3, err, sizeof(err)), 0);
	ck_assert_str_eq(fds[0].name, "web");
	ck_assert_str_eq(fds[1].name, "api");
	ck_assert_str_eq(fds[2].name, "mptcp-frontd.socket");
	free_names(fds, 3);
}
END_TEST

START_TEST(names_empty_entries_are_unnamed)
{
	struct sockact_fd fds[3];

	ck_assert_int_eq(sockact_parse_names(":api:", fds, 3, err,
	                                     sizeof(err)), 0);
	ck_assert_ptr_null(fds[0].name);
	ck_assert_str_eq(fds[1].name, "api");
	ck_assert_ptr_null(fds[2].name);
	free_names(fds, 3);
	ck_assert_int_eq(sockact_parse_names("", fds, 1, err, sizeof(err)), 0);
	ck_assert_ptr_null(fds[0].name);
	/* No LISTEN_FDNAMES at all: every socket unnamed. */
	ck_assert_int_eq(sockact_parse_names(NULL, fds, 2, err, sizeof(err)), 0);
	ck_assert_ptr_null(fds[0].name);
	ck_assert_ptr_null(fds[1].name);
}
END_TEST

START_TEST(names_count_must_match)
{
	struct sockact_fd fds[3];

	ck_assert_int_eq(sockact_parse_names("web:api", fds, 3, err,
	                                     sizeof(err)), -1);
	ck_assert_str_eq(err, "LISTEN_FDNAMES has 2 names for LISTEN_FDS=3 "
	                 "sockets");
	free_names(fds, 3);
	ck_assert_int_eq(sockact_parse_names("a:b:c:d", fds, 3, err,
	                                     sizeof(err)), -1);
	ck_assert_str_eq(err, "LISTEN_FDNAMES has 4 names for LISTEN_FDS=3 "
	                 "sockets");
	free_names(fds, 3);
}
END_TEST

/* Matching, over a configuration and fake sockets (no descriptors). */

static struct config *load(const char *text)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;

	ck_assert_int_eq(config_load_string(text, "t.ini", &cfg, &errs), 0);
	return cfg;
}

static void fake(struct sockact_fd *f, const char *name, const char *addr)
{
	char e[128];

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->name = (char *)name;
	ck_assert_int_eq(addr_parse(addr, ADDR_ALLOW_INET, &f->bound, e,
	                            sizeof(e)), 0);
}

#define TWO_LISTENERS \
	"[listener:web]\n" \
	"bind = 127.0.0.1:8000, [::1]:8000\n" \
	"backend = 127.0.0.1:8080\n" \
	"[listener:api]\n" \
	"bind = 127.0.0.1:9000\n" \
	"backend = 127.0.0.1:9090\n"

START_TEST(match_by_address)
{
	struct config *cfg = load(TWO_LISTENERS);
	const struct listener_cfg *web = &cfg->listeners[0];
	const struct listener_cfg *api = &cfg->listeners[1];
	struct sockact_fd f[3];

	/* Unnamed, or named like no listener (systemd's default name is
	 * the socket unit's): the address decides. */
	fake(&f[0], NULL, "127.0.0.1:9000");
	fake(&f[1], "mptcp-frontd.socket", "[::1]:8000");
	fake(&f[2], NULL, "127.0.0.1:8000");
	ck_assert_uint_eq(sockact_assign(f, 3, cfg), 0);
	ck_assert_int_eq(f[0].match, SOCKACT_BY_ADDR);
	ck_assert_ptr_eq(f[0].listener, api);
	ck_assert_ptr_eq(f[0].bind, &api->binds[0]);
	ck_assert_ptr_eq(f[1].bind, &web->binds[1]);
	ck_assert_ptr_eq(f[2].bind, &web->binds[0]);
	config_free(cfg);
}
END_TEST

START_TEST(match_by_name)
{
	struct config *cfg = load(TWO_LISTENERS);
	const struct listener_cfg *web = &cfg->listeners[0];
	const struct listener_cfg *api = &cfg->listeners[1];
	struct sockact_fd f[2];

	/* The socket unit chose other addresses: the names decide. */
	fake(&f[0], "api", "0.0.0.0:443");
	fake(&f[1], "web", "[::]:443");
	ck_assert_uint_eq(sockact_assign(f, 2, cfg), 0);
	ck_assert_int_eq(f[0].match, SOCKACT_BY_NAME);
	ck_assert_ptr_eq(f[0].bind, &api->binds[0]);
	ck_assert_int_eq(f[1].match, SOCKACT_BY_NAME);
	ck_assert_ptr_eq(f[1].bind, &web->binds[0]);
	config_free(cfg);
}
END_TEST

START_TEST(name_wins_over_another_listeners_address)
{
	struct config *cfg = load(TWO_LISTENERS);
	const struct listener_cfg *api = &cfg->listeners[1];
	struct sockact_fd f[1];

	fake(&f[0], "api", "127.0.0.1:8000");  /* web's address */
	ck_assert_uint_eq(sockact_assign(f, 1, cfg), 0);
	ck_assert_int_eq(f[0].match, SOCKACT_BY_NAME);
	ck_assert_ptr_eq(f[0].bind, &api->binds[0]);
	config_free(cfg);
}
END_TEST

START_TEST(exact_address_before_name_only)
{
	struct config *cfg = load(TWO_LISTENERS);
	const struct listener_cfg *web = &cfg->listeners[0];
	struct sockact_fd f[2];

	/* The first socket matches web only by name; it must not take the
	 * bind the second one matches exactly. */
	fake(&f[0], "web", "0.0.0.0:80");
	fake(&f[1], "web", "127.0.0.1:8000");
	ck_assert_uint_eq(sockact_assign(f, 2, cfg), 0);
	ck_assert_int_eq(f[1].match, SOCKACT_BY_ADDR);
	ck_assert_ptr_eq(f[1].bind, &web->binds[0]);
	ck_assert_int_eq(f[0].match, SOCKACT_BY_NAME);
	ck_assert_ptr_eq(f[0].bind, &web->binds[1]);
	config_free(cfg);
}
END_TEST

START_TEST(unmatched_sockets_are_counted)
{
	struct config *cfg = load(TWO_LISTENERS);
	struct sockact_fd f[4];

	fake(&f[0], NULL, "127.0.0.1:7000");    /* nobody's address */
	fake(&f[1], "api", "127.0.0.1:9000");
	fake(&f[2], "api", "127.0.0.1:9001");   /* api has one bind only */
	fake(&f[3], NULL, "127.0.0.1:9000");    /* that bind is taken */
	ck_assert_uint_eq(sockact_assign(f, 4, cfg), 3);
	ck_assert_int_eq(f[0].match, SOCKACT_NONE);
	ck_assert_ptr_null(f[0].bind);
	ck_assert_int_eq(f[1].match, SOCKACT_BY_ADDR);
	ck_assert_int_eq(f[2].match, SOCKACT_NONE);
	ck_assert_int_eq(f[3].match, SOCKACT_NONE);
	config_free(cfg);
}
END_TEST

START_TEST(address_must_be_exact)
{
	struct config *cfg = load(TWO_LISTENERS);
	struct sockact_fd f[3];

	/* Same port, other family or address; same address, other port. */
	fake(&f[0], NULL, "0.0.0.0:8000");
	fake(&f[1], NULL, "[::ffff:127.0.0.1]:8000");
	fake(&f[2], NULL, "127.0.0.1:8001");
	ck_assert_uint_eq(sockact_assign(f, 3, cfg), 3);
	config_free(cfg);
}
END_TEST

START_TEST(take_without_init_finds_nothing)
{
	struct config *cfg = load(TWO_LISTENERS);
	struct sockact_fd out;

	ck_assert_int_eq(sockact_take(&cfg->listeners[0].binds[0], &out), 0);
	sockact_done();
	config_free(cfg);
}
END_TEST

START_TEST(inherit_parses)
{
	struct sockact_inherit in;

	ck_assert_int_eq(sockact_parse_inherit("pid=42 ready=7 stats=8 "
	                                       "sock=5:web:0 sock=6:web:1 "
	                                       "sock=9:web:0", &in, err,
	                                       sizeof(err)), 0);
	ck_assert_int_eq(in.pid, 42);
	ck_assert_int_eq(in.ready_fd, 7);
	ck_assert_int_eq(in.stats_fd, 8);
	ck_assert_uint_eq(in.n, 3);
	ck_assert_int_eq(in.socks[1].fd, 6);
	ck_assert_str_eq(in.socks[1].name, "web");
	ck_assert_uint_eq(in.socks[1].bind_index, 1);
	ck_assert_int_eq(in.socks[2].from_upgrade, 1);
	sockact_inherit_free(&in);
	ck_assert_int_eq(sockact_parse_inherit("pid=42 ready=7", &in, err,
	                                       sizeof(err)), 0);
	ck_assert_int_eq(in.stats_fd, -1);
	ck_assert_uint_eq(in.n, 0);
}
END_TEST

START_TEST(inherit_malformed)
{
	struct sockact_inherit in;

	ck_assert_int_eq(sockact_parse_inherit("ready=7", &in, err,
	                                       sizeof(err)), -1);
	ck_assert_str_eq(err, "no pid=");
	ck_assert_int_eq(sockact_parse_inherit("pid=42 sock=5:web", &in, err,
	                                       sizeof(err)), -1);
	ck_assert_int_eq(sockact_parse_inherit("pid=42 sock=5::0", &in, err,
	                                       sizeof(err)), -1);
	ck_assert_int_eq(sockact_parse_inherit("pid=x", &in, err,
	                                       sizeof(err)), -1);
	ck_assert_int_eq(sockact_parse_inherit("pid=42 what=1", &in, err,
	                                       sizeof(err)), -1);
	ck_assert_str_eq(err, "cannot parse \"what\"");
}
END_TEST

START_TEST(upgrade_copies_share_a_bind)
{
	struct config *cfg = load("[listener:web]\n"
	                          "bind = 127.0.0.1:0, 127.0.0.1:8000\n"
	                          "backend = 127.0.0.1:8080\n"
	                          "[listener:api]\n"
	                          "bind = 127.0.0.1:9000\n"
	                          "backend = 127.0.0.1:9090\n");
	const struct listener_cfg *web = &cfg->listeners[0];
	const struct listener_cfg *api = &cfg->listeners[1];
	struct sockact_fd f[5];

	/* Two workers' copies of web's binds (port 0 resolved to 41000),
	 * api's socket under an old name, one the new file dropped. */
	fake(&f[0], "web", "127.0.0.1:41000");
	fake(&f[1], "web", "127.0.0.1:8000");
	fake(&f[2], "web", "127.0.0.1:41000");
	fake(&f[3], "old-api", "127.0.0.1:9000");
	fake(&f[4], "web", "127.0.0.1:7000");
	f[1].bind_index = 1;
	f[4].bind_index = 2;
	ck_assert_uint_eq(sockact_assign_upgrade(f, 5, cfg), 1);
	ck_assert_ptr_eq(f[0].bind, &web->binds[0]);
	ck_assert_ptr_eq(f[1].bind, &web->binds[1]);
	ck_assert_ptr_eq(f[2].bind, &web->binds[0]);
	ck_assert_ptr_eq(f[3].bind, &api->binds[0]);
	ck_assert_int_eq(f[4].match, SOCKACT_NONE);
	config_free(cfg);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("sockact");

	UNIT_ADD(s, count_for_us);
	UNIT_ADD(s, count_not_for_us);
	UNIT_ADD(s, count_malformed);
	UNIT_ADD(s, names_split_on_colons);
	UNIT_ADD(s, names_empty_entries_are_unnamed);
	UNIT_ADD(s, names_count_must_match);
	UNIT_ADD(s, match_by_address);
	UNIT_ADD(s, match_by_name);
	UNIT_ADD(s, name_wins_over_another_listeners_address);
	UNIT_ADD(s, exact_address_before_name_only);
	UNIT_ADD(s, unmatched_sockets_are_counted);
	UNIT_ADD(s, address_must_be_exact);
	UNIT_ADD(s, take_without_init_finds_nothing);
	UNIT_ADD(s, inherit_parses);
	UNIT_ADD(s, inherit_malformed);
	UNIT_ADD(s, upgrade_copies_share_a_bind);
	return s;
}

UNIT_MAIN(make_suite)
