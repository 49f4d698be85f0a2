/* Integration: every server binary, started on an ephemeral port, against real clients.
 * One table of models; SRV_BIN picks the build (plain, asan, tsan) and SRV_MODELS a subset. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench/src/registry.h"
#include "helpers.h"

#define MODEL_TEST(test) EVERY_MODEL_TEST(servers, test, .init = setup, .timeout = 120)

/* Orphans of a server (children it failed to reap) become ours, so "no process left" can be
 * checked with waitpid(-1). */
static void setup(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static void skip_unselected(const struct test_model *m)
{
    if (!model_selected(m->name))
        cr_skip_test("%s not selected by SRV_MODELS", m->name);
}

static void expect_clean_exit(struct server *s, const char *stats)
{
    int st = server_stop(s, (char *)stats, stats ? 1024 : 0);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s-srv: exit status 0x%x", s->model, st);
    /* Nothing may be left: every child of the server was reaped by it. */
    pid_t left = waitpid(-1, NULL, WNOHANG);
    cr_expect(left == -1 && errno == ECHILD, "%s-srv left process %ld behind", s->model,
              (long)left);
}

MODEL_TEST(greeting)
{
    skip_unselected(m);
    struct server s;
    server_start(&s, m->name, NULL);
    int fd = tcp_connect(s.port);
    char g[512];
    size_t n = read_greeting(fd, g, sizeof g);
    cr_expect_leq(n, 255, "greeting of %zu bytes", n);
    char base[32];
    cr_expect(strstr(g, model_base(m->name, base, sizeof base)), "greeting '%s' does not name %s",
              g, m->name);
    close(fd);
    expect_clean_exit(&s, NULL);
}

MODEL_TEST(exact_byte_counts)
{
    skip_unselected(m);
    struct server s;
    server_start(&s, m->name, NULL);
    static const uint64_t sizes[] = {1, 500000, 64u << 20};
    for (size_t i = 0; i < 3; i++) {
        int fd = tcp_connect(s.port);
        char g[512], line[64];
        read_greeting(fd, g, sizeof g);
        snprintf(line, sizeof line, "1000 %llu\n", (unsigned long long)sizes[i]);
        send_str(fd, line);
        cr_expect_eq(recv_payload(fd, sizes[i]), sizes[i]);
        shutdown(fd, SHUT_WR);
        char extra[16];
        cr_expect_eq(read_all(fd, extra, sizeof extra), 0, "bytes beyond BYTES=%llu",
                     (unsigned long long)sizes[i]);
        close(fd);
    }
    /* BYTES=0 sends nothing: the next answer on the connection starts at its own byte 0. */
    int fd = tcp_connect(s.port);
    char g[512];
    read_greeting(fd, g, sizeof g);
    send_str(fd, "1000 0\n10 3\n");
    shutdown(fd, SHUT_WR);
    char buf[64];
    size_t n = read_all(fd, buf, sizeof buf);
    cr_expect_eq(n, 3, "BYTES=0 then BYTES=3 gave %zu bytes", n);
    close(fd);
    char stats[1024];
    expect_clean_exit(&s, stats);
    cr_expect_eq(jline_num(stats, "requests"), 5, "%s", stats);
    cr_expect_eq(jline_num(stats, "bytes_sent"), 1 + 500000 + (64 << 20) + 3, "%s", stats);
    cr_expect_eq(jline_num(stats, "primes"), 4 * 168 + 4, "%s", stats);
}

MODEL_TEST(several_and_pipelined_requests)
{
    skip_unselected(m);
    struct server s;
    server_start(&s, m->name, NULL);
    int fd = tcp_connect(s.port);
    char g[512];
    read_greeting(fd, g, sizeof g);
    for (int i = 1; i <= 5; i++) {
        char line[64];
        snprintf(line, sizeof line, "%d %d\n", 100 * i, 1000 * i);
        send_str(fd, line);
        cr_expect_eq(recv_payload(fd, (uint64_t)(1000 * i)), (uint64_t)(1000 * i));
    }
    /* Three requests in one segment, with the liberal forms. */
    send_str(fd, "100 10\n\t200  20 \r\n 300\t30\n");
    for (int i = 1; i <= 3; i++)
        cr_expect_eq(recv_payload(fd, (uint64_t)(10 * i)), (uint64_t)(10 * i), "answer %d", i);
    close(fd);
    char stats[1024];
    expect_clean_exit(&s, stats);
    cr_expect_eq(jline_num(stats, "requests"), 8, "%s", stats);
}

static const char *const bad_inputs[] = {
    "abc\n",
    "5\n",
    "1 2 3\n",
    "-1 5\n",
    "99999999999999999999999 1\n",
    "100000001 1\n",
    "1 1073741825\n",
    "\n",
    "\x01\x02\xff\xfe",
    "1 2\0\n",
    "GET / HTTP/1.0\r\n\r\n",
    NULL, /* 600 bytes without a newline, made below */
};

MODEL_TEST(bad_input_gets_err_and_the_server_goes_on)
{
    skip_unselected(m);
    struct server s;
    server_start(&s, m->name, NULL);
    char longline[601];
    memset(longline, '1', 600);
    longline[600] = '\0';
    size_t n_bad = sizeof bad_inputs / sizeof *bad_inputs;
    for (size_t i = 0; i < n_bad; i++) {
        const char *in = bad_inputs[i] ? bad_inputs[i] : longline;
        size_t len = i == 9 ? 5 : strlen(in);
        int fd = tcp_connect(s.port);
        char g[512], reply[256];
        read_greeting(fd, g, sizeof g);
        cr_assert_eq(write(fd, in, len), (ssize_t)len);
        size_t n = read_all(fd, reply, sizeof reply); /* EOF: the server closed */
        cr_expect(n > 4 && strncmp(reply, "ERR ", 4) == 0 && reply[n - 1] == '\n',
                  "input %zu: reply '%s'", i, reply);
        close(fd);
        /* And the next client is served. */
        fd = tcp_connect(s.port);
        read_greeting(fd, g, sizeof g);
        send_str(fd, "100 100\n");
        cr_expect_eq(recv_payload(fd, 100), 100, "after bad input %zu", i);
        close(fd);
    }
    char stats[1024];
    expect_clean_exit(&s, stats);
    cr_expect_eq(jline_num(stats, "bad_requests"), (long long)n_bad, "%s", stats);
    cr_expect_eq(jline_num(stats, "requests"), (long long)n_bad, "%s", stats);
}

MODEL_TEST(client_vanishing_mid_payload)
{
    skip_unselected(m);
    struct server s;
    server_start(&s, m->name, NULL);
    for (int i = 0; i < 3; i++) {
        int fd = tcp_connect(s.port);
        char g[512], buf[1000];
        read_greeting(fd, g, sizeof g);
        send_str(fd, "10 67108864\n");
        cr_expect_eq(read(fd, buf, sizeof buf) > 0, 1);
        struct linger lg = {1, 0}; /* close with a reset, as a crashed client would */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
    }
    int fd = tcp_connect(s.port);
    char g[512];
    read_greeting(fd, g, sizeof g);
    send_str(fd, "1000 500000\n");
    cr_expect_eq(recv_payload(fd, 500000), 500000);
    close(fd);
    char stats[1024];
    expect_clean_exit(&s, stats);
    cr_expect_eq(jline_num(stats, "requests"), 1, "%s", stats);
}

/* A client that connects and says nothing: the others are served while it is still
 * connected. The iterative server is expected to fail that (it serves one client at a time):
 * for it the test asserts the failure, that the other client is served only once the idle one
 * has been dropped by --timeout. Told by the order of events, not by a time. */
MODEL_TEST(idle_client_does_not_delay_others)
{
    skip_unselected(m);
    struct server s;
    const char *pool[] = {"-w", "2", NULL}, *timeout[] = {"--timeout", "1s", NULL};
    server_start(&s, m->name, !m->concurrent ? timeout : strstr(m->name, "pre") ? pool : NULL);
    int idle = tcp_connect(s.port); /* connects, then says nothing */
    char g[512];
    read_greeting(idle, g, sizeof g);
    int fd = tcp_connect(s.port);
    read_greeting(fd, g, sizeof g);
    send_str(fd, "250000 500000\n");
    cr_expect_eq(recv_payload(fd, 500000), 500000);
    /* Is the idle client still connected now that the other has been served? */
    char c;
    ssize_t r = recv(idle, &c, 1, MSG_DONTWAIT);
    bool still = r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    if (m->concurrent)
        cr_expect(still, "%s-srv served the other client only after dropping the idle one",
                  m->name);
    else
        cr_expect(!still, "iterative-srv served a second client while the first was connected");
    close(fd);
    close(idle);
    expect_clean_exit(&s, NULL);
}

MODEL_TEST(descriptors_stable_over_500_connections)
{
    skip_unselected(m);
    struct server s;
    server_start(&s, m->name, NULL);
    /* Warm up first: a sanitizer runtime may hold a descriptor briefly after start-up. */
    int before = 0;
    for (int i = -20; i < 500; i++) {
        if (i == 0)
            before = settled_fd_count(s.pid);
        int fd = tcp_connect(s.port);
        char g[512];
        read_greeting(fd, g, sizeof g);
        send_str(fd, "10 10\n");
        cr_assert_eq(recv_payload(fd, 10), 10, "connection %d", i);
        close(fd);
    }
    /* The last child or thread may still be closing its socket; wait for it to settle. */
    int after = fd_count(s.pid);
    for (int tries = 0; tries < 100 && after != before; tries++) {
        usleep(20000);
        after = fd_count(s.pid);
    }
    cr_expect_eq(after, before, "%s-srv: %d descriptors before, %d after 500 connections", m->name,
                 before, after);
    char stats[1024];
    expect_clean_exit(&s, stats);
    cr_expect_eq(jline_num(stats, "connections"), 520, "%s", stats);
}

struct load {
    int port;
    atomic_int done;     /* requests answered in full */
    atomic_int stopping; /* set once SIGTERM was sent */
};

static void *load_client(void *arg)
{
    struct load *l = arg;
    for (int i = 0; i < 200; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)l->port)};
        sa.sin_addr.s_addr = htonl(0x7f000001);
        /* A handshake that completes just as the server stops accepting can be dropped by
         * the kernel without a reset: the client then sees an open connection that nobody
         * holds. A bounded read lets such a client give up instead of waiting forever. */
        struct timeval tv = {10, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            close(fd);
            break; /* refused: the server has stopped accepting */
        }
        char g[512];
        ssize_t r = read(fd, g, sizeof g);
        bool ok = r > 0 && write(fd, "20000 100000\n", 13) == 13;
        uint64_t got = 0;
        static __thread char buf[65536];
        while (ok && got < 100000 && (r = read(fd, buf, sizeof buf)) > 0)
            got += (uint64_t)r;
        close(fd);
        if (got == 100000)
            atomic_fetch_add(&l->done, 1);
        else if (atomic_load(&l->stopping))
            break;
    }
    return NULL;
}

