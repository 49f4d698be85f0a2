/* hdrlog: loadgen's histograms in the formats of HdrHistogram's tools.
 *
 * The interval log (--hdr-log) is HdrHistogram's "Histogram log format version 1.3": comment
 * lines "#[...]", a CSV header, then one line per interval with its start (seconds after the
 * base time), its length, its maximum (milliseconds) and the histogram in the V2 compressed
 * encoding: a big-endian header (cookie, length) and a zlib stream of the V2 encoding (a
 * header with the histogram's parameters, then the counters in ZigZag LEB128, a run of empty
 * counters as one negative number), in base64. The counters' layout is HdrHistogram's, so the
 * encoding is the counters as they are (hist.h).
 *
 * The percentile distribution (--hgrm) is wrk2's --latency text: the summary percentiles, then
 * the detailed spectrum (value in milliseconds, percentile, total count, 1/(1-percentile)) at
 * five ticks per half distance, and the footer with the mean, deviation, maximum, count and
 * the histogram's buckets. */
#ifndef HDRLOG_H
#define HDRLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"

#define HDR_V2_ENCODING_COOKIE   UINT32_C(0x1c849313)
#define HDR_V2_COMPRESSED_COOKIE UINT32_C(0x1c849314)

/* The V2 compressed encoding of h, in base64 (a NUL-terminated string the caller frees).
 * Returns 0, or -1 when out of memory or zlib failed. */
int hdr_encode(const struct hist *h, char **b64);

/* Decodes a base64 V2 compressed histogram into h (made here with the encoded precision and
 * maximum; the caller frees it with hist_free). Min, max and count are rebuilt from the
 * counters, to their bucket's precision; sum and sum_sq from the buckets' middle values. A
 * histogram recorded with a lowest discernible value above 1 (2^k and up) comes back in units
 * of 2^k, k in *unit_magnitude (when not NULL). Returns 0, or -1 with a reason in err. */
int hdr_decode(const char *b64, size_t len, struct hist *h, int *unit_magnitude, char *err,
               size_t errlen);

/* The log's header: comment lines, StartTime and BaseTime (start_ns since the epoch), and the
 * column names. */
int hdr_log_header(FILE *f, const char *tool, int64_t start_ns);

/* One interval: start and length in seconds after the base time, then the histogram. */
int hdr_log_interval(FILE *f, double start_s, double length_s, const struct hist *h);

/* wrk2's latency distribution for h (values in microseconds, printed in milliseconds), under
 * the title "Latency Distribution (HdrHistogram - <what>)". */
int hgrm_write(FILE *f, const struct hist *h, const char *what);

#endif
