#define _POSIX_C_SOURCE 200809L
#include "api_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const api_error_kind api_error_kinds[API_E_COUNT] = {
#define API_CODE_ROW_(name, status, code, when) [API_E_##name] = {status, code, when},
    API_ERRORS(API_CODE_ROW_)
#undef API_CODE_ROW_
};

bool api_fail(api_error *err, api_code code, const char *field, const char *fmt, ...) {
    err->status = api_error_kinds[code].status;
    err->code = api_error_kinds[code].code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    err->allow[0] = err->sqlstate[0] = err->constraint[0] = '\0';
    err->retry_after = 0;
    err->resume[0] = '\0';
    return false;
}
