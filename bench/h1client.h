/* The load tools' HTTP/1.1 client pieces (bench/loadgen.c, bench/pipeline_load.c): raw
 * sockets, keep-alive, one request in flight per connection, the response read into a fixed
 * buffer. What the daemon answers is all this has to read: libmicrohttpd sends every meetlink
 * response from a buffer (src/http/server.c send_resp), so always with a Content-Length;
 * anything else is refused as a parse error rather than guessed at. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* A response at the start of a receive buffer. */
struct ml_h1_resp {
	int status;
	const char *body; /* borrowed: points into the buffer given to ml_h1_parse */
	size_t body_len;
	size_t total; /* bytes of the buffer it takes, headers included */
	bool close;   /* the server said Connection: close */
};

/* A TCP socket to sa with TCP_NODELAY, or -1 (errno set). nonblock: the socket is
 * non-blocking and the connect may still be in progress; the first ml_h1_send then says it
 * would block, and EPOLLOUT (or EPOLLERR) tells when the connect is done. */
int ml_h1_connect(const struct sockaddr *sa, socklen_t len, bool nonblock);

/* Sends buf[*off, len), advancing *off. 0: all sent, 1: would block, -1: error (errno). */
int ml_h1_send(int fd, const char *buf, size_t len, size_t *off);

/* The response at the start of buf[0, len), cap being the buffer's size. 1: complete, *r
 * filled; 0: incomplete, read more; -1: not one this reads (malformed, no Content-Length,
 * chunked, or larger than cap). */
int ml_h1_parse(const char *buf, size_t len, size_t cap, struct ml_h1_resp *r);

/* Reads what fd has into buf[*len, cap), advancing *len, until a whole response is there.
 * 1: complete, *r filled; 0: would block, call again when fd is readable; -1: the
 * connection ended first (errno set, 0 when the peer closed it); -2: not a response
 * ml_h1_parse reads, or bytes after it (one request is in flight: the stream is lost). */
int ml_h1_recv(int fd, char *buf, size_t *len, size_t cap, struct ml_h1_resp *r);

/* The first "id":"bkg_..." of a JSON body, copied into out; NULL when there is none. */
const char *ml_h1_booking_id(const char *body, size_t n, char out[64]);
