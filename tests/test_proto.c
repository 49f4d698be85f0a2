/* The request parser, table-driven. Every input is placed right before a PROT_NONE page, so
 * a read past the end of the buffer crashes the test instead of passing by luck. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "proto.h"

static const struct proto_limits lim = {.max_work = 100000000, .max_bytes = 1073741824};

struct ok_case {
    const char *in;
    long used;
    uint64_t work, bytes;
};

static const struct ok_case ok_cases[] = {
    {"1000 10\n", 8, 1000, 10},
    {"0 0\n", 4, 0, 0},
    {"250000 500000\n", 14, 250000, 500000},
    {"1 2\r\n", 5, 1, 2},
    {"  7   8  \n", 10, 7, 8},
    {"\t7\t8\t\n", 6, 7, 8},
    {" \t 3 \t 4 \t \r\n", 13, 3, 4},
    {"007 0008\n", 9, 7, 8},
    {"100000000 1073741824\n", 21, 100000000, 1073741824}, /* both limits exactly */
    {"5 6\n7 8\n", 4, 5, 6},                               /* pipelined: first line only */
    {"1 1\nGARBAGE", 4, 1, 1},
};

Test(proto, valid_lines, .timeout = 60)
{
    for (size_t i = 0; i < sizeof ok_cases / sizeof *ok_cases; i++) {
        const struct ok_case *c = &ok_cases[i];
        size_t len = strlen(c->in);
        struct proto_request r = {99, 99};
        enum proto_error e = PROTO_E_COUNT;
        long used = proto_parse(guarded(c->in, len), len, &lim, &r, &e);
        cr_expect_eq(used, c->used, "case %zu: used %ld, want %ld", i, used, c->used);
        cr_expect_eq(r.work, c->work, "case %zu: work %llu, want %llu", i,
                     (unsigned long long)r.work, (unsigned long long)c->work);
        cr_expect_eq(r.bytes, c->bytes, "case %zu: bytes %llu, want %llu", i,
                     (unsigned long long)r.bytes, (unsigned long long)c->bytes);
        cr_expect_eq(e, PROTO_OK, "case %zu: error %d", i, e);
    }
}

struct bad_case {
    const char *in;
    size_t len; /* 0: strlen */
    long result;
    enum proto_error err;
};

static const struct bad_case bad_cases[] = {
    {"\n", 0, PROTO_BAD, PROTO_E_EMPTY},
    {"   \t \r\n", 0, PROTO_BAD, PROTO_E_EMPTY},
    {"5\n", 0, PROTO_BAD, PROTO_E_FIELDS},
    {"1 2 3\n", 0, PROTO_BAD, PROTO_E_FIELDS},
    {"abc\n", 0, PROTO_BAD, PROTO_E_CHAR},
    {"GET / HTTP/1.1\r\n", 0, PROTO_BAD, PROTO_E_CHAR},
    {"1 2x\n", 0, PROTO_BAD, PROTO_E_CHAR},
    {"1,2\n", 0, PROTO_BAD, PROTO_E_CHAR},
    {"+1 2\n", 0, PROTO_BAD, PROTO_E_CHAR},
    {"1.5 2\n", 0, PROTO_BAD, PROTO_E_CHAR},
    {"1 2\r\r\n", 0, PROTO_BAD, PROTO_E_CHAR},
    {"1\r2\n", 0, PROTO_BAD, PROTO_E_CHAR},
    {"1 - 2\n", 0, PROTO_BAD, PROTO_E_CHAR},
    {"1 2\0\n", 5, PROTO_BAD, PROTO_E_CHAR},
    {"\0", 1, PROTO_BAD, PROTO_E_CHAR},       /* junk refused before any newline */
    {"\xff\xfe", 2, PROTO_BAD, PROTO_E_CHAR}, /* binary, no newline */
    {"-1 5\n", 0, PROTO_BAD, PROTO_E_NEGATIVE},
    {"1 -5\n", 0, PROTO_BAD, PROTO_E_NEGATIVE},
    {"9223372036854775808 1\n", 0, PROTO_BAD, PROTO_E_OVERFLOW},  /* 2^63 */
    {"1 18446744073709551616\n", 0, PROTO_BAD, PROTO_E_OVERFLOW}, /* 2^64 */
    {"1 99999999999999999999999999999999999999\n", 0, PROTO_BAD, PROTO_E_OVERFLOW},
    {"100000001 1\n", 0, PROTO_BAD, PROTO_E_WORK},
    {"9223372036854775807 1\n", 0, PROTO_BAD, PROTO_E_WORK}, /* 2^63 - 1: a number, too big */
    {"1 1073741825\n", 0, PROTO_BAD, PROTO_E_BYTES},
    {"", 0, PROTO_INCOMPLETE, PROTO_OK},
    {"12", 0, PROTO_INCOMPLETE, PROTO_OK},
    {"12 34", 0, PROTO_INCOMPLETE, PROTO_OK},
    {"12 34\r", 0, PROTO_INCOMPLETE, PROTO_OK},
    {"-", 0, PROTO_INCOMPLETE, PROTO_OK},
};

