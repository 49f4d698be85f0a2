/* registry: the model registry (servers/models) read once: one row per model, in the order
 * plots and tables list them. Every C reader of the registry goes through here. */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

struct model {
    char name[32];
    char kind[8];     /* one, spawn, pool, event */
    char w[8];        /* yes, cpus or - */
    char locks[64];   /* comma-separated, or - */
    char accept[64];  /* comma-separated, its default first, or - */
    char pollers[64]; /* comma-separated, its default first, or - */
    char threads[8];  /* yes when it runs threads (ThreadSanitizer runs it), or - */
    char colour[16];
    char what[256]; /* what it is, in words: the rest of its line */
};

struct registry {
    struct model m[64];
    size_t n;
};

/* Reads path into r. 0, or -1 with the reason in err. */
int registry_read(const char *path, struct registry *r, char *err, size_t errlen);
const struct model *registry_find(const struct registry *r, const char *name);

/* Whether word is in the comma-separated list (an entry, not a substring). */
bool list_has(const char *list, const char *word);

#endif
