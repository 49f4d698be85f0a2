/* peer: servers from outside the project that a suite can set beside the models (--peers):
 * nginx serving a file of BYTES bytes, driven by wrk, with one worker (nginx) and with one
 * per CPU (nginx-cpus). A peer cell is a cell like the others: the same record, a "loadgen"
 * object with wrk's figures (throughput, latency percentiles, errors) and a "server" object
 * with nginx's CPU time over the run (its workers' /proc/PID/stat, before and after), so that
 * summaries, plots and comparisons put nginx beside the models. What a peer cannot do (a
 * sieve: WORK above 0; an open loop; idle or thinking clients; a count of requests) makes its
 * cell skipped with the reason, as does a missing nginx or wrk. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orch.h"
#include "peer.h"
#include "cli.h"
#include "io.h"
#include "proc.h"

bool peer_known(const char *name)
{
    return !strcmp(name, "nginx");
}

bool is_peer_model(const char *model)
{
    return !strcmp(model, "nginx") || !strcmp(model, "nginx-cpus");
}

/* Where prog is: BENCH_NGINX or BENCH_WRK when set (a path, or empty for "not here"), else
 * the PATH and the system's directories. */
static const char *which(const char *prog)
{
    const char *env = getenv(!strcmp(prog, "nginx") ? "BENCH_NGINX" : "BENCH_WRK");
    if (env)
        return *env && access(env, X_OK) == 0 ? env : NULL;
    static const char *const dirs[] = {"/usr/sbin", "/usr/bin",        "/sbin",
                                       "/bin",      "/usr/local/sbin", "/usr/local/bin"};
    const char *path = getenv("PATH");
    char buf[4096];
    bufprintf(buf, sizeof buf, "%s", path ? path : "");
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        const char *p = internf("%s/%s", d, prog);
        if (access(p, X_OK) == 0)
            return p;
    }
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        const char *p = internf("%s/%s", dirs[i], prog);
        if (access(p, X_OK) == 0)
            return p;
    }
    return NULL;
}

/* Why the peer cannot run this cell here, or NULL. */
static const char *cannot(const struct run *r, const struct cell *c)
{
    if (!which("nginx"))
        return "nginx is not installed (ci/install-deps.sh --bench installs it)";
    if (!which("wrk"))
        return "wrk is not installed (ci/install-deps.sh --bench installs it)";
    if (*val(r, "SERVER_HOST") || *val(r, "NETEM"))
        return "peers run on this machine only (not with --server-host or --netem)";
    if (strcmp(cv(c, "WORK"), "0") || *val(r, "MIX"))
        return "nginx serves a file and has no sieve: only WORK 0 compares";
    if (strcmp(cv(c, "KEEP"), "0") && strcmp(cv(c, "KEEP"), "1"))
        return "wrk keeps a connection for every request (-k 0) or closes it after one (-k 1)";
    if (*val(r, "RATE") || strcmp(cv(c, "RATE_PCT"), "-"))
        return "wrk has no open loop";
    if (*val(r, "REQUESTS"))
        return "wrk runs for a duration, not a count of requests";
    if (strcmp(cv(c, "IDLE"), "0") || strcmp(cv(c, "THINK"), "0") || *val(r, "READ_RATE"))
        return "wrk has no idle, thinking or slow-reading clients";
    return NULL;
}

/* A free port on 127.0.0.1 (bound and released: nginx takes it next). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* CPU ticks (user, system) and peak RSS (kB) of pid and its children (nginx's workers). */
struct usage {
    long long utime, stime, rss_kb;
    int workers;
};

static void proc_usage(pid_t pid, struct usage *u, bool kids)
{
    char line[1024];
    FILE *f = fopen(internf("/proc/%d/stat", (int)pid), "r");
    if (f && fgets(line, sizeof line, f)) {
        char *p = strrchr(line, ')');
        long long ut = 0, st = 0;
        /* after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
         * cmajflt utime stime */
        if (p &&
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &ut, &st) == 2) {
            u->utime += ut;
            u->stime += st;
        }
    }
    if (f)
        fclose(f);
    f = fopen(internf("/proc/%d/status", (int)pid), "r");
    while (f && fgets(line, sizeof line, f)) {
        long long kb;
        if (sscanf(line, "VmHWM: %lld", &kb) == 1 && kb > u->rss_kb)
            u->rss_kb = kb;
    }
    if (f)
        fclose(f);
    if (!kids)
        return;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        FILE *s = fopen(internf("/proc/%s/stat", e->d_name), "r");
        if (!s)
            continue;
        int ppid = 0;
        if (fgets(line, sizeof line, s)) {
            char *p = strrchr(line, ')');
            if (p)
                sscanf(p + 2, "%*c %d", &ppid);
        }
        fclose(s);
        if (ppid == pid) {
            proc_usage((pid_t)atoi(e->d_name), u, false);
            u->workers++;
        }
    }
    if (d)
        closedir(d);
}

