/* jdoc: the project's JSON documents, through json-c (Debian's libjson-c-dev). A text is
 * parsed strictly and whole; a value is found by a path of keys; a number is written with the
 * decimals its field is documented with (json-c writes the text given, so "rps":1234.500 stays
 * as before) and a number read keeps its text when written again; json-c escapes every
 * string. A JSON null is a NULL json_object, as json-c has it. */
#ifndef JDOC_H
#define JDOC_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Parses text[0..len) strictly (standard JSON, nothing after it but blanks) into *out (to be
 * released with json_object_put; NULL for a JSON null). 0, or -1 with the reason and its
 * offset in err. */
int jdoc_parse(const char *text, size_t len, json_object **out, char *err, size_t errlen);

/* The value at a path of member keys separated by dots ("totals.requests_ok"), or NULL. */
json_object *jdoc_path(json_object *o, const char *path);

/* The member key of object o (not a path), or NULL when o is not an object, the key is absent
 * or its value is null; jdoc_has tells a null member from an absent one. */
json_object *jdoc_get(json_object *o, const char *key);
int jdoc_has(json_object *o, const char *key);
/* A string's text, or NULL when v is not a string. */
const char *jdoc_str(json_object *v);
/* Whether v is true (not merely truthy: a boolean that is true). */
int jdoc_true(json_object *v);
/* An array's length (0 when v is not an array) and its item i. */
size_t jdoc_len(json_object *v);
json_object *jdoc_at(json_object *v, size_t i);

/* A number's value, or def when v is absent or not a number (a string is not one). */
double jdoc_num(json_object *v, double def);
/* A count: 0 when v is absent, not a number, or negative. */
uint64_t jdoc_u64(json_object *v);
/* Whether v is a number. */
int jdoc_is_num(json_object *v);

/* A number written as printf's %.*f with decimals, or as %.17g (the exact double) when
 * decimals is negative; NULL (null) when v is not finite. */
json_object *jdoc_double(double v, int decimals);

/* The number a text is, kept as written, when the text is a JSON number; else the text as a
 * string (so that a value from a command line or a file can never end the document early). */
json_object *jdoc_number_text(const char *text);

/* A number written short: a whole one without decimals, any other with up to 6 (trailing
 * zeros dropped); NULL (null) when not finite. */
json_object *jdoc_number(double v);

/* Adds key: v to object o (v may be NULL, a null); false when o is not an object or memory
 * ran out (v is released then). */
int jdoc_set(json_object *o, const char *key, json_object *v);

/* Writes v's compact text (null for NULL) to f; a string s, escaped by json-c, to f. */
void jdoc_fput(FILE *f, json_object *v);
void jdoc_fput_string(FILE *f, const char *s);

/* v as a file's text: compact on one line, or pretty (two spaces an indent), ending in a
 * newline; malloc'd, NULL when memory ran out. */
char *jdoc_file_text(json_object *v, int pretty);

/* v's compact text and a newline into buf[0..n), for a line of a log or a pipe: its length,
 * or -1 when it does not fit (or memory ran out). */
int jdoc_line(json_object *v, char *buf, size_t n);

/* The compact text of v (json-c's, owned by v: valid until v is released or changed). */
const char *jdoc_text(json_object *v);

#endif
