/* Fuzz target: the configuration loader, ini text in (through
 * config_load_string, as for a file), a configuration or error messages
 * out, everything freed (LeakSanitizer reports whatever is not).
 *
 * Invariants beyond "no crash, no leak": exactly one of "a configuration"
 * and "at least one message" comes back; every message names the file; a
 * configuration keeps its documented bounds.
 *
 * Host names in `backend` are resolved at load time.  So that a run is
 * deterministic and never touches the network, this program brings its
 * own getaddrinfo(): "localhost" and names under .example resolve to
 * fixed addresses, anything else does not exist.  User and group names
 * still go to the system's databases (local files here). */
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "fuzz.h"

#define NAME "fuzz.ini"

/* Two answers per known name (IPv4 then IPv6), as a dual-stack resolver
 * gives, so that the loader's de-duplication and limits are exercised. */
static struct addrinfo *stub_ai(int family, const void *ip, int port)
{
	struct addrinfo *ai = calloc(1, sizeof(*ai));
	struct sockaddr_storage *ss = calloc(1, sizeof(*ss));

	if (ai == NULL || ss == NULL) {
		free(ai);
		free(ss);
		return NULL;
	}
	ai->ai_family = family;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_protocol = IPPROTO_TCP;
	ai->ai_addr = (struct sockaddr *)ss;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, ip, 4);
		ai->ai_addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, ip, 16);
		ai->ai_addrlen = sizeof(*sin6);
	}
	return ai;
}

void freeaddrinfo(struct addrinfo *res)
{
	while (res != NULL) {
		struct addrinfo *next = res->ai_next;

		free(res->ai_addr);
		free(res);
		res = next;
	}
}

int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints,
                struct addrinfo **restrict res)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t ex4[4] = { 192, 0, 2, 10 };
	static const uint8_t ex6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 10 };
	size_t n = node != NULL ? strlen(node) : 0;
	int port = service != NULL ? atoi(service) : 0;
	int family = hints != NULL ? hints->ai_family : AF_UNSPEC;
	const uint8_t *ip4, *ip6;
	struct addrinfo *a = NULL, *b = NULL;

	*res = NULL;
	if (node == NULL)
		return EAI_NONAME;
	if (strcmp(node, "localhost") == 0) {
		ip4 = lo4;
		ip6 = lo6;
	} else if (n > 8 && strcmp(node + n - 8, ".example") == 0) {
		ip4 = ex4;
		ip6 = ex6;
	} else {
		return EAI_NONAME;
	}
	if (family != AF_INET6 && (a = stub_ai(AF_INET, ip4, port)) == NULL)
		return EAI_MEMORY;
	if (family != AF_INET && (b = stub_ai(AF_INET6, ip6, port)) == NULL) {
		freeaddrinfo(a);
		return EAI_MEMORY;
	}
	if (a != NULL)
		a->ai_next = b;
	*res = a != NULL ? a : b;
	return 0;
}

static void check_config(const struct config *cfg)
{
	size_t i, j;

	FUZZ_CHECK(cfg->path != NULL && strcmp(cfg->path, NAME) == 0);
	FUZZ_CHECK(cfg->log != NULL);
	FUZZ_CHECK(cfg->nlisteners == 0 || cfg->listeners != NULL);
	for (i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];

		FUZZ_CHECK(l->name != NULL);
		FUZZ_CHECK(l->nbinds >= 1 && l->nbinds <= CONFIG_MAX_BINDS);
		FUZZ_CHECK(l->nbackends >= 1 &&
		           l->nbackends <= CONFIG_MAX_BACKENDS);
		for (j = 0; j < l->nbinds; j++) {
			int fam = l->binds[j].addr.ss.ss_family;

			FUZZ_CHECK(fam == AF_INET || fam == AF_INET6);
		}
		for (j = 0; j < l->nbackends; j++) {
			int fam = l->backends[j].ss.ss_family;

			FUZZ_CHECK(fam == AF_INET || fam == AF_INET6 ||
			           fam == AF_UNIX);
		}
		FUZZ_CHECK(config_mptcp_mode_name(l->mptcp) != NULL);
		FUZZ_CHECK(config_pp_mode_name(l->proxy_protocol) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs;
	struct config *cfg = NULL;
	char *text = malloc(size + 1);
	size_t i;
	int rc;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&errs, 0, sizeof(errs));

	rc = config_load_string(text, NAME, &cfg, &errs);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_CHECK(cfg != NULL);
		check_config(cfg);
	} else {
		FUZZ_CHECK(cfg == NULL && errs.n >= 1);
	}
	for (i = 0; i < errs.n; i++) {
		FUZZ_CHECK(errs.msg[i] != NULL);
		FUZZ_CHECK(strncmp(errs.msg[i], NAME ":", strlen(NAME) + 1) == 0);
	}
	config_free(cfg);
	config_errors_free(&errs);
	free(text);
	return 0;
}
