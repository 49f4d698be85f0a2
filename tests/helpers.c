#include "helpers.h"
#include "jdoc.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bench/src/registry.h"
#include "io.h"
#include "payload.h"

size_t test_models(struct test_model **rows)
{
    static struct test_model t[64];
    static size_t n;
    if (n == 0) {
        /* The registry as bench/run reads it (bench/src/registry.c). */
        static struct registry reg;
        char err[256];
        if (registry_read("servers/models", &reg, err, sizeof err) < 0) {
            fprintf(stderr, "%s (run the tests from the repository)\n", err);
            abort();
        }
        for (size_t m = 0; m < reg.n && n < 60; m++) {
            const struct model *r = &reg.m[m];
            int concurrent = strcmp(r->kind, "one") != 0;
            t[n].concurrent = concurrent;
            snprintf(t[n].w, sizeof t->w, "%s", r->w);
            snprintf(t[n++].name, sizeof t->name, "%s", r->name);
            /* The first poller or accept mode is the default; each other one is a row of its
             * own ("reactor:poll", "prethread:main"). */
            char lists[2][64];
            snprintf(lists[0], sizeof lists[0], "%s", r->accept);
            snprintf(lists[1], sizeof lists[1], "%s", r->pollers);
            for (int l = 0; l < 2; l++) {
                char *save = NULL, *p = strtok_r(lists[l], ",", &save);
                while (p && (p = strtok_r(NULL, ",", &save)) && n < 60) {
                    t[n].concurrent = concurrent;
                    snprintf(t[n].w, sizeof t->w, "%s", r->w);
                    snprintf(t[n++].name, sizeof t->name, "%.15s:%.15s", r->name, p);
                }
            }
        }
    }
    *rows = t;
    return n;
}

