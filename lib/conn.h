/* conn: one client connection's side of the protocol, as a state machine that does no I/O
 * (picohttpparser's contract extended to a whole connection). A driver, blocking or event
 * driven, moves bytes between the socket and the conn and asks it what to do next:
 *
 *   CONN_SEND    it has output: conn_output() gives the next bytes (the greeting, the payload
 *                from its offset, an ERR line); conn_sent() says how many went out
 *   CONN_READ    it wants input: recv into conn_inbuf() and report with conn_received()
 *                (0 bytes: the peer closed)
 *   CONN_WORK    a whole request awaits its sieve: conn_request() gives it, the driver counts
 *                the primes (here or on another thread) and reports with conn_work_done()
 *   CONN_LINGER  an ERR line went out: the driver shuts its write side and discards input
 *                (conn_received() counts it) until the peer closes, CONN_LINGER_BYTES have
 *                come, or CONN_LINGER_MS have passed by its own clock; then it closes
 *   CONN_DONE    close the connection
 *
 * Closing a socket with unread input makes the kernel send a reset, which can reach the
 * client before the ERR line it should read: hence the linger. Timeouts are the driver's too:
 * the conn keeps no clock. Requests pipelined behind one another are answered in order. */
#ifndef CONN_H
#define CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define CONN_LINGER_MS    200
#define CONN_LINGER_BYTES (64 * 1024)

enum conn_state { CONN_SEND, CONN_READ, CONN_WORK, CONN_LINGER, CONN_DONE };

struct conn_cfg {
    const char *greeting; /* "\n"-terminated */
    size_t greeting_len;
    struct proto_limits limits;
};

/* What the connection has done since the driver last took it (conn_tally_take). */
struct conn_tally {
    uint64_t requests;     /* answered in full */
    uint64_t bad_requests; /* answered with ERR */
    uint64_t bytes_sent;   /* payload bytes, partial payloads included */
    uint64_t primes;       /* sum of the sieve results */
};

struct conn {
    enum conn_state state;
    const struct conn_cfg *cfg;
    struct proto_request req; /* the request being worked on or answered */
    uint64_t off;             /* bytes of the current output already sent */
    enum { OUT_GREETING, OUT_PAYLOAD, OUT_ERR } out;
    const char *reason; /* why the last ERR was sent (for the driver's log), or NULL */
    size_t line_used;   /* bytes of in[] the current request's line takes */
    size_t inlen, lingered, errlen;
    bool peer_closed;
    struct conn_tally tally;
    char err[96];
    char in[2 * PROTO_LINE_MAX + 2];
};

/* A new connection: its first output is the greeting. */
void conn_init(struct conn *c, const struct conn_cfg *cfg);

/* Where the driver may receive to, and how much room there is (0 when the buffer is full:
 * stop reading until the state changes). Input may be taken in any state but CONN_DONE; it
 * is parsed once the greeting and earlier answers are out. */
char *conn_inbuf(struct conn *c, size_t *room);

/* n bytes were received into conn_inbuf(); 0 means the peer closed its side, after which
 * the requests it sent are still answered and the conn is then CONN_DONE. Returns the new
 * state. */
enum conn_state conn_received(struct conn *c, size_t n);

/* The next bytes to send (CONN_SEND): a pointer into the greeting, the payload block or the
 * ERR line, and their count (never 0 in CONN_SEND). */
size_t conn_output(const struct conn *c, const void **p);

/* n of the bytes conn_output() gave went out. Returns the new state. */
enum conn_state conn_sent(struct conn *c, size_t n);

/* The request awaiting its sieve (CONN_WORK). */
const struct proto_request *conn_request(const struct conn *c);

/* The sieve's result for conn_request(): the prime count, or -1 when it could not run (out
 * of memory: the client gets an ERR line). Returns the new state. */
enum conn_state conn_work_done(struct conn *c, int64_t primes);

/* The tally since the last call, and a fresh one. */
struct conn_tally conn_tally_take(struct conn *c);

#endif
