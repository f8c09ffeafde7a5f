/*
 * file: a write-only temporary upload tier (docs/file.md).
 *
 * POST /files/temp streams the body, 64 KiB at a time, into a temporary
 * file in FILE_TEMP_DIR (".tmp-<random>", O_EXCL, 0600) while computing its
 * SHA-256 (OpenSSL's libcrypto), fsyncs it, renames it to its random 128-bit
 * id and fsyncs the folder, then records it in the `files` table; only then
 * is the answer 201. A reader of the folder never sees a partial file, and a
 * 201 names a file that is on disk. Every failure (over the limit, disk
 * full, client gone, database down) removes what the upload wrote: the
 * pending path is registered with the request's pool and unlinked when the
 * request ends, unless the upload completed.
 *
 * The metadata lives in a table rather than a sidecar file so that an
 * operator can list what the tier holds with SQL, and so that the answer's
 * created_at/expires_at come from one clock. Files older than
 * FILE_TTL_SECONDS are swept by the process's main thread on a timer
 * (mode tick), by modification time. An upload holds an exclusive flock on
 * its temporary file from creation until it has been renamed, and the sweep
 * skips any file it cannot lock, so a file still being written is never
 * swept, however slowly its client sends.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* flock(2) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "mode.h"
#include "random_id.h"
#include "schema.h"

enum { CHUNK = 64 * 1024, CONTENT_TYPE_MAX = 255 };
#define TMP_PREFIX ".tmp-"

/* ---- settings: the file tier's own environment variables ---- */

static const char *file_temp_dir;
static long long file_max_bytes, file_ttl_seconds;

static const setting file_settings[] = {
    {.name = "FILE_TEMP_DIR",
     .kind = SETTING_FOLDER,
     .dflt = "/tmp/backend-files",
     .text = &file_temp_dir,
     .meaning = "the file tier's folder (created 0700)"},
    {.name = "FILE_MAX_BYTES",
     .kind = SETTING_NUMBER,
     .dflt = "67108864",
     .max = 1LL << 40,
     .number = &file_max_bytes,
     .meaning = "upload limit in bytes (64 MiB)"},
    {.name = "FILE_TTL_SECONDS",
     .kind = SETTING_NUMBER,
     .dflt = "86400",
     .max = 100LL * 365 * 86400,
     .number = &file_ttl_seconds,
     .meaning = "age at which the sweep removes a file"},
};

/* ---- schema ---- */

static const char file_schema[] =
    "CREATE TABLE IF NOT EXISTS files ("
    " id text PRIMARY KEY,"
    " size bigint NOT NULL,"
    " sha256 text NOT NULL,"
    " content_type text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " expires_at timestamptz NOT NULL);"
    "CREATE INDEX IF NOT EXISTS files_expires_at ON files (expires_at)";

/* The schema's steps (mode.h): step 1 is release 0.1.0's whole schema. */
static const char *const file_migrations[] = {file_schema, NULL};

/* ---- statements ---- */

static const db_stmt file_record = {
    "file_record",
    "INSERT INTO files AS f (id, size, sha256, content_type, expires_at)"
    " VALUES ($1, $2::bigint, $3, $4, now() + make_interval(secs => $5::bigint))"
    " RETURNING json_build_object('id', f.id, 'size', f.size, 'sha256', f.sha256, 'content_type',"
    " f.content_type, 'created_at', " SQL_UTC("f.created_at") ", 'expires_at', " SQL_UTC(
        "f.expires_at") ")::text",
    5};

static const db_stmt file_forget_expired = {"file_forget_expired",
                                            "DELETE FROM files WHERE expires_at <= now()", 0};

/* ---- the folder ---- */

/* Creates FILE_TEMP_DIR (0700, with missing parents) if need be and checks
 * that it is a folder this process can write. */
static bool file_check(api_error *err) { return config_folder_ready("FILE_TEMP_DIR", file_temp_dir, err); }

/* ---- the sweep ---- */

static long sweep_every(void) {
    long half = (long)(file_ttl_seconds / 2);
    return half < 1 ? 1 : half > 60 ? 60 : half;
}

