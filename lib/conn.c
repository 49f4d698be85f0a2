#include "conn.h"

#include <stdio.h>
#include <string.h>

#include "payload.h"

/* The one ERR path: the line to send, then the linger. */
static enum conn_state refuse(struct conn *c, const char *reason)
{
    c->reason = reason;
    int n = snprintf(c->err, sizeof c->err, "ERR %s\n", reason);
    c->errlen = n < (int)sizeof c->err ? (size_t)n : sizeof c->err - 1;
    c->out = OUT_ERR;
    c->off = 0;
    c->tally.bad_requests++;
    return c->state = CONN_SEND;
}

/* After the input changed or an answer ended: the next request line, if there is one. */
static enum conn_state next_request(struct conn *c)
{
    enum proto_error perr;
    long used = proto_parse(c->in, c->inlen, &c->cfg->limits, &c->req, &perr);
    if (used == PROTO_INCOMPLETE)
        return c->state = c->peer_closed ? CONN_DONE : CONN_READ;
    if (used == PROTO_BAD) {
        return refuse(c, proto_strerror(perr));
    }
    c->line_used = (size_t)used;
    return c->state = CONN_WORK;
}

void conn_init(struct conn *c, const struct conn_cfg *cfg)
{
    memset(c, 0, offsetof(struct conn, in));
    c->cfg = cfg;
    c->out = OUT_GREETING;
    c->state = CONN_SEND;
}

char *conn_inbuf(struct conn *c, size_t *room)
{
    if (c->state == CONN_LINGER) { /* discarded: the whole buffer is scratch */
        *room = sizeof c->in;
        return c->in;
    }
    *room = sizeof c->in - c->inlen;
    return c->in + c->inlen;
}

enum conn_state conn_received(struct conn *c, size_t n)
{
    if (c->state == CONN_LINGER) {
        c->lingered += n;
        if (n == 0 || c->lingered >= CONN_LINGER_BYTES)
            c->state = CONN_DONE;
        return c->state;
    }
    if (c->state == CONN_DONE || c->peer_closed)
        return c->state;
    if (n == 0) {
        /* The client closed (or half-closed): what it sent before is still answered. */
        c->peer_closed = true;
        return c->state == CONN_READ ? (c->state = CONN_DONE) : c->state;
    }
    c->inlen += n;
    /* Input that comes while the greeting or an answer is under way waits its turn. */
    return c->state == CONN_READ ? next_request(c) : c->state;
}

size_t conn_output(const struct conn *c, const void **p)
{
    if (c->state != CONN_SEND)
        return 0;
    switch (c->out) {
    case OUT_GREETING:
        *p = c->cfg->greeting + c->off;
        return c->cfg->greeting_len - (size_t)c->off;
    case OUT_ERR:
        *p = c->err + c->off;
        return c->errlen - (size_t)c->off;
    case OUT_PAYLOAD: {
        /* Byte i of a payload is P[i mod 64 KiB]: send to the end of the block at most. */
        size_t in_block = (size_t)(c->off % PAYLOAD_BLOCK);
        uint64_t left = c->req.bytes - c->off;
        size_t n = PAYLOAD_BLOCK - in_block;
        *p = payload_block() + in_block;
        return left < n ? (size_t)left : n;
    }
    }
    return 0;
}

enum conn_state conn_sent(struct conn *c, size_t n)
{
    if (c->state != CONN_SEND)
        return c->state;
    c->off += n;
    if (c->out == OUT_PAYLOAD)
        c->tally.bytes_sent += n;
    switch (c->out) {
    case OUT_GREETING:
        if (c->off < c->cfg->greeting_len)
            return c->state;
        return next_request(c); /* a request may have come with the connection */
    case OUT_ERR:
        if (c->off < c->errlen)
            return c->state;
        return c->state = CONN_LINGER;
    case OUT_PAYLOAD:
        if (c->off < c->req.bytes)
            return c->state;
        c->tally.requests++;
        c->inlen -= c->line_used;
        memmove(c->in, c->in + c->line_used, c->inlen);
        c->line_used = 0;
        return next_request(c);
    }
    return c->state;
}

const struct proto_request *conn_request(const struct conn *c)
{
    return &c->req;
}

enum conn_state conn_work_done(struct conn *c, int64_t primes)
{
    if (c->state != CONN_WORK)
        return c->state;
    c->off = 0;
    if (primes < 0) {
        return refuse(c, "out of memory for the sieve");
    }
    c->tally.primes += (uint64_t)primes;
    c->out = OUT_PAYLOAD;
    c->state = CONN_SEND;
    if (c->req.bytes == 0)
        return conn_sent(c, 0); /* nothing to send: the answer is already complete */
    return c->state;
}

struct conn_tally conn_tally_take(struct conn *c)
{
    struct conn_tally t = c->tally;
    memset(&c->tally, 0, sizeof c->tally);
    return t;
}
