/* loadgen as a user runs it: option refusals, exact counts against the real servers, the JSON
 * result checked field by field with jq, every error class against a misbehaving fake
 * server, and the open loop's view of a server stopped for a second. Then each measurement
 * defect once found, against fake servers with known behaviour and timing: ERR replies at any
 * BYTES, bytes beyond the answer, the measured interval (progress, teardown, CPU), the open
 * loop's end and overload, per-request start times, signals, output paths, exit codes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "hist.h"
#include "io.h"
#include "payload.h"

static const char *bin(void)
{
    const char *d = getenv("SRV_BIN");
    return d && *d ? d : "bin";
}

/* Runs loadgen with args (a shell fragment); returns its exit status; output to out_path.
 * A sanitizer report in the output fails the test. */
static int loadgen(const char *args, const char *out_path)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/loadgen --no-progress %s >%s 2>&1", bin(), args, out_path);
    int st = system(cmd);
    cr_expect_not(file_has(out_path, "Sanitizer") || file_has(out_path, "runtime error:"),
                  "loadgen %s: sanitizer report in %s", args, out_path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static pid_t loadgen_bg(const char *args, const char *out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec %s/loadgen --no-progress %s >%s 2>&1", bin(), args, out);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_status(pid_t pid)
{
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void tmp_path(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/cb-lg-%ld-%s", (long)getpid(), tag);
}

/* The value of a jq filter: a number, or 1 for true and 0 for false; -1 when absent. */
static long long jq_num(const char *json, const char *filter)
{
    char cmd[1024], tok[64] = "";
    snprintf(cmd, sizeof cmd, "jq '%s' %s 2>/dev/null", filter, json);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    if (fscanf(p, "%63s", tok) != 1)
        tok[0] = '\0';
    pclose(p);
    if (!strcmp(tok, "true"))
        return 1;
    if (!strcmp(tok, "false"))
        return 0;
    char *end;
    long long v = strtoll(tok, &end, 10);
    return end != tok && !*end ? v : -1;
}

Test(loadgen, refuses_bad_usage_with_status_2, .timeout = 120)
{
    char out[256];
    tmp_path(out, sizeof out, "usage");
    static const struct {
        const char *args, *says;
    } t[] = {
        {"-b 0 -k 0", "BYTES=0"},
        {"-b 0 -k 5", "BYTES=0"},
        {"-n 10 -d 5", "alternatives"},
        {"-c 0", "-c"},
        {"-c abc", "-c"},
        {"-d 5x", "duration"},
        {"-R 0", "rate"},
        {"--bogus", "unknown option"},
        {"-U /tmp/x -p 5", "-U"},
        {"a b c", "missing: WORK BYTES"},
        {"127.0.0.1 2 3 1000", "missing: BYTES"},
        {"127.0.0.1 2 3 1000 5 6", "unexpected argument '6'"},
        {"127.0.0.1 2 x 1 1", "REQS"},
        {"-4 -6", "alternatives"},
        {"--json /nonexistent-dir/x.json", "/nonexistent-dir/x.json: directory"},
        {"--json /tmp", "is a directory"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        cr_expect_eq(loadgen(t[i].args, out), 2, "'%s' was not refused", t[i].args);
        cr_expect(file_has(out, t[i].says), "'%s': message lacks '%s'", t[i].args, t[i].says);
    }
    cr_expect_eq(loadgen("--help", out), 0);
    cr_expect(file_has(out, "usage: loadgen"));
    cr_expect_eq(loadgen("--version", out), 0);
    unlink(out);
}

/* Every field of the results contract, checked by jq -e. */
static const char *const json_fields[] = {
    ".schema_version == 1",
    ".tool | .name == \"loadgen\" and (.version | type == \"string\") and "
    "(.git_commit | type == \"string\") and (.compiler | length > 0) and "
    "(.cflags | test(\"-std=c11\"))",
    ".context | (.host_name, .kernel, .cpu_model, .started_at, .completed_at | type == "
    "\"string\") and (.num_cpus, .somaxconn | type == \"number\") and (.load_avg | length == 3)",
    ".config | (.argv | type == \"array\") and .connections == 4 and .requests == 200 and "
    ".close == \"rst\" and "
    ".work == 1000 and .bytes == 3000 and .reqs_per_conn == 1 and .mode == \"closed\"",
    ".totals | .requests_ok == 200 and .bytes == 600000 and .elapsed_s > 0 and .rps > 0 and "
    "((.bytes_per_s / (.bytes / .elapsed_s) - 1) | . * . < 1e-6) and .connections_opened == 200 "
    "and "
    ".in_flight_at_end == 0 and .due_not_sent == 0 and (has(\"target_rps\") | not) and "
    "(has(\"mbps\") | not)",
    ".config.idle == 0 and .totals.idle_greeted == 0 and .totals.idle_reopened == 0",
    ".config.think_s == 0 and .config.read_rate_bytes_per_s == 0",
    ".totals.clients_served == .config.connections",
    ".config.mix == [] and (.config.seed | type == \"number\") and "
    "(has(\"latency_us_by_class\") | not)",
    ".errors | keys == [\"connect_refused\",\"connect_timeout\",\"err_reply\",\"long_reply\","
    "\"no_greeting\",\"other\",\"reset\",\"short_read\",\"timeout\",\"verify_failed\"] and "
    "all(.[]; . == 0)",
    ".interrupted == false and .corrected_phases == []",
    ".latency_us | keys == [\"connect\",\"greeting\",\"response\",\"total\"] and all(.[]; "
    ".min <= .p50 and .p50 <= .p75 and .p75 <= .p90 and .p90 <= .p99 and .p99 <= .p999 and "
    ".p999 <= .p9999 and .p9999 <= .max and .mean > 0 and .stddev >= 0 and .count == 200 and "
    "(.spectrum | length > 2))",
    ".latency_us.total.spectrum | (.[0][0] == 0) and (.[-1][0] == 100) and "
    "([.[][1]] == ([.[][1]] | sort))",
    ".timeline | length >= 1 and (map(.requests) | add) == 200 and all(.[]; has(\"t\") and "
    "has(\"errors\") and has(\"p99_us\"))",
    ".client | .utime_s >= 0 and .stime_s >= 0 and .cpu_pct > 0",
    ".requests | length == 200 and all(.[]; .error == null and .total_us >= .response_us)",
    "has(\"latency_us_uncorrected\") | not",
};

Test(loadgen, exact_counts_and_json_against_each_server, .timeout = 120)
{
    struct test_model *rows;
    size_t nrows = test_models(&rows);
    char json[256], out[256];
    tmp_path(json, sizeof json, "result.json");
    tmp_path(out, sizeof out, "out");
    for (size_t i = 0; i < nrows; i++) {
        const char *model = rows[i].name;
        if (!model_selected(model))
            continue;
        struct server s;
        server_start(&s, model, NULL);
        char args[512];
        snprintf(args, sizeof args, "-p %d -c 4 -n 200 -w 1000 -b 3000 --verify --json %s", s.port,
                 json);
        cr_expect_eq(loadgen(args, out), 0, "%s: loadgen failed", model);
        cr_expect(file_has(out, "Requests/sec"), "%s: no summary", model);
        for (size_t f = 0; f < sizeof json_fields / sizeof *json_fields; f++) {
            char cmd[1024];
            snprintf(cmd, sizeof cmd, "jq -e '%s' %s >/dev/null", json_fields[f], json);
            cr_expect_eq(system(cmd), 0, "%s: jq -e '%s' failed", model, json_fields[f]);
        }
        /* BYTES 0: no answer comes; the request ends at the server's close after the
         * client's half-close, so every model's count still matches. */
        snprintf(args, sizeof args, "-p %d -c 2 -n 20 -w 1000 -b 0 --json %s", s.port, json);
        cr_expect_eq(loadgen(args, out), 0, "%s: loadgen -b 0 failed", model);
        cr_expect_eq(jq_num(json, ".totals.requests_ok"), 20, "%s: -b 0", model);
        cr_expect_eq(jq_num(json, "[.errors[]] | add"), 0, "%s: -b 0", model);
        char stats[1024];
        server_stop(&s, stats, sizeof stats);
        cr_expect_eq(jline_num(stats, "requests"), 220, "%s: %s", model, stats);
        cr_expect_eq(jline_num(stats, "bytes_sent"), 600000, "%s: %s", model, stats);
    }
    unlink(json);
    unlink(out);
}

/* TIME_WAIT sockets of this machine's clients of the server on port: those whose peer is it. */
static long client_time_waits(int port)
{
    char cmd[160], line[256];
    snprintf(cmd, sizeof cmd, "ss -Htan state time-wait '( dport = :%d )'", port);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "popen ss");
    long n = 0;
    while (fgets(line, sizeof line, p))
        n++;
    cr_assert_eq(pclose(p), 0, "ss failed");
    return n;
}

Test(loadgen, keep_alive_and_book_form, .timeout = 120)
{
    struct server s;
    server_start(&s, "prethread", NULL);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "ka.json");
    tmp_path(out, sizeof out, "ka.out");
    snprintf(args, sizeof args, "-p %d -c 3 -n 300 -k 0 -w 10 -b 10 --json %s", s.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.connections_opened"), 3);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 300);
    cr_expect_eq(jq_num(json, ".latency_us.connect.count"), 3, "only first requests connect");
    snprintf(args, sizeof args, "-p %d -c 2 -n 10 -k 5 -w 10 -b 10 --json %s", s.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.connections_opened"), 2);
    /* The client closes first in this protocol: a normal close leaves a TIME_WAIT on the
     * client's side for every connection (60 s on Linux), the default abortive one none. */
    long tw = client_time_waits(s.port);
    snprintf(args, sizeof args, "-p %d -c 4 -n 40 -w 10 -b 10 --json %s", s.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, "if .config.close == \"rst\" then .totals.requests_ok else -1 end"),
                 40);
    cr_expect_eq(client_time_waits(s.port), tw, "--close rst (the default) leaves no TIME_WAIT");
    snprintf(args, sizeof args, "-p %d -c 4 -n 40 --close fin -w 10 -b 10 --json %s", s.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, "if .config.close == \"fin\" then .totals.requests_ok else -1 end"),
                 40);
    /* A client's socket enters TIME_WAIT once the server has closed its side too, which it
     * does when it reads the client's FIN, after loadgen has exited: wait for those. */
    long now = client_time_waits(s.port);
    for (int i = 0; i < 60000 && now < tw + 40; i++) {
        usleep(1000);
        now = client_time_waits(s.port);
    }
    cr_expect_eq(now, tw + 40, "--close fin: one TIME_WAIT a connection");
    snprintf(args, sizeof args, "-p %d --json %s 127.0.0.1 3 4 1000 500", s.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 12);
    cr_expect_eq(jq_num(json, "[.requests[] | select(.conn == 2)] | length"), 4);
    cr_expect(file_has(out, "greeting_ms"), "book table printed");
    char stats[1024];
    server_stop(&s, stats, sizeof stats);
    cr_expect_eq(jline_num(stats, "requests"), 300 + 10 + 40 + 40 + 12, "%s", stats);
    unlink(json);
    unlink(out);
}

/* ---- a misbehaving fake server ---- */

enum fake_mode {
    NEVER_GREETS,
    CLOSES_EARLY,
    SHORT_PAYLOAD,
    SENDS_ERR,
    STALLS,
    WRONG_BYTES,
    RESETS,
    /* These serve every request on a connection, a thread per connection: */
    ANSWERS,    /* the payload asked for, after delay_ms */
    LONG_REPLY, /* the payload asked for and 10 bytes more, in one write */
};

struct fake {
    int lfd, port;
    enum fake_mode mode;
    int delay_ms;
    atomic_int accepted;
    atomic_int stalled; /* STALLS: requests read and answered in part, then left hanging */
    atomic_int ended;   /* STALLS: connections whose end (close or reset) the fake has read */
    _Atomic long long eof_wall_ns; /* when a connection's end was read (ANSWERS), 0 before */
};

struct fake_conn {
    struct fake *f;
    int fd;
};

/* Reads one request line and returns BYTES, or -1 at the end of the connection. */
static long long fake_request(int fd)
{
    char line[128];
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(fd, line + n, 1);
        if (r <= 0)
            return -1;
        if (line[n++] == '\n')
            break;
    }
    line[n] = '\0';
    unsigned long long work, bytes;
    return sscanf(line, "%llu %llu", &work, &bytes) == 2 ? (long long)bytes : -1;
}

static void *fake_conn_main(void *arg)
{
    struct fake_conn *c = arg;
    const char *greet = "fake server\n";
    io_writen(c->fd, greet, strlen(greet));
    long long bytes;
    while ((bytes = fake_request(c->fd)) >= 0) {
        if (c->f->delay_ms)
            usleep((useconds_t)c->f->delay_ms * 1000);
        size_t n = (size_t)bytes + (c->f->mode == LONG_REPLY ? 10 : 0);
        cr_assert_leq(n, PAYLOAD_BLOCK, "fake answers at most one payload block");
        if (io_writen(c->fd, payload_block(), n) < 0)
            break;
    }
    if (bytes < 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        atomic_store(&c->f->eof_wall_ns, (long long)ts.tv_sec * 1000000000 + ts.tv_nsec);
    }
    close(c->fd);
    free(c);
    return NULL;
}

/* STALLS, a thread per connection: the greeting, ten bytes of the answer, then nothing until
 * the client ends the connection. Counts what it did, for the test to compare with loadgen's
 * classes once every connection has ended. */
static void *fake_stall_main(void *arg)
{
    struct fake_conn *c = arg;
    const char *greet = "fake server\n";
    char req[128];
    if (io_writen(c->fd, greet, strlen(greet)) > 0 && read(c->fd, req, sizeof req) > 0 &&
        io_writen(c->fd, payload_block(), 10) == 10)
        atomic_fetch_add(&c->f->stalled, 1);
    while (read(c->fd, req, sizeof req) > 0)
        ;
    close(c->fd);
    atomic_fetch_add(&c->f->ended, 1);
    free(c);
    return NULL;
}

static void spawn_conn(struct fake *f, int fd, void *(*main_fn)(void *))
{
    struct fake_conn *c = malloc(sizeof *c);
    cr_assert(c);
    *c = (struct fake_conn){f, fd};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, main_fn, c), 0);
    pthread_detach(t);
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    for (;;) {
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        atomic_fetch_add(&f->accepted, 1);
        char req[128];
        const char *greet = "fake server\n";
        static char junk[4096];
        switch (f->mode) {
        case ANSWERS:
        case LONG_REPLY: {
            spawn_conn(f, fd, fake_conn_main);
            continue;
        }
        case NEVER_GREETS:
            continue; /* the descriptor stays open: no greeting ever comes */
        case CLOSES_EARLY:
            break;
        case SHORT_PAYLOAD:
            io_writen(fd, greet, strlen(greet));
            if (read(fd, req, sizeof req) > 0)
                io_writen(fd, payload_block(), 100);
            break;
        case SENDS_ERR:
            io_writen(fd, greet, strlen(greet));
            if (read(fd, req, sizeof req) > 0)
                io_writen(fd, "ERR nope\n", 9);
            break;
        case STALLS:
            spawn_conn(f, fd, fake_stall_main);
            continue;
        case WRONG_BYTES:
            io_writen(fd, greet, strlen(greet));
            memset(junk, 'x', sizeof junk);
            if (read(fd, req, sizeof req) > 0)
                io_writen(fd, junk, 1000);
            break;
        case RESETS: {
            io_writen(fd, greet, strlen(greet));
            if (read(fd, req, sizeof req) > 0) {
                struct linger lg = {1, 0};
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            }
            break;
        }
        }
        close(fd);
    }
}

