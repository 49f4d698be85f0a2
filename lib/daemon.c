#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "outfile.h"

static int fail(char *err, size_t errlen, const char *what)
{
    int e = errno;
    if (errlen > 0)
        snprintf(err, errlen, "%s: %s", what, strerror(e));
    errno = e;
    return -1;
}

static int relay_ready(int rfd, pid_t mid)
{
    char line[1024];
    ssize_t n = 0;
    /* Up to the end of the one line: the daemon's children may hold the pipe open. */
    while (n < (ssize_t)sizeof line - 1) {
        ssize_t r = read(rfd, line + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || line[n++] == '\n')
            break;
    }
    close(rfd);
    if (n > 0 && line[n - 1] != '\n')
        n = 0;
    int st;
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
        ;
    if (n <= 0)
        return DAEMON_PARENT_FAIL;
    if (io_writen(STDOUT_FILENO, line, (size_t)n) < 0)
        return DAEMON_PARENT_FAIL;
    return DAEMON_PARENT_OK;
}

int daemon_start(int *ready_fd, char *err, size_t errlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return fail(err, errlen, "pipe");
    fflush(NULL);
    pid_t mid = fork();
    if (mid < 0) {
        close(p[0]);
        close(p[1]);
        return fail(err, errlen, "fork");
    }
    if (mid > 0) {
        close(p[1]);
        return relay_ready(p[0], mid);
    }
    /* The intermediate process: a new session without a controlling terminal, then a second
     * fork so the daemon is not a session leader and can never acquire one. */
    close(p[0]);
    if (setsid() < 0)
        _exit(1);
    signal(SIGHUP, SIG_IGN);
    pid_t pid = fork();
    if (pid != 0)
        _exit(pid < 0 ? 1 : 0);

    if (chdir("/") < 0)
        return fail(err, errlen, "chdir /");
    umask(0);
    int nul = open("/dev/null", O_RDWR);
    if (nul < 0)
        return fail(err, errlen, "/dev/null");
    for (int fd = 0; fd <= 2; fd++)
        if (dup2(nul, fd) < 0)
            return fail(err, errlen, "dup2");
    if (nul > 2)
        close(nul);
    *ready_fd = p[1];
    return DAEMON_CHILD;
}

int daemon_ready(int ready_fd, const char *line)
{
    ssize_t w = io_writen(ready_fd, line, strlen(line));
    close(ready_fd);
    return w < 0 ? -1 : 0;
}

static long pidfile_read(const char *path)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = io_readn(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    long pid = strtol(buf, &end, 10);
    if (pid <= 0 || (*end && *end != '\n'))
        return 0;
    return pid;
}

int pidfile_check(const char *path, char *err, size_t errlen)
{
    long pid = pidfile_read(path);
    if (pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
        if (errlen > 0)
            snprintf(err, errlen, "%s: process %ld is running; not starting a second server", path,
                     pid);
        errno = EEXIST;
        return -1;
    }
    return 0;
}

int pidfile_write(const char *path, char *err, size_t errlen)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    return outfile_write(path, buf, (size_t)n, err, errlen);
}

void pidfile_remove(const char *path)
{
    if (!path || pidfile_read(path) != (long)getpid())
        return;
    if (unlink(path) == 0 || (errno != EACCES && errno != EPERM))
        return;
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd >= 0)
        close(fd);
}

int daemon_drop_privileges(const char *user, const char *own, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        if (errlen > 0)
            snprintf(err, errlen, "--user %s: no such user", user);
        errno = ENOENT;
        return -1;
    }
    if (own && chown(own, pw->pw_uid, pw->pw_gid) < 0)
        return fail(err, errlen, own);
    if (setgid(pw->pw_gid) < 0)
        return fail(err, errlen, "setgid");
    if (initgroups(pw->pw_name, pw->pw_gid) < 0)
        return fail(err, errlen, "initgroups");
    if (setuid(pw->pw_uid) < 0)
        return fail(err, errlen, "setuid");
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        errno = EPERM;
        return fail(err, errlen, "privileges could be regained after setuid");
    }
    return 0;
}
