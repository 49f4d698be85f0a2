/* log: one line per event, to stderr or (in daemon mode) to syslog. */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Called once at start-up, before any thread exists. ident is kept, not copied. */
void log_init(const char *ident, bool use_syslog);

/* prio is a syslog priority (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). Safe from any thread:
 * each call is a single write of a whole line. Never call it from a signal handler. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
