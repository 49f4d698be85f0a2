/* daemon: detaching the way the book's daemon_init does (fork, setsid, fork again, chdir /,
 * umask 0, standard streams on /dev/null), a pid file that refuses to name two live servers,
 * and dropping privileges after the privileged work (bind) is done. */
#ifndef DAEMON_H
#define DAEMON_H

#include <stddef.h>

/* Detaches. Returns DAEMON_CHILD in the daemon, with *ready_fd the write end of a pipe to the
 * original process. In the original process it waits until the daemon writes its ready line
 * (daemon_ready) or dies, copies the line to stdout, and returns DAEMON_PARENT_OK or
 * DAEMON_PARENT_FAIL; the caller then exits. The intermediate process _exits by design.
 * Returns -1 with err filled when a fork or a descriptor operation fails. */
enum { DAEMON_CHILD = 0, DAEMON_PARENT_OK = 1, DAEMON_PARENT_FAIL = 2 };
int daemon_start(int *ready_fd, char *err, size_t errlen);

/* In the daemon: hands line to the waiting original process and closes the pipe. */
int daemon_ready(int ready_fd, const char *line);

/* -1 (err filled) when path names a live process; 0 when it is absent or stale. */
int pidfile_check(const char *path, char *err, size_t errlen);

/* Writes this process's pid to path whole (temp file and rename). 0 or -1. */
int pidfile_write(const char *path, char *err, size_t errlen);

/* Removes path if it still holds this process's pid; where the directory does not allow it
 * (privileges dropped since it was written), empties it, so no stale pid is left. */
void pidfile_remove(const char *path);

/* setgid, initgroups, setuid to user's ids; own (a file the process must still manage, or
 * NULL) is first given to the user. -1 with err filled on any failure. */
int daemon_drop_privileges(const char *user, const char *own, char *err, size_t errlen);

#endif