/* A TCP socket bound to an ephemeral loopback port, listening with backlog when it is >= 0;
 * *sa receives the address. */
static int loopback_socket(struct sockaddr_in *sa, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    *sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof *sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)sa, sizeof *sa), 0);
    cr_assert(backlog < 0 || listen(fd, backlog) == 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)sa, &len), 0);
    return fd;
}

static void fake_start(struct fake *f, enum fake_mode mode)
{
    f->mode = mode;
    f->delay_ms = 0;
    atomic_init(&f->accepted, 0);
    atomic_init(&f->stalled, 0);
    atomic_init(&f->ended, 0);
    atomic_init(&f->eof_wall_ns, 0);
    struct sockaddr_in sa;
    f->lfd = loopback_socket(&sa, 128);
    f->port = ntohs(sa.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, fake_main, f);
    pthread_detach(t);
}

/* Six requests against a fake server that fails each the same way: each is counted in class
 * cls and in no other. The fake answers one connection at a time, each promptly; only the
 * modes that never finish an answer are given a short --timeout, so that how fast the fake
 * greets cannot turn another class into a timeout. */
static void expect_class(enum fake_mode mode, const char *cls, const char *extra)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, mode);
    char json[256], out[256], args[512], filter[256];
    tmp_path(json, sizeof json, cls);
    tmp_path(out, sizeof out, "fake.out");
    bool hangs = mode == NEVER_GREETS || mode == STALLS;
    snprintf(args, sizeof args, "-p %d -c 2 -n 6 -w 1 -b 1000 --timeout %s %s --json %s", f.port,
             hangs ? "300ms" : "60s", extra, json);
    cr_expect_eq(loadgen(args, out), 4, "errors are reported; nothing answered is status 4");
    cr_expect_eq(jq_num(json, "[.errors[]] | add"), 6, "six requests, six errors");
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 0);
    snprintf(filter, sizeof filter, ".errors.%s", cls);
    if (mode != STALLS) {
        cr_expect_eq(jq_num(json, filter), 6, "class %s", cls);
    } else {
        /* The timeout runs from the connect: a connection the fake was too slow to greet
         * within it is no_greeting, one whose request the fake read and left hanging is a
         * timeout. The fake's own record says which were which, once it has seen every
         * connection end. */
        cr_assert(await_count(&f.ended, 6), "the fake saw %d of 6 connections end",
                  atomic_load(&f.ended));
        int stalled = atomic_load(&f.stalled);
        cr_expect_gt(stalled, 0, "the fake read no request");
        cr_expect_eq(jq_num(json, filter), stalled, "class %s: the fake left %d requests hanging",
                     cls, stalled);
        cr_expect_eq(jq_num(json, ".errors.no_greeting"), 6 - stalled);
    }
    unlink(json);
    unlink(out);
}

