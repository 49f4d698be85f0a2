#include "proto.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define NUM_MAX UINT64_C(9223372036854775807) /* 2^63 - 1 */

static const char *const reasons[PROTO_E_COUNT] = {
    [PROTO_OK] = "ok",
    [PROTO_E_EMPTY] = "empty request",
    [PROTO_E_FIELDS] = "expected two numbers: WORK BYTES",
    [PROTO_E_CHAR] = "invalid character",
    [PROTO_E_NEGATIVE] = "negative number",
    [PROTO_E_OVERFLOW] = "number too large",
    [PROTO_E_WORK] = "WORK exceeds max-work",
    [PROTO_E_BYTES] = "BYTES exceeds max-bytes",
    [PROTO_E_LONG] = "line too long",
};

const char *proto_strerror(enum proto_error e)
{
    if ((unsigned)e >= PROTO_E_COUNT)
        return "unknown error";
    return reasons[e];
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static long fail(enum proto_error *err, enum proto_error e)
{
    if (err)
        *err = e;
    return PROTO_BAD;
}

/* Bytes that may appear somewhere in a request line before its end. Used to refuse junk
 * early; "-" is allowed so that "-5 ..." is reported as negative once the line is whole. */
static bool prefix_ok(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (is_digit(c) || is_blank(c) || c == '-')
            continue;
        if (c == '\r' && i + 1 == len)
            continue;
        return false;
    }
    return true;
}

long proto_parse(const char *buf, size_t len, const struct proto_limits *lim,
                 struct proto_request *req, enum proto_error *err)
{
    size_t scan = len < PROTO_LINE_MAX ? len : PROTO_LINE_MAX;
    const char *nl = memchr(buf, '\n', scan);

    if (!nl) {
        if (!prefix_ok(buf, scan))
            return fail(err, PROTO_E_CHAR);
        if (len >= PROTO_LINE_MAX)
            return fail(err, PROTO_E_LONG);
        return PROTO_INCOMPLETE;
    }

    size_t end = (size_t)(nl - buf);
    size_t consumed = end + 1;
    if (end > 0 && buf[end - 1] == '\r')
        end--;

    uint64_t val[2] = {0, 0};
    int fields = 0;
    bool negative = false, overflow = false;
    size_t i = 0;

    for (;;) {
        while (i < end && is_blank(buf[i]))
            i++;
        if (i == end)
            break;
        bool minus = false;
        if (buf[i] == '-') {
            minus = true;
            i++;
        }
        if (i == end || !is_digit(buf[i]))
            return fail(err, PROTO_E_CHAR);
        uint64_t v = 0;
        bool big = false;
        for (; i < end && is_digit(buf[i]); i++) {
            unsigned d = (unsigned)(buf[i] - '0');
            if (v > (NUM_MAX - d) / 10)
                big = true;
            else
                v = v * 10 + d;
        }
        if (i < end && !is_blank(buf[i]))
            return fail(err, PROTO_E_CHAR);
        negative |= minus;
        overflow |= big;
        if (fields < 2)
            val[fields] = v;
        fields++;
    }

    if (fields == 0)
        return fail(err, PROTO_E_EMPTY);
    if (negative)
        return fail(err, PROTO_E_NEGATIVE);
    if (fields != 2)
        return fail(err, PROTO_E_FIELDS);
    if (overflow)
        return fail(err, PROTO_E_OVERFLOW);
    if (val[0] > lim->max_work)
        return fail(err, PROTO_E_WORK);
    if (val[1] > lim->max_bytes)
        return fail(err, PROTO_E_BYTES);

    req->work = val[0];
    req->bytes = val[1];
    if (err)
        *err = PROTO_OK;
    return (long)consumed;
}

int proto_format_request(char *buf, size_t n, uint64_t work, uint64_t bytes)
{
    int r = snprintf(buf, n, "%llu %llu\n", (unsigned long long)work, (unsigned long long)bytes);
    if (r < 0 || (size_t)r >= n)
        return -1;
    return r;
}
