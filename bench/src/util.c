/* util: the small things every part of bench/run uses: interned strings, messages that
 * end the run (die: 1, bad: 2, bad usage), whole files read and written (written whole or not
 * at all, lib/outfile), numbers as JSON. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orch.h"
#include "outfile.h"

const char *prog_name = "bench/run";

static char **pool;
static size_t npool, pool_cap;

static void free_pool(void)
{
    for (size_t i = 0; i < npool; i++)
        free(pool[i]);
    free(pool);
}

const char *intern(const char *s)
{
    if (npool == pool_cap) {
        pool_cap = pool_cap ? pool_cap * 2 : 256;
        char **p = realloc(pool, pool_cap * sizeof *pool);
        if (!p)
            die("out of memory");
        pool = p;
        if (npool == 0)
            atexit(free_pool);
    }
    char *d = strdup(s);
    if (!d)
        die("out of memory");
    return pool[npool++] = d;
}

const char *internf(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return intern(buf);
}

void bufprintf(char *b, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, n, fmt, ap);
    va_end(ap);
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog_name);
    vfprintf(stderr, fmt, ap);
    fputs(" (try --help)\n", stderr);
    va_end(ap);
    exit(2);
}

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    for (size_t got; b && (got = fread(b + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (!b || failed) {
        free(b);
        return NULL;
    }
    b[n] = 0;
    if (len)
        *len = n;
    return b;
}

bool read_json(const char *path, json_object **v)
{
    size_t n;
    *v = NULL;
    char *t = slurp(path, &n);
    if (!t)
        return false;
    char err[128];
    int rc = jdoc_parse(t, n, v, err, sizeof err);
    free(t);
    return rc == 0;
}

long read_text_line(FILE *f, char **buf, size_t *cap)
{
    ssize_t n = getline(buf, cap, f);
    if (n < 0)
        return -1;
    if (memchr(*buf, '\0', (size_t)n) != NULL)
        return -2;
    if (n > 0 && (*buf)[n - 1] == '\n')
        (*buf)[--n] = '\0';
    return (long)n;
}

bool write_json(const char *path, json_object *doc, bool pretty)
{
    char *text = jdoc_file_text(doc, pretty);
    if (!text)
        die("out of memory");
    bool ok = write_whole(path, text, strlen(text));
    free(text);
    return ok;
}

bool write_whole(const char *path, const char *text, size_t len)
{
    char err[512];
    if (outfile_replace(path, text, len, err, sizeof err) < 0) {
        say("bench/run: %s\n", err);
        return false;
    }
    return true;
}

void first_line(const char *path, char *b, size_t n)
{
    b[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(b, (int)n, f))
        b[strcspn(b, "\n")] = 0;
    fclose(f);
}

void last_line(const char *path, char *b, size_t n)
{
    b[0] = 0;
    char *t = slurp(path, NULL);
    if (!t)
        return;
    size_t len = strlen(t);
    while (len && t[len - 1] == '\n')
        t[--len] = 0;
    char *nl = strrchr(t, '\n');
    bufprintf(b, n, "%s", nl ? nl + 1 : t);
    free(t);
}

void checkout_dir(const char *argv0, char *here, size_t n)
{
    const char *root = getenv("BENCH_ROOT");
    char exe[PATH_MAX];
    if (root && *root)
        bufprintf(exe, sizeof exe, "%s", root);
    else {
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len <= 0)
            bufprintf(exe, sizeof exe, "%s", argv0);
        else
            exe[len] = 0;
        for (int k = 0; k < 2; k++) { /* bin/<program> -> the checkout */
            char *s = strrchr(exe, '/');
            if (s)
                *s = 0;
        }
    }
    char real[PATH_MAX];
    bufprintf(here, n, "%s", realpath(exe, real) ? real : exe);
}
