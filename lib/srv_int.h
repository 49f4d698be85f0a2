/* srv_int: what the parts of lib/srv*.c share and no model needs. */
#ifndef SRV_INT_H
#define SRV_INT_H

#include <stdbool.h>

struct srv;

/* A signalfd for SIGTERM and SIGINT, and with with_chld SIGCHLD and SIGHUP too; -1 on error. */
int srv_signalfd(bool with_chld);

/* The stop of a server whose workers are threads: eventfds the stop level makes readable
 * (exits on failure: start-up only). */
void srv_thread_stop_init(struct srv *s);

#endif
