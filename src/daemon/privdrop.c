/* setgroups, setgid, setuid, verified; CAP_NET_BIND_SERVICE (and, for
 * `announce`, CAP_NET_ADMIN) kept through
 * PR_SET_KEEPCAPS and capset(2) (raw syscalls: no libcap).  Capabilities
 * are per thread, which is why this runs before the workers start: they
 * inherit the main thread's. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

#define MAX_GROUPS 1024

struct target {
	const char *user, *group;       /* names, for messages */
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];       /* supplementary, as set */
	int ngroups;
};

/* Permitted and effective capability sets, 64 bits each (two words of
 * _LINUX_CAPABILITY_VERSION_3).  Returns 0 or -1. */
static int caps_get(uint64_t *permitted, uint64_t *effective)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	*permitted = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*effective = d[0].effective | (uint64_t)d[1].effective << 32;
	return 0;
}

/* Permitted = effective = `set`; inheritable empty. */
static int caps_set(uint64_t set)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = (uint32_t)set;
	d[1].permitted = d[1].effective = (uint32_t)(set >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

static int resolve(struct target *t)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	pw = getpwnam(t->user);
	if (pw == NULL) {
		log_error("user %s: %s", t->user,
		          errno ? strerror(errno) : "no such user");
		return -1;
	}
	t->uid = pw->pw_uid;
	t->gid = pw->pw_gid;
	if (t->group != NULL) {
		errno = 0;
		gr = getgrnam(t->group);
		if (gr == NULL) {
			log_error("group %s: %s", t->group,
			          errno ? strerror(errno) : "no such group");
			return -1;
		}
		t->gid = gr->gr_gid;
		t->groups[0] = t->gid;
		t->ngroups = 1;
		return 0;
	}
	t->ngroups = MAX_GROUPS;
	if (getgrouplist(t->user, t->gid, t->groups, &t->ngroups) < 0) {
		log_error("user %s: member of more than %d groups", t->user,
		          MAX_GROUPS);
		return -1;
	}
	return 0;
}

static int has_gid(const gid_t *v, int n, gid_t g)
{
	for (int i = 0; i < n; i++)
		if (v[i] == g)
			return 1;
	return 0;
}

/* Does the switch hold, in every ID and with no way back to root? */
static int verify(const struct target *t, uint64_t keep)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, now[MAX_GROUPS];
	uint64_t perm, eff;
	int n;

	if (getresuid(&ru, &eu, &su) < 0 || ru != t->uid || eu != t->uid ||
	    su != t->uid) {
		log_error("privilege drop: user IDs are not all %ld",
		          (long)t->uid);
		return -1;
	}
	if (getresgid(&rg, &eg, &sg) < 0 || rg != t->gid || eg != t->gid ||
	    sg != t->gid) {
		log_error("privilege drop: group IDs are not all %ld",
		          (long)t->gid);
		return -1;
	}
	n = getgroups(MAX_GROUPS, now);
	for (int i = 0; i < n; i++)
		if (!has_gid(t->groups, t->ngroups, now[i]))
			n = -1;
	if (n != t->ngroups) {
		log_error("privilege drop: supplementary groups are not the "
		          "ones set");
		return -1;
	}
	if (setuid(0) == 0 || setgid(0) == 0) {
		log_error("privilege drop: root can still be regained");
		return -1;
	}
	if (caps_get(&perm, &eff) < 0 || (perm & ~keep) != 0 ||
	    (eff & ~keep) != 0) {
		log_error("privilege drop: capabilities left beyond the "
		          "ones kept");
		return -1;
	}
	return 0;
}

/* Not root: only "switching" to who we already are works. */
static int not_root(const struct target *t)
{
	if (geteuid() == t->uid && getuid() == t->uid &&
	    getegid() == t->gid) {
		log_info("already running as user %s: nothing to drop",
		         t->user);
		return 0;
	}
	log_error("user = %s: running as uid %ld, not root: cannot switch to "
	          "uid %ld (start as root, or remove user and group)", t->user,
	          (long)geteuid(), (long)t->uid);
	return -1;
}

int privdrop_as_user(const char *user, const char *group,
                     int (*fn)(void *), void *arg)
{
	static struct target t;
	static gid_t saved[MAX_GROUPS];
	gid_t egid = getegid();
	int nsaved, rc;

	memset(&t, 0, sizeof(t));
	t.user = user;
	t.group = group;
	if (resolve(&t) < 0)
		return -1;
	nsaved = getgroups(MAX_GROUPS, saved);
	if (nsaved < 0 || setgroups((size_t)t.ngroups, t.groups) < 0 ||
	    setegid(t.gid) < 0 || seteuid(t.uid) < 0) {
		log_error("checking access as user %s: %s", user,
		          strerror(errno));
		rc = -1;
	} else {
		rc = fn(arg);
	}
	/* The saved set-user-ID is still 0: this cannot fail, and going on
	 * with someone else's IDs would be worse than stopping. */
	if (seteuid(0) < 0 || setegid(egid) < 0 ||
	    (nsaved >= 0 && setgroups((size_t)nsaved, saved) < 0)) {
		log_error("switching back to root after checking access as "
		          "user %s: %s", user, strerror(errno));
		abort();
	}
	return rc;
}

int privdrop_apply(const char *user, const char *group, int keep_net_admin)
{
	static struct target t;         /* MAX_GROUPS gids: not on the stack */
	const uint64_t bind_cap = (uint64_t)1 << CAP_NET_BIND_SERVICE;
	const uint64_t admin_cap = (uint64_t)1 << CAP_NET_ADMIN;
	uint64_t perm = 0, eff, keep = 0;
	struct group *gr;

	if (user == NULL)
		return 0;
	memset(&t, 0, sizeof(t));
	t.user = user;
	t.group = group;
	if (resolve(&t) < 0)
		return -1;
	if (geteuid() != 0)
		return not_root(&t);
	if (t.uid == 0) {
		log_warn("user = %s is root: privileges not dropped", user);
		return 0;
	}
	if (caps_get(&perm, &eff) == 0 && (perm & bind_cap) &&
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0)
		keep = bind_cap;
	if (keep_net_admin) {
		if (!(perm & admin_cap) ||
		    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
			log_error("announce needs CAP_NET_ADMIN after the switch "
			          "to user %s (to put the path manager back at "
			          "exit) and this process does not have it", user);
			return -1;
		}
		keep |= admin_cap;
	}
	if (setgroups((size_t)t.ngroups, t.groups) < 0 ||
	    setresgid(t.gid, t.gid, t.gid) < 0 ||
	    setresuid(t.uid, t.uid, t.uid) < 0) {
		log_error("privilege drop to user %s: %s", user,
		          strerror(errno));
		return -1;
	}
	/* setuid kept the permitted set (KEEPCAPS) and cleared the
	 * effective one: narrow both to the one capability. */
	if (caps_set(keep) < 0) {
		log_error("privilege drop: capset: %s", strerror(errno));
		return -1;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (verify(&t, keep) < 0)
		return -1;
	gr = getgrgid(t.gid);
	log_info("privileges dropped: user %s (uid %ld), group %s (gid %ld), "
	         "%d supplementary group%s%s%s", user, (long)t.uid,
	         gr != NULL ? gr->gr_name : "?", (long)t.gid, t.ngroups,
	         t.ngroups == 1 ? "" : "s",
	         (keep & bind_cap) ? "; CAP_NET_BIND_SERVICE kept for reloads"
	                           : "",
	         (keep & admin_cap) ? "; CAP_NET_ADMIN kept for announce "
	                              "(reloads and restoring at exit)" : "");
	return 0;
}