Test(loadgen, never_greets, .timeout = 120)
{
    expect_class(NEVER_GREETS, "no_greeting", "");
}
Test(loadgen, closes_before_greeting, .timeout = 120)
{
    expect_class(CLOSES_EARLY, "no_greeting", "");
}
Test(loadgen, short_payload, .timeout = 120)
{
    expect_class(SHORT_PAYLOAD, "short_read", "");
}
Test(loadgen, err_reply, .timeout = 120)
{
    expect_class(SENDS_ERR, "err_reply", "");
}
Test(loadgen, stalled_server_times_out, .timeout = 120)
{
    expect_class(STALLS, "timeout", "");
}
Test(loadgen, wrong_bytes_fail_verification, .timeout = 120)
{
    expect_class(WRONG_BYTES, "verify_failed", "--verify");
}
/* The first bytes of an answer are always checked: a reply that is not the payload is not
 * counted as a success because --verify was not given. */
Test(loadgen, wrong_first_bytes_fail_without_verify, .timeout = 120)
{
    expect_class(WRONG_BYTES, "verify_failed", "");
}
/* Bytes beyond BYTES: with a new connection per request, and on a kept connection where the
 * surplus would otherwise be read as the start of the next answer. */
Test(loadgen, long_reply_new_connections, .timeout = 120)
{
    expect_class(LONG_REPLY, "long_reply", "");
}
Test(loadgen, long_reply_kept_connection, .timeout = 120)
{
    expect_class(LONG_REPLY, "long_reply", "-k 0");
}
Test(loadgen, reset, .timeout = 120)
{
    expect_class(RESETS, "reset", "");
}

Test(loadgen, connect_refused, .timeout = 120)
{
    struct sockaddr_in sa;
    int fd = loopback_socket(&sa, -1); /* a port bound but not listening */
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "refused.json");
    tmp_path(out, sizeof out, "refused.out");
    snprintf(args, sizeof args, "-p %d -n 5 --json %s", ntohs(sa.sin_port), json);
    cr_expect_eq(loadgen(args, out), 4, "nothing answered");
    cr_expect_eq(jq_num(json, ".errors.connect_refused"), 5);
    cr_expect(file_has(out, "connect_refused"), "summary names the class");
    close(fd);
    unlink(json);
    unlink(out);
}

/* A listener that never accepts, with its queue full: the kernel drops further SYNs, so a
 * connect never completes. */
Test(loadgen, connect_timeout, .timeout = 120)
{
    struct sockaddr_in sa;
    int lfd = loopback_socket(&sa, 0);
    int fill[4];
    for (int i = 0; i < 4; i++) { /* fill the accept queue; later SYNs are dropped */
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof sa);
    }
    /* The queue is full once the first handshake is done (a backlog of 0 holds one). */
    for (int i = 0; i < 60000 && listen_queue(ntohs(sa.sin_port)) < 1; i++)
        usleep(1000);
    cr_assert_geq(listen_queue(ntohs(sa.sin_port)), 1, "the accept queue did not fill");
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "ctimeout.json");
    tmp_path(out, sizeof out, "ctimeout.out");
    snprintf(args, sizeof args, "-p %d -c 2 -n 4 --timeout 300ms --json %s", ntohs(sa.sin_port),
             json);
    cr_expect_eq(loadgen(args, out), 4, "nothing answered");
    cr_expect_eq(jq_num(json, ".errors.connect_timeout"), 4);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
    unlink(json);
    unlink(out);
}

/* A server frozen for a second, once loadgen's first second is measured: the open loop,
 * timing each request from when it was due, shows the stall in its tail (2,000 requests were
 * due in it, each timed from its due time); the closed loop, which simply stops sending, holds at
 * most one request per connection in it. Returns the requests that took 900 ms or more: at least
 * that many with at_least, at most that many otherwise (the spectrum's steps bound them either
 * way). */
static long long stalled_run(const char *mode_args, bool at_least)
{
    struct server s;
    server_start(&s, "prethread", NULL);
    char json[256], out[256], args[1024], filter[512];
    tmp_path(json, sizeof json, "stall.json");
    tmp_path(out, sizeof out, "stall.out");
    snprintf(args, sizeof args, "-p %d -c 8 -d 4 -k 0 -w 100 -b 100 --progress %s --json %s",
             s.port, mode_args, json);
    pid_t pid = loadgen_bg(args, out);
    cr_assert(await_file_has(out, "[  1s]"), "no progress line in %s", out);
    kill(s.pid, SIGSTOP);
    usleep(1000000); /* the stall itself, what is measured */
    kill(s.pid, SIGCONT);
    cr_expect_eq(wait_status(pid), 0);
    server_stop(&s, NULL, 0);
    /* The spectrum's entry below 900 ms bounds the slow ones from above, its first entry
     * at or above 900 ms from below. */
    snprintf(filter, sizeof filter,
             ".latency_us.total | .count * (1 - ([.spectrum[] | select(.[1] %s 900000)] | %s "
             "| .[0]) / 100) | floor",
             at_least ? ">=" : "<", at_least ? "first" : "last");
    long long slow = jq_num(json, filter);
    unlink(json);
    unlink(out);
    return slow;
}

