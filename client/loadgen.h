/* loadgen: the shared types of the load generator (options, per-thread results) between its
 * engine, its report writer and main. */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "hist.h"
#include "jdoc.h"

enum phase { PH_CONNECT, PH_GREETING, PH_RESPONSE, PH_TOTAL, PH_COUNT };

enum err_class {
    E_CONNECT_REFUSED,
    E_CONNECT_TIMEOUT,
    E_RESET,
    E_SHORT_READ,
    E_ERR_REPLY,
    E_NO_GREETING,
    E_TIMEOUT,
    E_VERIFY_FAILED,
    E_LONG_REPLY, /* bytes beyond the answer */
    E_OTHER,
    E_COUNT
};

extern const char *const lg_phase_names[PH_COUNT];
extern const char *const lg_err_names[E_COUNT];

/* --mix: a request class and its weight. */
#define LG_MAX_CLASSES 16
struct lg_class {
    uint64_t work, bytes, weight;
};

struct lg_opts {
    /* as given */
    int argc;
    char **argv;
    bool book; /* the positional form: HOST THREADS REQS WORK BYTES */
    /* resolved */
    const char *host, *port, *unix_path;
    int family; /* AF_UNSPEC, AF_INET, AF_INET6 */
    long conns, threads;
    uint64_t requests;    /* -n: total measured requests; 0 with -d */
    uint64_t duration_us; /* -d */
    uint64_t warmup_us;
    uint64_t work, bytes;
    uint64_t per_conn;  /* -k: requests per connection; 0 = unlimited */
    uint64_t idle;      /* --idle: silent connections held beside the measured ones */
    uint64_t think_us;  /* --think: pause after the greeting and between kept requests */
    uint64_t read_rate; /* --read-rate: bytes per second each reply is read at; 0 = at once */
    struct lg_class classes[LG_MAX_CLASSES]; /* --mix; without it one class, -w and -b */
    size_t nclasses;
    bool mix;
    uint64_t seed; /* --seed: the class draws' generator (with --mix) */
    double rate;   /* -R: requests per second over all connections; 0 = closed loop */
    uint64_t timeout_us;
    bool verify, progress;
    bool fail_on_errors; /* exit 3 when any request failed */
    bool close_rst;      /* --close rst (default): abortive close (RST) instead of FIN */
    const char *json_path, *label;
    const char *hdr_log_path, *hgrm_path; /* --hdr-log, --hgrm */
    int64_t start_at_ns;                  /* --start-at: wall clock, 0: at once */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char addr_str[128];
};

/* One request as the book plots it (kept for runs of at most LG_REQUEST_LOG requests). */
#define LG_REQUEST_LOG 10000
struct lg_request {
    uint32_t conn;              /* connection slot */
    uint32_t seq;               /* request number within the slot */
    int64_t start_us;           /* from the start of measurement */
    int64_t phase_us[PH_COUNT]; /* -1: not measured (keep-alive requests have no connect) */
    int8_t error;               /* -1 ok, else enum err_class */
};

/* One --mix class's requests: their total time, how many ended well or not. */
struct lg_class_result {
    struct hist total;
    uint64_t ok, errors;
};

struct lg_second {
    uint64_t requests, errors;
    struct hist *total; /* 2 significant digits, for the per-second p99 */
};

/* Everything one engine thread measured; merged after join. In open loop only lat[PH_TOTAL]
 * is corrected for coordinated omission (timed from the due time, and holding the requests
 * due but never sent); the other phases are the same in lat and lat_unc. */
struct lg_result {
    struct hist lat[PH_COUNT];
    struct hist lat_unc[PH_COUNT]; /* uncorrected (only with -R) */
    uint64_t requests_ok, bytes, connections_opened, in_flight_at_end, warmup_requests;
    uint64_t due_not_sent;        /* open loop: due before the end, never started */
    uint64_t idle_greeted;        /* --idle: greeted before the run started */
    uint64_t kept_greeted;        /* kept connections: greeted before the run started */
    uint64_t idle_reopened;       /* --idle: reopened after the server closed one */
    uint64_t clients_served;      /* of the -c clients, those with a measured request done */
    int64_t last_end_ns;          /* when the last measured request ended (ok or not); 0: none */
    double cpu_user_s, cpu_sys_s; /* this thread's CPU over its measured interval */
    uint64_t errors[E_COUNT];
    struct lg_second *seconds;
    size_t nseconds, capseconds;
    struct lg_request *reqs;
    size_t nreqs, capreqs;
    char first_error[160];
    struct lg_class_result cls[LG_MAX_CLASSES]; /* with --mix: per class */
    size_t ncls;
};

int lg_result_init(struct lg_result *r, bool corrected, size_t nclasses);
void lg_result_free(struct lg_result *r);
int lg_result_merge(struct lg_result *dst, const struct lg_result *src);
/* Second i of the timeline, the timeline grown to it (a day at most); NULL when i is beyond
 * a day or memory ran out. */
