#define _POSIX_C_SOURCE 200809L
#include "random_id.h"

#include <openssl/rand.h>

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
