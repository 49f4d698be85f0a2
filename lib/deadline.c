#include "deadline.h"

#include <stddef.h>

void dl_init(struct deadline *d)
{
    d->kind = -1;
    d->at = 0;
    d->prev = d->next = NULL;
}

bool dl_armed(const struct deadline *d)
{
    return d->kind >= 0;
}

void dl_clear(struct deadlines *q, struct deadline *d)
{
    int k = d->kind;
    if (k < 0)
        return;
    if (d->prev)
        d->prev->next = d->next;
    else
        q->head[k] = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        q->tail[k] = d->prev;
    d->prev = d->next = NULL;
    d->kind = -1;
}

void dl_put(struct deadlines *q, struct deadline *d, enum dl_kind k, long long at)
{
    if (d->kind == (int)k && d->at == at)
        return;
    dl_clear(q, d);
    d->kind = (int)k;
    d->at = at;
    d->next = NULL;
    d->prev = q->tail[k];
    if (q->tail[k])
        q->tail[k]->next = d;
    else
        q->head[k] = d;
    q->tail[k] = d;
}

long long dl_next(const struct deadlines *q)
{
    long long next = -1;
    for (int k = 0; k < DL_KINDS; k++)
        if (q->head[k] && (next < 0 || q->head[k]->at < next))
            next = q->head[k]->at;
    return next;
}

struct deadline *dl_take_due(struct deadlines *q, long long now, enum dl_kind *kind)
{
    struct deadline *first = NULL;
    for (int k = 0; k < DL_KINDS; k++)
        if (q->head[k] && q->head[k]->at <= now && (!first || q->head[k]->at < first->at))
            first = q->head[k];
    if (!first)
        return NULL;
    *kind = (enum dl_kind)first->kind;
    dl_clear(q, first);
    return first;
}