Test(proto, invalid_and_incomplete_lines, .timeout = 60)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->in);
        struct proto_request r = {0, 0};
        enum proto_error e = PROTO_OK;
        long got = proto_parse(guarded(c->in, len), len, &lim, &r, &e);
        cr_expect_eq(got, c->result, "case %zu: result %ld, want %ld", i, got, c->result);
        if (c->result == PROTO_BAD)
            cr_expect_eq(e, c->err, "case %zu: reason '%s', want '%s'", i, proto_strerror(e),
                         proto_strerror(c->err));
    }
}

/* A line is at most 511 bytes, its "\n" included. */
Test(proto, line_length_limit, .timeout = 60)
{
    char line[600];
    memset(line, ' ', sizeof line);
    memcpy(line, "1 2", 3);

    line[510] = '\n'; /* 511 bytes */
    struct proto_request r;
    enum proto_error e;
    cr_expect_eq(proto_parse(guarded(line, 511), 511, &lim, &r, &e), 511);

    line[510] = ' ';
    line[511] = '\n'; /* 512 bytes */
    cr_expect_eq(proto_parse(guarded(line, 512), 512, &lim, &r, &e), PROTO_BAD);
    cr_expect_eq(e, PROTO_E_LONG, "reason '%s'", proto_strerror(e));

    /* 510 bytes without a newline may still become a valid line; 511 cannot. */
    cr_expect_eq(proto_parse(guarded(line, 510), 510, &lim, &r, &e), PROTO_INCOMPLETE);
    cr_expect_eq(proto_parse(guarded(line, 511), 511, &lim, &r, &e), PROTO_BAD);
    cr_expect_eq(e, PROTO_E_LONG);

    char digits[600];
    memset(digits, '7', sizeof digits);
    cr_expect_eq(proto_parse(guarded(digits, sizeof digits), sizeof digits, &lim, &r, &e),
                 PROTO_BAD);
    cr_expect_eq(e, PROTO_E_LONG);
}

Test(proto, limits_are_inclusive, .timeout = 60)
{
    const struct proto_limits zero = {0, 0};
    struct proto_request r;
    enum proto_error e;
    cr_expect_eq(proto_parse("0 0\n", 4, &zero, &r, &e), 4);
    cr_expect_eq(proto_parse("1 0\n", 4, &zero, &r, &e), PROTO_BAD);
    cr_expect_eq(e, PROTO_E_WORK);
    cr_expect_eq(proto_parse("0 1\n", 4, &zero, &r, &e), PROTO_BAD);
    cr_expect_eq(e, PROTO_E_BYTES);
}

Test(proto, every_reason_has_text, .timeout = 60)
{
    for (int e = 0; e < PROTO_E_COUNT; e++) {
        const char *s = proto_strerror((enum proto_error)e);
        cr_expect(s && *s && !strchr(s, '\n'), "reason %d", e);
    }
    cr_expect_str_eq(proto_strerror(PROTO_E_COUNT), "unknown error");
}

Test(proto, format_round_trips, .timeout = 60)
{
    char buf[64];
    int n = proto_format_request(buf, sizeof buf, 250000, 500000);
    cr_assert_eq(n, 14);
    struct proto_request r;
    cr_expect_eq(proto_parse(buf, (size_t)n, &lim, &r, NULL), 14);
    cr_expect_eq(r.work, 250000);
    cr_expect_eq(r.bytes, 500000);
    cr_expect_eq(proto_format_request(buf, 5, 250000, 500000), -1);
}
