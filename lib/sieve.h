/* sieve: the server's unit of CPU work, as in the book: a sieve of Eratosthenes over a byte
 * array of n + 1 entries. It costs O(n log log n) time and n + 1 bytes of memory per call.
 *
 * Where the array comes from is a choice (--sieve-alloc): fresh, the book's calloc and free
 * per request, so a large array is new pages the kernel must fault in and zero every time;
 * or reuse, one buffer per thread kept between requests (grown to the largest WORK seen, freed
 * when the thread ends), so only the first request of a worker pays the faults. */
#ifndef SIEVE_H
#define SIEVE_H

#include <stdint.h>
#include <sys/types.h>

enum sieve_alloc { SIEVE_FRESH, SIEVE_REUSE };

/* Sets the allocation for every later sieve_count. Call once, before any thread starts. */
void sieve_set_alloc(enum sieve_alloc a);
enum sieve_alloc sieve_get_alloc(void);

/* A bound on the memory of the sieves in flight (--max-sieve-memory), shared by every thread
 * and every process forked after the call: a sieve whose array would take the arrays in use
 * over bytes is refused at once (sieve_count fails with ENOMEM) instead of growing the server
 * without limit. Kept arrays (reuse) count while they are kept. 0 means no limit. Call once,
 * before any thread or child starts; -1 with errno when the shared counter cannot be made.
 * Without a call there is no limit. Each process's share is kept apart (a slot per process
 * in the shared mapping), so that a child killed while it sieves does not keep it for good:
 * its parent gives it back when it reaps it (sieve_reclaim). */
int sieve_set_budget(uint64_t bytes);

/* The share of the budget the process pid held, given back (its parent calls this when it
 * has reaped pid; a process that ended normally holds none). */
void sieve_reclaim(pid_t pid);

/* A quarter of the machine's physical memory: the default budget. */
uint64_t sieve_default_budget(void);

/* The sieves refused for the budget since start-up, in every process. */
uint64_t sieve_refused(void);

/* Returns the number of primes <= n, or -1 with errno = ENOMEM when the array cannot be
 * allocated or would exceed the budget. The count is returned (and summed into the server's
 * stats) so that the compiler cannot drop the work. */
int64_t sieve_count(uint64_t n);

#endif
