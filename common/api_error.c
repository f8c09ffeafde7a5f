#define _POSIX_C_SOURCE 200809L
#include "api_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool api_fail(api_error *err, int status, const char *code, const char *field,
              const char *fmt, ...) {
    err->status = status;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    err->allow[0] = '\0';
    return false;
}
