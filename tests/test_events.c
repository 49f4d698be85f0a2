/* What the event-driven models are for, on the real binaries: idle clients cost no worker,
 * ten thousand kept connections are served, select refuses what it cannot watch without
 * harm, and a long sieve blocks the single-threaded reactor (head of line) but not the pool. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* A full request on a new connection, its reads bounded at 10 s: true when answered. */
static bool served(int port)
{
    int fd = tcp_connect(port);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char g[512];
    read_greeting(fd, g, sizeof g);
    send_str(fd, "1000 5000\n");
    bool ok = recv_payload(fd, 5000) == 5000;
    close(fd);
    return ok;
}

static void raise_nofile(rlim_t n)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < n)
        cr_skip_test("RLIMIT_NOFILE hard limit %llu below %llu", (unsigned long long)rl.rlim_max,
                     (unsigned long long)n);
    rl.rlim_cur = n;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* (a) 500 clients that connect and say one byte of a request, with --timeout 0: each costs the
 * loop a descriptor, never a worker, and a normal client is served meanwhile. */
static void idle_clients(const char *model)
{
    skip_unless_model(model);
    raise_nofile(2048);
    const char *args[] = {"--timeout", "0", NULL};
    struct server s;
    server_start(&s, model, args);
    static int idle[500];
    for (int i = 0; i < 500; i++) {
        idle[i] = tcp_connect(s.port);
        send_str(idle[i], "1");
    }
    cr_expect(served(s.port), "%s: a normal client was not served beside 500 idle ones", model);
    for (int i = 0; i < 500; i++)
        close(idle[i]);
    char stats[1024];
    server_stop(&s, stats, sizeof stats);
    cr_expect_eq(json_num(stats, "requests"), 1, "%s", stats);
    server_check_clean(&s);
}
Test(events, idle_clients_cost_no_worker_reactor, .timeout = 120)
{
    idle_clients("reactor");
}
Test(events, idle_clients_cost_no_worker_reactor_pool, .timeout = 120)
{
    idle_clients("reactor-pool");
}

/* (b) 10,000 kept connections (-k 0), two requests each, all served with no error. */
static void ten_thousand(const char *model)
{
    skip_unless_model(model);
    raise_nofile(20000);
    char backlog[16];
    snprintf(backlog, sizeof backlog, "%d", 4096);
    const char *args[] = {"-b", backlog, NULL};
    struct server s;
    server_start(&s, model, args);
    const char *d = getenv("SRV_BIN");
    char cmd[512], out[] = "/tmp/cb-ev-10k-XXXXXX";
    int fd = mkstemp(out);
    cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
    close(fd);
    snprintf(cmd, sizeof cmd,
             "%s/loadgen --no-progress -p %d -c 10000 -k 0 -n 20000 -w 0 -b 1 --timeout 60s "
             "--json %s >/dev/null 2>&1",
             d && *d ? d : "bin", s.port, out);
    cr_expect_eq(system(cmd), 0, "%s", cmd);
    snprintf(cmd, sizeof cmd,
             "jq -e '.totals.requests_ok == 20000 and ([.errors[]] | add) == 0 and "
             ".totals.connections_opened == 10000' %s >/dev/null",
             out);
    cr_expect_eq(system(cmd), 0, "%s: 10,000 kept connections not all served (see %s)", model, out);
    char stats[1024];
    server_stop(&s, stats, sizeof stats);
    cr_expect_eq(json_num(stats, "connections"), 10000, "%s", stats);
    server_check_clean(&s);
    unlink(out);
}
Test(events, ten_thousand_kept_connections_reactor, .timeout = 300)
{
    ten_thousand("reactor");
}
Test(events, ten_thousand_kept_connections_reactor_pool, .timeout = 300)
{
    ten_thousand("reactor-pool");
}

/* (c) select cannot watch a descriptor at or above FD_SETSIZE: the client that would get one
 * is told nothing and closed, the reason is logged, and the others are served as before. */
Test(events, select_refuses_high_descriptors_cleanly, .timeout = 120)
{
    skip_unless_model("reactor");
    raise_nofile(4096);
    struct server s;
    server_start(&s, "reactor:select", NULL);
    static int held[FD_SETSIZE + 50];
    int refused = 0, greeted = 0;
    for (int i = 0; i < FD_SETSIZE + 50; i++) {
        held[i] = tcp_connect(s.port);
        struct timeval tv = {10, 0};
        setsockopt(held[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char c;
        ssize_t r = recv(held[i], &c, 1, MSG_PEEK);
        if (r == 1)
            greeted++;
        else if (r == 0)
            refused++;
    }
    cr_expect_gt(refused, 0, "no client was refused (greeted %d)", greeted);
    cr_expect_gt(greeted, FD_SETSIZE - 50, "greeted %d", greeted);
    for (int i = 0; i < 200; i++)
        close(held[i]); /* room below FD_SETSIZE again, once the server has seen the closes */
    bool ok = false;
    for (int tries = 0; tries < 100 && !ok; tries++) {
        int fd = tcp_connect(s.port);
        struct timeval tv = {10, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char c;
        if (recv(fd, &c, 1, MSG_PEEK) == 1) {
            close(fd);
            ok = served(s.port);
        } else {
            close(fd);
            usleep(50000);
        }
    }
    cr_expect(ok, "a client was not served after the refusals");
    for (int i = 200; i < FD_SETSIZE + 50; i++)
        close(held[i]);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -q FD_SETSIZE %s", s.err_path);
    cr_expect_eq(system(cmd), 0, "the refusal is not logged with its reason");
    char stats[1024];
    int st = server_stop(&s, stats, sizeof stats);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status 0x%x", st);
}

/* (d) A 30,000,000 sieve and a small request sent just after it: on reactor-srv the small
 * answer can only come after the big one (the loop is busy counting), on reactor-pool-srv it
 * comes first (a worker counts). Checked by order, not by time. */
static bool small_answered_first(const char *model)
{
    struct server s;
    server_start(&s, model, NULL);
    int big = tcp_connect(s.port), small = tcp_connect(s.port);
    char g[512];
    read_greeting(big, g, sizeof g);
    read_greeting(small, g, sizeof g);
    send_str(big, "30000000 1\n");
    usleep(50000); /* the big request is taken first */
    send_str(small, "10 1\n");
    struct pollfd p[2] = {{big, POLLIN, 0}, {small, POLLIN, 0}};
    cr_assert_gt(poll(p, 2, 30000), 0, "%s: no answer within 30 s", model);
    bool first = (p[1].revents & POLLIN) && !(p[0].revents & POLLIN);
    char c;
    cr_expect_eq(recv(small, &c, 1, 0), 1);
    struct timeval tv = {30, 0};
    setsockopt(big, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    cr_expect_eq(recv(big, &c, 1, 0), 1, "%s: the big request was not answered", model);
    close(big);
    close(small);
    server_stop(&s, NULL, 0);
    return first;
}
Test(events, head_of_line_blocking, .timeout = 120)
{
    skip_unless_model("reactor");
    skip_unless_model("reactor-pool");
    cr_expect_not(small_answered_first("reactor"),
                  "reactor-srv answered the small request while counting the big one");
    cr_expect(small_answered_first("reactor-pool"),
              "reactor-pool-srv held the small request behind the big one");
}
