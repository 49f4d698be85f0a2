/* The select(2) poller. An fd_set holds descriptors below FD_SETSIZE (1024) only, and FD_SET
 * beyond it writes past the set: such a descriptor is refused here (ERANGE) before it can be
 * set, and the driver logs why and closes that client. Each wait copies the sets and scans
 * every descriptor up to the highest watched: O(highest) per wait. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "loop.h"

struct select_state {
    fd_set rd, wr;
    int maxfd; /* highest watched, or -1 */
};

static void *sl_create(void)
{
    struct select_state *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    FD_ZERO(&s->rd);
    FD_ZERO(&s->wr);
    s->maxfd = -1;
    return s;
}

static void sl_destroy(void *st)
{
    free(st);
}

static int sl_set(void *st, int fd, unsigned old, unsigned now)
{
    struct select_state *s = st;
    (void)old;
    if (fd < 0 || fd >= FD_SETSIZE) {
        errno = ERANGE;
        return -1;
    }
    if (now & LOOP_READ)
        FD_SET(fd, &s->rd);
    else
        FD_CLR(fd, &s->rd);
    if (now & LOOP_WRITE)
        FD_SET(fd, &s->wr);
    else
        FD_CLR(fd, &s->wr);
    if (now && fd > s->maxfd)
        s->maxfd = fd;
    while (s->maxfd >= 0 && !FD_ISSET(s->maxfd, &s->rd) && !FD_ISSET(s->maxfd, &s->wr))
        s->maxfd--;
    return 0;
}

static int sl_wait(void *st, struct loop_fired *out, int max, int timeout_ms)
{
    struct select_state *s = st;
    fd_set rd = s->rd, wr = s->wr;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int n = select(s->maxfd + 1, &rd, &wr, NULL, timeout_ms < 0 ? NULL : &tv);
    if (n <= 0)
        return n;
    int k = 0;
    for (int fd = 0; fd <= s->maxfd && k < max; fd++) {
        unsigned ev = (FD_ISSET(fd, &rd) ? LOOP_READ : 0u) | (FD_ISSET(fd, &wr) ? LOOP_WRITE : 0u);
        if (ev) {
            out[k].fd = fd;
            out[k].events = ev;
            k++;
        }
    }
    return k;
}

const struct loop_backend loop_select = {"select", sl_create, sl_destroy, sl_set, sl_wait};
