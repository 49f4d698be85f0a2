#include "json.h"

#include <stdlib.h>
#include <string.h>

struct reader {
    const char *p, *start, *end;
    char *err;
    size_t errlen;
    int depth;
};

static int fail(struct reader *r, const char *what)
{
    if (!r->err[0])
        snprintf(r->err, r->errlen, "%s at byte %ld", what, (long)(r->p - r->start));
    return -1;
}

static void skip_ws(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

static int parse_string(struct reader *r, char **out)
{
    r->p++; /* the opening quote */
    const char *s = r->p;
    while (r->p < r->end && *r->p != '"') {
        if (*r->p == '\\')
            r->p++;
        r->p++;
    }
    if (r->p >= r->end)
        return fail(r, "unterminated string");
    char *o = malloc((size_t)(r->p - s) + 1), *w = o;
    if (!o)
        return fail(r, "out of memory");
    for (const char *q = s; q < r->p; q++) {
        if (*q != '\\') {
            *w++ = *q;
            continue;
        }
        q++;
        switch (*q) {
        case 'n':
            *w++ = '\n';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 1; i <= 4; i++) {
                char c = q + i < r->p ? q[i] : 0;
                int d = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
                if (d < 0) {
                    free(o);
                    return fail(r, "bad \\u escape");
                }
                cp = cp << 4 | (unsigned)d;
            }
            q += 4;
            w += utf8_put(w, cp);
            break;
        }
        default:
            *w++ = *q;
            break;
        }
    }
    *w = '\0';
    r->p++; /* the closing quote */
    *out = o;
    return 0;
}

static int parse_value(struct reader *r, struct jval *v);

static int grow(struct jval *v, size_t *cap, bool keys)
{
    if (v->n < *cap)
        return 0;
    size_t c = *cap ? 2 * *cap : 8;
    struct jval *it = realloc(v->items, c * sizeof *it);
    if (!it)
        return -1;
    v->items = it;
    if (keys) {
        char **k = realloc(v->keys, c * sizeof *k);
        if (!k)
            return -1;
        v->keys = k;
    }
    *cap = c;
    return 0;
}

static int parse_container(struct reader *r, struct jval *v, bool obj)
{
    v->type = obj ? J_OBJ : J_ARR;
    if (++r->depth > 64)
        return fail(r, "nested too deep");
    r->p++;
    skip_ws(r);
    size_t cap = 0;
    if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        if (grow(v, &cap, obj) < 0)
            return fail(r, "out of memory");
        skip_ws(r);
        if (obj) {
            if (r->p >= r->end || *r->p != '"')
                return fail(r, "expected a key");
            if (parse_string(r, &v->keys[v->n]) < 0)
                return -1;
            skip_ws(r);
            if (r->p >= r->end || *r->p != ':') {
                free(v->keys[v->n]);
                return fail(r, "expected ':'");
            }
            r->p++;
        }
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        v->n++;
        if (parse_value(r, &v->items[v->n - 1]) < 0)
            return -1;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
            r->p++;
            r->depth--;
            return 0;
        }
        return fail(r, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(struct reader *r, struct jval *v)
{
    skip_ws(r);
    if (r->p >= r->end)
        return fail(r, "unexpected end");
    char c = *r->p;
    if (c == '{' || c == '[')
        return parse_container(r, v, c == '{');
    if (c == '"') {
        v->type = J_STR;
        return parse_string(r, &v->text);
    }
    static const struct {
        const char *word;
        enum jtype t;
        bool b;
    } words[] = {{"null", J_NULL, false}, {"true", J_BOOL, true}, {"false", J_BOOL, false}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(r->end - r->p) >= n && !memcmp(r->p, words[i].word, n)) {
            v->type = words[i].t;
            v->b = words[i].b;
            r->p += n;
            return 0;
        }
    }
    const char *s = r->p;
    while (r->p < r->end && strchr("+-0123456789.eE", *r->p))
        r->p++;
    if (r->p == s)
        return fail(r, "unexpected character");
    v->type = J_NUM;
    v->text = strndup(s, (size_t)(r->p - s));
    return v->text ? 0 : fail(r, "out of memory");
}

int json_parse(const char *text, size_t len, struct jval *v, char *err, size_t errlen)
{
    struct reader r = {text, text, text + len, err, errlen, 0};
    memset(v, 0, sizeof *v);
    err[0] = '\0';
    int rc = parse_value(&r, v);
    if (rc == 0) {
        skip_ws(&r);
        if (r.p != r.end)
            rc = fail(&r, "text after the value");
    }
    if (rc < 0)
        json_free(v);
    return rc;
}

void json_free(struct jval *v)
{
    for (size_t i = 0; i < v->n; i++) {
        json_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->text);
    memset(v, 0, sizeof *v);
}

const struct jval *json_get(const struct jval *o, const char *key)
{
    if (!o || o->type != J_OBJ)
        return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return &o->items[i];
    return NULL;
}

const struct jval *json_path(const struct jval *o, const char *path)
{
    char key[128];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_get(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

uint64_t json_u64(const struct jval *v)
{
    if (!v || v->type != J_NUM || v->text[0] == '-')
        return 0;
    return strtoull(v->text, NULL, 10);
}

double json_num(const struct jval *v, double def)
{
    return v && v->type == J_NUM ? strtod(v->text, NULL) : def;
}

void json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void json_write(FILE *f, const struct jval *v)
{
    switch (v->type) {
    case J_NULL:
        fputs("null", f);
        break;
    case J_BOOL:
        fputs(v->b ? "true" : "false", f);
        break;
    case J_NUM:
        fputs(v->text, f);
        break;
    case J_STR:
        json_write_string(f, v->text);
        break;
    case J_ARR:
    case J_OBJ:
        fputc(v->type == J_OBJ ? '{' : '[', f);
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                fputc(',', f);
            if (v->type == J_OBJ) {
                json_write_string(f, v->keys[i]);
                fputc(':', f);
            }
            json_write(f, &v->items[i]);
        }
        fputc(v->type == J_OBJ ? '}' : ']', f);
        break;
    }
}
