/* HdrHistogram's formats: the V2 compressed encoding decodes to the counters encoded, the
 * interval log has the format's header, columns and lines, and the percentile distribution
 * (.hgrm, wrk2's --latency) its header, columns and footer; a histogram encoded and printed
 * by HdrHistogram's own library decodes here, encodes to the same bytes and prints the same. */
#include <criterion/criterion.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "hdrlog.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A long-tailed spread: most values near 1 ms, some to seconds, some 0. */
static void fill(struct hist *h, int digits, size_t n)
{
    cr_assert_eq(hist_init(h, digits, HIST_MAX_US), 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = rnd() % 8 == 0 ? rnd() % 3000000 : 500 + rnd() % 1000;
        if (i % 997 == 0)
            v = 0;
        hist_record(h, v);
    }
}

static void expect_same_counters(const struct hist *a, const struct hist *b)
{
    cr_assert_eq(a->len, b->len, "counters: %zu and %zu", a->len, b->len);
    for (size_t i = 0; i < a->len; i++)
        cr_assert_eq(a->counts[i], b->counts[i], "counter %zu: %llu, decoded %llu", i,
                     (unsigned long long)a->counts[i], (unsigned long long)b->counts[i]);
    cr_expect_eq(a->total, b->total);
    cr_expect_eq(a->min, b->min);
    cr_expect_eq(hist_highest_equivalent(a, a->max), b->max);
    static const double ps[] = {0, 50, 90, 99, 99.9, 100};
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++)
        cr_expect_eq(hist_highest_equivalent(a, hist_percentile(a, ps[k])),
                     hist_highest_equivalent(b, hist_percentile(b, ps[k])), "p%g", ps[k]);
}

Test(hdrlog, decodes_what_it_encodes, .timeout = 60)
{
    for (int digits = 1; digits <= 5; digits++) {
        struct hist h, d;
        fill(&h, digits, 20000);
        char *b64, err[128];
        cr_assert_eq(hdr_encode(&h, &b64), 0);
        /* The V2 compressed cookie, 0x1c849314, in base64. */
        cr_expect_eq(strncmp(b64, "HISTFAAA", 8), 0, "starts %.8s", b64);
        int unit = -1;
        cr_assert_eq(hdr_decode(b64, strlen(b64), &d, &unit, err, sizeof err), 0, "%d digits: %s",
                     digits, err);
        cr_expect_eq(unit, 0);
        expect_same_counters(&h, &d);
        free(b64);
        hist_free(&d);
        hist_free(&h);
    }
}

Test(hdrlog, empty_histogram_and_bad_input, .timeout = 60)
{
    struct hist h, d;
    char *b64, err[128];
    cr_assert_eq(hist_init(&h, 3, HIST_MAX_US), 0);
    cr_assert_eq(hdr_encode(&h, &b64), 0);
    cr_assert_eq(hdr_decode(b64, strlen(b64), &d, NULL, err, sizeof err), 0, "%s", err);
    cr_expect_eq(d.total, 0);
    hist_free(&d);
    /* A cut-off payload and text that is not base64 are refused with a reason. */
    hist_record(&h, 1234);
    free(b64);
    cr_assert_eq(hdr_encode(&h, &b64), 0);
    size_t n = strlen(b64);
    cr_expect_eq(hdr_decode(b64, n - 8, &d, NULL, err, sizeof err), -1);
    cr_expect_neq(err[0], '\0');
    cr_expect_eq(hdr_decode("HIST!!!!", 8, &d, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "base64") != NULL, "%s", err);
    cr_expect_eq(hdr_decode("AAAAAAAAAAAA", 12, &d, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "cookie") != NULL, "%s", err);
    free(b64);
    hist_free(&h);
}

static char *memfile(void (*write)(FILE *, void *), void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    write(f, arg);
    fclose(f);
    return buf;
}