MODEL_TEST(sigterm_under_load)
{
    skip_unselected(m);
    struct server s;
    server_start(&s, m->name, NULL);
    struct load l = {.port = s.port};
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, load_client, &l);
    while (atomic_load(&l.done) < 100)
        usleep(1000);
    atomic_store(&l.stopping, 1);
    char stats[1024];
    expect_clean_exit(&s, stats);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    cr_expect(jline_is(stats, "event", "\"stats\""), "no stats line: '%s'", stats);
    cr_expect_eq(jline_num(stats, "requests"), atomic_load(&l.done),
                 "server counted %lld requests, clients received %d in full",
                 jline_num(stats, "requests"), atomic_load(&l.done));
}

MODEL_TEST(daemon_mode_pid_file)
{
    skip_unselected(m);
    char pidfile[128];
    snprintf(pidfile, sizeof pidfile, "/tmp/cb-test-%ld-%s.pid", (long)getpid(), m->name);
    unlink(pidfile);
    struct server s;
    const char *args[] = {"-d", "-P", pidfile, NULL};
    server_start(&s, m->name, args);
    int st;
    waitpid(s.pid, &st, 0); /* the foreground process exits once the daemon is ready */
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "foreground exit 0x%x", st);
    FILE *f = fopen(pidfile, "r");
    cr_assert(f, "no pid file %s", pidfile);
    long pid = 0;
    cr_expect_eq(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    cr_expect_eq(pid, jline_num(s.listening, "pid"), "pid file %ld, listening line %s", pid,
                 s.listening);
    cr_expect_neq(pid, (long)s.pid, "the daemon is a new process");

    int fd = tcp_connect(s.port);
    char g[512];
    read_greeting(fd, g, sizeof g);
    send_str(fd, "100 100\n");
    cr_expect_eq(recv_payload(fd, 100), 100);
    close(fd);

    /* A second server with the same pid file refuses to start. */
    struct server s2;
    const char *args2[] = {"-P", pidfile, NULL};
    memset(&s2, 0, sizeof s2);
    char cmd[512], srv[256];
    snprintf(cmd, sizeof cmd, "%s -p 0 -P %s >/dev/null 2>&1", server_cmd(m->name, srv, sizeof srv),
             pidfile);
    (void)args2;
    cr_expect_neq(system(cmd), 0, "a second server started with a live pid file");

    kill((pid_t)pid, SIGTERM);
    /* The daemon was reparented to this test (subreaper): its exit is ours to reap. */
    cr_expect_eq(waitpid((pid_t)pid, &st, 0), pid);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit 0x%x", st);
    cr_expect_neq(access(pidfile, F_OK), 0, "pid file %s left behind", pidfile);
    close(s.out);
    server_check_clean(&s);
}