/* Removes files (finished or abandoned temporaries) whose last write is
 * older than FILE_TTL_SECONDS, and forgets expired rows. */
static void file_sweep(void) {
    DIR *d = opendir(file_temp_dir);
    if (d == NULL) return;
    /* mtime has whole seconds and precedes created_at: one second of slack
     * keeps the sweep from taking a file before its expires_at. */
    time_t cutoff = time(NULL) - file_ttl_seconds - 1;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (st.st_mtime > cutoff) continue;
        /* An upload in progress holds the lock: leave its file alone. */
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dirfd(d), e->d_name, 0) == 0) removed++;
        close(fd);
    }
    closedir(d);
    pool *p = pool_new();
    api_error err;
    db_begin(g_config.db_timeout_ms);
    if (db_query(p, &file_forget_expired, NULL, &err) == NULL)
        log_msg(LOG_WARN, "sweep: expired rows not forgotten yet: %s", err.detail);
    pool_free(p);
    if (removed) log_msg(LOG_INFO, "sweep removed %d expired file(s)", removed);
}

/* ---- an upload in progress ---- */

/* What the pool cleans up when the request ends: the open file, the path
 * still to unlink (until the upload completed), the digest context. */
typedef struct upload {
    int fd;
    char path[4200];
    bool keep;
    EVP_MD_CTX *digest;
} upload;

static void upload_release(void *arg) {
    upload *u = arg;
    if (u->fd >= 0) close(u->fd);
    if (!u->keep && u->path[0]) unlink(u->path);
    EVP_MD_CTX_free(u->digest);
}

static bool write_all(int fd, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return false;
        buf += w;
        n -= (size_t)w;
    }
    return true;
}

static bool storage_error(api_error *err, const char *what) {
    if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)
        return api_fail(err, API_E_INSUFFICIENT_STORAGE, NULL, "the file tier is full (%s)", what);
    log_msg(LOG_ERROR, "file: %s: %s", what, strerror(errno));
    return API_INTERNAL(err, "internal error while storing the file (%s)", what);
}

static bool content_type_ok(const char *ct) {
    size_t n = 0;
    for (; ct[n]; n++)
        if ((unsigned char)ct[n] < 0x20 || (unsigned char)ct[n] > 0x7e || n >= CONTENT_TYPE_MAX) return false;
    return true;
}

/* ---- handlers ---- */

enum { UP_CONTENT_TYPE, UP_N };
static const input_field upload_input[UP_N] = {
    [UP_CONTENT_TYPE] = {.name = "Content-Type",
                         .type = INPUT_STRING,
                         .in = INPUT_HEADER,
                         .example = "text/plain",
                         .description = "recorded as the file's type (default application/octet-stream)"},
};

/* upload_failed: NULL, for a constructor whose error is already set. */
static upload *upload_failed(bool set) {
    (void)set;
    return NULL;
}

/* upload_open: a new upload under a temporary name in FILE_TEMP_DIR, its
 * id in id[33], opened and locked, its digest started; NULL with err set.
 * The pool owns it: upload_release closes it and, unless keep is set,
 * unlinks what it wrote. */
