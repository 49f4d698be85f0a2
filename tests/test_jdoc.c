/* lib/jdoc over json-c: strict whole-text parsing, paths, numbers written with their
 * decimals and read back with their text, and text from outside always a JSON string. */
#include <criterion/criterion.h>
#include <string.h>

#include "jdoc.h"

static json_object *parse_ok(const char *t)
{
    json_object *o;
    char err[128];
    cr_assert_eq(jdoc_parse(t, strlen(t), &o, err, sizeof err), 0, "%s: %s", t, err);
    return o;
}

Test(jdoc, refuses_what_is_not_one_whole_json_value)
{
    static const char *const bad[] = {"",          "{",   "{\"a\":1} x", "{\"a\":1}{}", "[1,]",
                                      "{\"a\" 1}", "nul", "\"a",         "{\"a\":01}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_object *o = (json_object *)1;
        char err[128] = "";
        cr_expect_eq(jdoc_parse(bad[i], strlen(bad[i]), &o, err, sizeof err), -1, "'%s' taken",
                     bad[i]);
        cr_expect_null(o, "'%s'", bad[i]);
        cr_expect_neq(err[0], '\0', "'%s': no reason", bad[i]);
    }
    json_object *o = parse_ok(" {\"a\": [1, 2]} \n");
    cr_expect_eq(jdoc_len(jdoc_get(o, "a")), 2);
    json_object_put(o);
    /* a value that is not an object or array is JSON too, even at the very end of the text */
    o = parse_ok("true");
    cr_expect(jdoc_true(o));
    json_object_put(o);
    o = parse_ok("42");
    cr_expect_eq(jdoc_num(o, 0), 42);
    json_object_put(o);
    o = parse_ok("\"s\"");
    cr_expect_str_eq(jdoc_str(o), "s");
    json_object_put(o);
    cr_expect_null(parse_ok("null"));
    static const char *const cut[] = {"tru", "4e", "-"};
    for (size_t i = 0; i < sizeof cut / sizeof *cut; i++) {
        char err[128];
        cr_expect_eq(jdoc_parse(cut[i], strlen(cut[i]), &o, err, sizeof err), -1, "'%s' taken",
                     cut[i]);
    }
}

Test(jdoc, paths_types_and_counts)
{
    json_object *o = parse_ok("{\"t\":{\"n\":42,\"s\":\"42\",\"neg\":-3,\"f\":2.5,\"z\":null,"
                              "\"b\":true}}");
    cr_expect_eq(jdoc_u64(jdoc_path(o, "t.n")), 42);
    cr_expect_eq(jdoc_num(jdoc_path(o, "t.s"), -1), -1, "a string is not a number");
    cr_expect_eq(jdoc_u64(jdoc_path(o, "t.neg")), 0, "a negative count is none");
    cr_expect_eq(jdoc_num(jdoc_path(o, "t.f"), 0), 2.5);
    cr_expect_null(jdoc_path(o, "t.missing"));
    cr_expect_null(jdoc_path(o, "t.n.deeper"));
    cr_expect(jdoc_has(jdoc_path(o, "t"), "z") && !jdoc_get(jdoc_path(o, "t"), "z"));
    cr_expect(!jdoc_has(jdoc_path(o, "t"), "y"));
    cr_expect(jdoc_true(jdoc_path(o, "t.b")) && !jdoc_true(jdoc_path(o, "t.n")));
    cr_expect_str_eq(jdoc_str(jdoc_path(o, "t.s")), "42");
    cr_expect_null(jdoc_str(jdoc_path(o, "t.n")));
    json_object_put(o);
}

Test(jdoc, numbers_keep_their_text)
{
    json_object *o = json_object_new_object();
    jdoc_set(o, "rps", jdoc_double(1234.5, 3));
    jdoc_set(o, "sum", jdoc_double(0.1, -1));
    jdoc_set(o, "short", jdoc_number(2.50));
    jdoc_set(o, "whole", jdoc_number(7));
    jdoc_set(o, "inf", jdoc_double(1.0 / 0.0, 3));
    cr_expect_str_eq(jdoc_text(o),
                     "{\"rps\":1234.500,\"sum\":0.10000000000000001,\"short\":2.5,\"whole\":7,"
                     "\"inf\":null}");
    /* read and written again, a number is as it was written */
    json_object *back = parse_ok("{\"a\":1.500000,\"b\":2.0e3}");
    cr_expect_str_eq(jdoc_text(back), "{\"a\":1.500000,\"b\":2.0e3}");
    json_object_put(back);
    json_object_put(o);
}

Test(jdoc, outside_text_is_always_a_string)
{
    json_object *o = json_object_new_object();
    jdoc_set(o, "n", jdoc_number_text("-12.5e3"));
    jdoc_set(o, "evil", jdoc_number_text("511; location ~ x { return 418; } } #"));
    jdoc_set(o, "half", jdoc_number_text("1."));
    jdoc_set(o, "q", json_object_new_string("a\"b\\c\n\x01/"));
    cr_expect_str_eq(jdoc_text(o), "{\"n\":-12.5e3,\"evil\":\"511; location ~ x { return 418; } } "
                                   "#\",\"half\":\"1.\",\"q\":\"a\\\"b\\\\c\\n\\u0001/\"}");
    json_object_put(o);
}
