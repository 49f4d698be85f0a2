/* proc: child processes by fork and exec of an argument vector (never a shell string), with
 * their standard streams on files, an optional CPU affinity set before exec, and waits bounded
 * by a timer (a pidfd and poll). A signal the orchestrator catches (SIGINT, SIGTERM) ends a
 * wait early: proc_interrupted says so. */
#ifndef PROC_H
#define PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

extern volatile sig_atomic_t proc_interrupted;

/* Installs the flag-setting handlers for SIGINT and SIGTERM (no SA_RESTART). */
void proc_catch_signals(void);

/* Opens /dev/null on any of descriptors 0, 1 and 2 that is closed, first thing in main: a
 * file opened later must never become a standard stream by taking its number. 0, or -1
 * when /dev/null cannot be opened. */
int proc_std_streams(void);

struct spawn {
    const char *const *argv;
    const char *in, *out, *err; /* paths; NULL: /dev/null (out and err: /dev/null too) */
    bool err_to_out;            /* stderr to the same file as stdout */
    bool inherit;               /* stdout and stderr: this process's stderr (out, err unused) */
    bool append;
    const unsigned char *cpus; /* a CPU mask of 128 bytes, or NULL for no pinning */
    bool group;                /* a process group of its own (a server: killed whole) */
    int parent_death;          /* the signal it gets when the orchestrator ends (0: SIGKILL);
                                * every child has one, so that none outlives the run */
};

/* Starts the child; its pid, or -1 with the reason in err. */
pid_t proc_start(const struct spawn *s, char *err, size_t errlen);

/* Waits for pid at most timeout_ms (-1: no limit). 0 when it ended (*status as waitpid's),
 * 1 on the timeout (still running), 2 when interrupted by a caught signal. */
int proc_wait(pid_t pid, int timeout_ms, int *status);

/* The same wait, not cut short by a caught signal (which stays pending in proc_interrupted
 * for the caller): for a child already told to stop, whose end is what comes next. 0 or 1. */
int proc_reap(pid_t pid, int timeout_ms, int *status);

/* SIGTERM, and SIGKILL after grace_ms if it has not ended; reaps it, then sweeps its group. */
void proc_stop(pid_t pid, int grace_ms, int *status);

/* SIGKILL to what is left of the process group pid led (a server's children that outlived
 * it): nothing when it led none or none is left. */
void proc_sweep(pid_t pid);

/* Runs argv to its end (at most timeout_ms), its stdout into buf (NUL-terminated, cut at
 * len - 1), stderr discarded. The exit status as a shell gives it (128+N for signal N, 124
 * on the timeout), or -1 when it could not start. */
int proc_capture(const char *const *argv, char *buf, size_t len, int timeout_ms);

/* The same with each line of its stdout handed to fn as it arrives, with the time it
 * arrived (CLOCK_REALTIME, ns). */
int proc_lines(const char *const *argv, int timeout_ms,
               void (*fn)(const char *line, long long now_ns, void *arg), void *arg);

long long now_ns(int clock);

#endif
