/* Kernel constants that older libc headers may lack. */
#ifndef FRONTD_COMPAT_H
#define FRONTD_COMPAT_H

#include <netinet/in.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#ifndef MPTCP_INFO
#define MPTCP_INFO 1
#endif

#endif
