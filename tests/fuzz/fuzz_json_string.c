/* libFuzzer target: strbuf_json_string must turn any bytes into a JSON
 * string that parses (jansson, strict) back into valid UTF-8. Error details
 * and fields carry client bytes through it. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    strbuf *sb = strbuf_new();
    strbuf_puts(sb, "[");
    strbuf_json_string(sb, (const char *)data, size);
    strbuf_puts(sb, "]");
    json_error_t err;
    /* \u0000 is valid JSON (jansson needs JSON_ALLOW_NUL to accept it). */
    json_t *v = json_loadb(sb->data, sb->len, JSON_ALLOW_NUL, &err);
    if (v == NULL || !json_is_string(json_array_get(v, 0))) abort();
    json_decref(v);
    strbuf_free(sb);
    return 0;
}
