#define _POSIX_C_SOURCE 200809L
#include "auth.h"

#include <string.h>
#include <strings.h>

#include "config.h"

bool auth_token_equal(const char *presented, size_t presented_len, const char *expected,
                      size_t expected_len) {
    /* Walk the expected token's length whatever was presented; reading the
     * presented bytes modulo their length keeps the loop free of branches on
     * secret data. */
    unsigned char diff = (unsigned char)(presented_len != expected_len);
    for (size_t i = 0; i < expected_len; i++) {
        unsigned char p = presented_len ? (unsigned char)presented[i % presented_len] : 0;
        diff |= (unsigned char)(p ^ (unsigned char)expected[i]);
    }
    return diff == 0 && expected_len > 0;
}

bool auth_check(const char *authorization, api_error *err) {
    if (g_config.token == NULL)
        return api_fail(err, API_E_AUTH_NOT_CONFIGURED, NULL,
                        "no bearer token is configured (DATASTORE_TOKEN or DATASTORE_TOKEN_FILE)");
    if (authorization == NULL || authorization[0] == '\0')
        return API_UNAUTHORIZED(err, "missing bearer token");
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return API_UNAUTHORIZED(err, "the Authorization header must be 'Bearer <token>'");
    const char *tok = authorization + 7;
    while (*tok == ' ') tok++;
    size_t len = strlen(tok);
    while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t')) len--;
    if (!auth_token_equal(tok, len, g_config.token, g_config.token_len))
        return API_UNAUTHORIZED(err, "wrong bearer token");
    return true;
}
