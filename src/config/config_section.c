/* Section headers: [global] once, [listener:NAME] with a unique, valid
 * name, anything else reported with a suggestion.  The reader calls in
 * here with the header's name; keys that follow go to the section opened
 * last, or nowhere (SEC_BAD) when it could not be used. */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "parse.h"

static bool listener_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > LISTENER_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

static void unknown_section(struct parser *p, const char *name)
{
	const char *colon = strchr(name, ':');
	char prefix[64];
	size_t n = colon != NULL ? (size_t)(colon - name) : strlen(name);

	if (n >= sizeof(prefix))
		n = sizeof(prefix) - 1;
	memcpy(prefix, name, n);
	prefix[n] = '\0';
	if (parse_edit_distance(prefix, "listener") <= 2) {
		if (colon != NULL)
			cfg_err_add(p, p->lineno, p->sec_label, NULL,
			            "unknown section; did you mean "
			            "[listener:%s]?", colon + 1);
		else
			cfg_err_add(p, p->lineno, p->sec_label, NULL,
			            "unknown section; did you mean "
			            "[listener:NAME]?");
	} else if (parse_edit_distance(name, "global") <= 2) {
		cfg_err_add(p, p->lineno, p->sec_label, NULL,
		            "unknown section; did you mean [global]?");
	} else {
		cfg_err_add(p, p->lineno, p->sec_label, NULL,
		            "unknown section; expected [global] or "
		            "[listener:NAME]");
	}
}

/* A header we could not read: skip keys until the next one. */
void cfg_section_lost(struct parser *p)
{
	free(p->sec_label);
	p->sec_label = NULL;
	free(p->prev_key);
	p->prev_key = NULL;
	p->sec = SEC_BAD;
}

/* A "[name]" header; name is trimmed and NUL-terminated. */
void cfg_section_open(struct parser *p, const char *name)
{
	char where[PATH_MAX + 16];
	size_t i;

	free(p->prev_key);
	p->prev_key = NULL;
	free(p->sec_label);
	p->sec_label = cfg_str_printf("[%s]", name);
	if (p->sec_label == NULL) {
		p->oom = true;
		p->sec = SEC_BAD;
		return;
	}

	if (strcmp(name, "global") == 0) {
		if (p->global_line != 0)
			cfg_err_add(p, p->lineno, p->sec_label, NULL,
			            "duplicate section, first on %s",
			            cfg_where(p, p->global_line, p->lineno, where,
			                      sizeof(where)));
		else
			p->global_line = p->lineno;
		p->sec = SEC_GLOBAL;
		return;
	}
	if (strncmp(name, "listener:", 9) != 0) {
		unknown_section(p, name);
		p->sec = SEC_BAD;
		return;
	}

	name += 9;
	if (!listener_name_ok(name))
		cfg_err_add(p, p->lineno, p->sec_label, NULL,
		            "bad listener name: use 1 to %d characters of A-Z, "
		            "a-z, 0-9, '_', '.' and '-'", LISTENER_NAME_MAX);
	for (i = 0; i < p->cfg->nlisteners; i++) {
		if (strcmp(p->cfg->listeners[i].name, name) == 0) {
			cfg_err_add(p, p->lineno, p->sec_label, NULL,
			            "duplicate listener name, first defined on "
			            "%s", cfg_where(p, p->cfg->listeners[i].line,
			                            p->lineno, where,
			                            sizeof(where)));
			break;
		}
	}
	/* Even a misnamed or duplicate listener gets its keys checked. */
	if (cfg_listener_add(p, name) < 0) {
		p->oom = true;
		p->sec = SEC_BAD;
		return;
	}
	p->sec = SEC_LISTENER;
}
