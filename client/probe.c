/* probe: a fixed amount of CPU work, timed, to measure how steady this machine is.
 *
 * It counts the primes up to 10^6 (the servers' own sieve, about a megabyte of memory) over and
 * over for a given time on one thread and prints how many sieves a second it managed. Run a few
 * times in a row on an idle machine, the spread of that rate is the machine's own noise (other
 * tenants, frequency changes, the hypervisor): the smallest difference between two runs of a
 * benchmark that can mean anything. bench/run runs it before a suite's first cell.
 *
 * usage: probe [-d DUR] [-n LIMIT]
 * Prints one JSON object: {"limit":..,"sieves":..,"elapsed_s":..,"rate":..} (sieves a second). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jdoc.h"
#include "sieve.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: probe [-d DUR] [-n LIMIT]\n"
               "Counts the primes up to LIMIT (default 1000000) again and again for DUR (default\n"
               "2s) on one thread and prints the rate as JSON: a fixed CPU probe whose spread\n"
               "over a few runs is this machine's noise floor.\n"
               "  -d DUR      how long to run (us, ms, s, m; default 2s)\n"
               "  -n LIMIT    the sieve's limit (default 1000000)\n"
               "  -h, --help  this text\n");
}

int main(int argc, char **argv)
{
    uint64_t dur_us = 2000000, limit = 1000000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if ((strcmp(a, "-d") && strcmp(a, "-n")) || i + 1 >= argc) {
            fprintf(stderr, "probe: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "-d") ? cli_duration_us(v, &dur_us) < 0 || dur_us == 0
                             : cli_u64(v, 2, 1000000000, &limit) < 0) {
            fprintf(stderr, "probe: %s '%s': %s\n", a, v,
                    !strcmp(a, "-d") ? "a duration above 0, like 2s" : "a limit from 2 to 10^9");
            return 2;
        }
    }
    sieve_set_alloc(SIEVE_REUSE); /* the probe times the sieve, not the allocator */
    double t0 = now_s(), end = t0 + (double)dur_us / 1e6, t = t0;
    uint64_t n = 0;
    int64_t primes = 0;
    while (t < end) {
        int64_t p = sieve_count(limit);
        if (p < 0) {
            fprintf(stderr, "probe: sieve of %" PRIu64 ": %s\n", limit, strerror(errno));
            return 1;
        }
        primes = p;
        n++;
        t = now_s();
    }
    double el = t - t0;
    json_object *o = json_object_new_object();
    char line[256];
    if (!o || !jdoc_set(o, "limit", json_object_new_uint64(limit)) ||
        !jdoc_set(o, "primes", json_object_new_int64(primes)) ||
        !jdoc_set(o, "sieves", json_object_new_uint64(n)) ||
        !jdoc_set(o, "elapsed_s", jdoc_double(el, 6)) ||
        !jdoc_set(o, "rate", jdoc_double((double)n / el, 3)) ||
        jdoc_line(o, line, sizeof line) < 0) {
        fprintf(stderr, "probe: out of memory\n");
        return 1;
    }
    json_object_put(o);
    fputs(line, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
