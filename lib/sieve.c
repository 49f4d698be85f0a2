#include "sieve.h"

#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

static enum sieve_alloc alloc_mode = SIEVE_FRESH;

/* The budget: bytes of sieve arrays in use and the refusals, in a shared anonymous mapping so
 * that children made by fork() count against the same bound (lock-free 64-bit atomics are
 * address-free on Linux). Each process also counts its own share in a slot of its own, found
 * by its pid (a CAS claims a free one), so that its parent can give back the share of a
 * child that died holding it. BUDGET_SLOTS processes at once are counted apart; beyond them a
 * process counts in in_use only (a kill then keeps its share). The slot is added to after
 * in_use, so a kill between the two keeps one sieve's share at most, never gives back more
 * than was taken. The mapping is about 64 KiB. NULL: no budget was set. */
#define BUDGET_SLOTS 4096
struct budget_slot {
    _Atomic int pid; /* 0: free */
    _Atomic uint64_t bytes;
};
struct budget {
    uint64_t limit;
    _Atomic uint64_t in_use;
    _Atomic uint64_t refused;
    struct budget_slot slot[BUDGET_SLOTS];
};
static struct budget *budget;

/* This process's slot, or NULL when every slot is taken; cached per thread, for the pid it
 * was found for (a child made by fork() finds its own). */
static struct budget_slot *my_slot(void)
{
    static _Thread_local struct budget_slot *mine;
    static _Thread_local pid_t mine_pid;
    pid_t me = getpid();
    if (mine_pid == me)
        return mine;
    mine_pid = me;
    mine = NULL;
    for (size_t i = 0, h = (size_t)me % BUDGET_SLOTS; i < BUDGET_SLOTS; i++) {
        struct budget_slot *s = &budget->slot[(h + i) % BUDGET_SLOTS];
        int seen = 0;
        if (atomic_compare_exchange_strong(&s->pid, &seen, (int)me) || seen == (int)me) {
            mine = s;
            break;
        }
    }
    return mine;
}

void sieve_reclaim(pid_t pid)
{
    if (!budget || pid <= 0)
        return;
    for (size_t i = 0; i < BUDGET_SLOTS; i++) {
        struct budget_slot *s = &budget->slot[i];
        if (atomic_load(&s->pid) != (int)pid)
            continue;
        uint64_t held = atomic_exchange(&s->bytes, 0);
        atomic_fetch_sub(&budget->in_use, held);
        atomic_store(&s->pid, 0);
        return;
    }
}

int sieve_set_budget(uint64_t bytes)
{
    if (bytes == 0)
        return 0;
    void *p = mmap(NULL, sizeof *budget, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    budget = p;
    budget->limit = bytes;
    return 0;
}

uint64_t sieve_default_budget(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0)
        return 0;
    return (uint64_t)pages * (uint64_t)size / 4;
}

uint64_t sieve_refused(void)
{
    return budget ? atomic_load_explicit(&budget->refused, memory_order_relaxed) : 0;
}

/* Takes n bytes of the budget; false (and one refusal counted) when they would exceed it. */
static bool reserve(size_t n)
{
    if (!budget)
        return true;
    uint64_t used = atomic_load_explicit(&budget->in_use, memory_order_relaxed);
    do {
        if (n > budget->limit || used > budget->limit - n) {
            atomic_fetch_add_explicit(&budget->refused, 1, memory_order_relaxed);
            return false;
        }
    } while (!atomic_compare_exchange_weak_explicit(&budget->in_use, &used, used + n,
                                                    memory_order_relaxed, memory_order_relaxed));
    struct budget_slot *s = my_slot();
    if (s)
        atomic_fetch_add_explicit(&s->bytes, n, memory_order_relaxed);
    return true;
}

static void unreserve(size_t n)
{
    if (!budget)
        return;
    struct budget_slot *s = my_slot();
    if (s)
        atomic_fetch_sub_explicit(&s->bytes, n, memory_order_relaxed);
    atomic_fetch_sub_explicit(&budget->in_use, n, memory_order_relaxed);
}

/* reuse: this thread's array, freed by the key's destructor when the thread ends. The block
 * starts with its size, so that the destructor can give its share of the budget back. */
struct kept_block {
    size_t size;
    unsigned char a[];
};
static _Thread_local struct kept_block *kept;
static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static bool kept_key_ok;

static void kept_free(void *p)
{
    struct kept_block *b = p;
    unreserve(b->size);
    free(b);
}

static void kept_key_init(void)
{
    kept_key_ok = pthread_key_create(&kept_key, kept_free) == 0;
}

void sieve_set_alloc(enum sieve_alloc a)
{
    alloc_mode = a;
}

enum sieve_alloc sieve_get_alloc(void)
{
    return alloc_mode;
}

/* The thread's kept array, at least size bytes and zeroed over them; NULL when it cannot be
 * had (no memory, or no key to free it with at thread exit). */
static unsigned char *kept_array(size_t size)
{
    size_t had = kept ? kept->size : 0;
    if (size > had) {
        pthread_once(&kept_once, kept_key_init);
        if (!kept_key_ok)
            return NULL;
        if (!reserve(size - had))
            return NULL;
        struct kept_block *p = malloc(sizeof *p + size);
        if (!p) {
            unreserve(size - had);
            return NULL;
        }
        p->size = size;
        if (pthread_setspecific(kept_key, p) != 0) {
            free(p);
            unreserve(size - had);
            return NULL;
        }
        free(kept);
        kept = p;
    }
    memset(kept->a, 0, size);
    return kept->a;
}

int64_t sieve_count(uint64_t n)
{
    if (n < 2)
        return 0;
    if (n >= SIZE_MAX) {
        errno = ENOMEM;
        return -1;
    }
    size_t size = (size_t)n + 1;
    bool reuse = alloc_mode == SIEVE_REUSE;
    if (!reuse && !reserve(size)) {
        errno = ENOMEM;
        return -1;
    }
    unsigned char *composite = reuse ? kept_array(size) : calloc(size, 1);
    if (!composite) {
        if (!reuse)
            unreserve(size);
        errno = ENOMEM;
        return -1;
    }

    for (size_t i = 2; i <= (size_t)n / i; i++) {
        if (composite[i])
            continue;
        for (size_t j = i * i; j <= (size_t)n; j += i)
            composite[j] = 1;
    }
    int64_t count = 0;
    for (size_t i = 2; i <= (size_t)n; i++)
        count += !composite[i];
    if (!reuse) {
        free(composite);
        unreserve(size);
    }
    return count;
}
