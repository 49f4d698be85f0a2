#include "sieve.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static enum sieve_alloc alloc_mode = SIEVE_FRESH;

/* reuse: this thread's array, freed by the key's destructor when the thread ends. */
static _Thread_local unsigned char *kept;
static _Thread_local size_t kept_size;
static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static bool kept_key_ok;

static void kept_free(void *p)
{
    free(p);
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
    if (size > kept_size) {
        pthread_once(&kept_once, kept_key_init);
        if (!kept_key_ok)
            return NULL;
        unsigned char *p = malloc(size);
        if (!p)
            return NULL;
        if (pthread_setspecific(kept_key, p) != 0) {
            free(p);
            return NULL;
        }
        free(kept);
        kept = p;
        kept_size = size;
    }
    memset(kept, 0, size);
    return kept;
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
    unsigned char *composite = reuse ? kept_array(size) : calloc(size, 1);
    if (!composite) {
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
    if (!reuse)
        free(composite);
    return count;
}