/* Whether model m's columns hold every COLUMN=VALUES of select. */
static bool picks(const struct model *m, const char *select)
{
    char sel[128];
    snprintf(sel, sizeof sel, "%s", select);
    for (char *save = NULL, *w = strtok_r(sel, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(w, '=');
        if (!eq) {
            fprintf(stderr, "test_models_of: '%s' is not COLUMN=VALUES\n", w);
            abort();
        }
        *eq = '\0';
        const char *col = !strcmp(w, "kind")      ? m->kind
                          : !strcmp(w, "w")       ? m->w
                          : !strcmp(w, "threads") ? m->threads
                                                  : NULL;
        if (!col) {
            fprintf(stderr, "test_models_of: no column '%s'\n", w);
            abort();
        }
        if (!list_has(eq + 1, col))
            return false;
    }
    return true;
}

size_t test_models_of(const char *select, struct test_model **rows)
{
    static struct {
        char select[64];
        struct test_model t[64];
        size_t n;
    } sel[8];
    static size_t nsel;
    for (size_t i = 0; i < nsel; i++)
        if (!strcmp(sel[i].select, select)) {
            *rows = sel[i].t;
            return sel[i].n;
        }
    if (nsel == sizeof sel / sizeof *sel || strlen(select) >= sizeof sel->select) {
        fprintf(stderr, "test_models_of(%s): too many selections\n", select);
        abort();
    }
    static struct registry reg;
    char err[256];
    if (registry_read("servers/models", &reg, err, sizeof err) < 0) {
        fprintf(stderr, "%s (run the tests from the repository)\n", err);
        abort();
    }
    size_t k = nsel++;
    snprintf(sel[k].select, sizeof sel[k].select, "%s", select);
    for (size_t m = 0; m < reg.n; m++)
        if (picks(&reg.m[m], select)) {
            struct test_model *t = &sel[k].t[sel[k].n++];
            snprintf(t->name, sizeof t->name, "%s", reg.m[m].name);
            t->concurrent = strcmp(reg.m[m].kind, "one") != 0;
            snprintf(t->w, sizeof t->w, "%s", reg.m[m].w);
        }
    *rows = sel[k].t;
    return sel[k].n;
}

/* The option a table row's variant stands for: ":main" and ":pass" are --accept modes,
 * ":exclusive" a --balance, the others pollers. */
static const char *variant_option(const char *variant)
{
    if (!strcmp(variant, ":main") || !strcmp(variant, ":pass"))
        return "--accept";
    return !strcmp(variant, ":exclusive") ? "--balance" : "--poller";
}

const char *model_base(const char *model, char *buf, size_t n)
{
    const char *variant = strchr(model, ':');
    snprintf(buf, n, "%.*s", variant ? (int)(variant - model) : (int)strlen(model), model);
    return buf;
}

const char *server_cmd(const char *model, char *buf, size_t n)
{
    const char *dir = getenv("SRV_BIN");
    const char *variant = strchr(model, ':');
    char base[32];
    snprintf(buf, n, "%s/%s-srv%s%s%s%s", dir && *dir ? dir : "bin",
             model_base(model, base, sizeof base), variant ? " " : "",
             variant ? variant_option(variant) : "", variant ? " " : "",
             variant ? variant + 1 : "");
    return buf;
}

bool model_selected(const char *model)
{
    const char *list = getenv("SRV_MODELS");
    if (!list || !*list)
        return true;
    /* A word of the list names a model ("reactor", which selects its variants too, such as
     * "reactor:poll") or one variant ("reactor:poll"). */
    const char *variant = strchr(model, ':');
    size_t base = variant ? (size_t)(variant - model) : strlen(model), whole = strlen(model);
    for (const char *p = list; *p;) {
        size_t w = strcspn(p, " ");
        if ((w == base || w == whole) && !strncmp(p, model, w))
            return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
}

size_t read_line_fd(int fd, char *buf, size_t n, int timeout_ms)
{
    size_t len = 0;
    while (len + 1 < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r <= 0)
            break;
        ssize_t got = read(fd, buf + len, 1);
        if (got <= 0)
            break;
        len++;
        if (buf[len - 1] == '\n')
            break;
    }
    buf[len] = '\0';
    return len;
}

void server_start(struct server *s, const char *model, const char *const *args)
{
    server_start_limited(s, model, args, 0, 0);
}

void server_start_limited(struct server *s, const char *model, const char *const *args,
                          unsigned long nofile, unsigned long as_bytes)
{
    const char *dir = getenv("SRV_BIN");
    char path[256], base[32];
    /* "reactor:poll" is reactor-srv --poller poll, "prethread:main" prethread-srv --accept
     * main: one table row per variant. */
    const char *variant = strchr(model, ':');
    snprintf(base, sizeof base, "%.*s", variant ? (int)(variant - model) : (int)strlen(model),
             model);
    snprintf(path, sizeof path, "%s/%s-srv", dir && *dir ? dir : "bin", base);
    memset(s, 0, sizeof *s);
    snprintf(s->model, sizeof s->model, "%s", model);
    snprintf(s->err_path, sizeof s->err_path, "/tmp/cb-test-%s-XXXXXX.err", base);
    int ef = mkstemps(s->err_path, 4);
    cr_assert_geq(ef, 0, "mkstemps %s: %s", s->err_path, strerror(errno));
    close(ef);

    const char *argv[32] = {path, "-p", "0"};
    int argc = 3;
    if (variant) {
        argv[argc++] = variant_option(variant);
        argv[argc++] = variant + 1;
    }
    for (; args && *args && argc < 30; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;

    int p[2];
    cr_assert_eq(pipe(p), 0, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (nofile) {
            struct rlimit rl = {nofile, nofile};
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (as_bytes) {
            struct rlimit rl = {as_bytes, as_bytes};
            setrlimit(RLIMIT_AS, &rl);
        }
        int e = open(s->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(p[1], 1);
        if (e >= 0)
            dup2(e, 2);
        if (e > 2)
            close(e);
        close(p[0]);
        /* Started with stdin closed, as a supervisor or a CI runner may: the server must not
         * let its listener land on descriptor 0 (daemon mode would overwrite it). */
        close(0);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    s->pid = pid;
    s->out = p[0];
    read_line_fd(s->out, s->listening, sizeof s->listening, 60000);
    if (!jline_is(s->listening, "event", "\"listening\"")) {
        /* A model this machine cannot run (uring-srv where io_uring is disabled) says so in
         * one line: the test is skipped with that reason. */
        char line[512] = "", *why = NULL;
        FILE *f = fopen(s->err_path, "r");
        while (f && fgets(line, sizeof line, f) && !(why = strstr(line, "unavailable here:")))
            ;
        if (f)
            fclose(f);
        if (why) {
            waitpid(pid, NULL, 0);
            close(s->out);
            unlink(s->err_path);
            cr_skip_test("%s-srv is %s", base, why);
        }
    }
    cr_assert(jline_is(s->listening, "event", "\"listening\""),
              "%s printed no listening line (got '%s')", path, s->listening);
    s->port = (int)jline_num(s->listening, "port");
}

int server_stop(struct server *s, char *stats, size_t n)
{
    kill(s->pid, SIGTERM);
    return server_wait(s, stats, n);
}

int server_wait(struct server *s, char *stats, size_t n)
{
    char line[1024] = "";
    /* Bounded: the grace time is 10 s by default; the wait is there only to avoid a hang. */
    while (read_line_fd(s->out, line, sizeof line, 30000) > 0)
        if (jline_is(line, "event", "\"stats\"") && jline_is(line, "final", "true"))
            break;
    if (stats)
        snprintf(stats, n, "%s", line);
    int st = 0;
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
        ;
    close(s->out);
    server_check_clean(s);
    return st;
}

void server_check_clean(const struct server *s)
{
    FILE *f = fopen(s->err_path, "r");
    if (!f)
        return;
    char line[1024];
    bool dirty = false;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "Sanitizer") || strstr(line, "runtime error:")) {
            fprintf(stderr, "%s: %s", s->model, line);
            dirty = true;
        }
    }
    fclose(f);
    cr_expect_not(dirty, "%s-srv wrote a sanitizer report to %s", s->model, s->err_path);
    if (!dirty)
        unlink(s->err_path);
}

int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    cr_assert_eq(r, 0, "connect to port %d: %s", port, strerror(errno));
    return fd;
}

size_t read_greeting(int fd, char *buf, size_t n)
{
    size_t len = read_line_fd(fd, buf, n, 30000);
    cr_assert_gt(len, 0, "no greeting");
    cr_assert_eq(buf[len - 1], '\n', "greeting '%s' does not end in a newline", buf);
    return len;
}

/* Waits until fd is readable, at most 30 s between two reads: a server that stops sending
 * fails the test instead of hanging it. */
static void await_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, 30000)) < 0 && errno == EINTR)
        ;
    cr_assert_gt(r, 0, "nothing to read for 30 s (%s)", r < 0 ? strerror(errno) : "timed out");
}