struct lg_second *lg_result_second(struct lg_result *r, size_t i);
/* Appends q to the per-request log; -1 when memory ran out (the request is left out). */
int lg_result_log(struct lg_result *r, const struct lg_request *q);

/* Live counters the main thread reads for --progress (relaxed atomics, no lock). */
struct lg_live {
    _Atomic uint64_t requests, errors;
};

/* The engine: runs thread `index` of opt->threads with its share of connections (and of the
 * --idle ones, opened before the ready barrier).
 *
 * Stopping early (a signal to main): main stores the time in stop_ns and makes stop_fd
 * readable (an eventfd never drained; each engine registers it edge-triggered, so each sees
 * it once). An engine then starts nothing new, lets what is in flight finish for up to
 * LG_STOP_GRACE_NS, and counts the rest as in flight at the end. */
#define LG_STOP_GRACE_NS INT64_C(1000000000)
struct lg_shared {
    const struct lg_opts *opt;
    int64_t t0_ns;              /* when every thread starts, set by main between the two barriers */
    int64_t measure_ns, end_ns; /* warm-up end; end of run (duration mode) or INT64_MAX */
    int stop_fd;
    _Atomic int64_t stop_ns; /* 0 until a stop is asked for */
    struct lg_live *live;
    /* Every engine waits on ready once set up (its --idle connections open), main sets t0,
     * then every engine waits on go. */
    pthread_barrier_t *ready, *go;
};
int lg_engine_run(const struct lg_shared *sh, int index, struct lg_result *out, char *err,
                  size_t errlen);

int64_t lg_now_ns(void);

/* The JSON result's parts after the config, shared by a run's report and a merge. */
struct lg_body {
    double elapsed_s, utime_s, stime_s;
    double rate;                    /* -R over all connections; 0: closed loop */
    const struct lg_class *classes; /* the --mix classes (r->ncls of them) */
    int64_t t0_wall_ns;             /* when the threads started, by wall clock */
    int64_t measure_wall_ns;        /* when measuring started (after the warm-up) */
    int64_t start_at_ns;            /* --start-at, 0: none */
    double ramp_s;                  /* opening the kept and idle connections, before the start */
};
void lg_json_body(json_object *doc, const struct lg_result *r, const struct lg_body *b);
json_object *lg_json_hist(const struct hist *h);
void lg_json_buckets(json_object *o, const struct hist *h);
/* The head of a result document: schema_version, tool (named tool), interrupted; NULL when
 * memory ran out. */
json_object *lg_json_head(const char *tool, bool interrupted);
/* doc written whole to path (- for stdout) as one line; what names the option in messages.
 * doc is released. 0, or -1 with a message printed. */
int lg_write_json(const char *path, const char *what, json_object *doc);
/* Builds a document with fill, then writes it whole to path (- for stdout); what names the
 * option in messages. Returns 0, or -1 with a message printed. */
int lg_write_doc(const char *path, const char *what, void (*fill)(FILE *, const void *),
                 const void *arg);

/* loadgen merge A.json B.json ... [--json OUT]: see merge.c. */
int lg_merge_main(int argc, char **argv);

/* ---- options.c: the command line ---- */
void lg_usage(FILE *f);
/* Parses argv into *o and checks it whole: 0, 1 after --help or --version (printed), -1 for
 * bad usage (said on stderr). */
int lg_parse_args(int argc, char **argv, struct lg_opts *o);
/* The server's address (or Unix socket path) into o->addr; 0, or -1 said on stderr. */
int lg_resolve(struct lg_opts *o);

/* ---- result.c: figures every report reads ---- */
uint64_t lg_error_total(const struct lg_result *r);
/* Requests actually sent per second (ended, failed or still in flight): the achieved rate
 * of an open loop, against its target. */
double lg_sent_rate(const struct lg_result *r, double elapsed_s);

/* What a run was, beside its counters: its interval and CPU, clocks, and where the summary
 * goes. */
struct lg_run {
    double elapsed_s, utime_s, stime_s;  /* the measured interval, and the client's CPU in it */
    int64_t t0_wall_ns, measure_wall_ns; /* the start and the measured start, by wall clock */
    double ramp_s; /* opening the kept and idle connections, before the start */
    time_t started, completed;
    int signal; /* the signal that stopped the run, 0 if none */
    FILE *out;  /* where the summary goes: stdout, or stderr when the JSON goes to stdout */
};

/* ---- report.c: the summary on the terminal ---- */
void lg_print_summary(const struct lg_opts *o, const struct lg_result *r, const struct lg_run *ri);
void lg_print_book(const struct lg_opts *o, const struct lg_result *r, FILE *out);

/* ---- output.c: the result documents (--json, --hdr-log, --hgrm), each whole or not at all;
 * 0, or -1 when one could not be written (said on stderr) ---- */
int lg_write_outputs(const struct lg_opts *o, const struct lg_result *r, const struct lg_run *ri);

#endif
