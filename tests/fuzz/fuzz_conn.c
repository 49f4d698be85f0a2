/* libFuzzer target: the connection core (lib/conn), which every server runs on what its
 * clients send. The input is split into a client's bytes and a schedule: how many bytes each
 * receive delivers and how many of its output each send takes, so partial lines, pipelined
 * requests and short writes are all explored. Checked on every step: the state is one of the
 * five, output exists exactly in CONN_SEND, a request in CONN_WORK is within the limits, every
 * payload byte sent is the payload's, an ERR line ends in "\n", and the conn ends (DONE, or
 * LINGER) once the input is used up and the peer has closed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char greeting[] = "fuzz server ready\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 100000)
        return 0;
    /* The first bytes are the schedule's seed and the split between schedule and input. */
    uint32_t rng = (uint32_t)data[0] * 2654435761u + 1;
    data++;
    size--;
    struct conn_cfg cfg = {greeting, sizeof greeting - 1, {.max_work = 5000, .max_bytes = 200000}};
    struct conn *c = malloc(sizeof *c);
    if (!c)
        abort();
    conn_init(c, &cfg);
    size_t fed = 0, steps = 0;
    bool closed = false;
    while (c->state != CONN_DONE && steps++ < 1000000) {
        rng = rng * 1103515245u + 12345u;
        size_t pick = 1 + (rng >> 16) % 700;
        const void *out;
        size_t n = c->state == CONN_SEND ? conn_output(c, &out) : 0;
        if ((c->state == CONN_SEND) != (n > 0))
            abort(); /* output exists exactly when the conn says it has some */
        switch (c->state) {
        case CONN_SEND: {
            size_t k = pick < n ? pick : n;
            if (c->out == OUT_PAYLOAD && payload_check(out, k, c->off) != k)
                abort();
            if (c->out == OUT_ERR && ((const char *)out)[n - 1] != '\n')
                abort();
            conn_sent(c, k);
            break;
        }
        case CONN_WORK: {
            const struct proto_request *rq = conn_request(c);
            if (rq->work > cfg.limits.max_work || rq->bytes > cfg.limits.max_bytes)
                abort();
            conn_work_done(c, (rng & 0xff) == 0 ? -1 : (int64_t)rq->work / 2);
            break;
        }
        case CONN_READ:
        case CONN_LINGER: {
            size_t room;
            char *in = conn_inbuf(c, &room);
            if (fed == size) {
                if (closed && c->state == CONN_LINGER)
                    goto out; /* the driver's linger ends at the peer's close */
                closed = true;
                conn_received(c, 0);
                break;
            }
            if (room == 0)
                abort(); /* reading is asked for with no room to read into */
            size_t k = size - fed < pick ? size - fed : pick;
            if (k > room)
                k = room;
            memcpy(in, data + fed, k);
            fed += k;
            conn_received(c, k);
            break;
        }
        case CONN_DONE:
            break;
        default:
            abort();
        }
    }
    if (c->state != CONN_DONE)
        abort(); /* a million steps without an end */
out:
    free(c);
    return 0;
}