Test(loadgen, open_loop_sees_a_stall_closed_loop_hides_it, .timeout = 120)
{
    long long open = stalled_run("-R 2000", true);
    long long closed = stalled_run("", false);
    /* Those due in the stall's first 100 ms wait 900 ms or more: some 200 of the 8,000, and
     * more while the backlog drains. The bound asked is the run's p99.9 (8 of 8,000), far
     * from the closed loop's and safe from the spectrum's steps and a loaded machine. */
    cr_expect_geq(open, 8, "open loop: %lld requests of 900 ms or more", open);
    cr_expect(closed >= 0 && closed <= 8 * 5 / 4,
              "closed loop: up to %lld requests of 900 ms or more, 8 connections", closed);
}

Test(loadgen, unix_socket_and_ipv6, .timeout = 120)
{
    char path[128], json[256], out[256], args[512];
    snprintf(path, sizeof path, "/tmp/cb-lg-%ld.sock", (long)getpid());
    tmp_path(json, sizeof json, "unix.json");
    tmp_path(out, sizeof out, "unix.out");
    struct server s;
    /* server_start passes -p 0, which -U refuses: this server is started by the shell. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/prethread-srv -U %s >%s.srv 2>&1 & echo $!", bin(), path, out);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    long pid = 0;
    cr_assert_eq(fscanf(p, "%ld", &pid), 1);
    pclose(p);
    for (int i = 0; i < 100 && access(path, F_OK) != 0; i++)
        usleep(50000);
    snprintf(args, sizeof args, "-U %s -c 2 -n 50 -w 10 -b 100 --verify --json %s", path, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 50);
    kill((pid_t)pid, SIGTERM); /* not our child: wait for its socket file to go */
    for (int i = 0; i < 100 && access(path, F_OK) == 0; i++)
        usleep(50000);
    cr_expect_neq(access(path, F_OK), 0, "the socket file is removed on exit");

    const char *v6[] = {"-H", "::1", NULL};
    server_start(&s, "prethread", v6);
    snprintf(args, sizeof args, "-6 -H ::1 -p %d -c 2 -n 50 -w 10 -b 100 --json %s", s.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 50);
    cr_expect_eq(jq_num(json, "if (.config.address | startswith(\"[::1]\")) then 1 else 0 end"), 1);
    server_stop(&s, NULL, 0);
    char srvlog[300];
    snprintf(srvlog, sizeof srvlog, "%s.srv", out);
    unlink(srvlog);
    unlink(json);
    unlink(out);
}

/* ---- the measured numbers, against servers with known behaviour ---- */

/* A refusing server: every request gets an ERR line. Whatever BYTES is (shorter than the
 * line, one byte, none at all), each is an err_reply, never a success. */
Test(loadgen, err_reply_whatever_bytes, .timeout = 120)
{
    const char *limit[] = {"--max-work", "10", NULL};
    struct server s;
    server_start(&s, "prethread", limit);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "errb.json");
    tmp_path(out, sizeof out, "errb.out");
    static const char *const bytes[] = {"6", "1", "0"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "-p %d -n 20 -w 100 -b %s --json %s", s.port, bytes[i], json);
        cr_expect_eq(loadgen(args, out), 4, "-b %s: nothing answered", bytes[i]);
        cr_expect_eq(jq_num(json, ".errors.err_reply"), 20, "-b %s", bytes[i]);
        cr_expect_eq(jq_num(json, ".totals.requests_ok"), 0, "-b %s", bytes[i]);
    }
    /* The same server, requests it accepts: BYTES 0 still ends each one. */
    snprintf(args, sizeof args, "-p %d -n 20 -w 5 -b 0 --json %s", s.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 20);
    cr_expect_eq(jq_num(json, "[.errors[]] | add"), 0);
    char stats[1024];
    server_stop(&s, stats, sizeof stats);
    cr_expect_eq(jline_num(stats, "bad_requests"), 60, "%s", stats);
    cr_expect_eq(jline_num(stats, "requests"), 20, "%s", stats);
    unlink(json);
    unlink(out);
}

static double jq_real(const char *json, const char *filter)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "jq -e '%s' %s", filter, json);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    double v = -1;
    if (fscanf(p, "%lf", &v) != 1)
        v = -1;
    pclose(p);
    return v;
}

/* The measured interval ends with the last request, not at a later wake-up of the progress
 * loop: by the wall clock, the interval's end comes before the server reads the client's
 * close, which follows the last answer; and it lasts at least the server's own 300 ms. */
Test(loadgen, progress_does_not_stretch_the_interval, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, ANSWERS);
    f.delay_ms = 300;
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "prog.json");
    tmp_path(out, sizeof out, "prog.out");
    snprintf(args, sizeof args, "-p %d -c 1 -n 1 -w 1 -b 10 --progress --json %s", f.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    while (atomic_load(&f.eof_wall_ns) == 0)
        usleep(1000); /* the server's thread reads the close a moment after loadgen exits */
    FILE *j = fopen(json, "r");
    cr_assert(j);
    static char body[1 << 16];
    size_t len = fread(body, 1, sizeof body - 1, j);
    fclose(j);
    body[len] = '\0';
    long long start = jline_num(body, "wall_clock.measure_start_ns");
    double el = jq_real(json, ".totals.elapsed_s");
    cr_assert_gt(start, 0, "%s", body);
    cr_expect_geq(el, 0.3, "elapsed %.3f s below the server's own 0.3 s", el);
    /* elapsed_s has microseconds: one of slack for its rounding */
    long long end = start + llround(el * 1e9);
    cr_expect_leq(end, atomic_load(&f.eof_wall_ns) + 1000,
                  "the interval ends %.3f ms after the server read the close: a later wake-up "
                  "was counted",
                  (double)(end - atomic_load(&f.eof_wall_ns)) / 1e6);
    unlink(json);
    unlink(out);
}

/* A timed run measures exactly its duration, and nothing that ends after it: no teardown in
 * elapsed_s, no timeline bucket past the end. */
Test(loadgen, timed_run_is_its_duration, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, ANSWERS);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "dur.json");
    tmp_path(out, sizeof out, "dur.out");
    snprintf(args, sizeof args, "-p %d -c 8 -d 2 -w 1 -b 10 --json %s", f.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.elapsed_s == 2"), 1, "elapsed %.6f s",
                 jq_real(json, ".totals.elapsed_s"));
    /* No bucket past the end (a second with nothing completed may be absent on a loaded
     * machine, which is not what this checks). */
    cr_expect_eq(jq_num(json, "all(.timeline[].t; . < 2) and (.timeline | length) <= 2"), 1,
                 "timeline buckets %lld, the last t=%lld", jq_num(json, ".timeline | length"),
                 jq_num(json, ".timeline[-1].t"));
    cr_expect_eq(jq_num(json, "(.timeline | map(.requests) | add) == .totals.requests_ok"), 1);
    unlink(json);
    unlink(out);
}

/* The client's CPU is its CPU over the measured interval: after a busy warm-up, one thread
 * cannot show more than one core's worth. */
Test(loadgen, cpu_is_measured_over_the_measured_interval, .timeout = 120)
{
    struct server s;
    server_start(&s, "prethread", NULL);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "cpu.json");
    tmp_path(out, sizeof out, "cpu.out");
    snprintf(args, sizeof args, "-p %d -t 1 -c 2 --warmup 1s -d 0.5s -w 0 -b 1 --json %s", s.port,
             json);
    cr_expect_eq(loadgen(args, out), 0);
    double cpu = jq_real(json, ".client.cpu_pct");
    cr_expect_gt(cpu, 0, "cpu %.1f%%", cpu);
    cr_expect_leq(cpu, 110, "one thread at %.1f%%: warm-up CPU was counted", cpu);
    cr_expect_gt(jq_num(json, ".totals.warmup_requests"), 0);
    server_stop(&s, NULL, 0);
    unlink(json);
    unlink(out);
}

