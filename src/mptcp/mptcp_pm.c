/* Path-manager changes, one at a time: see include/mptcp_pm.h. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mptcp_pm.h"

#define SYSCTL_DIR "/proc/sys/net/mptcp/"

int mptcp_pm_sysctl_get(const char *name)
{
	char path[128], buf[32], *end;
	FILE *fp;
	long v;
	int ok;

	snprintf(path, sizeof(path), SYSCTL_DIR "%s", name);
	fp = fopen(path, "re");
	if (fp == NULL)
		return -1;
	ok = fgets(buf, sizeof(buf), fp) != NULL;
	fclose(fp);
	if (!ok)
		return -1;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    v < 0 || v > 1000000)
		return -1;
	return (int)v;
}

int mptcp_pm_sysctl_set(const char *name, int value)
{
	char path[128], buf[16];
	int fd, len, err = 0;

	snprintf(path, sizeof(path), SYSCTL_DIR "%s", name);
	len = snprintf(buf, sizeof(buf), "%d\n", value);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)len) != len)
		err = errno ? errno : EIO;
	if (close(fd) < 0 && err == 0)
		err = errno;
	return -err;
}

const struct mptcp_nl_endpoint *mptcp_pm_find(const struct mptcp_nl_state *st,
                                              const struct cidr *a)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < st->n_endpoints; i++)
		if (st->ep[i].family == a->family &&
		    memcmp(&st->ep[i].addr, a->addr, n) == 0)
			return &st->ep[i];
	return NULL;
}

/* ADD_ADDR or DEL_ADDR with ep as its endpoint nest, acknowledged. */
static int send_endpoint(struct mptcp_nl_sock *s, uint8_t cmd,
                         const struct mptcp_nl_endpoint *ep)
{
	unsigned char attrs[MPTCP_NL_ATTRS_MAX];
	int len = mptcp_nl_encode_endpoint(ep, attrs, sizeof(attrs));

	if (len < 0)
		return len;
	return mptcp_nl_request(s, cmd, NLM_F_ACK, attrs, (size_t)len, NULL,
	                        NULL);
}

int mptcp_pm_signal_add(struct mptcp_nl_sock *s, const struct cidr *a)
{
	struct mptcp_nl_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.family = a->family;
	memcpy(&ep.addr, a->addr, a->family == AF_INET ? 4 : 16);
	ep.flags = MPTCP_NL_FLAG_SIGNAL;
	return send_endpoint(s, MPTCP_NL_CMD_ADD_ADDR, &ep);
}

int mptcp_pm_del(struct mptcp_nl_sock *s, uint8_t id)
{
	struct mptcp_nl_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.id = id;
	return send_endpoint(s, MPTCP_NL_CMD_DEL_ADDR, &ep);
}
