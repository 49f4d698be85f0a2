#include "timerq.h"

#include <stdlib.h>
#include <time.h>

#include "loadgen.h"

int tq_init(struct timerq *q, size_t cap)
{
    q->len = 0;
    q->heap = calloc(cap ? cap : 1, sizeof *q->heap);
    return q->heap ? 0 : -1;
}

void tq_free(struct timerq *q)
{
    free(q->heap);
    q->heap = NULL;
    q->len = 0;
}

static bool before(const struct tq_item *a, const struct tq_item *b)
{
    return a->wake < b->wake || (a->wake == b->wake && a->id < b->id);
}

static void swap(struct timerq *q, size_t a, size_t b)
{
    struct tq_item *t = q->heap[a];
    q->heap[a] = q->heap[b];
    q->heap[b] = t;
    q->heap[a]->pos = a;
    q->heap[b]->pos = b;
}

static void up(struct timerq *q, size_t i)
{
    while (i > 0 && before(q->heap[i], q->heap[(i - 1) / 2])) {
        swap(q, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

void tq_push(struct timerq *q, struct tq_item *it)
{
    it->queued = true;
    it->pos = q->len++;
    q->heap[it->pos] = it;
    up(q, it->pos);
}

struct tq_item *tq_take(struct timerq *q, size_t i)
{
    struct tq_item *top = q->heap[i];
    top->queued = false;
    q->heap[i] = q->heap[--q->len];
    if (i == q->len)
        return top;
    q->heap[i]->pos = i;
    up(q, i);
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->len && before(q->heap[l], q->heap[m]))
            m = l;
        if (r < q->len && before(q->heap[r], q->heap[m]))
            m = r;
        if (m == i)
            break;
        swap(q, i, m);
        i = m;
    }
    return top;
}

struct tq_item *tq_first(const struct timerq *q)
{
    return q->len ? q->heap[0] : NULL;
}

/* The timers' clock, and every time loadgen takes: CLOCK_MONOTONIC in ns (loadgen.h). */
int64_t lg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