/* Starts loadgen with args in the background (stdout and stderr to out); returns its pid. */
/* Stopped during its warm-up, a run has measured nothing: no CPU figure, no rate, and the
 * result still written, marked interrupted. */
Test(loadgen, stopped_in_warmup_reports_nothing_measured, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, ANSWERS);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "warm.json");
    tmp_path(out, sizeof out, "warm.out");
    snprintf(args, sizeof args, "-p %d -c 2 --warmup 10s -d 1 -w 1 -b 10 --json %s", f.port, json);
    pid_t pid = loadgen_bg(args, out);
    /* Both connections made: loadgen is in its warm-up, its signals taken. */
    cr_assert(await_count(&f.accepted, 2), "loadgen did not connect");
    kill(pid, SIGINT);
    cr_expect_eq(wait_status(pid), 128 + SIGINT);
    cr_expect_eq(jq_num(json, ".interrupted"), 1, "written and marked");
    cr_expect_eq(jq_num(json, ".totals.elapsed_s == 0 and .client.cpu_pct == null"), 1);
    cr_expect_not(file_has(out, "Client CPU"), "a CPU figure with nothing to divide by");
    cr_expect(file_has(out, "nothing measured"));
    unlink(json);
    unlink(out);
}

/* Open loop against a server that can do 200/s (5 ms a request, one connection): of the 400
 * requests due in 1 s, each is sent, in flight or counted as due but not sent, and those
 * enter the corrected total from their due time. */
Test(loadgen, open_loop_overload_counts_what_was_due, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, ANSWERS);
    f.delay_ms = 5;
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "over.json");
    tmp_path(out, sizeof out, "over.out");
    snprintf(args, sizeof args, "-p %d -c 1 -k 0 -R 400 -d 1 -w 1 -b 10 --json %s", f.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    long long ok = jq_num(json, ".totals.requests_ok");
    long long notsent = jq_num(json, ".totals.due_not_sent");
    long long flying = jq_num(json, ".totals.in_flight_at_end");
    long long errs = jq_num(json, "[.errors[]] | add");
    cr_expect_eq(ok + notsent + flying + errs, 400,
                 "ok %lld + not sent %lld + in flight %lld + "
                 "errors %lld",
                 ok, notsent, flying, errs);
    cr_expect_leq(ok, 201, "at 5 ms a request at most 201 fit in 1 s, got %lld", ok);
    cr_expect_geq(notsent, 150, "due but not sent %lld", notsent);
    cr_expect_eq(jq_num(json, ".latency_us.total.count"), ok + notsent);
    /* The last request due was waiting for about half a second when the run ended. */
    cr_expect_geq(jq_num(json, ".latency_us.total.max"), 450000);
    cr_expect_eq(jq_num(json, ".totals.target_rps == 400 and .totals.achieved_rps < 300"), 1);
    cr_expect(file_has(out, "due but never sent"), "said on the terminal");
    /* Only the total is corrected: the other phases are the uncorrected ones. */
    cr_expect_eq(jq_num(json, ".corrected_phases == [\"total\"] and .latency_us.response == "
                              ".latency_us_uncorrected.response and .latency_us.connect == "
                              ".latency_us_uncorrected.connect"),
                 1);
    unlink(json);
    unlink(out);
}

/* A request due exactly at the end of a timed run is not started: 1 s at 1200/s is 1200, each
 * accounted for once: answered, failed, under way at the end, or due and never sent (also
 * when the one before it was still under way at the end). */
Test(loadgen, open_loop_sends_what_is_due_before_the_end, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, ANSWERS);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "edge.json");
    tmp_path(out, sizeof out, "edge.out");
    snprintf(args, sizeof args, "-p %d -c 1 -R 1200 -d 1 -w 1 -b 10 --json %s", f.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    long long opened = jq_num(json, ".totals.connections_opened");
    cr_expect_leq(opened, 1200, "%lld connections for 1200 due requests", opened);
    long long sum = jq_num(json, ".totals.requests_ok + .totals.due_not_sent + "
                                 ".totals.in_flight_at_end + ([.errors[]] | add)");
    if (sum != 1200) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "jq -c '.totals, .errors' %s >&2", json);
        (void)!system(cmd);
    }
    cr_expect_eq(sum, 1200, "%lld requests accounted for of the 1200 due", sum);
    cr_expect_eq(atomic_load(&f.accepted), opened);
    unlink(json);
    unlink(out);
}

/* The delay injected after each traced syscall returns. */
#define INJECTED_US 100000

/* Runs loadgen under strace with INJECTED_US injected after a syscall returns; false (and the
 * test skipped) without strace. --seccomp-bpf stops loadgen at that syscall only, so the
 * others run at full speed instead of waiting on the tracer to be scheduled. */
static bool loadgen_delayed(const char *syscall, const char *args, const char *out)
{
    if (system("command -v strace >/dev/null 2>&1") != 0)
        return false;
    char cmd[2048];
    /* LeakSanitizer cannot work under ptrace: leaks are checked by the other tests. */
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" "
             "strace -f --seccomp-bpf -qq -o /dev/null -e trace=%s -e inject=%s:delay_exit=%d "
             "%s/loadgen --no-progress %s >%s 2>&1",
             syscall, syscall, INJECTED_US, bin(), args, out);
    cr_expect_eq(system(cmd), 0, "%s", cmd);
    return true;
}

/* Each request's start is taken when its own connect is issued: with every socket() call
 * made to take INJECTED_US, the slots started together must not read their neighbours' (or
 * their own) set-up as connect time. The last slot of the batch has nothing between its
 * connect and its event, so its connect reads below INJECTED_US; a start taken before its own
 * socket() would read at least INJECTED_US whatever the machine's load, so the bound is the
 * delay itself, not a guess at how fast a connect is. */
Test(loadgen, each_request_starts_at_its_own_connect, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, ANSWERS);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "start.json");
    tmp_path(out, sizeof out, "start.out");
    snprintf(args, sizeof args, "-p %d -t 1 -c 4 -n 4 -w 1 -b 10 --json %s", f.port, json);
    if (!loadgen_delayed("socket", args, out))
        cr_skip_test("strace is not installed");
    long long least = jq_num(json, "[.requests[].connect_us] | min");
    cr_expect_geq(least, 0);
    cr_expect_lt(least, INJECTED_US, "the fastest connect read %lld us: it includes socket() calls",
                 least);
    unlink(json);
    unlink(out);
}

/* "Sent" is taken before send(): with each send made to take INJECTED_US to return, the
 * response phase covers that time instead of starting after the answer may already be there. */
Test(loadgen, response_is_timed_from_before_the_send, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, ANSWERS);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "sent.json");
    tmp_path(out, sizeof out, "sent.out");
    snprintf(args, sizeof args, "-p %d -c 1 -n 2 -w 1 -b 10 --json %s", f.port, json);
    if (!loadgen_delayed("sendto", args, out))
        cr_skip_test("strace is not installed");
    long long least = jq_num(json, ".latency_us.response.min");
    cr_expect_geq(least, INJECTED_US, "response %lld us is shorter than the send itself", least);
    unlink(json);
    unlink(out);
}

/* ---- stopping, output files, exit codes ---- */

/* A first SIGINT stops the run and still reports it: summary, JSON marked interrupted,
 * status 130. */
Test(loadgen, first_signal_reports_and_saves, .timeout = 120)
{
    struct server s;
    server_start(&s, "prethread", NULL);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "int.json");
    tmp_path(out, sizeof out, "int.out");
    snprintf(args, sizeof args, "-p %d -c 4 -d 30 -w 0 -b 1 --progress --json %s", s.port, json);
    pid_t pid = loadgen_bg(args, out);
    /* The first progress line: a second of the run measured. */
    cr_assert(await_file_has(out, "[  1s]"), "no progress line in %s", out);
    kill(pid, SIGINT);
    cr_expect_eq(wait_status(pid), 128 + SIGINT);
    cr_expect_eq(jq_num(json, ".interrupted"), 1);
    cr_expect_gt(jq_num(json, ".totals.requests_ok"), 0);
    double el = jq_real(json, ".totals.elapsed_s");
    cr_expect(el > 0.5 && el < 10, "elapsed %.3f s covers the run until the signal", el);
    cr_expect(file_has(out, "Requests/sec") && file_has(out, "Interrupted by SIGINT"));
    server_stop(&s, NULL, 0);
    unlink(json);
    unlink(out);
}

