/* green: the user-level thread driver of green-srv, on State Threads (libst). Each of -w
 * processes is one scheduler with its own listener of a SO_REUSEPORT group; in it an ST thread
 * per connection runs the connection core in the blocking models' shape (read, sieve, write,
 * each wait bounded by --timeout), where every blocking call is st_read, st_write or
 * st_accept: the calling thread is switched out (setjmp/longjmp, no system call) and the
 * scheduler waits for the descriptors of all its threads in one poll(2). */
#ifndef GREEN_H
#define GREEN_H

#include <stdatomic.h>
#include <stddef.h>

struct srv;

/* One scheduler, in a process of its own (after fork): serves lfd until the stop, counting
 * clients against --max-clients in *clients (shared by the processes). Returns the exit
 * status for the process. */
int green_child(struct srv *s, int lfd, _Atomic long *clients);

#endif
