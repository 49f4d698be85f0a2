#include "jdoc.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int jdoc_parse(const char *text, size_t len, json_object **out, char *err, size_t errlen)
{
    *out = NULL;
    if (len > (size_t)INT32_MAX - 1) {
        snprintf(err, errlen, "too long (%zu bytes)", len);
        return -1;
    }
    struct json_tokener *tok = json_tokener_new();
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (e == json_tokener_continue && len > 0) {
        /* a number or literal at the very end ("42", "true") ends only at what follows it: a
         * blank, which JSON allows after a value, tells the parser so */
        o = json_tokener_parse_ex(tok, " ", 1);
        e = json_tokener_get_error(tok);
        end = len;
    }
    json_tokener_free(tok);
    if (e == json_tokener_continue) {
        snprintf(err, errlen, "the text ends inside a value (at byte %zu)", len);
        json_object_put(o);
        return -1;
    }
    if (e != json_tokener_success) {
        snprintf(err, errlen, "%s at byte %zu", json_tokener_error_desc(e), end);
        json_object_put(o);
        return -1;
    }
    for (size_t i = end; i < len; i++)
        if (!isspace((unsigned char)text[i])) {
            snprintf(err, errlen, "text after the value at byte %zu", i);
            json_object_put(o);
            return -1;
        }
    *out = o;
    return 0;
}

json_object *jdoc_path(json_object *o, const char *path)
{
    char key[256];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        json_object *v;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
            return NULL;
        o = v;
        path += n + (path[n] == '.');
    }
    return o;
}

int jdoc_is_num(json_object *v)
{
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

double jdoc_num(json_object *v, double def)
{
    return jdoc_is_num(v) ? json_object_get_double(v) : def;
}

uint64_t jdoc_u64(json_object *v)
{
    if (json_object_is_type(v, json_type_int))
        return json_object_get_uint64(v); /* 0 for a negative one */
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        return d > 0 && d < 18446744073709551616.0 ? (uint64_t)d : 0;
    }
    return 0;
}

json_object *jdoc_double(double v, int decimals)
{
    if (!isfinite(v))
        return NULL;
    char text[64];
    if (decimals < 0)
        snprintf(text, sizeof text, "%.17g", v);
    else
        snprintf(text, sizeof text, "%.*f", decimals, v);
    return json_object_new_double_s(v, text);
}

int jdoc_set(json_object *o, const char *key, json_object *v)
{
    if (json_object_object_add(o, key, v) == 0)
        return 1;
    json_object_put(v);
    return 0;
}

char *jdoc_file_text(json_object *v, int pretty)
{
    int flags =
        JSON_C_TO_STRING_NOSLASHESCAPE |
        (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
    const char *t = json_object_to_json_string_ext(v, flags);
    char *line = NULL;
    if (!t || asprintf(&line, "%s\n", t) < 0)
        return NULL;
    return line;
}

const char *jdoc_text(json_object *v)
{
    return json_object_to_json_string_ext(v,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

json_object *jdoc_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

int jdoc_has(json_object *o, const char *key)
{
    return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, NULL);
}

const char *jdoc_str(json_object *v)
{
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int jdoc_true(json_object *v)
{
    return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

size_t jdoc_len(json_object *v)
{
    return json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

json_object *jdoc_at(json_object *v, size_t i)
{
    return i < jdoc_len(v) ? json_object_array_get_idx(v, i) : NULL;
}

json_object *jdoc_number_text(const char *text)
{
    /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *p = text;
    p += *p == '-';
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p))
            p++;
    else
        return json_object_new_string(text);
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return json_object_new_string(text);
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '+' || *p == '-';
        if (!isdigit((unsigned char)*p))
            return json_object_new_string(text);
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return json_object_new_string(text);
    return json_object_new_double_s(strtod(text, NULL), text);
}

json_object *jdoc_number(double v)
{
    if (!isfinite(v))
        return NULL;
    char b[64];
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(b, sizeof b, "%.0f", v);
    } else {
        snprintf(b, sizeof b, "%.6f", v);
        size_t n = strlen(b);
        while (n > 1 && b[n - 1] == '0')
            b[--n] = '\0';
        if (b[n - 1] == '.')
            b[--n] = '\0';
    }
    return json_object_new_double_s(v, b);
}

int jdoc_line(json_object *v, char *buf, size_t n)
{
    const char *t =
        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!t)
        return -1;
    int r = snprintf(buf, n, "%s\n", t);
    return r < 0 || (size_t)r >= n ? -1 : r;
}

void jdoc_fput(FILE *f, json_object *v)
{
    fputs(jdoc_text(v), f);
}

void jdoc_fput_string(FILE *f, const char *s)
{
    json_object *v = json_object_new_string(s);
    fputs(v ? jdoc_text(v) : "null", f);
    json_object_put(v);
}
