/* Shared by the parts of `--check` (mptcp_check.c, the main findings;
 * mptcp_check_balancer.c, the "behind an L4 load balancer" section);
 * include/mptcp_check.h is the module's public face. */
#ifndef FRONTD_MPTCP_CHECK_INTERNAL_H
#define FRONTD_MPTCP_CHECK_INTERNAL_H

#include "mptcp_check.h"

/* A new finding under r->section, or NULL when the report is full (it
 * still counts). */
struct mptcp_check_finding *mptcp_check_add(struct mptcp_check_report *r,
                                            enum mptcp_check_level level,
                                            const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Its advice; f may be NULL (the report was full). */
void mptcp_check_fix(struct mptcp_check_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The in-kernel path manager is the one in use (or the only one). */
int mptcp_check_pm_in_kernel(const struct mptcp_check_facts *f);

/* The "behind an L4 load balancer" section. */
void mptcp_check_balancer(const struct mptcp_check_facts *f,
                          struct mptcp_check_report *r);

#endif