/* Against a server that never finishes an answer: the first signal gives the requests in
 * flight a second and counts them; a second signal exits at once, saving nothing. */
Test(loadgen, signals_against_a_stalled_server, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, STALLS);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "stall2.json");
    tmp_path(out, sizeof out, "stall2.out");
    snprintf(args, sizeof args, "-p %d -c 2 -d 60 -w 1 -b 1000 --json %s", f.port, json);
    pid_t pid = loadgen_bg(args, out);
    /* Both requests read by the fake and left hanging: two in flight when the signal comes. */
    cr_assert(await_count(&f.stalled, 2), "the fake read %d of 2 requests",
              atomic_load(&f.stalled));
    kill(pid, SIGTERM);
    cr_expect_eq(wait_status(pid), 128 + SIGTERM);
    cr_expect_eq(jq_num(json, ".interrupted and .totals.in_flight_at_end == 2"), 1);
    unlink(json);

    pid = loadgen_bg(args, out);
    cr_assert(await_count(&f.stalled, 4), "the fake read %d of 4 requests",
              atomic_load(&f.stalled));
    kill(pid, SIGINT);
    /* The second signal once loadgen has taken the first (it says so), within the second it
     * gives the hanging requests. */
    cr_assert(await_file_has(out, "stopping; requests in flight"), "the first signal not taken");
    kill(pid, SIGINT);
    cr_expect_eq(wait_status(pid), 128 + SIGINT);
    cr_expect_neq(access(json, F_OK), 0, "nothing saved after a second signal");
    cr_expect(file_has(out, "second signal"));
    unlink(out);
}

/* --json -: the result alone on stdout, the summary on stderr. A FIFO or /dev/stdout is
 * written in place, never replaced; a symbolic link keeps pointing at its target. */
Test(loadgen, json_to_stdout_fifo_and_links, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, ANSWERS);
    char base[256], cmd[2048];
    tmp_path(base, sizeof base, "jout");
    snprintf(cmd, sizeof cmd,
             "%s/loadgen --no-progress -p %d -n 5 -w 1 -b 10 --json - >%s.stdout 2>%s.stderr && "
             "jq -e '.totals.requests_ok == 5' %s.stdout >/dev/null && grep -q Requests/sec "
             "%s.stderr",
             bin(), f.port, base, base, base, base);
    cr_expect_eq(system(cmd), 0, "--json -: %s", cmd);
    /* A regression here replaces the machine's /dev/stdout (as root): put the link back. */
    struct stat st;
    if (lstat("/dev/stdout", &st) == 0 && S_ISLNK(st.st_mode)) {
        snprintf(cmd, sizeof cmd,
                 "%s/loadgen --no-progress -p %d -n 5 -w 1 -b 10 --json /dev/stdout >%s.stdout "
                 "2>/dev/null && jq -e '.totals.requests_ok == 5' %s.stdout >/dev/null",
                 bin(), f.port, base, base);
        cr_expect_eq(system(cmd), 0, "--json /dev/stdout: %s", cmd);
        if (lstat("/dev/stdout", &st) == 0 && !S_ISLNK(st.st_mode)) {
            cr_expect_fail("--json /dev/stdout replaced the link /dev/stdout");
            unlink("/dev/stdout");
            cr_assert_eq(symlink("/proc/self/fd/1", "/dev/stdout"), 0);
        }
    }
    snprintf(cmd, sizeof cmd,
             "rm -f %s.fifo && mkfifo %s.fifo && { timeout 20 cat %s.fifo >%s.read & } && "
             "%s/loadgen --no-progress -p %d -n 5 -w 1 -b 10 --json %s.fifo >/dev/null && wait && "
             "test -p %s.fifo && jq -e '.totals.requests_ok == 5' %s.read >/dev/null",
             base, base, base, base, bin(), f.port, base, base, base);
    cr_expect_eq(system(cmd), 0, "--json FIFO: %s", cmd);
    snprintf(cmd, sizeof cmd,
             "rm -f %s.link %s.target && ln -s %s.target %s.link && "
             "%s/loadgen --no-progress -p %d -n 5 -w 1 -b 10 --json %s.link >/dev/null && "
             "test -L %s.link && jq -e '.totals.requests_ok == 5' %s.target >/dev/null",
             base, base, base, base, bin(), f.port, base, base, base);
    cr_expect_eq(system(cmd), 0, "--json LINK: %s", cmd);
    snprintf(cmd, sizeof cmd, "rm -f %s.stdout %s.stderr %s.fifo %s.read %s.link %s.target", base,
             base, base, base, base, base);
    cr_expect_eq(system(cmd), 0);
}

/* An output path that cannot be written is refused before any request is made. */
Test(loadgen, json_path_checked_before_the_run, .timeout = 120)
{
    static struct fake f; /* outlives the test function, as the fake's threads may */
    fake_start(&f, ANSWERS);
    char out[256], args[512];
    tmp_path(out, sizeof out, "path.out");
    snprintf(args, sizeof args, "-p %d -n 5 --json /missing/dir/x.json", f.port);
    cr_expect_eq(loadgen(args, out), 2);
    cr_expect(file_has(out, "/missing/dir/x.json"), "names the path");
    cr_expect_not(file_has(out, ".tmp"), "not a temporary file's name");
    cr_expect_eq(atomic_load(&f.accepted), 0, "no request was made");
    unlink(out);
}

/* --fail-on-errors: status 3 when any request failed, 0 otherwise; without it, a run where
 * nothing was answered is 4. */
Test(loadgen, fail_on_errors_exit_status, .timeout = 120)
{
    struct fake bad, good;
    fake_start(&bad, SENDS_ERR);
    fake_start(&good, ANSWERS);
    char out[256], args[512];
    tmp_path(out, sizeof out, "foe.out");
    snprintf(args, sizeof args, "-p %d -n 4 -w 1 -b 10 --fail-on-errors", bad.port);
    cr_expect_eq(loadgen(args, out), 3);
    snprintf(args, sizeof args, "-p %d -n 4 -w 1 -b 10", bad.port);
    cr_expect_eq(loadgen(args, out), 4, "without the option, nothing answered is 4");
    snprintf(args, sizeof args, "-p %d -n 4 -w 1 -b 10 --fail-on-errors", good.port);
    cr_expect_eq(loadgen(args, out), 0);
    unlink(out);
}

/* --idle: the silent connections are opened and greeted before the run, never measured and
 * never sent a request; the measured ones are served beside them. */
Test(loadgen, idle_connections_are_held_and_not_measured, .timeout = 120)
{
    skip_unless_model("reactor");
    struct server s;
    server_start(&s, "reactor", NULL);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "idle.json");
    tmp_path(out, sizeof out, "idle.out");
    snprintf(args, sizeof args, "-p %d -c 2 -k 0 -n 300 -w 10 -b 10 --idle 200 --json %s", s.port,
             json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".config.idle"), 200);
    cr_expect_eq(jq_num(json, ".totals.idle_greeted"), 200);
    cr_expect_eq(jq_num(json, ".totals.idle_reopened"), 0);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 300);
    cr_expect_eq(jq_num(json, ".totals.connections_opened"), 2, "idle ones are not counted");
    cr_expect(file_has(out, "200 idle connections held (200 greeted before the start)"));
    char stats[1024];
    server_stop(&s, stats, sizeof stats);
    cr_expect_eq(jline_num(stats, "connections"), 202, "%s", stats);
    cr_expect_eq(jline_num(stats, "requests"), 300, "%s", stats);
    unlink(json);
    unlink(out);
}