static upload *upload_open(request *req, char id[33], api_error *err) {
    upload *u = pool_alloc(req->pool, sizeof *u);
    u->fd = -1;
    u->digest = EVP_MD_CTX_new();
    pool_defer(req->pool, upload_release, u);
    char tmp_name[40];
    if (u->digest == NULL || !EVP_DigestInit_ex(u->digest, EVP_sha256(), NULL) || !random_id_hex(id, 16))
        return upload_failed(API_INTERNAL(err, "internal error preparing the upload"));
    snprintf(tmp_name, sizeof tmp_name, TMP_PREFIX "%.16s", id + 16);
    snprintf(u->path, sizeof u->path, "%s/%s", file_temp_dir, tmp_name);
    u->fd = open(u->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (u->fd < 0) {
        u->path[0] = '\0'; /* nothing of ours to unlink */
        return upload_failed(storage_error(err, "creating the file"));
    }
    /* Held until the file has its final name (closing the fd releases it):
     * the sweep never removes a locked file. */
    if (flock(u->fd, LOCK_EX) != 0) return upload_failed(storage_error(err, "locking the file"));
    return u;
}

/* upload_stream: copies the request body into u, hashing it, then fsyncs;
 * the byte count in *total. False with err set when the body ends early,
 * runs past its Content-Length, or the disk refuses. */
static bool upload_stream(request *req, upload *u, long long *total, api_error *err) {
    char *buf = pool_alloc(req->pool, CHUNK);
    *total = 0;
    for (;;) {
        long n = req->body_read(req->body_ctx, buf, CHUNK);
        if (n < 0 || (n == 0 && *total < req->content_length))
            return API_BAD_REQUEST(err, "the upload ended after %lld of %lld bytes", *total,
                                   req->content_length);
        if (n == 0) break;
        *total += n;
        if (*total > req->content_length)
            return API_TOO_LARGE(err, "the body is longer than its Content-Length");
        if (!write_all(u->fd, buf, (size_t)n)) return storage_error(err, "writing");
        if (!EVP_DigestUpdate(u->digest, buf, (size_t)n))
            return API_INTERNAL(err, "internal error hashing the file");
    }
    if (fsync(u->fd) != 0) return storage_error(err, "syncing the file");
    return true;
}

/* upload_sha256: the digest of what was streamed, as 64 hex digits in sha. */
static bool upload_sha256(upload *u, char sha[2 * EVP_MAX_MD_SIZE + 1], api_error *err) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_DigestFinal_ex(u->digest, md, &md_len) || md_len != 32)
        return API_INTERNAL(err, "internal error hashing the file");
    sha[0] = '\0';
    for (unsigned int i = 0; i < md_len; i++) snprintf(sha + 2 * i, 3, "%02x", md[i]);
    return true;
}

/* upload_publish: renames the complete file to its id and fsyncs the
 * folder, so a reader of the folder never sees a partial file; closing the
 * fd releases the lock. From here a failure unlinks the final name. */
static bool upload_publish(upload *u, const char *id, api_error *err) {
    char final_path[4200];
    snprintf(final_path, sizeof final_path, "%s/%s", file_temp_dir, id);
    if (rename(u->path, final_path) != 0) return storage_error(err, "renaming the file");
    snprintf(u->path, sizeof u->path, "%s", final_path);
    int dfd = open(file_temp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        if (dfd >= 0) close(dfd);
        return storage_error(err, "syncing the folder");
    }
    close(dfd);
    close(u->fd);
    u->fd = -1;
    return true;
}

/* file_upload: POST /files/temp. Streams the body to disk (never whole in
 * memory), publishes it under its id, then records it; 201 with the record. */
