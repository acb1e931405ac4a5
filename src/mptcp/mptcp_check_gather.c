/* The I/O half of `mptcp-frontd --check`: read the current network
 * namespace's MPTCP state into struct mptcp_check_facts.  No judgement
 * here; see mptcp_check.c. */
#include "auto-config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "compat.h"
#include "mptcp_check.h"
#include "mptcp_mib.h"
#include "mptcp_pm.h"

#define SYSCTL_DIR "/proc/sys/net/mptcp/"

/* The first line of a small file, without its newline.  Returns 0, or -1
 * when it cannot be read. */
static int read_line(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "re");
	int ok;

	if (fp == NULL)
		return -1;
	ok = fgets(buf, (int)size, fp) != NULL;
	fclose(fp);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* net.mptcp.path_manager (Linux 6.15+) names it; before that pm_type
 * (5.19+) numbers it; before that there is only the in-kernel one. */
static void read_pm(struct mptcp_check_facts *f)
{
	char name[32];
	int type;

	if (read_line(SYSCTL_DIR "path_manager", name, sizeof(name)) == 0) {
		snprintf(f->pm_setting, sizeof(f->pm_setting),
		         "net.mptcp.path_manager = %s", name);
		f->pm = strcmp(name, "kernel") == 0      ? MPTCP_CHECK_PM_KERNEL
		        : strcmp(name, "userspace") == 0 ? MPTCP_CHECK_PM_USERSPACE
		                                         : MPTCP_CHECK_PM_OTHER;
		return;
	}
	type = mptcp_pm_sysctl_get("pm_type");
	if (type < 0) {
		f->pm = MPTCP_CHECK_PM_UNKNOWN;
		return;
	}
	f->pm_via_type = 1;
	snprintf(f->pm_setting, sizeof(f->pm_setting), "net.mptcp.pm_type = %d",
	         type);
	f->pm = type == 0   ? MPTCP_CHECK_PM_KERNEL
	        : type == 1 ? MPTCP_CHECK_PM_USERSPACE
	                    : MPTCP_CHECK_PM_OTHER;
}

/* Whether a process named mptcpd runs in our network namespace.  When its
 * namespace cannot be read (not root), it is given the benefit of the
 * doubt. */
static int mptcpd_running(void)
{
	struct stat self, other;
	struct dirent *de;
	DIR *d = opendir("/proc");
	int found = 0, have_self;

	if (d == NULL)
		return 0;
	have_self = stat("/proc/self/ns/net", &self) == 0;
	while (!found && (de = readdir(d)) != NULL) {
		char path[300], comm[32];

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (read_line(path, comm, sizeof(comm)) < 0 ||
		    strcmp(comm, "mptcpd") != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		found = !have_self || stat(path, &other) < 0 ||
		        (other.st_dev == self.st_dev &&
		         other.st_ino == self.st_ino);
	}
	closedir(d);
	return found;
}

static void probe_socket(int family, struct mptcp_check_sock *s)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
	socklen_t len = sizeof(s->protocol);

	s->err = 0;
	s->protocol = -1;
	if (fd < 0) {
		s->err = errno;
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &s->protocol, &len) < 0)
		s->protocol = -1;
	close(fd);
}

static void read_mib(struct mptcp_check_facts *f)
{
	static struct mptcp_mib mib;    /* large; --check is one thread */
	int rc = mptcp_mib_read(&mib);

	f->mib_err = -rc;
	if (rc < 0)
		return;
	/* A counter this kernel lacks reads as 0. */
	mptcp_mib_get(&mib, "MPJoinSynRx", &f->join_syn_rx);
	mptcp_mib_get(&mib, "MPJoinAckRx", &f->join_ack_rx);
	mptcp_mib_get(&mib, "MPJoinNoTokenFound", &f->join_no_token);
	mptcp_mib_get(&mib, "AddAddrTx", &f->add_addr_tx);
}

void mptcp_check_gather(struct mptcp_check_facts *f)
{
	struct utsname u;

	memset(f, 0, sizeof(*f));
	if (uname(&u) == 0)
		snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
	f->enabled = mptcp_pm_sysctl_get("enabled");
	read_pm(f);
	if (f->pm == MPTCP_CHECK_PM_USERSPACE)
		f->mptcpd_running = mptcpd_running();
	f->allow_join_initial = mptcp_pm_sysctl_get("allow_join_initial_addr_port");
	read_mib(f);
	probe_socket(AF_INET, &f->sock4);
	probe_socket(AF_INET6, &f->sock6);
	mptcp_nl_query(&f->nl);
	for (size_t i = 0; i < f->nl.n_endpoints; i++) {
		struct mptcp_nl_endpoint *ep = &f->nl.ep[i];

		if (ep->ifindex > 0 &&
		    if_indextoname((unsigned)ep->ifindex, ep->ifname) == NULL)
			ep->ifname[0] = '\0';
	}
}
