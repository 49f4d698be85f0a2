/* The connection core without any socket: a driver's calls by hand, each state checked, the
 * output compared byte for byte with the payload formula, and the request bytes fed from just
 * before a PROT_NONE guard page, so that reading past them crashes. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "helpers.h"
#include "payload.h"

static const char greeting[] = "unit server ready\n";
static struct conn_cfg cfg = {
    greeting, sizeof greeting - 1, {.max_work = 1000, .max_bytes = 1 << 20}};

/* Feeds n bytes of s as the driver would: into conn_inbuf(), then conn_received(). */
static enum conn_state feed(struct conn *c, const char *s, size_t n)
{
    const char *src = guarded(s, n);
    size_t room;
    char *dst = conn_inbuf(c, &room);
    cr_assert_geq(room, n, "room %zu for %zu bytes", room, n);
    memcpy(dst, src, n);
    return conn_received(c, n);
}

/* Sends everything the conn has (at most `limit` bytes per call) into out; returns the count. */
static size_t drain(struct conn *c, char *out, size_t cap, size_t limit)
{
    size_t total = 0;
    while (c->state == CONN_SEND) {
        const void *p;
        size_t n = conn_output(c, &p);
        cr_assert_gt(n, 0, "CONN_SEND with nothing to send");
        if (n > limit)
            n = limit;
        cr_assert_leq(total + n, cap);
        memcpy(out + total, p, n);
        total += n;
        conn_sent(c, n);
    }
    return total;
}

static char out[1 << 21];

Test(conn, greeting_then_a_request_in_pieces, .timeout = 60)
{
    struct conn c;
    conn_init(&c, &cfg);
    cr_assert_eq(c.state, CONN_SEND);
    size_t n = drain(&c, out, sizeof out, 5); /* in pieces of 5 bytes */
    cr_expect_eq(n, strlen(greeting));
    cr_expect_eq(memcmp(out, greeting, n), 0);
    cr_assert_eq(c.state, CONN_READ);
    cr_expect_eq(feed(&c, "10", 2), CONN_READ);
    cr_expect_eq(feed(&c, "0 7", 3), CONN_READ);
    cr_expect_eq(feed(&c, "0000\r\n", 6), CONN_WORK);
    cr_expect_eq(conn_request(&c)->work, 100);
    cr_expect_eq(conn_request(&c)->bytes, 70000);
    cr_expect_eq(conn_work_done(&c, 25), CONN_SEND);
    n = drain(&c, out, sizeof out, 30000);
    cr_expect_eq(n, 70000);
    cr_expect_eq(payload_check(out, n, 0), n, "the payload crosses the 64 KiB block intact");
    cr_expect_eq(c.state, CONN_READ);
    struct conn_tally t = conn_tally_take(&c);
    cr_expect(t.requests == 1 && t.bytes_sent == 70000 && t.primes == 25 && t.bad_requests == 0);
    t = conn_tally_take(&c);
    cr_expect(t.requests == 0 && t.bytes_sent == 0, "taken once");
    cr_expect_eq(conn_received(&c, 0), CONN_DONE, "the client's close ends it");
}

Test(conn, pipelined_requests_answered_in_order, .timeout = 60)
{
    struct conn c;
    conn_init(&c, &cfg);
    const char reqs[] = "1 3\n2 0\n3 5\n";
    /* Requests that came with the connection wait until the greeting is out. */
    size_t room;
    memcpy(conn_inbuf(&c, &room), reqs, sizeof reqs - 1);
    cr_expect_eq(conn_received(&c, sizeof reqs - 1), CONN_SEND, "still greeting");
    drain(&c, out, sizeof out, 1000);
    uint64_t want[] = {3, 0, 5};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(c.state, CONN_WORK, "request %d", i);
        cr_expect_eq(conn_request(&c)->work, (uint64_t)i + 1);
        conn_work_done(&c, 1);
        size_t n = drain(&c, out, sizeof out, 1000);
        cr_expect_eq(n, want[i], "request %d: %zu bytes", i, n);
        cr_expect_eq(payload_check(out, n, 0), n);
    }
    cr_expect_eq(c.state, CONN_READ);
    cr_expect_eq(conn_tally_take(&c).requests, 3);
}

