/* clock: the servers' one clock, CLOCK_MONOTONIC in milliseconds: every timeout, deadline,
 * pause and grace time is read from it, so that two of them can be compared. */
#ifndef CLOCK_H
#define CLOCK_H

/* Monotonic milliseconds since an arbitrary start (the boot, on Linux). */
long long clock_ms(void);

#endif