static bool matches(const char *line, const char *re)
{
    regex_t r;
    cr_assert_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0, "%s", re);
    bool ok = regexec(&r, line, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

struct seconds {
    struct hist h[3];
};

static void write_log(FILE *f, void *arg)
{
    struct seconds *s = arg;
    cr_assert_eq(hdr_log_header(f, "a test", INT64_C(1441753532570000000)), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(hdr_log_interval(f, i, i < 2 ? 1.0 : 0.5, &s->h[i]), 0);
}

Test(hdrlog, interval_log_header_columns_and_lines, .timeout = 60)
{
    struct seconds s;
    for (int i = 0; i < 3; i++)
        fill(&s.h[i], 2, 1000 * (size_t)(i + 1));
    char *text = memfile(write_log, &s), *save = NULL;
    const char *want[] = {
        "^#\\[Logged with a test\\]$",
        "^#\\[Histogram log format version 1\\.3\\]$",
        "^#\\[StartTime: 1441753532\\.570 \\(seconds since epoch\\), Tue Sep 08 23:05:32 UTC "
        "2015\\]$",
        "^#\\[BaseTime: 1441753532\\.570 \\(seconds since epoch\\)\\]$",
        "^\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_"
        "Histogram\"$",
    };
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        if (n < 5) {
            cr_expect(matches(line, want[n]), "line %d: %s", n + 1, line);
            continue;
        }
        int i = n - 5;
        cr_assert_lt(i, 3, "more intervals than written: %s", line);
        cr_expect(matches(line, "^[0-9]+\\.[0-9]{3},[0-9]+\\.[0-9]{3},[0-9]+\\.[0-9]{3},HISTFAAA"
                                "[A-Za-z0-9+/]+=*$"),
                  "interval %d: %.60s", i, line);
        double start, length, max;
        cr_assert_eq(sscanf(line, "%lf,%lf,%lf,", &start, &length, &max), 3);
        cr_expect_eq(start, (double)i);
        cr_expect_eq(length, i < 2 ? 1.0 : 0.5);
        cr_expect_float_eq(max, (double)s.h[i].max / 1000.0, 0.0005, "interval %d max", i);
        const char *b64 = strrchr(line, ',') + 1;
        struct hist d;
        char err[128];
        cr_assert_eq(hdr_decode(b64, strlen(b64), &d, NULL, err, sizeof err), 0, "%s", err);
        expect_same_counters(&s.h[i], &d);
        hist_free(&d);
    }
    cr_expect_eq(n, 8);
    free(text);
    for (int i = 0; i < 3; i++)
        hist_free(&s.h[i]);
}

static void write_hgrm(FILE *f, void *arg)
{
    cr_assert_eq(hgrm_write(f, arg, "Recorded Latency"), 0);
}

Test(hdrlog, hgrm_header_columns_and_footer, .timeout = 60)
{
    struct hist h;
    fill(&h, 3, 50000);
    char *text = memfile(write_hgrm, &h), *save = NULL;
    enum { SUMMARY, SPECTRUM, ROWS, FOOTER } part = SUMMARY;
    int summary = 0, rows = 0, footer = 0;
    double last_pct = -1;
    unsigned long long last_count = 0;
    bool saw_inf = false;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (part == SUMMARY && summary == 0) {
            cr_expect_str_eq(line, "  Latency Distribution (HdrHistogram - Recorded Latency)");
            summary++;
        } else if (part == SUMMARY && strstr(line, "Detailed Percentile spectrum")) {
            cr_expect_str_eq(line, "  Detailed Percentile spectrum:");
            part = SPECTRUM;
        } else if (part == SUMMARY) {
            cr_expect(matches(line, "^ *[0-9]+\\.[0-9]{3}% +[0-9.]+(us|ms|s)$"), "%s", line);
            summary++;
        } else if (part == SPECTRUM) {
            cr_expect_str_eq(line, "       Value   Percentile   TotalCount 1/(1-Percentile)");
            part = ROWS;
        } else if (part == ROWS && line[0] != '#') {
            cr_expect(matches(line,
                              "^ +[0-9]+\\.[0-9]{3} +[01]\\.[0-9]{6} +[0-9]+ +([0-9]+\\.[0-9]{2}|"
                              "inf)$"),
                      "row: %s", line);
            double v, p;
            unsigned long long c;
            cr_assert_eq(sscanf(line, "%lf %lf %llu", &v, &p, &c), 3);
            cr_expect_geq(p, last_pct, "percentiles rise: %s", line);
            cr_expect_geq(c, last_count, "counts rise: %s", line);
            last_pct = p;
            last_count = c;
            saw_inf = strstr(line, "inf") != NULL;
            rows++;
        } else {
            part = FOOTER;
            static const char *const foot[] = {
                "^#\\[Mean    = +[0-9]+\\.[0-9]{3}, StdDeviation   = +[0-9]+\\.[0-9]{3}\\]$",
                "^#\\[Max     = +[0-9]+\\.[0-9]{3}, Total count    = +50000\\]$",
                "^#\\[Buckets = +22, SubBuckets     = +2048\\]$",
                "^-{58}$",
            };
            cr_assert_lt(footer, 4, "after the footer: %s", line);
            cr_expect(matches(line, foot[footer]), "footer line %d: %s", footer + 1, line);
            footer++;
        }
    }
    cr_expect_eq(summary, 9, "the title and 8 percentiles");
    cr_expect_gt(rows, 40, "a spectrum at 5 ticks per half distance");
    cr_expect(saw_inf, "the last row is 100%% (1/(1-p) inf)");
    cr_expect_eq(last_pct, 1.0);
    cr_expect_eq(last_count, 50000);
    cr_expect_eq(footer, 4);
    free(text);
    hist_free(&h);
}

/* 200 values from 50 us to 3 ms, and 250 ms, 1 s and 3.6 s, recorded with 3 digits up to an
 * hour; below, the encoding and the percentile distribution HdrHistogram's own C library
 * (0.11.10: hdr_log_encode, hdr_percentiles_print with 5 ticks and a scale of 1000) gives
 * for them. */
