/* proto: the request parser. Pure: no I/O, no allocation, no global state, so the blocking
 * servers, an event loop, the load generator and the fuzzer all use the same code.
 *
 * A request is one line "WORK BYTES\n" in ASCII decimal. Spaces and tabs may surround and
 * separate the two numbers, and one "\r" may precede the "\n". A line, its "\n" included, is
 * at most PROTO_LINE_MAX bytes. */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_LINE_MAX     511
#define PROTO_GREETING_MAX 255

/* proto_parse() results other than a byte count. */
#define PROTO_BAD        (-1)
#define PROTO_INCOMPLETE (-2)

enum proto_error {
    PROTO_OK = 0,
    PROTO_E_EMPTY,    /* blank line */
    PROTO_E_FIELDS,   /* not exactly two numbers */
    PROTO_E_CHAR,     /* a byte that is not a digit, space, tab or the final CR */
    PROTO_E_NEGATIVE, /* a number with a minus sign */
    PROTO_E_OVERFLOW, /* a number above 2^63 - 1 */
    PROTO_E_WORK,     /* WORK above max-work */
    PROTO_E_BYTES,    /* BYTES above max-bytes */
    PROTO_E_LONG,     /* no "\n" within PROTO_LINE_MAX bytes */
    PROTO_E_COUNT
};

struct proto_limits {
    uint64_t max_work;
    uint64_t max_bytes;
};

struct proto_request {
    uint64_t work;
    uint64_t bytes;
};

/* Parses the first line in buf[0..len). Returns the bytes the line takes (its "\n" included)
 * and fills *req; PROTO_INCOMPLETE when more input is needed; PROTO_BAD with *err set when
 * the line can never be valid. A prefix that already holds a byte no request may contain is
 * rejected at once, without waiting for the end of the line. err may be NULL. */
long proto_parse(const char *buf, size_t len, const struct proto_limits *lim,
                 struct proto_request *req, enum proto_error *err);

/* A short lower-case reason, for "ERR <reason>\n" and logs. */
const char *proto_strerror(enum proto_error e);

/* Writes "WORK BYTES\n" into buf; returns its length, or -1 when n is too small. */
int proto_format_request(char *buf, size_t n, uint64_t work, uint64_t bytes);

#endif