uint64_t recv_payload(int fd, uint64_t n)
{
    static char buf[1 << 16];
    uint64_t got = 0;
    while (got < n) {
        size_t want = n - got < sizeof buf ? (size_t)(n - got) : sizeof buf;
        await_readable(fd);
        ssize_t r = read(fd, buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t bad = payload_check(buf, (size_t)r, got);
        cr_assert_eq(bad, (size_t)r, "payload byte %llu is wrong", (unsigned long long)(got + bad));
        got += (uint64_t)r;
    }
    return got;
}

void send_str(int fd, const char *s)
{
    cr_assert_eq(io_writen(fd, s, strlen(s)), (ssize_t)strlen(s), "send: %s", strerror(errno));
}

size_t read_all(int fd, char *buf, size_t n)
{
    size_t len = 0;
    for (;;) {
        await_readable(fd);
        ssize_t r = read(fd, buf + len, n - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (len += (size_t)r) == n - 1)
            break;
    }
    buf[len] = '\0';
    return len;
}

int settled_fd_count(pid_t pid)
{
    int now = fd_count(pid), prev = -1;
    for (int i = 0; i < 600 && now != prev; i++) {
        usleep(100000);
        prev = now;
        now = fd_count(pid);
    }
    return now;
}

int fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(path);
    cr_assert(d, "%s: %s", path, strerror(errno));
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

long long jline_num(const char *line, const char *path)
{
    json_object *doc;
    char err[128];
    if (jdoc_parse(line, strlen(line), &doc, err, sizeof err) < 0)
        return -1;
    json_object *v = jdoc_path(doc, path);
    long long n = jdoc_is_num(v) ? (long long)json_object_get_int64(v) : -1;
    json_object_put(doc);
    return n;
}

bool jline_is(const char *line, const char *path, const char *json)
{
    json_object *doc, *want;
    char err[128];
    if (jdoc_parse(line, strlen(line), &doc, err, sizeof err) < 0)
        return false;
    if (jdoc_parse(json, strlen(json), &want, err, sizeof err) < 0) {
        json_object_put(doc);
        return false;
    }
    json_object *v = jdoc_path(doc, path);
    bool same = v && json_object_equal(v, want);
    json_object_put(doc);
    json_object_put(want);
    return same;
}

int child_pids(pid_t parent, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    cr_assert(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < max;) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *rp = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
        char state;
        long ppid;
        if (rp && sscanf(rp + 1, " %c %ld", &state, &ppid) == 2 && ppid == (long)parent)
            out[n++] = (pid_t)atol(e->d_name);
    }
    closedir(d);
    return n;
}

