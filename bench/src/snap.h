/* snap: a snapshot of what the machine did up to a moment (snap.c). */
#ifndef SNAP_H
#define SNAP_H

#include <stdbool.h>

/* The time, /proc/stat's busy, steal and total ticks, /proc/pressure/cpu's "some" total (us)
 * and the CPU time of this process's reaped children. */
struct snap {
    long long t_us, busy, steal, total, psi_us, kids_ms;
    bool have_psi;
};
void take_snap(struct snap *s);

#endif
