/* Unit tests: the settings a mode declares (config.h): defaults, values
 * from the environment, the folder check, and every registered mode's
 * declarations well-formed. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "registry.h"

static long long n_number, n_zero, n_optional;
static const char *n_text, *n_folder;

static const setting declared[] = {
    {.name = "TEST_SETTING_NUMBER", .kind = SETTING_NUMBER, .dflt = "42", .max = 100, .number = &n_number},
    {.name = "TEST_SETTING_ZERO",
     .kind = SETTING_NUMBER,
     .dflt = "0",
     .max = 10,
     .zero_ok = true,
     .number = &n_zero},
    {.name = "TEST_SETTING_OPTIONAL",
     .kind = SETTING_NUMBER,
     .dflt = "",
     .max = 10,
     .zero_ok = true,
     .number = &n_optional},
    {.name = "TEST_SETTING_TEXT", .kind = SETTING_TEXT, .dflt = "", .text = &n_text},
    {.name = "TEST_SETTING_FOLDER", .kind = SETTING_FOLDER, .dflt = "/tmp/x", .text = &n_folder},
};

int main(void) {
    unsetenv("TEST_SETTING_NUMBER");
    unsetenv("TEST_SETTING_ZERO");
    unsetenv("TEST_SETTING_TEXT");
    unsetenv("TEST_SETTING_FOLDER");
    unsetenv("TEST_SETTING_OPTIONAL");
    settings_load(declared, sizeof declared / sizeof declared[0]);
    CHECK(n_number == 42 && n_zero == 0 && strcmp(n_text, "") == 0 && strcmp(n_folder, "/tmp/x") == 0,
          "unset variables take the declared defaults");
    CHECK(n_optional == -1, "a number with no default, unset: -1 (none)");
    setenv("TEST_SETTING_OPTIONAL", "0", 1);
    settings_load(declared, sizeof declared / sizeof declared[0]);
    CHECK(n_optional == 0, "a number with no default, set to 0 (zero_ok): 0");
    setenv("TEST_SETTING_OPTIONAL", "", 1);
    settings_load(declared, sizeof declared / sizeof declared[0]);
    CHECK(n_optional == -1, "a number with no default, set empty: -1 (none)");
    setenv("TEST_SETTING_NUMBER", "100", 1);
    setenv("TEST_SETTING_ZERO", "7", 1);
    setenv("TEST_SETTING_TEXT", "a, b", 1);
    setenv("TEST_SETTING_FOLDER", "/var/x", 1);
    settings_load(declared, sizeof declared / sizeof declared[0]);
    CHECK(n_number == 100 && n_zero == 7 && strcmp(n_text, "a, b") == 0 && strcmp(n_folder, "/var/x") == 0,
          "set variables are read, up to the maximum");

    char dir[] = "/tmp/test-settings.XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "a temporary folder");
    char sub[128], file[128];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    snprintf(file, sizeof file, "%s/file", dir);
    api_error err;
    CHECK(config_folder_ready("X_DIR", sub, &err), "a missing folder is created, with its parents");
    struct stat st;
    CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700, "created 0700");
    FILE *f = fopen(file, "w");
    if (f) fclose(f);
    CHECK(!config_folder_ready("X_DIR", file, &err) && err.status == 507 &&
              strcmp(err.code, "insufficient_storage") == 0 && strncmp(err.detail, "X_DIR ", 6) == 0,
          "a file where the folder should be: 507 naming the variable");
    unlink(file);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/a", dir);
    rmdir(sub);
    rmdir(dir);

    /* Every registered mode's settings: a name, a default, a meaning, a
     * place for the value; a folder's default is absolute. */
    bool ok = true;
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nsettings; i++) {
            const setting *s = &(*mp)->settings[i];
            bool number = s->kind == SETTING_NUMBER;
            if (s->name == NULL || s->dflt == NULL || s->meaning == NULL ||
                (number ? !s->number : !s->text) || (number && s->max < 1) ||
                (s->kind >= SETTING_PATH && s->dflt[0] != '/'))
                ok = false;
        }
    CHECK(ok, "every mode's settings are declared whole");
    return CHECK_DONE();
}