/* Runs a server binary with args (a shell fragment) to completion; its status, stderr in
 * err (NUL-terminated). */
static int run_srv(const struct test_model *m, const char *args, char *err, size_t n)
{
    char cmd[1024], srv[256], path[] = "/tmp/cb-srv-err-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "timeout 10 %s %s </dev/null >/dev/null 2>%s",
             server_cmd(m->name, srv, sizeof srv), args, path);
    int st = system(cmd);
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(err, 1, n - 1, f) : 0;
    err[k] = '\0';
    if (f)
        fclose(f);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The files a server writes at the end are checked at the start: a missing directory for
 * --stats or -P refuses to start (status 2, the path named), instead of failing after the run. */
MODEL_TEST(output_paths_checked_at_start)
{
    skip_unselected(m);
    char err[2048];
    cr_expect_eq(run_srv(m, "-p 0 --stats /missing/dir/s.json", err, sizeof err), 2, "%s", err);
    cr_expect(strstr(err, "/missing/dir/s.json"), "%s", err);
    cr_expect_eq(run_srv(m, "-p 0 -P /missing/dir/x.pid", err, sizeof err), 2, "%s", err);
    cr_expect(strstr(err, "/missing/dir/x.pid"), "%s", err);
    cr_expect_eq(run_srv(m, "-p 0 --stats /tmp", err, sizeof err), 2, "%s", err);
    cr_expect(strstr(err, "is a directory"), "%s", err);
}

