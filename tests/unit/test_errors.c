/* Unit tests: the one error table (api_error.h), the one random-id source
 * and the one clock. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>

#include "api_error.h"
#include "check.h"
#include "clock.h"
#include "random_id.h"
#include "reply.h"

/* Returns the table's row for the contract code, or NULL. */
static const api_error_kind *row_of(const char *code) {
    for (int i = 0; i < API_E_COUNT; i++)
        if (strcmp(api_error_kinds[i].code, code) == 0) return &api_error_kinds[i];
    return NULL;
}

int main(void) {
    /* Every row: a client or server error status, a code, a sentence;
     * codes unique; rows ordered by status. */
    bool rows_ok = true, unique = true, ordered = true;
    for (int i = 0; i < API_E_COUNT; i++) {
        const api_error_kind *k = &api_error_kinds[i];
        if (k->code == NULL || k->when == NULL || k->when[0] == '\0' || k->status < 400 || k->status > 599)
            rows_ok = false;
        for (int j = 0; j < i && k->code; j++)
            if (strcmp(api_error_kinds[j].code, k->code) == 0) unique = false;
        if (i > 0 && api_error_kinds[i - 1].status > k->status) ordered = false;
    }
    CHECK(rows_ok, "every error code has a 4xx/5xx status and says when it is used");
    CHECK(unique, "no code appears twice in the error table");
    CHECK(ordered, "the error table is ordered by status");
    /* The codes clients rely on (docs/api.md, docs/errors.md), code by code. */
    static const struct {
        const char *code;
        int status;
    } contract[] = {
        {"invalid_json", 400},
        {"unauthorized", 401},
        {"forbidden_host", 403},
        {"forbidden_origin", 403},
        {"not_found", 404},
        {"method_not_allowed", 405},
        {"conflict", 409},
        {"gone", 410},
        {"precondition_failed", 412},
        {"payload_too_large", 413},
        {"unsupported_media_type", 415},
        {"validation_failed", 422},
        {"rate_limited", 429},
        {"auth_not_configured", 503},
        {"database_unavailable", 503},
        {"insufficient_storage", 507},
        {"internal", 500},
    };
    for (size_t i = 0; i < sizeof contract / sizeof contract[0]; i++) {
        const api_error_kind *k = row_of(contract[i].code);
        char name[120];
        snprintf(name, sizeof name, "the contract's %s is in the table with status %d", contract[i].code,
                 contract[i].status);
        CHECK(k != NULL && k->status == contract[i].status, name);
    }
    api_error err;
    CHECK(!api_fail(&err, API_E_CONFLICT, "key", "taken %d", 7) && err.status == 409 &&
              strcmp(err.code, "conflict") == 0 && strcmp(err.detail, "taken 7") == 0 &&
              strcmp(err.field, "key") == 0,
          "api_fail takes status and code from the table, detail and field from the call");
    CHECK(!API_INVALID(&err, NULL, "x") && err.status == 422 && err.field[0] == '\0',
          "API_INVALID is 422, no field");
    /* A 410 of the changes feed carries resume in the body; api_fail
     * clears it, so no other error carries a stale one. */
    api_fail(&err, API_E_GONE, "since", "behind");
    snprintf(err.resume, sizeof err.resume, "%s", "42");
    reply r;
    reply_init(&r);
    reply_error(&r, &err);
    CHECK(r.status == 410 &&
              strcmp(r.body->data,
                     "{\"error\":\"gone\",\"detail\":\"behind\",\"field\":\"since\",\"resume\":\"42\"}") == 0,
          "a 410 with resume: the error shape and resume");
    api_fail(&err, API_E_NOT_FOUND, NULL, "x");
    reply_error(&r, &err);
    CHECK(err.resume[0] == '\0' && strstr(r.body->data, "resume") == NULL, "api_fail clears resume");
    reply_release(&r);

    char a[RANDOM_ID_HEX], b[RANDOM_ID_HEX];
    CHECK(random_id_hex(a, 16) && random_id_hex(b, 16) && strlen(a) == 32 &&
              strspn(a, "0123456789abcdef") == 32 && strcmp(a, b) != 0,
          "random ids: 32 lowercase hex characters, never the same twice");
    char f[RANDOM_ID_HEX], g[RANDOM_ID_HEX], h[17];
    random_id_fast_hex(f, 16);
    random_id_fast_hex(g, 16);
    random_id_fast_hex(h, 8);
    CHECK(strlen(f) == 32 && strspn(f, "0123456789abcdef") == 32 && strcmp(f, g) != 0 && strlen(h) == 16 &&
              strspn(h, "0123456789abcdef") == 16,
          "per-request ids: as many lowercase hex characters as asked, never the same twice");
    double t0 = clock_ms(), t1 = clock_ms();
    CHECK(t0 > 0 && t1 >= t0, "the clock is monotonic");
    return CHECK_DONE();
}
