/* payload: the bytes every response carries. Byte i of a response is P[i mod 65536], where P
 * is 64 KiB of xorshift64* output (state 0x9E3779B97F4A7C15; per 8 bytes x ^= x >> 12,
 * x ^= x << 25, x ^= x >> 27, emit x * 0x2545F4914F6CDD1D little-endian). A client can
 * therefore check every byte it receives without any state but its offset. */
#ifndef PAYLOAD_H
#define PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define PAYLOAD_BLOCK 65536u

/* The 64 KiB block, made on the first call (thread-safe). */
const uint8_t *payload_block(void);

/* Byte i of any response. */
uint8_t payload_byte(uint64_t i);

/* Checks buf against the payload starting at response offset off. Returns len when every
 * byte matches, else the index in buf of the first mismatch. */
size_t payload_check(const void *buf, size_t len, uint64_t off);

#endif
