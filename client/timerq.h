/* timerq: loadgen's timer queue, a binary heap of intrusive items ordered by wake time (ties
 * by id, so that items due together come out in a fixed order). Each engine thread owns one:
 * its connections waiting for their due time (open loop), a pause's end (--think, --read-rate)
 * or a retry after a refused connect. */
#ifndef TIMERQ_H
#define TIMERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tq_item {
    int64_t wake; /* when it is due (monotonic ns) */
    uint32_t id;  /* the tie-break */
    bool queued;  /* in the queue */
    size_t pos;   /* its place in the heap while queued */
};

struct timerq {
    struct tq_item **heap;
    size_t len;
};

/* A queue of room for cap items; 0, or -1 when memory ran out. */
int tq_init(struct timerq *q, size_t cap);
void tq_free(struct timerq *q);

/* Queues it (not queued already; the queue has room for every item its owner has). */
void tq_push(struct timerq *q, struct tq_item *it);
/* Takes the item at heap position pos out (0: the earliest) and returns it. */
struct tq_item *tq_take(struct timerq *q, size_t pos);
/* The earliest item, or NULL when none is queued. */
struct tq_item *tq_first(const struct timerq *q);

#endif