/* A server that drops silent clients (--timeout 1) closes the idle connections: each is
 * opened again and counted, and the measured requests are unaffected. */
Test(loadgen, idle_connections_closed_by_the_server_are_reopened, .timeout = 120)
{
    skip_unless_model("reactor");
    struct server s;
    const char *const sargs[] = {"--timeout", "1", NULL};
    server_start(&s, "reactor", sargs);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "idle2.json");
    tmp_path(out, sizeof out, "idle2.out");
    snprintf(args, sizeof args, "-p %d -c 1 -k 0 -d 2500ms -w 10 -b 10 --idle 5 --json %s", s.port,
             json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_geq(jq_num(json, ".totals.idle_reopened"), 5, "each was dropped at least once");
    cr_expect_eq(jq_num(json, "[.errors[]] | add"), 0);
    server_stop(&s, NULL, 0);
    unlink(json);
    unlink(out);
}

/* A pool greets only as many clients as it has workers: the others stay in the backlog, and
 * the run still starts (a second after the last greeting) instead of waiting for them. */
Test(loadgen, idle_connections_beyond_a_pool_do_not_stop_the_start, .timeout = 120)
{
    skip_unless_model("prethread");
    struct server s;
    const char *const sargs[] = {"-w", "3", NULL};
    server_start(&s, "prethread", sargs);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "idle3.json");
    tmp_path(out, sizeof out, "idle3.out");
    snprintf(args, sizeof args, "-p %d -c 1 -d 1s -w 10 -b 10 --idle 4 --json %s", s.port, json);
    cr_expect_eq(loadgen(args, out), 4, "nothing answered, and said so");
    cr_expect_eq(jq_num(json, ".totals.idle_greeted"), 3, "one idle client waits in the backlog");
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 0, "every worker is held by an idle client");
    cr_expect_eq(jq_num(json, ".totals.in_flight_at_end"), 1);
    cr_expect_eq(jq_num(json, ".totals.clients_served"), 0);
    server_stop(&s, NULL, 0);
    unlink(json);
    unlink(out);
}

/* --mix: each request draws its class by weight from a seeded generator: the same seed gives
 * the same draws; each class's counts and times are kept beside the totals, and the server
 * answered exactly what was asked of each class (its byte count). */
Test(loadgen, mix_draws_classes_by_weight_from_the_seed, .timeout = 120)
{
    skip_unless_model("prethread");
    struct server s;
    server_start(&s, "prethread", NULL);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "mix.json");
    tmp_path(out, sizeof out, "mix.out");
    long long first = -1;
    for (int run = 0; run < 2; run++) {
        snprintf(args, sizeof args,
                 "-p %d -c 1 -t 1 -k 0 -n 400 --mix 10:5:9,20:7:1 --seed 5 --verify --json %s",
                 s.port, json);
        cr_assert_eq(loadgen(args, out), 0);
        long long small = jq_num(json, ".latency_us_by_class[0].requests_ok");
        long long big = jq_num(json, ".latency_us_by_class[1].requests_ok");
        cr_expect_eq(small + big, 400);
        cr_expect(small > 320 && small < 395, "9:1 weights drew %lld of 400 for the first", small);
        cr_expect_eq(jq_num(json, ".totals.bytes"), small * 5 + big * 7);
        cr_expect_eq(jq_num(json, ".config.seed"), 5);
        cr_expect_eq(jq_num(json, ".config.mix | length"), 2);
        cr_expect_eq(jq_num(json, ".latency_us_by_class[1].total.count"), big);
        if (run == 0)
            first = small;
        else
            cr_expect_eq(small, first, "the same seed drew differently");
    }
    cr_expect(file_has(out, "class WORK 10 BYTES 5 (weight 9)"), "no line per class");
    server_stop(&s, NULL, 0);
    static const char *const bad[] = {"--mix 1:2",   "--mix 1:2:0",      "--mix 1:2:3 -w 5",
                                      "--mix a:2:3", "--mix 1:0:1 -k 0", "--mix ''"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(loadgen(bad[i], out), 2, "loadgen %s: not refused", bad[i]);
    unlink(json);
    unlink(out);
}

/* --think: a slow client holds what serves it. With one worker, the second client is greeted
 * only after the first one's pause and request; the pause itself is the client's and is not
 * in any request's total (which stays the greeting plus the response, give or take a send). */
Test(loadgen, think_holds_the_server_and_is_not_counted, .timeout = 120)
{
    skip_unless_model("prethread");
    struct server s;
    const char *const sargs[] = {"-w", "1", NULL};
    server_start(&s, "prethread", sargs);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "think.json");
    tmp_path(out, sizeof out, "think.out");
    snprintf(args, sizeof args, "-p %d -t 1 -c 2 -n 2 -w 10 -b 10 --think 300ms --json %s", s.port,
             json);
    cr_assert_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 2);
    cr_expect_eq(jq_num(json, ".config.think_s * 1000 | round"), 300);
    /* By the order of events, whatever the machine's speed: one thread starts both requests
     * before it takes any event, so the second started before the first was greeted, and it
     * is greeted after the first one's pause. Its greeting time (from its own start) is
     * longer than the pause. */
    cr_expect_eq(jq_num(json, "[.requests[].greeting_us] | max >= 300000"), 1,
                 "the second client was greeted before the first one's pause ended");
    cr_expect_eq(jq_num(json, "[.requests[] | select(.total_us >= .greeting_us + .response_us "
                              "+ 150000)] | length"),
                 0, "a pause was counted in a total");
    server_stop(&s, NULL, 0);

    /* On a kept connection: after the greeting and between requests, three pauses for three. */
    server_start(&s, "prethread", NULL);
    snprintf(args, sizeof args, "-p %d -c 1 -k 0 -n 3 -w 10 -b 10 --think 100ms --json %s", s.port,
             json);
    cr_assert_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 3);
    cr_expect_geq(jq_num(json, ".totals.elapsed_s * 1000 | floor"), 300);
    cr_expect_eq(jq_num(json, "[.requests[] | select(.total_us >= (.greeting_us // 0) + "
                              ".response_us + 50000)] | length"),
                 0, "a pause was counted in a total");
    server_stop(&s, NULL, 0);
    unlink(json);
    unlink(out);
}

/* --read-rate: a reply is read no faster than the rate (every byte checked), through a receive
 * window small enough that the server's sends wait on the reader. */
Test(loadgen, read_rate_paces_the_reply, .timeout = 120)
{
    skip_unless_model("prethread");
    struct server s;
    server_start(&s, "prethread", NULL);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "rrate.json");
    tmp_path(out, sizeof out, "rrate.out");
    snprintf(args, sizeof args,
             "-p %d -c 2 -n 4 -w 10 -b 100000 --read-rate 200000 --verify --json %s", s.port, json);
    cr_assert_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 4);
    cr_expect_eq(jq_num(json, ".totals.bytes"), 400000);
    cr_expect_eq(jq_num(json, ".config.read_rate_bytes_per_s"), 200000);
    /* 100,000 bytes at 200,000 a second: the last tenth-of-a-quantum aside, half a second. */
    cr_expect_geq(jq_num(json, ".latency_us.response.min"), 450000);
    server_stop(&s, NULL, 0);
    static const char *const bad[] = {"--read-rate 0", "--read-rate x", "--think 5x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(loadgen(bad[i], out), 2, "loadgen %s: not refused", bad[i]);
    unlink(json);
    unlink(out);
}

/* A pool serves -w kept connections at once: the other clients are never served, and the
 * result says how many were (clients_served), in the JSON and in the summary. */