/* "805.00us", "1.23ms", "2.00s" in microseconds; -1 when not a time. */
static double wrk_time_us(const char *t)
{
    char *end;
    double v = strtod(t, &end);
    if (end == t)
        return -1;
    if (!strncmp(end, "us", 2))
        return v;
    if (!strncmp(end, "ms", 2))
        return v * 1e3;
    if (*end == 's')
        return v * 1e6;
    if (*end == 'm')
        return v * 60e6;
    return -1;
}

/* wrk's report as the parts of a loadgen result the summaries read (NULL when the report
 * cannot be read); cpus, the CPUs wrk was placed on, or NULL. */
static json_object *wrk_result(const char *report, const char *const *argv, double secs, long conns,
                               const char *cpus)
{
    double p50 = -1, p75 = -1, p90 = -1, p99 = -1, rps = -1, elapsed = secs;
    long long requests = -1, connect = 0, rd = 0, wr = 0, to = 0, non2xx = 0;
    char *copy = strdup(report);
    if (!copy)
        return false;
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        l += strspn(l, " \t");
        char t[64];
        double v;
        if (sscanf(l, "50%% %63s", t) == 1)
            p50 = wrk_time_us(t);
        else if (sscanf(l, "75%% %63s", t) == 1)
            p75 = wrk_time_us(t);
        else if (sscanf(l, "90%% %63s", t) == 1)
            p90 = wrk_time_us(t);
        else if (sscanf(l, "99%% %63s", t) == 1)
            p99 = wrk_time_us(t);
        else if (sscanf(l, "%lld requests in %63[^,]", &requests, t) == 2) {
            double e = wrk_time_us(t);
            if (e > 0)
                elapsed = e / 1e6;
        } else if (sscanf(l, "Socket errors: connect %lld, read %lld, write %lld, timeout %lld",
                          &connect, &rd, &wr, &to) == 4)
            ;
        else if (sscanf(l, "Non-2xx or 3xx responses: %lld", &non2xx) == 1)
            ;
        else if (sscanf(l, "Requests/sec: %lf", &v) == 1)
            rps = v;
    }
    free(copy);
    if (requests < 0 || rps < 0 || p50 < 0 || p99 < 0)
        return NULL;
    json_object *o = json_object_new_object(), *cfg = json_object_new_object();
    jdoc_set(o, "tool", json_object_new_string("wrk"));
    json_object *av = json_object_new_array();
    for (size_t i = 0; argv[i]; i++)
        json_object_array_add(av, json_object_new_string(argv[i]));
    jdoc_set(cfg, "argv", av);
    jdoc_set(cfg, "connections", json_object_new_int64(conns));
    jdoc_set(cfg, "mode", json_object_new_string("closed"));
    jdoc_set(o, "config", cfg);
    json_object *t = json_object_new_object();
    jdoc_set(t, "requests_ok", json_object_new_int64(requests - non2xx));
    jdoc_set(t, "rps", jdoc_number(rps));
    jdoc_set(t, "elapsed_s", jdoc_number(elapsed));
    jdoc_set(t, "in_flight_at_end", NULL);
    jdoc_set(o, "totals", t);
    json_object *tot = json_object_new_object(), *lat = json_object_new_object();
    jdoc_set(tot, "count", json_object_new_int64(requests));
    jdoc_set(tot, "p50", jdoc_number(p50));
    jdoc_set(tot, "p75", jdoc_number(p75));
    jdoc_set(tot, "p90", jdoc_number(p90));
    jdoc_set(tot, "p99", jdoc_number(p99));
    jdoc_set(tot, "p999", NULL);
    jdoc_set(lat, "total", tot);
    jdoc_set(o, "latency_us", lat);
    json_object *e = json_object_new_object();
    jdoc_set(e, "connect", json_object_new_int64(connect));
    jdoc_set(e, "read", json_object_new_int64(rd));
    jdoc_set(e, "write", json_object_new_int64(wr));
    jdoc_set(e, "timeout", json_object_new_int64(to));
    jdoc_set(e, "non_2xx", json_object_new_int64(non2xx));
    jdoc_set(o, "errors", e);
    jdoc_set(o, "cpus", cpus ? json_object_new_string(cpus) : NULL);
    return o;
}