int thread_count(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

long long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *rp = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    /* after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime */
    if (!rp ||
        sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

bool sanitized_build(void)
{
    const char *d = getenv("SRV_BIN");
    return d && (strstr(d, "asan") || strstr(d, "tsan"));
}

const char *guarded(const char *s, size_t len)
{
    static char *area;
    long pg = sysconf(_SC_PAGESIZE);
    if (!area) {
        area =
            mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert_neq(area, MAP_FAILED);
        cr_assert_eq(mprotect(area + pg, (size_t)pg, PROT_NONE), 0);
    }
    cr_assert_leq(len, (size_t)pg);
    char *p = area + pg - len;
    memcpy(p, s, len);
    return p;
}

void skip_unless_model(const char *model)
{
    if (!model_selected(model))
        cr_skip_test("%s not selected by SRV_MODELS", model);
}

bool request_ok(int port, const char *line, uint64_t bytes)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    char g[512];
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    bool ok = read(fd, g, sizeof g) > 0 && io_writen(fd, line, strlen(line)) > 0;
    uint64_t got = 0;
    static __thread char buf[65536];
    while (ok && got < bytes) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0 || payload_check(buf, (size_t)r, got) != (size_t)r)
            break;
        got += (uint64_t)r;
    }
    close(fd);
    return ok && got == bytes;
}

/* Each line of /proc/net/tcp{,6} with its local and remote ports, state and receive queue,
 * to f; stops when f returns true. */
static bool scan_tcp(bool (*f)(unsigned lport, unsigned rport, unsigned st, unsigned long rxq,
                               void *arg),
                     void *arg)
{
    static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    bool found = false;
    for (size_t i = 0; i < 2 && !found; i++) {
        FILE *fp = fopen(files[i], "r");
        if (!fp)
            continue;
        char line[512];
        if (!fgets(line, sizeof line, fp)) { /* the header */
            fclose(fp);
            continue;
        }
        while (!found && fgets(line, sizeof line, fp)) {
            unsigned lport, rport, st;
            unsigned long txq, rxq;
            if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x %lx:%lx", &lport, &rport,
                       &st, &txq, &rxq) == 5)
                found = f(lport, rport, st, rxq, arg);
        }
        fclose(fp);
    }
    return found;
}

struct queue_sum {
    unsigned port;
    long sum;
};

static bool add_listen_queue(unsigned lport, unsigned rport, unsigned st, unsigned long rxq,
                             void *arg)
{
    struct queue_sum *q = arg;
    (void)rport;
    if (st == 0x0A && lport == q->port) /* TCP_LISTEN: rx_queue is the accept queue */
        q->sum += (long)rxq;
    return false;
}

int listen_queue(int port)
{
    struct queue_sum q = {(unsigned)port, 0};
    scan_tcp(add_listen_queue, &q);
    return (int)q.sum;
}

