/* Test helpers: start a real server binary on an ephemeral port, talk the protocol to it,
 * stop it and collect its stats line. Failures end the test through Criterion's asserts. */
#ifndef TEST_HELPERS_H
#define TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct server {
    pid_t pid;
    int port;
    int out; /* the server's stdout */
    char model[32];
    char err_path[256]; /* its stderr, kept for sanitizer checks */
    char listening[512];
};

/* A row of the model tables: a model of the registry (servers/models), or an extra poller of
 * an event model ("reactor:poll"); concurrent unless it serves one client at a time. */
struct test_model {
    char name[32];
    int concurrent;
    char w[8]; /* the registry's w column: "-", "yes" or "cpus" */
};

/* The rows, read once from servers/models (the tests run from the repository's root). */
size_t test_models(struct test_model **rows);
/* The models a selection of the registry's columns picks, one row each (their default poller
 * and accept mode): space-separated COLUMN=VALUES, each a comma list, every one to hold;
 * the columns are kind, w and threads ("kind=spawn,event", "kind=event w=cpus"). */
size_t test_models_of(const char *select, struct test_model **rows);

/* A test run once for every row of the registry (each model, and each of its other pollers
 * and accept modes), or for every model a selection of its columns picks (test_models_of):
 * m is the row, and the test body skips what SRV_MODELS leaves out. The options (at least
 * one: .timeout) follow. */
#define EVERY_MODEL_TEST(suite, test, ...)                                                         \
    MODELS_TEST_(suite, test, test_models(&rows), __VA_ARGS__)
#define KIND_TEST(suite, test, select, ...)                                                        \
    MODELS_TEST_(suite, test, test_models_of(select, &rows), __VA_ARGS__)
#define MODELS_TEST_(suite, test, rows_of, ...)                                                    \
    ParameterizedTestParameters(suite, test)                                                       \
    {                                                                                              \
        struct test_model *rows;                                                                   \
        size_t n = rows_of;                                                                        \
        return cr_make_param_array(struct test_model, rows, n);                                    \
    }                                                                                              \
    ParameterizedTest(struct test_model *m, suite, test, __VA_ARGS__)

/* The models selected by SRV_MODELS (default all); true if model is among them. */
bool model_selected(const char *model);
/* Skips the calling test when SRV_MODELS leaves model out. */
void skip_unless_model(const char *model);

/* The command that starts model as a shell fragment: "DIR/name-srv" and, for a model
 * "name:poller", " --poller poller". */
const char *server_cmd(const char *model, char *buf, size_t n);

/* The model's name without its variant ("reactor" for "reactor:poll"). */
const char *model_base(const char *model, char *buf, size_t n);

/* Starts bin/<model>-srv -p 0 [args...] (NULL-terminated) from SRV_BIN (default "bin"),
 * with stdin closed. A model "name:poller" is name-srv --poller poller. */
void server_start(struct server *s, const char *model, const char *const *args);

/* The same, with RLIMIT_NOFILE and RLIMIT_AS set for the server (0: unchanged). */
void server_start_limited(struct server *s, const char *model, const char *const *args,
                          unsigned long nofile, unsigned long as_bytes);

/* SIGTERM, then waits. Returns the exit status (as waitpid) and copies the stats line. */
int server_stop(struct server *s, char *stats, size_t n);

/* Waits for a server already signalled; the same results as server_stop. */
int server_wait(struct server *s, char *stats, size_t n);

/* Fails the test if the server's stderr holds a sanitizer report. */
void server_check_clean(const struct server *s);

int tcp_connect(int port);

/* One whole request on a new connection to the loopback port, its reads bounded at 30 s;
 * true when every byte came back right (false, not a failed assertion, otherwise). */
bool request_ok(int port, const char *line, uint64_t bytes);

/* Reads one line from fd within timeout_ms; returns its length (0 on EOF or timeout). */
size_t read_line_fd(int fd, char *buf, size_t n, int timeout_ms);

/* Reads the greeting line into buf (NUL-terminated); returns its length. */
size_t read_greeting(int fd, char *buf, size_t n);

/* Receives exactly n payload bytes and checks each against the formula; returns the bytes
 * received (less than n when the server closed early). */
uint64_t recv_payload(int fd, uint64_t n);

/* Writes the whole string. */
void send_str(int fd, const char *s);

/* Reads until EOF or n - 1 bytes; returns the count (NUL-terminated). */
size_t read_all(int fd, char *buf, size_t n);

/* Connections waiting in the accept queues of the listeners on TCP port (IPv4 and IPv6,
 * every SO_REUSEPORT listener), from /proc/net/tcp{,6}; -1 if they cannot be read. */
int listen_queue(int port);

/* The server's ends of established TCP connections on port (accepted or still in an accept
 * queue), from /proc/net/tcp{,6}. */
int server_connections(int port);

/* Waits (at most 10 s) until the bytes written on the connected TCP socket fd have been read
 * by the application at the other end (the peer's receive queue is empty); true if so. */
bool await_peer_read(int fd);

/* Waits (at most 10 s) until the threads of pid number at most want; returns the count then. */
int await_threads(pid_t pid, int want);

/* Whether the file at path holds needle (in its first 64 KiB). */
bool file_has(const char *path, const char *needle);

/* Waits until the file at path holds needle: an event a test orders its next step after (a
 * progress line, a log line), not a time. At most 60 s, a bound for a broken program only;
 * true if it came. */
bool await_file_has(const char *path, const char *needle);

/* Waits until *counter (a counter another thread of the test advances) reaches want; at most
 * 60 s, as await_file_has. True if it did. */
bool await_count(const _Atomic int *counter, int want);

/* Number of open descriptors of a process. */
int fd_count(pid_t pid);

/* The same, once start-up is over (a sanitizer's runtime may hold a descriptor briefly while
 * threads start): two equal counts 100 ms apart, within 60 s. */
int settled_fd_count(pid_t pid);

/* The whole number at a path of keys (dots: "a.b") of a JSON text, such as a server's stats
 * line; -1 when the text is not JSON or the value is absent or not a number. */
long long jline_num(const char *line, const char *path);
/* Whether the value at a path of a JSON text is the value written as json ("\"stats\"",
 * "true"): false when the text is not JSON or the value is absent. */
bool jline_is(const char *line, const char *path, const char *json);

/* The process holding the server's end of the connected TCP socket fd: one of server's
 * children (the one that serves it, while the server may still hold its copy), or server
 * itself; -1 when none is found (not yet accepted, or gone). */
pid_t conn_owner(pid_t server, int fd);

/* Resident memory of a process in KiB, from /proc; -1 if it is gone. */
long rss_kb(pid_t pid);

/* The pids whose parent is parent (at most max); their count. */
int child_pids(pid_t parent, pid_t *out, int max);

/* Threads of a process, from /proc; -1 if it is gone. */
int thread_count(pid_t pid);

/* User + system clock ticks of a process (not its children), from /proc; -1 if gone. */
long long cpu_ticks(pid_t pid);

/* True when SRV_BIN names a sanitizer build (address-space limits do not apply there). */
bool sanitized_build(void);

/* len bytes of s copied to the end of a page followed by a PROT_NONE page, so that a read
 * past them crashes instead of passing by luck (one page at most; each call reuses it). */
const char *guarded(const char *s, size_t len);

#endif