/* The file nginx serves: bytes of 'x', written in blocks. */
static bool fill_file(const char *path, unsigned long long bytes)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    static char block[65536];
    memset(block, 'x', sizeof block);
    bool ok = true;
    for (unsigned long long left = bytes; ok && left > 0;) {
        size_t n = left < sizeof block ? (size_t)left : sizeof block;
        ok = io_writen(fd, block, n) == (ssize_t)n;
        left -= n;
    }
    int e = errno;
    if (close(fd) < 0 && ok) {
        ok = false;
        e = errno;
    }
    errno = e;
    return ok;
}

/* What fd holds from its start (at most 1 MiB), NUL-terminated; NULL when it cannot be
 * read. */
static char *slurp_fd(int fd)
{
    size_t cap = 1 << 20;
    char *b = malloc(cap + 1);
    if (!b)
        return NULL;
    size_t n = 0;
    for (;;) {
        ssize_t k = pread(fd, b + n, cap - n, (off_t)n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            free(b);
            return NULL;
        }
        if (k == 0 || (n += (size_t)k) == cap)
            break;
    }
    b[n] = '\0';
    return b;
}

/* Removes the directories of bench/run processes that are gone (killed before they could):
 * /tmp/cb-nginx-PID-XXXXXX, PID no longer running. */
static void sweep_stale_dirs(void)
{
    DIR *d = opendir("/tmp");
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        if (strncmp(e->d_name, "cb-nginx-", 9) != 0 || !isdigit((unsigned char)e->d_name[9]))
            continue;
        long pid = strtol(e->d_name + 9, &end, 10);
        if (*end != '-' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        const char *rm[] = {"rm", "-rf", "--", internf("/tmp/%s", e->d_name), NULL};
        char o[64];
        proc_capture(rm, o, sizeof o, 10000);
    }
    closedir(d);
}

/* Removes nginx's directory; rc. */
static int gone(const char *dir, int rc)
{
    const char *rm[] = {"rm", "-rf", dir, NULL};
    char o[64];
    proc_capture(rm, o, sizeof o, 10000);
    return rc;
}

static int run_nginx(struct run *r, const struct cell *c, const char *log,
                     const unsigned char *scpus, const unsigned char *ccpus, const char *dir,
                     const char *conf, int elog_fd, int port, char *err, size_t errlen,
                     char **stats, struct snap *s0, struct snap *s1);

