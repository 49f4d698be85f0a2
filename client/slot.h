/* slot.h: a connection slot and the engine thread that owns it, what the parts of one engine
 * thread share: client/engine.c (the request state machine and the thread's loop) and
 * client/opening.c (connections: those opened before the start, kept slots and --idle ones,
 * and a slot's close). The rest of loadgen sees lg_engine_run only. */
#ifndef SLOT_H
#define SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loadgen.h"
#include "proto.h"
#include "timerq.h"

enum state {
    S_IDLE,
    S_WAIT,
    S_CONNECTING,
    S_GREETING,
    S_THINK, /* --think: greeted, waiting to send */
    S_SENDING,
    S_RECEIVING,
    S_ERRLINE, /* the reply began as an ERR line: read it to its end */
    S_DONE
};

struct slot {
    int fd;
    enum state state;
    uint32_t id, seq;
    uint64_t left;    /* measured requests still to do (UINT64_MAX in duration mode) */
    uint64_t on_conn; /* requests started on the current connection */
    bool measured, fresh;
    bool served; /* a measured request of this client has been answered */
    bool cut;    /* its request was under way at the end (in_flight_at_end): done since, not idle */
    int64_t intended, start, connected, greeted, sent, deadline;
    struct tq_item t;  /* in the timer queue until t.wake: its due time, or a pause's end */
    int64_t thought;   /* --think: the pause taken in this request (not counted) */
    int64_t backoff;   /* closed loop: the wait before the next try after refused connects */
    int64_t read_from; /* --read-rate: when the reply's first bytes were read */
    uint64_t got;
    uint64_t bytes; /* BYTES of the request under way (its class's) */
    unsigned cls;   /* its class, an index into opt->classes */
    size_t linelen, reqoff;
    char line[PROTO_GREETING_MAX + 1];
};

struct engine {
    const struct lg_shared *sh;
    const struct lg_opts *opt;
    struct lg_result *res;
    struct lg_live *live;
    int ep;
    bool measuring, stopping;
    int64_t stop_ns;
    struct slot *slots;
    size_t nslots, done_slots;
    struct slot *idle; /* --idle connections: fd and state (S_IDLE closed, S_GREETING, S_WAIT) */
    size_t nidle;
    struct timerq timers; /* slots waiting for their due time or a pause's end */
    int64_t interval_ns;
    char req[LG_MAX_CLASSES][48]; /* the request line of each class */
    size_t reqlen[LG_MAX_CLASSES];
    uint64_t weight_total;
    uint64_t rng; /* splitmix64 state, for the class draws */
    uint8_t *buf;
    size_t buflen;
    size_t read_quantum; /* --read-rate: bytes per paced read */
};

/* In epoll_event.data.u64: the entry is an idle connection (a struct slot of e->idle). */
#define IDLE_TAG 1u

/* opening.c: s's connection closed, if it has one (an abortive close with --close rst). */
void eng_close_conn(const struct engine *e, struct slot *s);
/* Before the start, every --idle connection and every kept slot's first
 * connection opened and greeted, or until nothing has been greeted for a second; never
 * longer than --timeout (sets idle_greeted and kept_greeted). */
void eng_open_before_start(struct engine *e, bool kept);
/* An event on an idle connection: its greeting (held from then on), or its end. */
void eng_idle_event(struct engine *e, struct slot *s, uint32_t ev);
/* Every scan: the idle connections the server closed are opened again. */
void eng_idle_reopen(struct engine *e);
/* Closes an idle connection. */
void eng_idle_close(struct slot *s);

/* account.c: a request's end counted. Open loop: when request n of slot id is due. Whether
 * s has a request under way. An error of class c counted (its second, the first error's
 * text). At or after a timed run's end, a request ending is counted under way at the end and
 * its slot is done (true); before it, false. A measured request failed, or answered (a
 * warm-up one only counted). The requests each slot had due before end but never started. */
int64_t eng_due_time(const struct engine *e, uint32_t id, uint64_t n);
bool eng_in_flight(const struct slot *s);
void eng_count_error(struct engine *e, enum err_class c, int64_t now, int sys_errno);
bool eng_after_end(struct engine *e, struct slot *s, int64_t now);
void eng_count_failed(struct engine *e, struct slot *s, enum err_class c, int64_t now,
                      int sys_errno);
void eng_count_answered(struct engine *e, struct slot *s, int64_t now);
void eng_count_due_not_sent(struct engine *e, int64_t end);

#endif