Test(conn, bad_request_err_then_linger, .timeout = 60)
{
    struct conn c;
    conn_init(&c, &cfg);
    drain(&c, out, sizeof out, 1000);
    cr_expect_eq(feed(&c, "5 x\n", 4), CONN_SEND);
    size_t n = drain(&c, out, sizeof out, 3);
    out[n] = '\0';
    cr_expect(!strncmp(out, "ERR ", 4) && out[n - 1] == '\n', "'%s'", out);
    cr_expect(strstr(out, c.reason), "the line carries the reason '%s': %s", c.reason, out);
    cr_assert_eq(c.state, CONN_LINGER);
    cr_expect_eq(conn_tally_take(&c).bad_requests, 1);
    /* Discarded input is counted up to the bound. */
    size_t room;
    for (size_t got = 0; got < CONN_LINGER_BYTES - 1000; got += 1000) {
        conn_inbuf(&c, &room);
        cr_assert_geq(room, 1000);
        cr_assert_eq(conn_received(&c, 1000), CONN_LINGER);
    }
    cr_expect_eq(conn_received(&c, 1000), CONN_DONE, "64 KiB of junk ends the linger");
    conn_init(&c, &cfg);
    drain(&c, out, sizeof out, 1000);
    feed(&c, "-1 5\n", 5);
    drain(&c, out, sizeof out, 1000);
    cr_expect_eq(conn_received(&c, 0), CONN_DONE, "the peer's close ends the linger");
}

Test(conn, limits_and_overlong_lines, .timeout = 60)
{
    struct conn c;
    conn_init(&c, &cfg);
    drain(&c, out, sizeof out, 1000);
    cr_expect_eq(feed(&c, "1001 1\n", 7), CONN_SEND, "WORK above max-work");
    cr_expect_eq(c.out, OUT_ERR);
    conn_init(&c, &cfg);
    drain(&c, out, sizeof out, 1000);
    char line[PROTO_LINE_MAX + 1];
    memset(line, '1', sizeof line);
    enum conn_state st = CONN_READ;
    for (size_t off = 0; off < sizeof line && st == CONN_READ; off += 100)
        st = feed(&c, line + off, sizeof line - off < 100 ? sizeof line - off : 100);
    cr_expect_eq(st, CONN_SEND, "an overlong line is refused");
    size_t n = drain(&c, out, sizeof out, 1000);
    out[n] = '\0';
    cr_expect(!strncmp(out, "ERR ", 4), "%s", out);
}

Test(conn, sieve_failure_and_zero_bytes, .timeout = 60)
{
    struct conn c;
    conn_init(&c, &cfg);
    drain(&c, out, sizeof out, 1000);
    cr_assert_eq(feed(&c, "10 0\n", 5), CONN_WORK);
    cr_expect_eq(conn_work_done(&c, 4), CONN_READ, "BYTES 0: answered with nothing to send");
    cr_expect_eq(conn_tally_take(&c).requests, 1);
    cr_assert_eq(feed(&c, "10 5\n", 5), CONN_WORK);
    cr_expect_eq(conn_work_done(&c, -1), CONN_SEND);
    size_t n = drain(&c, out, sizeof out, 1000);
    out[n] = '\0';
    cr_expect(strstr(out, "ERR out of memory"), "%s", out);
    cr_expect_eq(c.state, CONN_LINGER);
}

Test(conn, partial_payload_counted, .timeout = 60)
{
    struct conn c;
    conn_init(&c, &cfg);
    drain(&c, out, sizeof out, 1000);
    feed(&c, "0 100000\n", 9);
    conn_work_done(&c, 0);
    const void *p;
    size_t n = conn_output(&c, &p);
    cr_expect_eq(n, PAYLOAD_BLOCK, "at most one block at a time");
    conn_sent(&c, 1234);
    n = conn_output(&c, &p);
    cr_expect_eq(n, PAYLOAD_BLOCK - 1234);
    cr_expect_eq(p, payload_block() + 1234);
    struct conn_tally t = conn_tally_take(&c);
    cr_expect(t.bytes_sent == 1234 && t.requests == 0);
}

/* A client that half-closes after its request (loadgen with BYTES 0 does) still gets its
 * answer; the connection ends after it. */
Test(conn, half_close_after_the_request, .timeout = 60)
{
    struct conn c;
    conn_init(&c, &cfg);
    drain(&c, out, sizeof out, 1000);
    cr_assert_eq(feed(&c, "10 3\n", 5), CONN_WORK);
    cr_expect_eq(conn_received(&c, 0), CONN_WORK, "the close waits for the answer");
    conn_work_done(&c, 4);
    cr_expect_eq(drain(&c, out, sizeof out, 1000), 3);
    cr_expect_eq(c.state, CONN_DONE);
    cr_expect_eq(conn_tally_take(&c).requests, 1);
}
