/* libFuzzer target: the request parser. Besides crashes and sanitizer reports it checks the
 * parser's contract: a result is a byte count ending in "\n" within the line limit, "bad",
 * or "incomplete" only while no line could yet be complete; an accepted request is within the
 * limits; and parsing is a function of the line alone (the same line, cut out, parses alike). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct proto_limits lim = {.max_work = 100000000, .max_bytes = 1073741824};
    struct proto_request r = {0, 0};
    enum proto_error e = PROTO_OK;
    long n = proto_parse((const char *)data, size, &lim, &r, &e);

    if (n == PROTO_INCOMPLETE) {
        if (size >= PROTO_LINE_MAX || memchr(data, '\n', size))
            abort();
    } else if (n == PROTO_BAD) {
        if (e == PROTO_OK || e >= PROTO_E_COUNT)
            abort();
    } else {
        if (n < 1 || (size_t)n > size || n > PROTO_LINE_MAX || data[n - 1] != '\n')
            abort();
        if (r.work > lim.max_work || r.bytes > lim.max_bytes)
            abort();
        /* The line alone, in a buffer of its own size, parses to the same request. */
        char *copy = malloc((size_t)n);
        if (!copy)
            return 0;
        memcpy(copy, data, (size_t)n);
        struct proto_request r2;
        if (proto_parse(copy, (size_t)n, &lim, &r2, NULL) != n || r2.work != r.work ||
            r2.bytes != r.bytes)
            abort();
        free(copy);
    }
    return 0;
}
