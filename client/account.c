/* account: how an engine thread counts a request's end (client/slot.h): answered (its phases
 * into the histograms, the total corrected from its due time in the open loop), failed (in
 * its class), under way at a timed run's end, or due and never sent; each into its second of
 * the timeline and the per-request log. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "slot.h"

/* The timeline's second of time t, or NULL before the measured interval. */
static struct lg_second *second_of(struct engine *e, int64_t t)
{
    if (t < e->sh->measure_ns)
        return NULL;
    return lg_result_second(e->res, (size_t)((t - e->sh->measure_ns) / 1000000000));
}

/* The request just ended into the per-request log (-n runs of up to LG_REQUEST_LOG). */
static void log_request(struct engine *e, struct slot *s, const int64_t *ph, int err)
{
    if (e->opt->requests == 0 || e->opt->requests > LG_REQUEST_LOG)
        return;
    struct lg_request q = {.conn = s->id,
                           .seq = s->seq,
                           .start_us = (s->intended - e->sh->measure_ns) / 1000,
                           .error = (int8_t)err};
    for (int p = 0; p < PH_COUNT; p++)
        q.phase_us[p] = ph[p];
    lg_result_log(e->res, &q); /* out of memory: the log lacks it, the counts do not */
}

/* Open loop: request n of slot k is due at t0 + (k + n * conns) / rate, computed from the
 * counts rather than summed, so that no rounding drifts: a second at 1200/s holds exactly
 * 1200 due times. */
int64_t eng_due_time(const struct engine *e, uint32_t id, uint64_t n)
{
    double g = (double)id + (double)n * (double)e->opt->conns;
    return e->sh->t0_ns + (int64_t)(g * 1e9 / e->opt->rate);
}

void eng_count_error(struct engine *e, enum err_class c, int64_t now, int sys_errno)
{
    e->res->errors[c]++;
    atomic_fetch_add_explicit(&e->live->errors, 1, memory_order_relaxed);
    struct lg_second *sec = second_of(e, now);
    if (sec)
        sec->errors++;
    if (!e->res->first_error[0])
        snprintf(e->res->first_error, sizeof e->res->first_error, "%s%s%s", lg_err_names[c],
                 sys_errno ? ": " : "", sys_errno ? strerror(sys_errno) : "");
}

/* A timed run counts nothing that ended at or after its end, even within the last batch of
 * events: such a request was still under way when the run ended. */
bool eng_after_end(struct engine *e, struct slot *s, int64_t now)
{
    if (now < e->sh->end_ns)
        return false;
    if (s->measured)
        e->res->in_flight_at_end++;
    eng_close_conn(e, s);
    s->state = S_DONE;
    s->cut = true; /* the requests due after it are still counted as not sent */
    e->done_slots++;
    return true;
}

/* A measured request failed in class c: counted in its class, its second and the log. */
void eng_count_failed(struct engine *e, struct slot *s, enum err_class c, int64_t now,
                      int sys_errno)
{
    eng_count_error(e, c, now, sys_errno);
    if (e->res->ncls)
        e->res->cls[s->cls].errors++;
    int64_t ph[PH_COUNT] = {-1, -1, -1, -1};
    log_request(e, s, ph, (int)c);
    e->res->last_end_ns = now;
}

/* A request answered whole: its phases into the histograms (the total from when it was due
 * in the open loop), the run's counters, its second and the per-request log; a warm-up
 * request is only counted as one. */
void eng_count_answered(struct engine *e, struct slot *s, int64_t now)
{
    if (s->measured) {
        struct lg_result *r = e->res;
        int64_t ph[PH_COUNT] = {-1, -1, -1, -1};
        if (s->fresh) {
            ph[PH_CONNECT] = (s->connected - s->start) / 1000;
            ph[PH_GREETING] = (s->greeted - s->start) / 1000;
        }
        ph[PH_RESPONSE] = (now - s->sent) / 1000;
        ph[PH_TOTAL] = (now - s->start - s->thought) / 1000;
        for (int p = 0; p < PH_COUNT; p++) {
            if (ph[p] < 0)
                continue;
            if (e->interval_ns)
                hist_record(&r->lat_unc[p], (uint64_t)ph[p]);
            if (p == PH_TOTAL && e->interval_ns)
                ph[p] = (now - s->intended - s->thought) / 1000; /* from when it was due */
            hist_record(&r->lat[p], (uint64_t)ph[p]);
        }
        r->requests_ok++;
        r->bytes += s->got;
        if (!s->served) {
            s->served = true;
            r->clients_served++;
        }
        if (r->ncls) {
            r->cls[s->cls].ok++;
            hist_record(&r->cls[s->cls].total, (uint64_t)ph[PH_TOTAL]);
        }
        r->last_end_ns = now;
        atomic_fetch_add_explicit(&e->live->requests, 1, memory_order_relaxed);
        struct lg_second *sec = second_of(e, now);
        if (sec) {
            sec->requests++;
            hist_record(sec->total, (uint64_t)ph[PH_TOTAL]);
        }
        log_request(e, s, ph, -1);
    } else {
        e->res->warmup_requests++;
    }
}

bool eng_in_flight(const struct slot *s)
{
    return s->state >= S_CONNECTING && s->state <= S_ERRLINE;
}

/* Open loop, at the end: the requests each slot had due before `end` but never started
 * (it was still busy with an earlier one). Each counts in due_not_sent and enters the
 * corrected total as taking at least until the end. */
void eng_count_due_not_sent(struct engine *e, int64_t end)
{
    for (size_t i = 0; i < e->nslots; i++) {
        struct slot *s = &e->slots[i];
        if ((s->state == S_DONE && !s->cut) || s->state == S_IDLE)
            continue;
        uint64_t left = s->left, n = s->seq;
        if (eng_in_flight(s) || s->cut) { /* its next request, not the one under way */
            n++;
            if (left != UINT64_MAX)
                left--;
        }
        for (int64_t due; left > 0 && (due = eng_due_time(e, s->id, n)) < end; n++) {
            if (left != UINT64_MAX)
                left--;
            if (due < e->sh->measure_ns)
                continue;
            e->res->due_not_sent++;
            hist_record(&e->res->lat[PH_TOTAL], (uint64_t)(end - due) / 1000);
        }
    }
}
