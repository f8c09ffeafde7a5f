/*
 * random_id: the one source of random identifiers (request ids, file ids,
 * MCP session ids): bytes from OpenSSL's CSPRNG, written as lowercase hex,
 * so no path or header character can appear in one.
 */
#ifndef BACKEND_RANDOM_ID_H
#define BACKEND_RANDOM_ID_H

#include <stdbool.h>
#include <stddef.h>

/* 128 random bits: 32 hex characters and a NUL. */
#define RANDOM_ID_HEX 33

/* Writes nbytes random bytes as 2*nbytes hex characters and a NUL into out
 * (at least 2*nbytes+1 bytes). Returns false, with out an empty string,
 * when no randomness could be had. */
bool random_id_hex(char *out, size_t nbytes);

#endif
