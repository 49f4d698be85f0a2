/* result: the per-thread result container and its merge. */
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

int lg_result_init(struct lg_result *r, bool corrected, size_t nclasses)
{
    memset(r, 0, sizeof *r);
    for (int p = 0; p < PH_COUNT; p++) {
        if (hist_init(&r->lat[p], 3, HIST_MAX_US) < 0)
            return -1;
        if (corrected && hist_init(&r->lat_unc[p], 3, HIST_MAX_US) < 0)
            return -1;
    }
    for (; r->ncls < nclasses && r->ncls < LG_MAX_CLASSES; r->ncls++)
        if (hist_init(&r->cls[r->ncls].total, 3, HIST_MAX_US) < 0)
            return -1;
    return 0;
}

void lg_result_free(struct lg_result *r)
{
    for (int p = 0; p < PH_COUNT; p++) {
        hist_free(&r->lat[p]);
        hist_free(&r->lat_unc[p]);
    }
    for (size_t i = 0; i < r->ncls; i++)
        hist_free(&r->cls[i].total);
    for (size_t i = 0; i < r->nseconds; i++) {
        hist_free(r->seconds[i].total);
        free(r->seconds[i].total);
    }
    free(r->seconds);
    free(r->reqs);
    memset(r, 0, sizeof *r);
}

int lg_result_merge(struct lg_result *d, const struct lg_result *s)
{
    for (int p = 0; p < PH_COUNT; p++) {
        if (hist_merge(&d->lat[p], &s->lat[p]) < 0)
            return -1;
        if (d->lat_unc[p].counts && hist_merge(&d->lat_unc[p], &s->lat_unc[p]) < 0)
            return -1;
    }
    for (size_t i = 0; i < d->ncls && i < s->ncls; i++) {
        if (hist_merge(&d->cls[i].total, &s->cls[i].total) < 0)
            return -1;
        d->cls[i].ok += s->cls[i].ok;
        d->cls[i].errors += s->cls[i].errors;
    }
    d->requests_ok += s->requests_ok;
    d->bytes += s->bytes;
    d->connections_opened += s->connections_opened;
    d->in_flight_at_end += s->in_flight_at_end;
    d->warmup_requests += s->warmup_requests;
    d->due_not_sent += s->due_not_sent;
    d->idle_greeted += s->idle_greeted;
    d->kept_greeted += s->kept_greeted;
    d->idle_reopened += s->idle_reopened;
    d->clients_served += s->clients_served;
    if (s->last_end_ns > d->last_end_ns)
        d->last_end_ns = s->last_end_ns;
    d->cpu_user_s += s->cpu_user_s;
    d->cpu_sys_s += s->cpu_sys_s;
    for (int e = 0; e < E_COUNT; e++)
        d->errors[e] += s->errors[e];
    if (!d->first_error[0])
        memcpy(d->first_error, s->first_error, sizeof d->first_error);

    if (s->nseconds && !lg_result_second(d, s->nseconds - 1))
        return -1;
    for (size_t i = 0; i < s->nseconds; i++) {
        d->seconds[i].requests += s->seconds[i].requests;
        d->seconds[i].errors += s->seconds[i].errors;
        hist_merge(d->seconds[i].total, s->seconds[i].total);
    }
    if (s->nreqs) {
        struct lg_request *g = realloc(d->reqs, (d->nreqs + s->nreqs) * sizeof *g);
        if (!g)
            return -1;
        memcpy(g + d->nreqs, s->reqs, s->nreqs * sizeof *g);
        d->reqs = g;
        d->nreqs += s->nreqs;
        d->capreqs = d->nreqs;
    }
    return 0;
}

struct lg_second *lg_result_second(struct lg_result *r, size_t i)
{
    if (i >= 86400)
        return NULL;
    while (r->nseconds <= i) {
        if (r->nseconds == r->capseconds) {
            size_t cap = r->capseconds ? 2 * r->capseconds : 64;
            struct lg_second *g = realloc(r->seconds, cap * sizeof *g);
            if (!g)
                return NULL;
            r->seconds = g;
            r->capseconds = cap;
        }
        struct lg_second *sec = &r->seconds[r->nseconds];
        memset(sec, 0, sizeof *sec);
        sec->total = malloc(sizeof *sec->total);
        if (!sec->total || hist_init(sec->total, 2, HIST_MAX_US) < 0) {
            free(sec->total);
            return NULL;
        }
        r->nseconds++;
    }
    return &r->seconds[i];
}

int lg_result_log(struct lg_result *r, const struct lg_request *q)
{
    if (r->nreqs == r->capreqs) {
        size_t cap = r->capreqs ? 2 * r->capreqs : 64;
        struct lg_request *g = realloc(r->reqs, cap * sizeof *g);
        if (!g)
            return -1;
        r->reqs = g;
        r->capreqs = cap;
    }
    r->reqs[r->nreqs++] = *q;
    return 0;
}

uint64_t lg_error_total(const struct lg_result *r)
{
    uint64_t n = 0;
    for (int i = 0; i < E_COUNT; i++)
        n += r->errors[i];
    return n;
}

/* Requests actually sent per second (ended, failed or still in flight): the achieved rate
 * of an open loop, against its target. */
double lg_sent_rate(const struct lg_result *r, double elapsed_s)
{
    if (elapsed_s <= 0)
        return 0;
    return (double)(r->requests_ok + lg_error_total(r) + r->in_flight_at_end) / elapsed_s;
}