static bool file_upload(request *req, const input_value *in, reply *out, api_error *err) {
    const char *ct = in[UP_CONTENT_TYPE].s && in[UP_CONTENT_TYPE].s[0] ? in[UP_CONTENT_TYPE].s
                                                                       : "application/octet-stream";
    if (!content_type_ok(ct))
        return API_INVALID(err, "content_type", "Content-Type must be 1-%d printable ASCII characters",
                           CONTENT_TYPE_MAX);
    if (req->content_length < 0)
        return api_fail(err, API_E_LENGTH_REQUIRED, NULL, "an upload needs a Content-Length");
    if (req->content_length > file_max_bytes)
        return API_TOO_LARGE(err, "the upload is %lld bytes; the limit is %lld (FILE_MAX_BYTES)",
                             req->content_length, file_max_bytes);
    char id[33], sha[2 * EVP_MAX_MD_SIZE + 1];
    long long total;
    upload *u = upload_open(req, id, err);
    if (u == NULL || !upload_stream(req, u, &total, err) || !upload_sha256(u, sha, err) ||
        !upload_publish(u, id, err))
        return false;
    char size_text[24], ttl_text[24];
    snprintf(size_text, sizeof size_text, "%lld", total);
    snprintf(ttl_text, sizeof ttl_text, "%lld", file_ttl_seconds);
    const char *params[] = {id, size_text, sha, ct, ttl_text};
    /* The body took as long as the client needed: the database budget
     * starts now, not when the request arrived. */
    db_begin(g_config.db_timeout_ms);
    PGresult *res = db_query(req->pool, &file_record, params, err);
    if (res == NULL) return false;
    u->keep = true;
    out->status = 201;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

static const db_stmt *const file_statements[] = {&file_record, &file_forget_expired, NULL};

/* ---- routes ---- */

/* ---- outputs (output.h) ---- */

static const output_field upload_fields[] = {
    {.name = "id",
     .type = OUT_STRING,
     .example = "\"5f0c6d1e9b2a4c7d8e3f1a2b3c4d5e6f\"",
     .description = "128 random bits in hex: the file's name in FILE_TEMP_DIR"},
    {.name = "size", .type = OUT_INTEGER, .example = "5", .description = "bytes"},
    {.name = "sha256",
     .type = OUT_STRING,
     .example = "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\""},
    {.name = "content_type", .type = OUT_STRING, .example = "\"text/plain\""},
    OUT_TIME("created_at", 0),
    {.name = "expires_at",
     .type = OUT_STRING,
     .format = "date-time",
     .example = "\"2026-11-25T10:00:00.000000Z\"",
     .description = "when the sweep removes it (FILE_TTL_SECONDS after created_at)"}};
static const output_shape upload_out =
    OUTPUT_SHAPE("TempFile", "A file written to the temporary tier", upload_fields);

/* The tool's arguments: the raw bytes as text, or base64. */
static const char *const encodings[] = {"text", "base64", NULL};
static const input_field upload_tool_input[] = {
    {.name = "content", .type = INPUT_STRING, .required = true, .description = "the file's content"},
    {.name = "encoding",
     .type = INPUT_STRING,
     .choices = encodings,
     .description = "how content is written: text (default) or base64"},
    {.name = "content_type", .type = INPUT_STRING, .description = "the file's type (Content-Type)"},
};

/* ---- routes ---- */

static const route file_routes[] = {
    {"POST", "/files/temp", file_upload, .summary = "Upload a temporary file",
     .description = "The body is the file's raw bytes (any Content-Type, recorded), streamed to disk, "
                    "fsynced and renamed into place; write-only: no route reads it back. Over "
                    "FILE_MAX_BYTES is 413 and a full disk 507, with nothing left on disk; removed after "
                    "FILE_TTL_SECONDS.",
     .streams_body = true, .input = upload_input, .ninput = UP_N, .output = &upload_out, .created = true,
     .errors = API_BIT(BAD_REQUEST) | API_BIT(LENGTH_REQUIRED) | API_BIT(PAYLOAD_TOO_LARGE) |
               API_BIT(INSUFFICIENT_STORAGE),
     .tool =
         &(const tool){.name = "file_write_temp",
                       .description = "Write a temporary file (write-only; removed after FILE_TTL_SECONDS): "
                                      "content as text, or base64 with encoding \"base64\".",
                       .input = upload_tool_input,
                       .ninput = COUNT_OF(upload_tool_input)}},
    /* Write-only by design: an id is a path, but no method reads it. */
    {NULL, "/files/temp/{id}", NULL, .is_public = false},
};

const mode mode_file = {
    .name = "file",
    .url_prefix = "/files",
    .processes = 2,
    .threads = 4,
    .migrations = file_migrations,
    .sentinel = &upload_out,
    .sentinel_note = "Write-only temporary uploads, streamed to disk, swept after FILE_TTL_SECONDS.",
    .routes = file_routes,
    .nroutes = sizeof file_routes / sizeof file_routes[0],
    .check = file_check,
    .tick = file_sweep,
    .tick_seconds = sweep_every,
    .statements = file_statements,
    .streams_request_body = true,
    .settings = file_settings,
    .nsettings = sizeof file_settings / sizeof file_settings[0],
    .body_max = &file_max_bytes,
    .topic = "temporary files",
};
