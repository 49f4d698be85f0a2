#include "sieve.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int64_t sieve_count(uint64_t n)
{
    if (n < 2)
        return 0;
    if (n >= SIZE_MAX) {
        errno = ENOMEM;
        return -1;
    }
    size_t size = (size_t)n + 1;
    unsigned char *composite = malloc(size);
    if (!composite) {
        errno = ENOMEM;
        return -1;
    }
    memset(composite, 0, size);

    for (size_t i = 2; i <= (size_t)n / i; i++) {
        if (composite[i])
            continue;
        for (size_t j = i * i; j <= (size_t)n; j += i)
            composite[j] = 1;
    }
    int64_t count = 0;
    for (size_t i = 2; i <= (size_t)n; i++)
        count += !composite[i];
    free(composite);
    return count;
}
