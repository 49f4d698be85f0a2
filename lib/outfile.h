/* outfile: the files this project writes for others to read (loadgen's --json, the servers'
 * --stats and pid file) are written whole or not at all, and their paths are checked before
 * any work is done, so a run never ends by failing to save what it measured.
 *
 * A regular file (or a path that does not exist yet) is written to a temporary file in the
 * same directory and renamed over the target (over a symbolic link's target, not the link).
 * Anything else that already exists (a FIFO, a terminal), and any path under /dev or /proc
 * (/dev/stdout), is opened and written directly: renaming over it would replace the device
 * node or link. "-" means standard output. Functions return -1 with a message in err; they
 * never exit. */
#ifndef OUTFILE_H
#define OUTFILE_H

#include <stddef.h>

/* Whether path can be written later: its directory exists and is writable, it is not a
 * directory, and an existing non-regular target is writable. 0, or -1 with a message that
 * names the path. */
int outfile_check(const char *path, char *err, size_t errlen);

/* Writes len bytes of data to path as described above (fsync'd before the rename). */
int outfile_write(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Writes len bytes of data to a new file beside path (made with O_EXCL, so nothing planted
 * there is followed) and renames it over path, whatever path is now: a symbolic link there
 * is replaced, never followed. For the files of a directory others may write in (a run
 * directory shared between users), where a link is a trap rather than a wish. */
int outfile_replace(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif
