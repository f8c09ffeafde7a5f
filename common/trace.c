#define _POSIX_C_SOURCE 200809L
#include "trace.h"

#include <string.h>

#include "random_id.h"

/* n lowercase hex characters at s, not all zeros when nonzero is set. */
static bool hex_run(const char *s, size_t n, bool nonzero) {
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        if (c != '0') any = true;
    }
    return any || !nonzero;
}

bool trace_parse(const char *h, char trace_id[TRACE_ID_CHARS + 1], char parent_id[SPAN_ID_CHARS + 1]) {
    /* 00-<32 hex>-<16 hex>-<2 hex>: 55 characters */
    if (h == NULL) return false;
    size_t n = strlen(h);
    if (n < 55 || !hex_run(h, 2, false) || memcmp(h, "ff", 2) == 0) return false;
    /* Version 00 is exactly 55 characters; a later version may append
     * fields after another dash, which this version does not read. */
    if (memcmp(h, "00", 2) == 0 ? n != 55 : (n > 55 && h[55] != '-')) return false;
    if (h[2] != '-' || h[35] != '-' || h[52] != '-') return false;
    if (!hex_run(h + 3, TRACE_ID_CHARS, true) || !hex_run(h + 36, SPAN_ID_CHARS, true) ||
        !hex_run(h + 53, 2, false))
        return false;
    if (trace_id != NULL) {
        memcpy(trace_id, h + 3, TRACE_ID_CHARS);
        trace_id[TRACE_ID_CHARS] = '\0';
    }
    if (parent_id != NULL) {
        memcpy(parent_id, h + 36, SPAN_ID_CHARS);
        parent_id[SPAN_ID_CHARS] = '\0';
    }
    return true;
}

void trace_start(trace_context *t, const char *traceparent) {
    if (!trace_parse(traceparent, t->trace_id, t->parent_id)) {
        t->parent_id[0] = '\0';
        /* Unique, not secret: the per-thread generator (random_id.h).
         * 128 random bits are never all zeros in practice. */
        random_id_fast_hex(t->trace_id, TRACE_ID_CHARS / 2);
        t->trace_id[TRACE_ID_CHARS] = '\0';
    }
    random_id_fast_hex(t->span_id, SPAN_ID_CHARS / 2);
    t->span_id[SPAN_ID_CHARS] = '\0';
}
