/* sd_notify without libsystemd: the protocol is one datagram per state
 * change, newline-separated assignments, to $NOTIFY_SOCKET.  Only the
 * main thread calls in here (start-up, signals, reloads). */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static int notify_warned;

int notify_parse_addr(const char *s, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = s != NULL ? strlen(s) : 0;

	/* An absolute path or "@name"; not "vsock:..." (a VM's manager). */
	if (n < 2 || (s[0] != '/' && s[0] != '@') ||
	    n >= sizeof(sun->sun_path))
		return -1;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, s, n);
	if (s[0] == '@') {
		/* Abstract: a leading NUL, and the name is exactly n - 1
		 * bytes long, with no terminator counted. */
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

static void warn_once(const char *what, int err)
{
	if (notify_warned)
		return;
	notify_warned = 1;
	log_warn("NOTIFY_SOCKET %s: %s: %s (the service manager may not see "
	         "our state)", getenv("NOTIFY_SOCKET"), what, strerror(err));
}

static int connect_notify(void)
{
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0) {
		warn_once("socket", errno);
		return -1;
	}
	if (connect(notify_fd, (struct sockaddr *)&notify_addr,
	            notify_len) < 0) {
		warn_once("connect", errno);
		close(notify_fd);
		notify_fd = -1;
		return -1;
	}
	return 0;
}

void notify_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	if (s == NULL || notify_len != 0)
		return;
	if (notify_parse_addr(s, &notify_addr, &notify_len) < 0) {
		notify_len = 0;
		warn_once("unusable address", EINVAL);
		return;
	}
	if (connect_notify() == 0)
		log_debug("notify: speaking sd_notify to %s", s);
}

int notify_send(const char *state)
{
	size_t n = strlen(state);
	ssize_t sent;

	if (notify_len == 0)
		return 0;
	if (notify_fd < 0 && connect_notify() < 0)
		return -1;
	do
		sent = send(notify_fd, state, n, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	if (sent < 0 && errno == ECONNREFUSED) {
		/* The manager re-created its socket: look the path up again
		 * (which may fail once we dropped privileges). */
		close(notify_fd);
		notify_fd = -1;
		if (connect_notify() == 0)
			sent = send(notify_fd, state, n, MSG_NOSIGNAL);
	}
	if (sent < 0) {
		warn_once("send", errno);
		return -1;
	}
	log_debug("notify: %s", state);
	return 1;
}

void notify_ready(void)
{
	notify_send("READY=1");
}

void notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	/* MONOTONIC_USEC lets the manager tell this reload from an earlier
	 * one (Type=notify-reload). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	         (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	notify_send(msg);
}

void notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
	notify_len = 0;
}
