#define _POSIX_C_SOURCE 200809L
#include "random_id.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

bool random_id_hex(char *out, size_t nbytes) {
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    out[0] = '\0';
    if (nbytes > sizeof raw || RAND_bytes(raw, (int)nbytes) != 1) return false;
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return true;
}

/* splitmix64 (Steele, Lea, Flood): a 2^64 period per thread, every output
 * a bijective mix of a Weyl sequence; the seed is 64 CSPRNG bits per
 * thread, so threads and processes draw from unrelated points. */
static _Thread_local uint64_t g_fast_state;
static _Thread_local bool g_fast_seeded;

static uint64_t fast_next(void) {
    uint64_t z = (g_fast_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void random_id_fast_hex(char *out, size_t nbytes) {
    static const char hex[] = "0123456789abcdef";
    if (!g_fast_seeded) {
        unsigned char seed[8];
        if (RAND_bytes(seed, sizeof seed) == 1) {
            memcpy(&g_fast_state, seed, sizeof seed);
        } else { /* no CSPRNG: the clock and the thread's address still differ */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            g_fast_state =
                ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^ (uint64_t)(uintptr_t)&ts;
        }
        g_fast_seeded = true;
    }
    size_t i = 0;
    while (i < nbytes) {
        uint64_t v = fast_next();
        for (int k = 0; k < 8 && i < nbytes; k++, i++, v >>= 8) {
            out[2 * i] = hex[(v >> 4) & 15];
            out[2 * i + 1] = hex[v & 15];
        }
    }
    out[2 * nbytes] = '\0';
}

void random_id_thread_end(void) { OPENSSL_thread_stop(); }
