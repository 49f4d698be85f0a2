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

/* The places under --max-clients, in memory the schedulers share: a counter per scheduler's
 * slot, which only that scheduler moves while it lives. A place is taken by adding to one's
 * own counter and then summing all of them (two takers at once both see both, so the cap is
 * never passed); when a scheduler dies the parent zeroes its slot as it reaps it, so the
 * places a killed scheduler held come back. */
struct green_places {
    size_t n;
    _Atomic long held[];
};

/* One scheduler, in a process of its own (after fork): serves lfd until the stop, counting
 * its clients against --max-clients in places->held[slot]. Returns the exit status for the
 * process. */
int green_child(struct srv *s, int lfd, struct green_places *places, size_t slot);

#endif