static bool add_established(unsigned lport, unsigned rport, unsigned st, unsigned long rxq,
                            void *arg)
{
    struct queue_sum *q = arg;
    (void)rport;
    (void)rxq;
    if (st == 0x01 && lport == q->port) /* TCP_ESTABLISHED, the server's end */
        q->sum++;
    return false;
}

int server_connections(int port)
{
    struct queue_sum q = {(unsigned)port, 0};
    scan_tcp(add_established, &q);
    return (int)q.sum;
}

struct peer_q {
    unsigned lport, rport; /* the peer's side: its local port is our remote one */
    bool unread;
};

static bool peer_unread(unsigned lport, unsigned rport, unsigned st, unsigned long rxq, void *arg)
{
    struct peer_q *q = arg;
    (void)st;
    if (lport == q->lport && rport == q->rport) {
        q->unread = rxq > 0;
        return true;
    }
    return false;
}

bool await_peer_read(int fd)
{
    struct sockaddr_storage me, peer;
    socklen_t ml = sizeof me, pl = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&me, &ml) < 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
        return false;
    unsigned mine = ntohs(me.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&me)->sin6_port
                                                   : ((struct sockaddr_in *)&me)->sin_port);
    unsigned theirs = ntohs(peer.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&peer)->sin6_port
                                                       : ((struct sockaddr_in *)&peer)->sin_port);
    for (int i = 0; i < 10000; i++) {
        int outq = 0;
        struct peer_q q = {theirs, mine, true};
        if (ioctl(fd, SIOCOUTQ, &outq) == 0 && outq == 0 && scan_tcp(peer_unread, &q) && !q.unread)
            return true;
        usleep(1000);
    }
    return false;
}

bool file_has(const char *path, const char *needle)
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

bool await_file_has(const char *path, const char *needle)
{
    for (int i = 0; i < 60000; i++) {
        if (file_has(path, needle))
            return true;
        usleep(1000);
    }
    return false;
}

bool await_count(const _Atomic int *counter, int want)
{
    for (int i = 0; i < 60000; i++) {
        if (atomic_load(counter) >= want)
            return true;
        usleep(1000);
    }
    return false;
}

/* The inode of the socket whose local port is lport and remote port rport, or 0. */
static unsigned long tcp_inode(unsigned lport, unsigned rport)
{
    static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    unsigned long inode = 0;
    for (size_t i = 0; i < 2 && !inode; i++) {
        FILE *fp = fopen(files[i], "r");
        if (!fp)
            continue;
        char line[512];
        while (!inode && fgets(line, sizeof line, fp)) {
            unsigned lp, rp;
            unsigned long ino;
            if (sscanf(line,
                       " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %*x %*x:%*x %*x:%*x %*x %*u %*u "
                       "%lu",
                       &lp, &rp, &ino) == 3 &&
                lp == lport && rp == rport)
                inode = ino;
        }
        fclose(fp);
    }
    return inode;
}

static bool holds_socket(pid_t pid, unsigned long inode)
{
    char dir[64], want[64];
    snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        char path[320], link[64];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0) {
            link[n] = '\0';
            found = !strcmp(link, want);
        }
    }
    closedir(d);
    return found;
}

pid_t conn_owner(pid_t server, int fd)
{
    struct sockaddr_in me, peer;
    socklen_t ml = sizeof me, pl = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&me, &ml) < 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
        return -1;
    unsigned long inode = tcp_inode(ntohs(peer.sin_port), ntohs(me.sin_port));
    if (!inode)
        return -1;
    /* A child first: a forking server holds the socket too from its accept until it closes
     * its copy after the fork, which may come after the child has greeted. */
    pid_t kids[256];
    int n = child_pids(server, kids, 256);
    for (int i = 0; i < n; i++)
        if (holds_socket(kids[i], inode))
            return kids[i];
    return holds_socket(server, inode) ? server : -1;
}

long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (kb < 0 && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) != 1)
            kb = -1;
    fclose(f);
    return kb;
}

int await_threads(pid_t pid, int want)
{
    int n = thread_count(pid);
    for (int i = 0; i < 10000 && n > want; i++) {
        usleep(1000);
        n = thread_count(pid);
    }
    return n;
}
