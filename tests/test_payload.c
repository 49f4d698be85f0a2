#include <criterion/criterion.h>
#include <string.h>

#include "payload.h"

/* The formula of the protocol, written out independently of lib/payload.c. */
static uint8_t reference_byte(uint64_t i)
{
    uint64_t x = 0x9E3779B97F4A7C15ull, v = 0;
    uint64_t word = (i % 65536) / 8;
    for (uint64_t k = 0; k <= word; k++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v = x * 0x2545F4914F6CDD1Dull;
    }
    return (uint8_t)(v >> (8 * (i % 8)));
}

Test(payload, bytes_follow_the_formula, .timeout = 60)
{
    static const uint64_t idx[] = {0, 1, 7, 8, 9, 4095, 65535, 65536, 65537, 1000003, 500000};
    for (size_t k = 0; k < sizeof idx / sizeof *idx; k++)
        cr_expect_eq(payload_byte(idx[k]), reference_byte(idx[k]), "byte %llu",
                     (unsigned long long)idx[k]);
    const uint8_t *b = payload_block();
    /* First word: x after one step is 0x9E3779B97F4A7C15 transformed; checked bytewise. */
    for (uint64_t i = 0; i < 16; i++)
        cr_expect_eq(b[i], reference_byte(i), "byte %llu", (unsigned long long)i);
}

Test(payload, period_is_64k, .timeout = 60)
{
    for (uint64_t i = 0; i < 65536; i += 97)
        cr_expect_eq(payload_byte(i), payload_byte(i + 65536 * 3));
}

Test(payload, check_finds_the_first_wrong_byte, .timeout = 60)
{
    static uint8_t buf[200000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = payload_byte(i + 12345);
    cr_expect_eq(payload_check(buf, sizeof buf, 12345), sizeof buf);
    buf[150000] ^= 1;
    cr_expect_eq(payload_check(buf, sizeof buf, 12345), 150000);
    cr_expect_eq(payload_check(buf, 10, 0), 0, "wrong offset");
}
