/* json: a small JSON reader and writer for loadgen's own results (loadgen merge). The reader
 * builds a tree; numbers keep their text, so that counts up to 2^64 come back exact. */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
    enum jtype type;
    bool b;
    char *text;         /* J_NUM: as written; J_STR: the decoded string */
    struct jval *items; /* J_ARR, J_OBJ */
    char **keys;        /* J_OBJ */
    size_t n;
};

/* Parses text[0..len) into v. Returns 0, or -1 with the reason and its offset in err. */
int json_parse(const char *text, size_t len, struct jval *v, char *err, size_t errlen);
void json_free(struct jval *v);

/* The member key of object o, or NULL. */
const struct jval *json_get(const struct jval *o, const char *key);
/* A path of keys separated by dots: "totals.requests_ok". */
const struct jval *json_path(const struct jval *o, const char *path);
/* Number values: 0 (or def) when absent or not a number. */
uint64_t json_u64(const struct jval *v);
double json_num(const struct jval *v, double def);

/* Writes v as compact JSON. */
void json_write(FILE *f, const struct jval *v);
void json_write_string(FILE *f, const char *s);

#endif
