/* See h1client.h. */
#define _GNU_SOURCE
#include "h1client.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int ml_h1_connect(const struct sockaddr *sa, socklen_t len, bool nonblock)
{
	int one = 1;
	int fd =
	    socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	if (connect(fd, sa, len) < 0 && !(nonblock && errno == EINPROGRESS)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int ml_h1_send(int fd, const char *buf, size_t len, size_t *off)
{
	while (*off < len) {
		ssize_t n = send(fd, buf + *off, len - *off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 1 : -1;
		}
		*off += (size_t)n;
	}
	return 0;
}

int ml_h1_parse(const char *buf, size_t len, size_t cap, struct ml_h1_resp *r)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end)
		return len >= cap ? -1 : 0;
	if (end - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0)
		return -1;
	char *stop;
	long status = strtol(buf + 9, &stop, 10);
	if (stop != buf + 12 || status < 100 || status > 999)
		return -1;
	size_t hlen = (size_t)(end - buf) + 4, clen = 0;
	bool have_len = false, close_after = false;
	for (const char *line = memchr(buf, '\n', hlen); line && line < end;
	     line = memchr(line + 1, '\n', (size_t)(end - line))) {
		const char *l = line + 1;
		if (strncasecmp(l, "Content-Length:", 15) == 0) {
			clen = strtoul(l + 15, NULL, 10);
			have_len = true;
		} else if (strncasecmp(l, "Connection:", 11) == 0) {
			const char *v = l + 11;
			while (*v == ' ')
				v++;
			close_after = strncasecmp(v, "close", 5) == 0;
		} else if (strncasecmp(l, "Transfer-Encoding:", 18) == 0) {
			return -1;
		}
	}
	if (!have_len || clen > cap - hlen)
		return -1;
	if (len < hlen + clen)
		return 0;
	r->status = (int)status;
	r->body = buf + hlen;
	r->body_len = clen;
	r->total = hlen + clen;
	r->close = close_after;
	return 1;
}

int ml_h1_recv(int fd, char *buf, size_t *len, size_t cap, struct ml_h1_resp *r)
{
	for (;;) {
		ssize_t k = recv(fd, buf + *len, cap - *len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return 0;
		if (k <= 0) {
			if (k == 0)
				errno = 0;
			return -1;
		}
		*len += (size_t)k;
		int p = ml_h1_parse(buf, *len, cap, r);
		if (p != 0)
			return p < 0 || r->total != *len ? -2 : 1;
	}
}

const char *ml_h1_booking_id(const char *body, size_t n, char out[64])
{
	const char *p = memmem(body, n, "\"id\":\"bkg_", 10);
	if (!p)
		return NULL;
	p += 6;
	const char *q = memchr(p, '"', (size_t)(body + n - p));
	if (!q || q - p >= 64)
		return NULL;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return out;
}
