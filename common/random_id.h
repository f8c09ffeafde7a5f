/*
 * random_id: the one source of random identifiers (request ids, file ids,
 * MCP session ids): bytes from OpenSSL's CSPRNG, written as lowercase hex,
 * so no path or header character can appear in one; per-request
 * correlation ids from a cheaper per-thread generator (random_id_fast_hex).
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

/* The same shape from a per-thread generator (splitmix64) seeded once per
 * thread from random_id_hex's source: for the ids every request makes
 * (request id, trace and span ids), which must be unique, never secret.
 * OpenSSL's RAND_bytes checks for a fork on every call (a getpid system
 * call each: three per request, issue 22); this makes none. Never for a
 * session id, a file name or anything a guess could abuse. Always
 * succeeds. */
void random_id_fast_hex(char *out, size_t nbytes);

/* Frees what this thread's calls left in OpenSSL (its per-thread generator
 * state). OpenSSL frees it by itself, in a destructor that runs after the
 * thread's last line; a detached thread that another one waits for before
 * the process exits (serve.c's extra workers) calls this before it says it
 * is done, so the process's exit never races that destructor (LeakSanitizer
 * saw the race as a leak). */
void random_id_thread_end(void);

#endif
