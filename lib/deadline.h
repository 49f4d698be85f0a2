/* deadline: the ordered lists of a driver's client deadlines (lib/leader, lib/uring). A
 * deadline is --timeout (a request line awaited, a send the client does not take) or the
 * linger after an ERR line. Every deadline of a kind is its start plus the same duration, so a
 * list per kind, appended to, is in the order of its deadlines: the earliest is a list's head,
 * and setting, clearing and taking one cost O(1), with no heap and no timer in the kernel.
 * The lists are intrusive: a client embeds a struct deadline; a driver that shares them
 * between threads holds its own lock around every call. */
#ifndef DEADLINE_H
#define DEADLINE_H

#include <stdbool.h>

enum dl_kind { DL_TIMEOUT, DL_LINGER, DL_KINDS };

struct deadline {
    int kind;     /* the list it is in, or -1 */
    long long at; /* monotonic ms (lib/clock) */
    struct deadline *prev, *next;
};

struct deadlines {
    struct deadline *head[DL_KINDS], *tail[DL_KINDS];
};

/* A deadline in no list. */
void dl_init(struct deadline *d);

/* Whether d is in a list. */
bool dl_armed(const struct deadline *d);

/* Puts d at the end of kind k's list, due at `at`. The caller's at must be no earlier than
 * the list's tail (its start plus the kind's duration): the lists stay in order. A deadline
 * already in that list with that time stays where it is (a request line read in pieces keeps
 * the one set when it was first awaited). */
void dl_put(struct deadlines *q, struct deadline *d, enum dl_kind k, long long at);

/* Takes d out of its list, if it is in one. */
void dl_clear(struct deadlines *q, struct deadline *d);

/* The earliest deadline of every list, or -1 when none is set. */
long long dl_next(const struct deadlines *q);

/* The earliest deadline due at `now` (taken out of its list, its kind left in *kind), or
 * NULL when none is. */
struct deadline *dl_take_due(struct deadlines *q, long long now, enum dl_kind *kind);

#endif