/* A port in use: the message names the address and port as a user writes them. */
MODEL_TEST(address_in_use_names_address_and_port)
{
    skip_unselected(m);
    const char *v6[] = {"-H", "::1", NULL};
    struct server s;
    server_start(&s, "prethread", v6);
    char args[64], want[64], err[2048];
    snprintf(args, sizeof args, "-H ::1 -p %d", s.port);
    snprintf(want, sizeof want, "[::1]:%d: Address already in use", s.port);
    cr_expect_eq(run_srv(m, args, err, sizeof err), 1, "%s", err);
    cr_expect(strstr(err, want), "wanted '%s' in: %s", want, err);
    server_stop(&s, NULL, 0);
}

/* --timeout and --grace take loadgen's durations on every model: with --timeout 300ms a
 * client that says nothing after the greeting is closed (the read sees the end, not its own
 * 10 s bound running out). */
MODEL_TEST(timeout_takes_a_duration)
{
    skip_unselected(m);
    const char *args[] = {"--timeout", "300ms", "--grace", "1.5s", NULL};
    struct server s;
    server_start(&s, m->name, args);
    int fd = tcp_connect(s.port);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char g[512];
    read_greeting(fd, g, sizeof g);
    char c;
    errno = 0;
    ssize_t r = read(fd, &c, 1);
    cr_expect_eq(r, 0, "%s: read returned %zd (%s): not closed by --timeout 300ms", m->name, r,
                 strerror(errno));
    close(fd);
    expect_clean_exit(&s, NULL);
}

