#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool list_has(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, word, n))
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

int registry_read(const char *path, struct registry *r, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    r->n = 0;
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\n")] == 0)
            continue;
        struct model *m = &r->m[r->n];
        int at = 0;
        if (r->n == sizeof r->m / sizeof *r->m ||
            sscanf(line, "%31s %7s %7s %63s %63s %63s %7s %15s %n", m->name, m->kind, m->w,
                   m->locks, m->accept, m->pollers, m->threads, m->colour, &at) != 8) {
            snprintf(err, errlen, "%s:%d: not a registry line (or too many)", path, lineno);
            fclose(f);
            return -1;
        }
        snprintf(m->what, sizeof m->what, "%.*s", (int)strcspn(line + at, "\n"), line + at);
        r->n++;
    }
    fclose(f);
    if (r->n == 0) {
        snprintf(err, errlen, "%s: no models", path);
        return -1;
    }
    return 0;
}

const struct model *registry_find(const struct registry *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->m[i].name, name))
            return &r->m[i];
    return NULL;
}
