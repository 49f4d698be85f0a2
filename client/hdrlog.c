#include "hdrlog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

/* The V2 encoding's header: cookie, payload length, normalizing index offset, significant
 * digits (4 bytes each), lowest discernible value, highest trackable value, the integer to
 * double conversion ratio (8 bytes each); all big-endian. */
#define V2_HEADER 40
#define LEB_MAX   9 /* bytes of one ZigZag LEB128 number at most */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ZigZag, then LEB128 of at most 9 bytes: the ninth carries a whole byte. */
static size_t leb_put(uint8_t *p, int64_t sv)
{
    uint64_t v = ((uint64_t)sv << 1) ^ (uint64_t)(sv >> 63);
    size_t n = 0;
    while (n < 8 && v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Returns the bytes read, or 0 when the number runs past end. */
static size_t leb_get(const uint8_t *p, const uint8_t *end, int64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    for (;;) {
        if (p + n >= end)
            return 0;
        uint8_t b = p[n];
        if (n == 8) {
            v |= (uint64_t)b << 56;
            n++;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * n);
        n++;
        if (!(b & 0x80))
            break;
    }
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return n;
}

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const uint8_t *in, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        *o++ = b64_chars[v >> 18 & 63];
        *o++ = b64_chars[v >> 12 & 63];
        *o++ = i + 1 < n ? b64_chars[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? b64_chars[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* Returns the decoded length, or -1 when the text is not base64. */
static long b64_decode(const char *in, size_t n, uint8_t *out)
{
    uint32_t v = 0;
    int bits = 0;
    long k = 0;
    size_t i = 0;
    for (; i < n && in[i] != '='; i++) {
        const char *c = strchr(b64_chars, in[i]);
        if (!c || !in[i])
            return -1;
        v = v << 6 | (uint32_t)(c - b64_chars);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (uint8_t)(v >> bits);
        }
    }
    for (; i < n; i++)
        if (in[i] != '=')
            return -1;
    return k;
}

/* The index one past the last non-zero counter. */
static size_t used_len(const struct hist *h)
{
    size_t n = h->len;
    while (n > 0 && h->counts[n - 1] == 0)
        n--;
    return n;
}

static int sig_digits_of(const struct hist *h)
{
    /* 2 * 10^d needs sub_half_mag + 1 bits: d = 1 -> 4, 2 -> 7, 3 -> 10, 4 -> 14, 5 -> 17. */
    static const int half_mag[] = {0, 4, 7, 10, 14, 17};
    for (int d = 1; d <= 5; d++)
        if (half_mag[d] == h->sub_half_mag)
            return d;
    return 3;
}

int hdr_encode(const struct hist *h, char **b64)
{
    size_t n = used_len(h);
    size_t cap = V2_HEADER + LEB_MAX * (n ? n : 1);
    uint8_t *raw = malloc(cap);
    if (!raw)
        return -1;
    size_t k = V2_HEADER;
    for (size_t i = 0; i < n;) {
        if (h->counts[i]) {
            k += leb_put(raw + k, (int64_t)h->counts[i]);
            i++;
            continue;
        }
        int64_t zeros = 0;
        while (i < n && h->counts[i] == 0)
            zeros++, i++;
        k += leb_put(raw + k, -zeros);
    }
    double ratio = 1.0;
    uint64_t ratio_bits;
    memcpy(&ratio_bits, &ratio, sizeof ratio_bits);
    put32(raw, HDR_V2_ENCODING_COOKIE);
    put32(raw + 4, (uint32_t)(k - V2_HEADER));
    put32(raw + 8, 0);
    put32(raw + 12, (uint32_t)sig_digits_of(h));
    put64(raw + 16, 1);
    put64(raw + 24, h->max_trackable);
    put64(raw + 32, ratio_bits);

    uLongf zlen = compressBound((uLong)k);
    uint8_t *z = malloc(8 + zlen);
    int rc = -1;
    if (z && compress(z + 8, &zlen, raw, (uLong)k) == Z_OK) {
        put32(z, HDR_V2_COMPRESSED_COOKIE);
        put32(z + 4, (uint32_t)zlen);
        *b64 = b64_encode(z, 8 + zlen);
        rc = *b64 ? 0 : -1;
    }
    free(z);
    free(raw);
    return rc;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        goto out;                                                                                  \
    } while (0)

int hdr_decode(const char *b64, size_t len, struct hist *h, int *unit_magnitude, char *err,
               size_t errlen)
{
    int rc = -1;
    uint8_t *z = malloc(len / 4 * 3 + 3), *raw = NULL;
    memset(h, 0, sizeof *h);
    if (!z)
        FAIL("out of memory");
    long zn = b64_decode(b64, len, z);
    if (zn < 0)
        FAIL("not base64");
    if (zn < 8 || get32(z) != HDR_V2_COMPRESSED_COOKIE)
        FAIL("not a V2 compressed histogram (cookie %08x)", zn >= 4 ? (unsigned)get32(z) : 0u);
    uint32_t clen = get32(z + 4);
    if (clen > (uint64_t)zn - 8)
        FAIL("compressed length %u beyond the %ld bytes given", (unsigned)clen, zn - 8);
    /* The V2 header first, to learn the payload's length. */
    uLongf rawlen = V2_HEADER;
    uint8_t head[V2_HEADER];
    z_stream s = {.next_in = z + 8, .avail_in = clen, .next_out = head, .avail_out = V2_HEADER};
    if (inflateInit(&s) != Z_OK)
        FAIL("zlib: cannot start");
    int zr = inflate(&s, Z_SYNC_FLUSH);
    if ((zr != Z_OK && zr != Z_STREAM_END) || s.avail_out != 0) {
        inflateEnd(&s);
        FAIL("zlib: the encoding's header does not inflate");
    }
    if (get32(head) != HDR_V2_ENCODING_COOKIE) {
        inflateEnd(&s);
        FAIL("not a V2 encoding (cookie %08x)", (unsigned)get32(head));
    }
    uint32_t payload = get32(head + 4);
    int digits = (int)get32(head + 12);
    uint64_t lowest = get64(head + 16), highest = get64(head + 24);
    if (get32(head + 8) != 0 || lowest == 0) {
        inflateEnd(&s);
        FAIL("a normalizing index offset or a lowest value of 0 is not supported");
    }
    /* A lowest discernible value above 1 scales every value by its power of two. */
    int unit = 0;
    while ((lowest >> (unit + 1)) != 0)
        unit++;
    if (unit_magnitude)
        *unit_magnitude = unit;
    raw = malloc(payload ? payload : 1);
    if (!raw) {
        inflateEnd(&s);
        FAIL("out of memory");
    }
    s.next_out = raw;
    s.avail_out = payload;
    zr = payload ? inflate(&s, Z_FINISH) : Z_STREAM_END;
    inflateEnd(&s);
    rawlen = payload - s.avail_out;
    if (zr != Z_STREAM_END || rawlen != payload)
        FAIL("zlib: the payload is %lu bytes, the header says %u", (unsigned long)rawlen,
             (unsigned)payload);
    if (hist_init(h, digits, highest >> unit) < 0)
        FAIL("bad parameters: %d significant digits, highest value %llu", digits,
             (unsigned long long)highest);
    size_t i = 0;
    for (const uint8_t *p = raw, *end = raw + payload; p < end;) {
        int64_t v;
        size_t k = leb_get(p, end, &v);
        if (k == 0)
            FAIL("a counter runs past the payload");
        p += k;
        if (v < 0) {
            i += (size_t)-v;
            continue;
        }
        if (i >= h->len)
            FAIL("more counters than the histogram has (%zu)", h->len);
        h->counts[i++] = (uint64_t)v;
    }
    h->min = UINT64_MAX;
    for (size_t j = 0; j < h->len; j++) {
        if (!h->counts[j])
            continue;
        uint64_t lo = hist_value_at(h, j), hi = hist_highest_equivalent(h, lo);
        double mid = ((double)lo + (double)hi) / 2, c = (double)h->counts[j];
        h->total += h->counts[j];
        if (lo < h->min)
            h->min = lo;
        h->max = hi;
        h->sum += mid * c;
        h->sum_sq += mid * mid * c;
    }
    rc = 0;
out:
    if (rc < 0)
        hist_free(h);
    free(raw);
    free(z);
    return rc;
}

int hdr_log_header(FILE *f, const char *tool, int64_t start_ns)
{
    time_t t = (time_t)(start_ns / 1000000000);
    struct tm tm;
    char when[64];
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%a %b %d %H:%M:%S UTC %Y", &tm);
    double start = (double)start_ns / 1e9;
    fprintf(f, "#[Logged with %s]\n", tool);
    fprintf(f, "#[Histogram log format version 1.3]\n");
    fprintf(f, "#[StartTime: %.3f (seconds since epoch), %s]\n", start, when);
    fprintf(f, "#[BaseTime: %.3f (seconds since epoch)]\n", start);
    fprintf(f, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
               "\"Interval_Compressed_Histogram\"\n");
    return ferror(f) ? -1 : 0;
}

int hdr_log_interval(FILE *f, double start_s, double length_s, const struct hist *h)
{
    char *b64;
    if (hdr_encode(h, &b64) < 0)
        return -1;
    fprintf(f, "%.3f,%.3f,%.3f,%s\n", start_s, length_s, (double)h->max / 1000.0, b64);
    free(b64);
    return ferror(f) ? -1 : 0;
}

static void fmt_ms(char *buf, size_t n, uint64_t us)
{
    if (us < 1000)
        snprintf(buf, n, "%.2fus", (double)us);
    else if (us < 1000000)
        snprintf(buf, n, "%.2fms", (double)us / 1e3);
    else
        snprintf(buf, n, "%.2fs", (double)us / 1e6);
}

int hgrm_write(FILE *f, const struct hist *h, const char *what)
{
    static const double ps[] = {50, 75, 90, 99, 99.9, 99.99, 99.999, 100};
    char v[32];
    int digits = sig_digits_of(h);
    fprintf(f, "  Latency Distribution (HdrHistogram - %s)\n", what);
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
        fmt_ms(v, sizeof v, hist_percentile(h, ps[i]));
        fprintf(f, "%7.3f%%%10s\n", ps[i], v);
    }
    fprintf(f, "\n  Detailed Percentile spectrum:\n");
    fprintf(f, "%12s %12s %12s %12s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    /* Percentiles from 0 in steps that halve with each halving of the distance to 100, five
     * per half; each at the first counter that reaches it, as HdrHistogram's iterator does. */
    double next = 0.0;
    uint64_t seen = 0;
    for (size_t i = 0; h->total && i < h->len; i++) {
        if (!h->counts[i])
            continue;
        seen += h->counts[i];
        double reached = 100.0 * (double)seen / (double)h->total;
        double value = (double)hist_highest_equivalent(h, hist_value_at(h, i)) / 1000.0;
        /* The last counter would reach every step for ever: it gets one line, then 100%. */
        while (next <= reached && next < 100.0) {
            fprintf(f, "%12.*f %12f %12llu %12.2f\n", digits, value, next / 100.0,
                    (unsigned long long)seen, 1.0 / (1.0 - next / 100.0));
            double half_distance = pow(2, floor(log2(100.0 / (100.0 - next))) + 1);
            next += 100.0 / (5 * half_distance);
            if (seen == h->total)
                break;
        }
    }
    if (h->total)
        fprintf(f, "%12.*f %12f %12llu %12s\n", digits,
                (double)hist_highest_equivalent(h, h->max) / 1000.0, 1.0,
                (unsigned long long)h->total, "inf");
    fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", hist_mean(h) / 1000.0,
            hist_stddev(h) / 1000.0);
    fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n",
            (double)(h->total ? hist_highest_equivalent(h, h->max) : 0) / 1000.0,
            (unsigned long long)h->total);
    fprintf(f, "#[Buckets = %12d, SubBuckets     = %12llu]\n", h->buckets,
            (unsigned long long)(h->sub_mask + 1));
    fprintf(f, "----------------------------------------------------------\n");
    return ferror(f) ? -1 : 0;
}
