/* loadgen as a user runs it: option refusals, exact counts against the real servers, the JSON
 * result checked field by field with jq, every error class against a misbehaving fake
 * server, and the open loop's view of a server stopped for a second. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "io.h"
#include "payload.h"

static const char *bin(void)
{
    const char *d = getenv("SRV_BIN");
    return d && *d ? d : "bin";
}

/* Runs loadgen with args (a shell fragment); returns its exit status; output to out_path. */
static bool file_has(const char *path, const char *needle)
{
    char buf[65536];
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
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

static void tmp_path(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/cb-lg-%ld-%s", (long)getpid(), tag);
}

static long long jq_num(const char *json, const char *filter)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "jq -e '%s' %s", filter, json);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    long long v = -1;
    if (fscanf(p, "%lld", &v) != 1)
        v = -1;
    pclose(p);
    return v;
}

Test(loadgen, refuses_bad_usage_with_status_2)
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
        {"a b c", "unexpected"},
        {"127.0.0.1 2 x 1 1", "REQS"},
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
    "(.git_commit | type == \"string\")",
    ".context | (.host_name, .kernel, .cpu_model, .started_at, .completed_at | type == "
    "\"string\") and (.num_cpus, .somaxconn | type == \"number\") and (.load_avg | length == 3)",
    ".config | (.argv | type == \"array\") and .connections == 4 and .requests == 200 and "
    ".close == \"fin\" and "
    ".work == 1000 and .bytes == 3000 and .reqs_per_conn == 1 and .mode == \"closed\"",
    ".totals | .requests_ok == 200 and .bytes == 600000 and .elapsed_s > 0 and .rps > 0 and "
    ".mbps > 0 and .connections_opened == 200 and .in_flight_at_end == 0",
    ".errors | keys == [\"connect_refused\",\"connect_timeout\",\"err_reply\",\"no_greeting\","
    "\"other\",\"reset\",\"short_read\",\"timeout\",\"verify_failed\"] and all(.[]; . == 0)",
    ".latency_us | keys == [\"connect\",\"greeting\",\"response\",\"total\"] and all(.[]; "
    ".min <= .p50 and .p50 <= .p75 and .p75 <= .p90 and .p90 <= .p99 and .p99 <= .p999 and "
    ".p999 <= .p9999 and .p9999 <= .max and .mean > 0 and .stddev >= 0 and .count == 200 and "
    "(.spectrum | length > 2))",
    ".latency_us.total.spectrum | (.[0][0] == 0) and (.[-1][0] == 100) and "
    "([.[][1]] == ([.[][1]] | sort))",
    ".timeline | length >= 1 and (map(.requests) | add) == 200 and all(.[]; has(\"t\") and "
    "has(\"errors\") and has(\"p99_us\"))",
    ".client | .utime_s >= 0 and .stime_s >= 0 and .cpu_pct >= 0",
    ".requests | length == 200 and all(.[]; .error == null and .total_us >= .response_us)",
    "has(\"latency_us_uncorrected\") | not",
};

Test(loadgen, exact_counts_and_json_against_each_server)
{
    static const char *const models[] = {"iterative", "fork", "thread", "prefork", "prethread"};
    char json[256], out[256];
    tmp_path(json, sizeof json, "result.json");
    tmp_path(out, sizeof out, "out");
    for (size_t m = 0; m < 5; m++) {
        if (!model_selected(models[m]))
            continue;
        struct server s;
        server_start(&s, models[m], NULL);
        char args[512];
        snprintf(args, sizeof args, "-p %d -c 4 -n 200 -w 1000 -b 3000 --verify --json %s", s.port,
                 json);
        cr_expect_eq(loadgen(args, out), 0, "%s: loadgen failed", models[m]);
        cr_expect(file_has(out, "Requests/sec"), "%s: no summary", models[m]);
        for (size_t f = 0; f < sizeof json_fields / sizeof *json_fields; f++) {
            char cmd[1024];
            snprintf(cmd, sizeof cmd, "jq -e '%s' %s >/dev/null", json_fields[f], json);
            cr_expect_eq(system(cmd), 0, "%s: jq -e '%s' failed", models[m], json_fields[f]);
        }
        char stats[1024];
        server_stop(&s, stats, sizeof stats);
        cr_expect_eq(json_num(stats, "requests"), 200, "%s: %s", models[m], stats);
        cr_expect_eq(json_num(stats, "bytes_sent"), 600000, "%s: %s", models[m], stats);
    }
    unlink(json);
    unlink(out);
}

Test(loadgen, keep_alive_and_book_form)
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
    snprintf(args, sizeof args, "-p %d -c 4 -n 40 --close rst -w 10 -b 10 --json %s", s.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, "if .config.close == \"rst\" then .totals.requests_ok else -1 end"),
                 40);
    snprintf(args, sizeof args, "-p %d --json %s 127.0.0.1 3 4 1000 500", s.port, json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 12);
    cr_expect_eq(jq_num(json, "[.requests[] | select(.conn == 2)] | length"), 4);
    cr_expect(file_has(out, "greeting_ms"), "book table printed");
    char stats[1024];
    server_stop(&s, stats, sizeof stats);
    cr_expect_eq(json_num(stats, "requests"), 300 + 10 + 40 + 12, "%s", stats);
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
    RESETS
};