/* --stats-interval: lines with "final":false come while the server runs, with the running
 * totals; the closing line is "final":true and has every request. */
MODEL_TEST(stats_interval_lines)
{
    skip_unselected(m);
    const char *args[] = {"--stats-interval", "100ms", NULL};
    struct server s;
    server_start(&s, m->name, args);
    for (int i = 0; i < 5; i++)
        cr_expect(request_ok(s.port, "1000 100\n", 100), "%s: request %d", m->name, i);
    char line[1024];
    bool seen = false;
    for (int i = 0; i < 100 && !seen && read_line_fd(s.out, line, sizeof line, 10000) > 0; i++)
        seen = jline_is(line, "event", "\"stats\"") && jline_is(line, "final", "false") &&
               jline_num(line, "requests") == 5 && jline_num(line, "peak_workers") >= 1;
    cr_expect(seen, "%s: no periodic stats line with the 5 requests (last: %s)", m->name, line);
    char stats[1024];
    expect_clean_exit(&s, stats);
    cr_expect(jline_is(stats, "final", "true"), "%s: %s", m->name, stats);
    cr_expect_eq(jline_num(stats, "requests"), 5, "%s: %s", m->name, stats);
}

/* A dynamic pool (prefork, prethread): 20 clients that hold a worker each make it grow, by 1,
 * 2, 4... a second, to --max-workers and no further; once they leave, it retires one idle
 * worker a second down to --max-spare. Watched through --stats-interval lines; every wait is
 * bounded. */
static bool pool_reaches(struct server *s, long want, bool grow, long *peak)
{
    char line[1024];
    for (int i = 0; i < 400 && read_line_fd(s->out, line, sizeof line, 5000) > 0; i++) {
        long w = (long)jline_num(line, "workers");
        long p = (long)jline_num(line, "peak_workers");
        if (p > *peak)
            *peak = p;
        if (w >= 0 && (grow ? w >= want : w <= want))
            return true;
    }
    return false;
}

/* The models with a dynamic pool (prefork, prethread and their variants): the others have
 * no test here, rather than a skipped one. */
ParameterizedTestParameters(servers, dynamic_pool_grows_and_shrinks)
{
    static struct test_model pools[16];
    struct test_model *rows;
    size_t n = test_models(&rows), k = 0;
    for (size_t i = 0; i < n && k < sizeof pools / sizeof *pools; i++) {
        char base[32];
        model_base(rows[i].name, base, sizeof base);
        if (!strcmp(base, "prefork") || !strcmp(base, "prethread"))
            pools[k++] = rows[i];
    }
    return cr_make_param_array(struct test_model, pools, k);
}
ParameterizedTest(struct test_model *m, servers, dynamic_pool_grows_and_shrinks, .init = setup,
                  .timeout = 120)
{
    skip_unselected(m);
    const char *args[] = {"-w",
                          "2",
                          "--min-spare",
                          "2",
                          "--max-spare",
                          "4",
                          "--max-workers",
                          "8",
                          "--stats-interval",
                          "200ms",
                          "--timeout",
                          "0",
                          NULL};
    struct server s;
    server_start(&s, m->name, args);
    int fds[20];
    for (int i = 0; i < 20; i++)
        fds[i] = tcp_connect(s.port); /* each holds a worker once greeted */
    long peak = 0;
    cr_expect(pool_reaches(&s, 8, true, &peak), "%s: did not grow to --max-workers 8", m->name);
    for (int i = 0; i < 20; i++)
        close(fds[i]);
    cr_expect(pool_reaches(&s, 4, false, &peak), "%s: did not shrink to --max-spare 4", m->name);
    cr_expect_eq(peak, 8, "%s: peak_workers %ld with --max-workers 8", m->name, peak);
    cr_expect(request_ok(s.port, "1000 1000\n", 1000), "%s serves after shrinking", m->name);
    char stats[1024];
    expect_clean_exit(&s, stats);
    cr_expect_eq(jline_num(stats, "peak_workers"), 8, "%s", stats);
}

