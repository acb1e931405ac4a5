/* /proc/net/netstat's MPTcpExt counters: see include/mptcp_mib.h. */
#include "auto-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcp_mib.h"

#define PREFIX "MPTcpExt:"
#define NETSTAT_MAX 65536       /* the whole file is about 8 KiB */

/* The line after `p` starts, or NULL. */
static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p != NULL ? p + 1 : NULL;
}

static size_t line_len(const char *p)
{
	return strcspn(p, "\n");
}

int mptcp_mib_parse(const char *text, struct mptcp_mib *out)
{
	const char *names = text, *values, *np, *vp, *nend, *vend;

	memset(out, 0, sizeof(*out));
	/* The first "MPTcpExt:" line holds names, the next one values. */
	while (names != NULL && strncmp(names, PREFIX, strlen(PREFIX)) != 0)
		names = next_line(names);
	if (names == NULL)
		return -ENOENT;
	values = next_line(names);
	if (values == NULL || strncmp(values, PREFIX, strlen(PREFIX)) != 0)
		return -EBADMSG;
	np = names + strlen(PREFIX);
	nend = names + line_len(names);
	vp = values + strlen(PREFIX);
	vend = values + line_len(values);
	for (;;) {
		size_t nl, vl;
		char num[24], *end;
		unsigned long long v;

		np += strspn(np, " ");
		vp += strspn(vp, " ");
		if (np >= nend || vp >= vend)
			return np >= nend && vp >= vend ? 0 : -EBADMSG;
		nl = strcspn(np, " \n");
		vl = strcspn(vp, " \n");
		if (vl == 0 || vl >= sizeof(num))
			return -EBADMSG;
		memcpy(num, vp, vl);
		num[vl] = '\0';
		errno = 0;
		v = strtoull(num, &end, 10);
		if (errno != 0 || *end != '\0' || num[0] == '-')
			return -EBADMSG;
		if (nl < MPTCP_MIB_NAME_MAX && out->n < MPTCP_MIB_MAX) {
			memcpy(out->name[out->n], np, nl);
			out->name[out->n][nl] = '\0';
			out->value[out->n++] = v;
		}
		np += nl;
		vp += vl;
	}
}

int mptcp_mib_read(struct mptcp_mib *out)
{
	FILE *fp = fopen("/proc/net/netstat", "re");
	char *buf;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (fp == NULL)
		return -errno;
	buf = malloc(NETSTAT_MAX);
	if (buf == NULL) {
		fclose(fp);
		return -ENOMEM;
	}
	n = fread(buf, 1, NETSTAT_MAX - 1, fp);
	rc = ferror(fp) ? -EIO : 0;
	fclose(fp);
	buf[n] = '\0';
	if (rc == 0)
		rc = mptcp_mib_parse(buf, out);
	free(buf);
	return rc;
}

int mptcp_mib_get(const struct mptcp_mib *m, const char *name, uint64_t *v)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->name[i], name) == 0) {
			*v = m->value[i];
			return 0;
		}
	return -1;
}