Test(loadgen, clients_never_served_are_counted, .timeout = 120)
{
    skip_unless_model("prethread");
    struct server s;
    const char *const sargs[] = {"-w", "2", NULL};
    server_start(&s, "prethread", sargs);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "served.json");
    tmp_path(out, sizeof out, "served.out");
    snprintf(args, sizeof args, "-p %d -c 5 -k 0 -d 500ms -w 10 -b 10 --json %s", s.port, json);
    cr_assert_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.clients_served"), 2);
    cr_expect_geq(jq_num(json, ".totals.in_flight_at_end"), 3, "the three never greeted");
    cr_expect(file_has(out, "2 of 5 clients served at least once"));
    server_stop(&s, NULL, 0);
    unlink(json);
    unlink(out);
}

/* The values of a jq filter over a file, one number per line, into out; returns how many. */
static size_t jq_values(const char *json, const char *filter, uint64_t *out, size_t max)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "jq '%s' %s", filter, json);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = 0;
    unsigned long long v;
    while (n < max && fscanf(p, "%llu", &v) == 1)
        out[n++] = v;
    pclose(p);
    return n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t wall_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Two loadgens against one server, started together by --start-at, then merged: the merged
 * count is the server's, and every merged percentile is the percentile of the union of both
 * runs' requests, within the histogram's precision (never an average of percentiles). */
Test(loadgen, merge_of_two_runs_is_exact, .timeout = 120)
{
    struct server s;
    server_start(&s, "prethread", NULL);
    char a[256], b[256], m[256], out[256], bad[256], hlog[256], hgrm[256], args[1024];
    tmp_path(a, sizeof a, "m-a.json");
    tmp_path(b, sizeof b, "m-b.json");
    tmp_path(m, sizeof m, "m-merged.json");
    tmp_path(out, sizeof out, "m.out");
    tmp_path(bad, sizeof bad, "m-bad.json");
    tmp_path(hlog, sizeof hlog, "m-a.hlog");
    tmp_path(hgrm, sizeof hgrm, "m-a.hgrm");
    char out_b[300];
    snprintf(out_b, sizeof out_b, "%s.b", out);

    long long at = (long long)(wall_now_ns() + 400000000);
    snprintf(args, sizeof args,
             "-p %d -c 3 -n 400 -w 20000 -b 2000 --start-at %lld --json %s --hdr-log %s --hgrm %s",
             s.port, at, a, hlog, hgrm);
    pid_t pa = loadgen_bg(args, out);
    snprintf(args, sizeof args, "-p %d -c 2 -n 300 -w 1000 -b 100 --start-at %lld --json %s",
             s.port, at, b);
    pid_t pb = loadgen_bg(args, out_b);
    cr_assert_eq(wait_status(pa), 0, "first loadgen");
    cr_assert_eq(wait_status(pb), 0, "second loadgen");
    /* Nanoseconds since the epoch are beyond jq's doubles: the text itself. */
    char at_key[64];
    snprintf(at_key, sizeof at_key, "\"start_at_ns\":%lld,", at);
    cr_expect(file_has(a, at_key), "first run: %s", at_key);
    cr_expect(file_has(b, at_key), "second run: %s", at_key);
    cr_expect_geq(jq_num(a, ".wall_clock.started_late_us"), 0, "never before the agreed time");

    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/loadgen merge %s %s --json %s >%s 2>&1", bin(), a, b, m, out);
    cr_assert_eq(system(cmd), 0, "loadgen merge");
    char stats[1024];
    server_stop(&s, stats, sizeof stats);
    cr_expect_eq(jline_num(stats, "requests"), 700, "%s", stats);
    cr_expect_eq(jq_num(m, ".totals.requests_ok"), jline_num(stats, "requests"));
    cr_expect_eq(jq_num(m, ".latency_us.total.count"), 700);
    cr_expect_eq(jq_num(m, ".config.connections"), 5);
    cr_expect_eq(jq_num(m, ".merged_from | length"), 2);
    cr_expect_eq(jq_num(m, "[.timeline[].requests] | add"), 700);
    cr_expect_eq(jq_num(m, "[.errors[]] | add"), 0);

    /* The union of both runs' per-request times, against the merged histogram. */
    static uint64_t v[1000];
    size_t n = jq_values(a, ".requests[] | select(.error == null) | .total_us", v, 1000);
    n += jq_values(b, ".requests[] | select(.error == null) | .total_us", v + n, 1000 - n);
    cr_assert_eq(n, 700);
    qsort(v, n, sizeof *v, cmp_u64);
    struct hist h;
    cr_assert_eq(hist_init(&h, 3, HIST_MAX_US), 0);
    static const struct {
        const char *key;
        double p;
    } ps[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p999", 99.9}};
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        size_t rank = (size_t)ceil(ps[k].p / 100.0 * (double)n);
        uint64_t exact = v[rank - 1];
        char filter[64];
        snprintf(filter, sizeof filter, ".latency_us.total.%s", ps[k].key);
        long long got = jq_num(m, filter);
        cr_expect(got >= (long long)hist_lowest_equivalent(&h, exact) &&
                      got <= (long long)hist_highest_equivalent(&h, exact),
                  "%s: merged %lld, union of the runs %llu", ps[k].key, got,
                  (unsigned long long)exact);
    }
    cr_expect_eq(jq_num(m, ".latency_us.total.max"), (long long)v[n - 1]);
    cr_expect_eq(jq_num(m, ".latency_us.total.min"), (long long)v[0]);
    hist_free(&h);

    /* The run's own HdrHistogram files. */
    cr_expect(file_has(hgrm, "Total count    =          400]"), "the .hgrm counts the run");
    cr_expect(file_has(hlog, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\""),
              "the interval log's columns");

    /* What is not a result with counters is refused, and nothing is written. */
    unlink(m);
    snprintf(cmd, sizeof cmd, "jq 'del(.latency_us.total.buckets)' %s >%s", a, bad);
    cr_assert_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/loadgen merge %s %s --json %s >%s 2>&1", bin(), a, bad, m, out);
    cr_expect_eq(WEXITSTATUS(system(cmd)), 1);
    cr_expect(file_has(out, "histogram counters"), "says why");
    cr_expect_eq(access(m, F_OK), -1, "no merged file");
    snprintf(cmd, sizeof cmd, "%s/loadgen merge %s %s --json %s >%s 2>&1", bin(), a, out, m, out_b);
    cr_expect_eq(WEXITSTATUS(system(cmd)), 1);
    cr_expect(file_has(out_b, "not JSON"), "says why");
    snprintf(cmd, sizeof cmd, "%s/loadgen merge >%s 2>&1", bin(), out);
    cr_expect_eq(WEXITSTATUS(system(cmd)), 2);
    cr_expect_eq(loadgen("-p 1 --start-at 1700000000", out), 2, "seconds, not nanoseconds");
    cr_expect(file_has(out, "within an hour of now"));
    const char *files[] = {a, b, m, out, out_b, bad, hlog, hgrm};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        unlink(files[i]);
}

/* Nothing listening: loadgen says in one line that nothing answered (every connection was
 * refused) and exits 4, a count of requests or a duration alike; in a duration it backs off
 * between refused connects (1 ms doubling to 100 ms) instead of spinning a core. */
Test(loadgen, nothing_listening_is_said_in_one_line, .timeout = 60)
{
    /* A port that refuses: bound, never listened on. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    char out[128], args[512];
    tmp_path(out, sizeof out, "refused.out");
    char json[128];
    tmp_path(json, sizeof json, "refused.json");
    snprintf(args, sizeof args, "-p %d -c 2 -d 1s --json %s", ntohs(a.sin_port), json);
    cr_expect_eq(loadgen(args, out), 4, "a duration where nothing answered");
    cr_expect(file_has(out, "loadgen: nothing answered: every connection to 127.0.0.1:"),
              "no line saying nothing answered (see %s)", out);
    /* Two slots backing off to 100 ms try some 20 times each in a second, not 60,000. */
    long long refused = jq_num(json, ".errors.connect_refused");
    cr_expect(refused > 0 && refused <= 100, "%lld refused connects in 1 s", refused);
    unlink(json);
    close(fd);
    unlink(out);
}