int peer_cell(struct run *r, const struct cell *c, const char *log, const unsigned char *scpus,
              const unsigned char *ccpus, char *err, size_t errlen, char **stats, struct snap *s0,
              struct snap *s1)
{
    const char *why = cannot(r, c);
    if (why) {
        bufprintf(err, errlen, "%s", why);
        return PEER_SKIPPED;
    }
    const char *model = cv(c, "MODELS");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    long workers = !strcmp(model, "nginx") ? 1 : (ncpu > 0 ? ncpu : 1);
    int port = free_port();
    if (port < 0) {
        bufprintf(err, errlen, "no free port for nginx: %s", strerror(errno));
        return PEER_FAILED;
    }
    /* Its directory, root's and readable by all: the file it serves, its configuration, pid
     * and error log. Its workers run as nobody (nginx started as root) and may write only in
     * temp/, the one directory nginx hands them (the *_temp_path directives, which nginx
     * chowns): nothing they do there reaches the files bench/run reads back. */
    sweep_stale_dirs();
    char dirt[64];
    bufprintf(dirt, sizeof dirt, "/tmp/cb-nginx-%ld-XXXXXX", (long)getpid());
    if (!mkdtemp(dirt) || chmod(dirt, 0755) < 0) {
        bufprintf(err, errlen, "cannot make a directory for nginx: %s", strerror(errno));
        return PEER_FAILED;
    }
    const char *dir = intern(dirt), *tmpd = internf("%s/temp", dir);
    if (mkdir(tmpd, 0755) < 0) {
        bufprintf(err, errlen, "cannot make %s: %s", tmpd, strerror(errno));
        return gone(dir, PEER_FAILED);
    }
    const char *file = internf("%s/x", dir);
    if (!fill_file(file, strtoull(cv(c, "BYTES"), NULL, 10))) {
        bufprintf(err, errlen, "cannot write %s: %s", file, strerror(errno));
        return gone(dir, PEER_FAILED);
    }
    /* Every value below is checked (a number, a path of our own): nothing from a run file
     * becomes configuration text. */
    const char *conf = internf("%s/nginx.conf", dir);
    const char *text =
        internf("worker_processes %ld;\ndaemon off;\npid %s/nginx.pid;\n"
                "error_log %s/error.log warn;\nevents { worker_connections 20000; }\n"
                "worker_rlimit_nofile 40000;\nhttp {\n    access_log off;\n"
                "    client_body_temp_path %s/body; proxy_temp_path %s/proxy;\n"
                "    fastcgi_temp_path %s/fastcgi; uwsgi_temp_path %s/uwsgi;\n"
                "    scgi_temp_path %s/scgi;\n"
                "    server { listen 127.0.0.1:%d backlog=%ld; root %s; "
                "keepalive_requests 100000000; }\n}\n",
                workers, dir, dir, tmpd, tmpd, tmpd, tmpd, tmpd, port, atol(cv(c, "BACKLOG")), dir);
    if (!write_whole(conf, text, strlen(text))) {
        bufprintf(err, errlen, "cannot write %s", conf);
        return gone(dir, PEER_FAILED);
    }
    /* The error log, made now and read back through this descriptor: whatever becomes of
     * the name, what is copied into the run is the file nginx wrote. */
    const char *elog_path = internf("%s/error.log", dir);
    int elog_fd = open(elog_path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (elog_fd < 0) {
        bufprintf(err, errlen, "cannot make %s: %s", elog_path, strerror(errno));
        return gone(dir, PEER_FAILED);
    }
    int rc =
        run_nginx(r, c, log, scpus, ccpus, dir, conf, elog_fd, port, err, errlen, stats, s0, s1);
    close(elog_fd);
    return gone(dir, rc);
}

/* The rest of a peer cell, once nginx's directory is made: nginx, wrk, their figures. */
static int run_nginx(struct run *r, const struct cell *c, const char *log,
                     const unsigned char *scpus, const unsigned char *ccpus, const char *dir,
                     const char *conf, int elog_fd, int port, char *err, size_t errlen,
                     char **stats, struct snap *s0, struct snap *s1)
{
    const char *model = cv(c, "MODELS");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    const char *nginx = which("nginx"), *wrk = which("wrk");
    const char *nargv[] = {nginx, "-c", conf, "-e", internf("%s/error.log", dir), NULL};
    /* A group of its own, swept when it stops; if bench/run dies, nginx gets SIGTERM (its
     * fast shutdown, which takes its workers with it). */
    struct spawn ns = {.argv = nargv,
                       .group = true,
                       .parent_death = SIGTERM,
                       .out = internf("%s.srv.out", log),
                       .err = internf("%s.srv.err", log),
                       .cpus = scpus};
    char e[256];
    pid_t pid = proc_start(&ns, e, sizeof e);
    if (pid < 0) {
        bufprintf(err, errlen, "nginx did not start: %s", e);
        return PEER_FAILED;
    }
    bool up = false;
    for (int i = 0; i < 100 && !up; i++) {
        int st;
        if (proc_wait(pid, 50, &st) == 0) {
            char *t = slurp_fd(elog_fd);
            bufprintf(err, errlen, "nginx did not start: %.300s", t ? t : "");
            free(t);
            return PEER_FAILED;
        }
        up = port_open(port);
    }
    if (!up) {
        proc_stop(pid, 2000, NULL);
        bufprintf(err, errlen, "nginx did not listen on port %d", port);
        return PEER_FAILED;
    }
    /* wrk: as many threads as loadgen would take (one per CPU, at most one per connection) */
    long conns = atol(cv(c, "CONC"));
    long threads = ncpu < conns ? ncpu : conns;
    double warm = 0, secs = 0;
    uint64_t us;
    if (*val(r, "WARMUP") && cli_duration_us(val(r, "WARMUP"), &us) == 0)
        warm = (double)us / 1e6;
    if (cli_duration_us(val(r, "DURATION"), &us) == 0)
        secs = (double)us / 1e6;
    const char *url = internf("http://127.0.0.1:%d/x", port);
    const char *wargv[20];
    size_t k = 0;
    wargv[k++] = wrk;
    wargv[k++] = "-t";
    wargv[k++] = internf("%ld", threads);
    wargv[k++] = "-c";
    wargv[k++] = internf("%ld", conns);
    wargv[k++] = "-d";
    size_t dpos = k;
    /* wrk takes whole seconds: the duration rounded up */
    wargv[k++] = internf("%lds", (long)ceil(secs > 1 ? secs : 1));
    wargv[k++] = "--latency";
    if (!strcmp(cv(c, "KEEP"), "1")) {
        wargv[k++] = "-H";
        wargv[k++] = "Connection: close";
    }
    wargv[k++] = url;
    wargv[k] = NULL;
    const char *lgout = internf("%s.lg.out", log);
    int st = 0;
    if (warm > 0) { /* the warm-up: a run of its own, not measured */
        const char *wa[20];
        memcpy(wa, wargv, sizeof wa);
        wa[dpos] = internf("%lds", (long)ceil(warm > 1 ? warm : 1));
        struct spawn ws = {.argv = wa, .out = "/dev/null", .err = "/dev/null", .cpus = ccpus};
        pid_t w = proc_start(&ws, e, sizeof e);
        if (w > 0 && proc_wait(w, 120000, &st) != 0)
            proc_stop(w, 2000, &st);
    }
    struct usage u0 = {0}, u1 = {0};
    proc_usage(pid, &u0, true);
    take_snap(s0);
    struct spawn ws = {.argv = wargv, .out = lgout, .err_to_out = true, .cpus = ccpus};
    pid_t w = proc_start(&ws, e, sizeof e);
    int rc = w > 0 ? proc_wait(w, (int)(secs * 1000) + 120000, &st) : -1;
    if (rc == 1 || rc == 2)
        proc_stop(w, 2000, &st);
    take_snap(s1);
    proc_usage(pid, &u1, true);
    proc_stop(pid, 5000, NULL);
    /* its error log beside the cell's logs; the rest goes */
    char *elog = slurp_fd(elog_fd);
    if (elog) {
        write_whole(internf("%s.nginx.log", log), elog, strlen(elog));
        free(elog);
    }
    if (rc != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        bufprintf(err, errlen, "wrk failed%s", rc == 1 ? ": timed out" : "");
        return PEER_FAILED;
    }
    char *report = slurp(lgout, NULL);
    json_object *res =
        report ? wrk_result(report, wargv, secs, conns, ccpus ? cv(c, "CLIENT_CPUS") : NULL) : NULL;
    free(report);
    bool ok = res && write_json(internf("%s.lg.json", log), res, false);
    json_object_put(res);
    if (!ok) {
        bufprintf(err, errlen, "wrk's report could not be read (see %s)", lgout);
        return PEER_FAILED;
    }
    /* nginx's figures as a stats line: CPU over the measured run, the requests wrk counted */
    json_object *j = NULL;
    long long requests = 0;
    if (read_json(internf("%s.lg.json", log), &j)) {
        requests = (long long)jdoc_num(jdoc_path(j, "totals.requests_ok"), 0);
        json_object_put(j);
    }
    long hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    json_object *o = json_object_new_object();
    jdoc_set(o, "event", json_object_new_string("stats"));
    jdoc_set(o, "final", json_object_new_boolean(1));
    jdoc_set(o, "model", json_object_new_string(model));
    jdoc_set(o, "peer", json_object_new_string("nginx"));
    jdoc_set(o, "workers", json_object_new_int(u1.workers));
    jdoc_set(o, "requests", json_object_new_int64(requests));
    jdoc_set(o, "utime_s", jdoc_number((double)(u1.utime - u0.utime) / (double)hz));
    jdoc_set(o, "stime_s", jdoc_number((double)(u1.stime - u0.stime) / (double)hz));
    jdoc_set(o, "max_rss_kb", json_object_new_int64(u1.rss_kb));
    jdoc_set(o, "minflt", NULL);
    jdoc_set(o, "cpus", scpus ? json_object_new_string(cv(c, "SERVER_CPUS")) : NULL);
    *stats = o ? strdup(jdoc_text(o)) : NULL;
    json_object_put(o);
    return *stats ? PEER_OK : PEER_FAILED;
}
