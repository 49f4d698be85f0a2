#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

static int fail(char *err, size_t errlen, const char *path, const char *why)
{
    if (errlen > 0)
        snprintf(err, errlen, "%s: %s", path, why);
    return -1;
}

/* The directory part of path into dir ("." when there is none). */
static int dir_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return snprintf(dir, n, ".") < (int)n ? 0 : -1;
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= n)
        return -1;
    memcpy(dir, path, len);
    dir[len] = '\0';
    return 0;
}

/* 1 when path is written in place: it exists and is not a regular file, or it is under
 * /dev or /proc (/dev/stdout is a link to whatever descriptor 1 is: renaming over it would
 * replace the link, and writing into its target behind the caller's back would lose what
 * the caller writes there itself). 0 when it is written beside its target and renamed; the
 * target (a symbolic link resolved, so that the link survives) goes into real. -1 with a
 * message otherwise. */
static int in_place(const char *path, char *real, size_t n, char *err, size_t errlen)
{
    struct stat st;
    bool special = !strncmp(path, "/dev/", 5) || !strncmp(path, "/proc/", 6);
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return fail(err, errlen, path, "is a directory");
        if (!S_ISREG(st.st_mode) || special) {
            if (access(path, W_OK) < 0)
                return fail(err, errlen, path, strerror(errno));
            return 1;
        }
        char buf[PATH_MAX];
        if (!realpath(path, buf) || strlen(buf) >= n)
            return fail(err, errlen, path, strerror(errno ? errno : ENAMETOOLONG));
        strcpy(real, buf);
        return 0;
    }
    if (errno != ENOENT)
        return fail(err, errlen, path, strerror(errno));
    if (special)
        return fail(err, errlen, path, "no such device or file");
    /* A link to a file not made yet: the file is made where the link points. */
    char link[PATH_MAX];
    ssize_t k = readlink(path, link, sizeof link - 1);
    if (k > 0) {
        link[k] = '\0';
        const char *slash = strrchr(path, '/');
        int w = link[0] == '/' || !slash
                    ? snprintf(real, n, "%s", link)
                    : snprintf(real, n, "%.*s/%s", (int)(slash - path), path, link);
        if (w < 0 || (size_t)w >= n)
            return fail(err, errlen, path, strerror(ENAMETOOLONG));
        return 0;
    }
    if (strlen(path) >= n)
        return fail(err, errlen, path, strerror(ENAMETOOLONG));
    strcpy(real, path);
    return 0;
}

int outfile_check(const char *path, char *err, size_t errlen)
{
    if (!path || !*path)
        return fail(err, errlen, "(empty path)", "no file name");
    if (!strcmp(path, "-"))
        return 0;
    char real[PATH_MAX];
    int r = in_place(path, real, sizeof real, err, errlen);
    if (r != 0)
        return r < 0 ? -1 : 0;
    char dir[PATH_MAX];
    struct stat st;
    if (dir_of(real, dir, sizeof dir) < 0)
        return fail(err, errlen, path, strerror(ENAMETOOLONG));
    if (stat(dir, &st) < 0) {
        char why[PATH_MAX + 64];
        snprintf(why, sizeof why, "directory %s: %s", dir, strerror(errno));
        return fail(err, errlen, path, why);
    }
    if (!S_ISDIR(st.st_mode)) {
        char why[PATH_MAX + 64];
        snprintf(why, sizeof why, "%s is not a directory", dir);
        return fail(err, errlen, path, why);
    }
    if (access(dir, W_OK | X_OK) < 0) {
        char why[PATH_MAX + 64];
        snprintf(why, sizeof why, "directory %s: %s", dir, strerror(errno));
        return fail(err, errlen, path, why);
    }
    return 0;
}

/* Writes data to fd, syncs and closes it, renames tmp to target; unlinks tmp on failure. */
static int finish_rename(int fd, const char *tmp, const char *target, const char *path,
                         const void *data, size_t len, char *err, size_t errlen)
{
    int e = 0;
    if (io_writen(fd, data, len) < 0 || fsync(fd) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (!e && rename(tmp, target) < 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return fail(err, errlen, path, strerror(e));
    }
    return 0;
}

int outfile_replace(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char tmp[PATH_MAX + 32];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return fail(err, errlen, path, strerror(ENAMETOOLONG));
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, path, strerror(errno));
    if (fchmod(fd, 0644) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return fail(err, errlen, path, strerror(e));
    }
    return finish_rename(fd, tmp, path, path, data, len, err, errlen);
}

int outfile_write(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    if (!strcmp(path, "-")) {
        if (io_writen(STDOUT_FILENO, data, len) < 0)
            return fail(err, errlen, "standard output", strerror(errno));
        return 0;
    }
    char real[PATH_MAX];
    int r = in_place(path, real, sizeof real, err, errlen);
    if (r < 0)
        return -1;
    if (r == 1) {
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return fail(err, errlen, path, strerror(errno));
        bool bad = io_writen(fd, data, len) < 0;
        int e = errno;
        if (close(fd) < 0 && !bad) {
            bad = true;
            e = errno;
        }
        return bad ? fail(err, errlen, path, strerror(e)) : 0;
    }
    char tmp[PATH_MAX + 32];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", real, (long)getpid()) >= (int)sizeof tmp)
        return fail(err, errlen, path, strerror(ENAMETOOLONG));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return fail(err, errlen, path, strerror(errno));
    return finish_rename(fd, tmp, real, path, data, len, err, errlen);
}
