#include "payload.h"

#include <pthread.h>
#include <string.h>

static uint8_t block[PAYLOAD_BLOCK];
static pthread_once_t block_once = PTHREAD_ONCE_INIT;

static void block_make(void)
{
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
    for (size_t i = 0; i < PAYLOAD_BLOCK; i += 8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t v = x * UINT64_C(0x2545F4914F6CDD1D);
        for (int b = 0; b < 8; b++)
            block[i + (size_t)b] = (uint8_t)(v >> (8 * b));
    }
}

const uint8_t *payload_block(void)
{
    pthread_once(&block_once, block_make);
    return block;
}

uint8_t payload_byte(uint64_t i)
{
    return payload_block()[i % PAYLOAD_BLOCK];
}

size_t payload_check(const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf, *blk = payload_block();
    size_t done = 0;
    while (done < len) {
        size_t at = (size_t)((off + done) % PAYLOAD_BLOCK);
        size_t run = PAYLOAD_BLOCK - at;
        if (run > len - done)
            run = len - done;
        if (memcmp(p + done, blk + at, run) != 0) {
            for (size_t k = 0; k < run; k++)
                if (p[done + k] != blk[at + k])
                    return done + k;
        }
        done += run;
    }
    return len;
}