struct fake {
    int lfd, port;
    enum fake_mode mode;
};

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    for (;;) {
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        char req[128];
        const char *greet = "fake server\n";
        static char junk[4096];
        switch (f->mode) {
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
            io_writen(fd, greet, strlen(greet));
            if (read(fd, req, sizeof req) > 0)
                io_writen(fd, payload_block(), 10);
            continue; /* and nothing more */
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
    struct sockaddr_in sa;
    f->lfd = loopback_socket(&sa, 128);
    f->port = ntohs(sa.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, fake_main, f);
    pthread_detach(t);
}

static void expect_class(enum fake_mode mode, const char *cls, const char *extra)
{
    struct fake f;
    fake_start(&f, mode);
    char json[256], out[256], args[512], filter[256];
    tmp_path(json, sizeof json, cls);
    tmp_path(out, sizeof out, "fake.out");
    snprintf(args, sizeof args, "-p %d -c 2 -n 6 -w 1 -b 1000 --timeout 300ms %s --json %s", f.port,
             extra, json);
    cr_expect_eq(loadgen(args, out), 0, "errors are reported, not fatal");
    snprintf(filter, sizeof filter, ".errors.%s", cls);
    cr_expect_eq(jq_num(json, filter), 6, "class %s", cls);
    cr_expect_eq(jq_num(json, "[.errors[]] | add"), 6, "only %s", cls);
    cr_expect_eq(jq_num(json, ".totals.requests_ok"), 0);
    unlink(json);
    unlink(out);
}

Test(loadgen, never_greets)
{
    expect_class(NEVER_GREETS, "no_greeting", "");
}
Test(loadgen, closes_before_greeting)
{
    expect_class(CLOSES_EARLY, "no_greeting", "");
}
Test(loadgen, short_payload)
{
    expect_class(SHORT_PAYLOAD, "short_read", "");
}
Test(loadgen, err_reply)
{
    expect_class(SENDS_ERR, "err_reply", "");
}
Test(loadgen, stalled_server_times_out)
{
    expect_class(STALLS, "timeout", "");
}
Test(loadgen, wrong_bytes_fail_verification)
{
    expect_class(WRONG_BYTES, "verify_failed", "--verify");
}
Test(loadgen, reset)
{
    expect_class(RESETS, "reset", "");
}

Test(loadgen, connect_refused)
{
    struct sockaddr_in sa;
    int fd = loopback_socket(&sa, -1); /* a port bound but not listening */
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "refused.json");
    tmp_path(out, sizeof out, "refused.out");
    snprintf(args, sizeof args, "-p %d -n 5 --json %s", ntohs(sa.sin_port), json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".errors.connect_refused"), 5);
    cr_expect(file_has(out, "connect_refused"), "summary names the class");
    close(fd);
    unlink(json);
    unlink(out);
}

/* A listener that never accepts, with its queue full: the kernel drops further SYNs, so a
 * connect never completes. */
Test(loadgen, connect_timeout)
{
    struct sockaddr_in sa;
    int lfd = loopback_socket(&sa, 0);
    int fill[4];
    for (int i = 0; i < 4; i++) { /* fill the accept queue; later SYNs are dropped */
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof sa);
    }
    usleep(100000);
    char json[256], out[256], args[512];
    tmp_path(json, sizeof json, "ctimeout.json");
    tmp_path(out, sizeof out, "ctimeout.out");
    snprintf(args, sizeof args, "-p %d -c 2 -n 4 --timeout 300ms --json %s", ntohs(sa.sin_port),
             json);
    cr_expect_eq(loadgen(args, out), 0);
    cr_expect_eq(jq_num(json, ".errors.connect_timeout"), 4);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
    unlink(json);
    unlink(out);
}

/* A server frozen for a second: the open loop, timing each request from when it was due,
 * shows the stall in its tail; the closed loop, which simply stops sending, barely does. */
static long long stalled_run(const char *mode_args)
{
    struct server s;
    server_start(&s, "prethread", NULL);
    char json[256], out[256], args[1024];
    tmp_path(json, sizeof json, "stall.json");
    tmp_path(out, sizeof out, "stall.out");
    snprintf(args, sizeof args, "-p %d -c 8 -d 4 -k 0 -w 100 -b 100 %s --json %s", s.port,
             mode_args, json);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(1500000);
        kill(s.pid, SIGSTOP);
        usleep(1000000);
        kill(s.pid, SIGCONT);
        _exit(0);
    }
    cr_expect_eq(loadgen(args, out), 0);
    waitpid(pid, NULL, 0);
    server_stop(&s, NULL, 0);
    long long p999 = jq_num(json, ".latency_us.total.p999");
    unlink(json);
    unlink(out);
    return p999;
}

Test(loadgen, open_loop_sees_a_stall_closed_loop_hides_it)
{
    long long open = stalled_run("-R 2000");
    long long closed = stalled_run("");
    cr_expect_geq(open, 900000, "open loop p99.9 %lld us; the 1 s stall should show", open);
    cr_expect_lt(closed, 900000, "closed loop p99.9 %lld us", closed);
}

Test(loadgen, unix_socket_and_ipv6)
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
    unlink(json);
    unlink(out);
}
