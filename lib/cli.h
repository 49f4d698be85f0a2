/* cli: the server command line, one table of options for every model (each row says which
 * models take it), and number parsers and the help layout shared with the load generator. Parsing
 * never exits: it returns CLI_ERR with a message, and main decides. */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_OK   0
#define CLI_ERR  (-1)
#define CLI_HELP 1 /* -h: print usage, exit 0 */
#define CLI_VERS 2 /* -V: print version, exit 0 */

#define PROJECT_VERSION "1.0.0"

enum accept_lock { LOCK_NONE, LOCK_MUTEX, LOCK_FCNTL };
/* Who accepts: every worker (self), the main thread handing descriptors to the pool through
 * a queue (main, Stevens' serv08), or the parent passing them to children (pass, serv05). */
enum accept_mode { ACCEPT_SELF, ACCEPT_MAIN, ACCEPT_PASS };

/* What a model can use; options outside its capabilities are refused. */
enum {
    CAP_WORKERS = 1 << 0,     /* -w: a fixed pool */
    CAP_LOCK_MUTEX = 1 << 1,  /* --accept-lock mutex */
    CAP_LOCK_FCNTL = 1 << 2,  /* --accept-lock fcntl */
    CAP_MAX_CLIENTS = 1 << 3, /* --max-clients: a cap on connections served at once */
    CAP_POLLER = 1 << 4,      /* --poller: an event loop's choice of epoll, poll, select */
    CAP_SPARE = 1 << 5,       /* --min-spare, --max-spare, --max-workers: a dynamic pool */
    CAP_ACCEPT_MAIN = 1 << 6, /* --accept self|main */
    CAP_ACCEPT_PASS = 1 << 7, /* --accept self|pass */
    CAP_LOOPS = 1 << 8,       /* -w: event loops, one per thread, default the number of CPUs */
    CAP_BALANCE = 1 << 9,     /* --balance reuseport|exclusive */
};

struct srv_opts {
    const char *host;      /* NULL: loopback default applied by the parser */
    const char *port;      /* decimal, "0" for ephemeral */
    const char *unix_path; /* -U: listen on a Unix socket instead of TCP */
    int backlog;
    long workers;
    enum accept_lock lock;
    enum accept_mode accept;
    long max_clients; /* 0: no cap */
    uint64_t max_work, max_bytes;
    int timeout_ms;        /* whole-line, idle and send timeout; 0: none */
    int grace_ms;          /* shutdown grace time */
    int stats_interval_ms; /* --stats-interval: a stats line this often; 0: none */
    bool dynamic;          /* a spare option was given: the pool is sized by them */
    long min_spare, max_spare, max_workers;
    bool daemon;
    const char *pidfile, *user, *stats_file;
    const char *poller;        /* --poller: "epoll" (default), "poll" or "select" */
    bool sieve_reuse;          /* --sieve-alloc reuse: one sieve array per worker, kept */
    bool exclusive;            /* --balance exclusive: one listener, EPOLLEXCLUSIVE in every loop */
    uint64_t max_sieve_memory; /* bytes of sieve arrays in flight at most; 0: no limit */
};

#define SRV_DEFAULT_HOST        "127.0.0.1"
#define SRV_DEFAULT_PORT        "12345"
#define SRV_DEFAULT_BACKLOG     511
#define SRV_DEFAULT_WORKERS     8
#define SRV_DEFAULT_MAX_WORK    UINT64_C(100000000)
#define SRV_DEFAULT_MAX_BYTES   UINT64_C(1073741824)
#define SRV_DEFAULT_TIMEOUT_MS  60000
#define SRV_DEFAULT_GRACE_MS    10000
#define SRV_DEFAULT_MIN_SPARE   5 /* Apache's MinSpareServers */
#define SRV_DEFAULT_MAX_SPARE   10
#define SRV_DEFAULT_MAX_WORKERS 256 /* Apache's MaxRequestWorkers */

/* Parses argv into *o (defaults first). caps says what the model named prog can use, and
 * what is what it is (the registry's words, "one event loop in one thread"): an option the
 * model cannot use is refused with both, "-w: reactor-srv (one event loop in one thread) has no
 * worker pool to size". */
int cli_parse_server(int argc, char **argv, unsigned caps, const char *what, struct srv_opts *o,
                     char *err, size_t errlen);
/* The usage of the model named prog, from the table of options: a synopsis of what it takes,
 * then a help line for each. */
void cli_usage_server(FILE *f, const char *prog, unsigned caps);

/* One option's help as every program here prints it: "-c, --connections N", its help beside
 * it from column 25 ("\n" starts an indented line), or below when the names are long. */
void cli_help_line(FILE *f, char letter, const char *name, const char *value, const char *help);

/* Strict decimal in [min, max]: no sign, no junk, no overflow. 0 or -1. */
int cli_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A duration: a number with an optional unit us, ms, s (default), m or h; fractions allowed
 * ("1.5s"). Result in microseconds. 0 or -1. */
int cli_duration_us(const char *s, uint64_t *out);

/* A size in bytes: a whole number with an optional binary unit k (or K), M, G or T ("64M" is
 * 64 MiB). 0 or -1 (junk, or more than 2^62 bytes). */
int cli_size(const char *s, uint64_t *out);

#endif