static void fill_reference(struct hist *h)
{
    cr_assert_eq(hist_init(h, 3, HIST_MAX_US), 0);
    for (int i = 0; i < 200; i++)
        hist_record(h, 50 + (uint64_t)(i * 7919 % 1000) * 3);
    hist_record(h, 250000);
    hist_record(h, 1000000);
    hist_record(h, 3600000);
}

static const char reference_b64[] =
    "HISTFAAAAE54nJNpmSzMwMA4kwECmKE0I4i4NnkJg/0HiEAyEz8cemNlx44YeV0mViZ2KFaFsxGiynBZZLYuFj242NhNQ"
    "Gb/TWP6K8/0VYYJAHwBG7M=";

static const char reference_spectrum[] =
    "       Value   Percentile   TotalCount 1/(1-Percentile)\n"
    "\n"
    "       0.050     0.000000            1         1.00\n"
    "       0.329     0.100000           21         1.11\n"
    "       0.638     0.200000           41         1.25\n"
    "       0.947     0.300000           61         1.43\n"
    "       1.274     0.400000           82         1.67\n"
    "       1.553     0.500000          102         2.00\n"
    "       1.703     0.550000          112         2.22\n"
    "       1.862     0.600000          122         2.50\n"
    "       2.021     0.650000          132         2.86\n"
    "       2.181     0.700000          143         3.33\n"
    "       2.339     0.750000          153         4.00\n"
    "       2.415     0.775000          158         4.44\n"
    "       2.499     0.800000          163         5.00\n"
    "       2.573     0.825000          168         5.71\n"
    "       2.649     0.850000          173         6.67\n"
    "       2.693     0.875000          178         8.00\n"
    "       2.751     0.887500          181         8.89\n"
    "       2.769     0.900000          183        10.00\n"
    "       2.825     0.912500          186        11.43\n"
    "       2.843     0.925000          188        13.33\n"
    "       2.901     0.937500          191        16.00\n"
    "       2.909     0.943750          192        17.78\n"
    "       2.919     0.950000          193        20.00\n"
    "       2.937     0.956250          195        22.86\n"
    "       2.975     0.962500          196        26.67\n"
    "       2.985     0.968750          197        32.00\n"
    "       2.993     0.971875          198        35.56\n"
    "       2.993     0.975000          198        40.00\n"
    "       3.003     0.978125          199        45.71\n"
    "       3.011     0.981250          200        53.33\n"
    "       3.011     0.984375          200        64.00\n"
    "     250.111     0.985938          201        71.11\n"
    "     250.111     0.987500          201        80.00\n"
    "     250.111     0.989062          201        91.43\n"
    "    1000.447     0.990625          202       106.67\n"
    "    1000.447     0.992188          202       128.00\n"
    "    1000.447     0.992969          202       142.22\n"
    "    1000.447     0.993750          202       160.00\n"
    "    1000.447     0.994531          202       182.86\n"
    "    3600.383     0.995313          203       213.33\n"
    "    3600.383     1.000000          203          inf\n"
    "#[Mean    =       25.404, StdDeviation   =      261.560]\n"
    "#[Max     =     3600.383, Total count    =          203]\n"
    "#[Buckets =           22, SubBuckets     =         2048]\n";

Test(hdrlog, decodes_and_prints_as_the_reference_library, .timeout = 60)
{
    struct hist h, d;
    fill_reference(&h);
    char err[128];
    int unit = -1;
    cr_assert_eq(hdr_decode(reference_b64, strlen(reference_b64), &d, &unit, err, sizeof err), 0,
                 "%s", err);
    cr_expect_eq(unit, 0);
    expect_same_counters(&h, &d);
    hist_free(&d);
    /* And the same bytes (same zlib level, same header fields) from the encoder here. */
    char *b64;
    cr_assert_eq(hdr_encode(&h, &b64), 0);
    cr_expect_str_eq(b64, reference_b64);
    free(b64);

    /* The spectrum and footer as the reference prints them, but for the mean and deviation:
     * here they are exact, there they are rebuilt from the buckets' middle values. */
    char *text = memfile(write_hgrm, &h);
    const char *spectrum = strstr(text, "       Value   Percentile");
    cr_assert(spectrum, "no spectrum in:\n%s", text);
    const char *mean = strstr(spectrum, "#[Mean"),
               *want_mean = strstr(reference_spectrum, "#[Mean");
    cr_assert(mean && want_mean);
    cr_expect_eq(strncmp(spectrum, reference_spectrum, (size_t)(want_mean - reference_spectrum)), 0,
                 "got:\n%.*s", (int)(mean - spectrum), spectrum);
    const char *max = strstr(spectrum, "#[Max"), *want_max = strstr(reference_spectrum, "#[Max");
    cr_assert(max && want_max);
    cr_expect_eq(strncmp(max, want_max, strlen(want_max)), 0, "got:\n%s", max);
    free(text);
    hist_free(&h);
}
