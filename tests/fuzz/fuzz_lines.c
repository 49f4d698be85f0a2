/* libFuzzer target: the bounded line reader, fed through a socketpair. Every line it returns
 * ends in "\n", fits the limit and is NUL-terminated; the bytes of the lines it returns, plus
 * those it reports discarding, never exceed the input. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 200000)
        return 0;
    /* The first byte picks the limit, so short and long limits are both explored. */
    size_t max = 2 + data[0] % 600;
    data++;
    size--;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 0;
    int big = 1 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (io_writen(sv[1], data, size) != (ssize_t)size) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    close(sv[1]);

    struct io_lines *r = malloc(sizeof *r);
    char *line = malloc(max);
    if (!r || !line)
        abort();
    io_lines_init(r, sv[0]);
    size_t seen = 0;
    for (;;) {
        ssize_t n = io_readline(r, line, max);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EMSGSIZE) {
                seen += max - 1;
                continue;
            }
            if (errno == EPROTO)
                break;
            abort();
        }
        if ((size_t)n > max - 1 || line[n - 1] != '\n' || line[n] != '\0' ||
            memchr(line, '\n', (size_t)n - 1))
            abort();
        seen += (size_t)n;
    }
    if (seen > size)
        abort();
    free(line);
    free(r);
    close(sv[0]);
    return 0;
}