/* The stats line's max_rss_kb is the server's own peak: a server started by a process that
 * had touched 256 MiB (as a benchmark harness may have) does not report that process's peak,
 * which Linux carries across exec in ru_maxrss. thread-srv: a model every build has. */
Test(servers, peak_rss_is_the_servers_own, .timeout = 60)
{
    const char *d = getenv("SRV_BIN");
    char bin[256], out[] = "/tmp/cb-rss-XXXXXX";
    snprintf(bin, sizeof bin, "%s/thread-srv", d && *d ? d : "bin");
    int fd = mkstemp(out);
    cr_assert_geq(fd, 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        size_t n = (size_t)256 << 20;
        volatile char *big = malloc(n);
        if (!big)
            _exit(126);
        for (size_t i = 0; i < n; i += 4096)
            big[i] = 1;
        dup2(fd, 1);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 2);
        execl(bin, bin, "-p", "0", (char *)NULL);
        _exit(127);
    }
    char line[4096] = "";
    for (int i = 0; i < 60000 && !strchr(line, '\n'); i++) { /* the listening line */
        usleep(1000);
        ssize_t r = pread(fd, line, sizeof line - 1, 0);
        line[r > 0 ? r : 0] = 0;
    }
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    ssize_t r = pread(fd, line, sizeof line - 1, 0);
    line[r > 0 ? r : 0] = 0;
    close(fd);
    unlink(out);
    /* the stats line is the output's last (after the listening line) */
    size_t len = strlen(line);
    while (len > 0 && line[len - 1] == '\n')
        line[--len] = '\0';
    const char *last = strrchr(line, '\n');
    long long kb = jline_num(last ? last + 1 : line, "max_rss_kb");
    cr_assert(kb >= 0, "no stats line: %s", line);
    cr_expect(kb > 0 && kb < 160 * 1024, "max_rss_kb %lld: the starting process's 256 MiB", kb);
}

/* An option a model cannot use is refused naming what the model is, in the registry's words:
 * -w on every model without a pool of -w workers or loops. */
Test(servers, a_refusal_names_what_the_model_is, .timeout = 60)
{
    const char *d = getenv("SRV_BIN");
    static struct registry reg;
    char err[256];
    cr_assert_eq(registry_read("servers/models", &reg, err, sizeof err), 0, "%s", err);
    int checked = 0;
    for (size_t i = 0; i < reg.n; i++) {
        const char *name = reg.m[i].name;
        if (strcmp(reg.m[i].w, "-") != 0 || !model_selected(name)) /* SRV_MODELS: a phase's */
            continue;
        char want[640], cmd[512], out[1024] = "";
        snprintf(want, sizeof want, "%s-srv (%s)", name, reg.m[i].what);
        snprintf(cmd, sizeof cmd, "%s/%s-srv -w 2 2>&1", d && *d ? d : "bin", name);
        FILE *pp = popen(cmd, "r");
        cr_assert(pp);
        size_t n = fread(out, 1, sizeof out - 1, pp);
        out[n] = '\0';
        cr_expect_neq(pclose(pp), 0, "%s: accepted", cmd);
        cr_expect(strstr(out, want), "%s: says '%s', not '%s'", cmd, out, want);
        checked++;
    }
    cr_expect_geq(checked, 1, "no model without -w among those selected");
}
