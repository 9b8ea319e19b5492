#include "audit/verified_state.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fsutil.h"
#include "io/sha256.h"

#define STATE_MAGIC "pgattest-verified 1 "
#define DIGEST_LEN 16

typedef struct digest {
    uint8_t b[DIGEST_LEN];
} digest;

struct verified_state {
    char *path, *temp;
    FILE *out;
    bool committed;
    pthread_mutex_t lock;
    digest *slots;     /* open addressing; all-zero = empty */
    size_t n_slots, n_used;
};

char *verified_state_default_path(const char *url)
{
    uint8_t d[SHA256_LEN];
    char hex[SHA256_HEX_LEN + 1];
    if (sha256_buffer(url, strlen(url), d) != PA_OK)
        return NULL;
    sha256_to_hex(d, hex);
    hex[16] = '\0';
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char *path = NULL;
    if (xdg && *xdg == '/') {
        if (asprintf(&path, "%s/pgattest/verify-%s.state", xdg, hex) < 0)
            path = NULL;
    } else if (home && *home) {
        if (asprintf(&path, "%s/.local/state/pgattest/verify-%s.state", home, hex) < 0)
            path = NULL;
    }
    return path;
}

static digest entry_digest(const char *key, uint64_t size, int64_t mtime, const char *etag)
{
    char *text = NULL;
    digest d;
    memset(&d, 0, sizeof d);
    int n = asprintf(&text, "%s\t%" PRIu64 "\t%" PRId64 "\t%s", key, size, mtime, etag);
    uint8_t full[SHA256_LEN];
    if (n >= 0 && sha256_buffer(text, (size_t)n, full) == PA_OK)
        memcpy(d.b, full, DIGEST_LEN);
    free(text);
    d.b[0] |= 1; /* never all-zero: zero marks an empty slot */
    return d;
}

static bool digest_empty(const digest *d) { return d->b[0] == 0; }

static size_t slot_of(const verified_state *s, const digest *d)
{
    uint64_t h;
    memcpy(&h, d->b + 4, sizeof h);
    return (size_t)(h % s->n_slots);
}

static int set_insert(verified_state *s, digest d)
{
    if ((s->n_used + 1) * 2 > s->n_slots) {
        size_t n = s->n_slots ? s->n_slots * 2 : 1024;
        digest *old = s->slots;
        size_t old_n = s->n_slots;
        if (!(s->slots = calloc(n, sizeof *s->slots))) {
            s->slots = old;
            return err_set("out of memory loading the verify state");
        }
        s->n_slots = n;
        s->n_used = 0;
        for (size_t i = 0; i < old_n; i++)
            if (!digest_empty(&old[i]))
                set_insert(s, old[i]);
        free(old);
    }
    for (size_t i = slot_of(s, &d);; i = (i + 1) % s->n_slots) {
        if (digest_empty(&s->slots[i])) {
            s->slots[i] = d;
            s->n_used++;
            return PA_OK;
        }
        if (memcmp(s->slots[i].b, d.b, DIGEST_LEN) == 0)
            return PA_OK;
    }
}

static bool set_contains(const verified_state *s, const digest *d)
{
    if (!s->n_slots)
        return false;
    for (size_t i = slot_of(s, d);; i = (i + 1) % s->n_slots) {
        if (digest_empty(&s->slots[i]))
            return false;
        if (memcmp(s->slots[i].b, d->b, DIGEST_LEN) == 0)
            return true;
    }
}

static int load(verified_state *s, const char *url)
{
    FILE *f = fopen(s->path, "r");
    if (!f)
        return errno == ENOENT ? PA_OK : err_errno(errno, "cannot read \"%s\"", s->path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = PA_OK;
    bool first = true;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (first) {
            first = false;
            if (strncmp(line, STATE_MAGIC, strlen(STATE_MAGIC)) != 0 ||
                strcmp(line + strlen(STATE_MAGIC), url) != 0)
                break; /* another repository's or another format: start afresh */
            continue;
        }
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        char *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
        if (!t3)
            continue; /* a torn line cannot happen (rename), but costs only a re-check */
        *t1 = *t2 = *t3 = '\0';
        uint64_t size = strtoull(t1 + 1, NULL, 10);
        int64_t mtime = strtoll(t2 + 1, NULL, 10);
        if ((rc = set_insert(s, entry_digest(line, size, mtime, t3 + 1))) != PA_OK)
            break;
    }
    free(line);
    fclose(f);
    return rc;
}

int verified_state_open(const char *path, const char *url, bool full, verified_state **out)
{
    verified_state *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s || !(s->path = strdup(path)) || asprintf(&s->temp, "%s.tmp.%ld", path,
                                                    (long)getpid()) < 0) {
        if (s)
            free(s->path);
        free(s);
        return err_set("out of memory");
    }
    pthread_mutex_init(&s->lock, NULL);
    char *dir = path_dirname(path);
    int rc = dir ? mkdir_durable(dir, 0700) : err_set("out of memory");
    free(dir);
    if (rc == PA_OK && !full)
        rc = load(s, url);
    if (rc == PA_OK) {
        if (!(s->out = fopen(s->temp, "w")))
            rc = err_errno(errno, "cannot create the verify state \"%s\"", s->temp);
        else if (fprintf(s->out, STATE_MAGIC "%s\n", url) < 0)
            rc = err_errno(errno, "cannot write \"%s\"", s->temp);
    }
    if (rc != PA_OK) {
        err_prefix("verify state (use --state FILE or --no-state)");
        verified_state_free(s);
        return rc;
    }
    *out = s;
    return PA_OK;
}

bool verified_state_known(verified_state *s, const storage_entry *e)
{
    digest d = entry_digest(e->key, e->size, e->mtime, e->etag ? e->etag : "");
    pthread_mutex_lock(&s->lock);
    bool known = set_contains(s, &d);
    pthread_mutex_unlock(&s->lock);
    return known;
}

int verified_state_record(verified_state *s, const storage_entry *e)
{
    if (strpbrk(e->key, "\t\n") || (e->etag && strpbrk(e->etag, "\t\n")))
        return PA_OK; /* not representable: it is simply checked again */
    pthread_mutex_lock(&s->lock);
    int rc = PA_OK;
    if (fprintf(s->out, "%s\t%" PRIu64 "\t%" PRId64 "\t%s\n", e->key, e->size, e->mtime,
                e->etag ? e->etag : "") < 0)
        rc = err_errno(errno, "cannot write the verify state \"%s\"", s->temp);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int verified_state_commit(verified_state *s)
{
    FILE *f = s->out;
    s->out = NULL;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        int e = errno;
        fclose(f);
        return err_errno(e, "cannot write the verify state \"%s\"", s->temp);
    }
    if (fclose(f) != 0)
        return err_errno(errno, "cannot write the verify state \"%s\"", s->temp);
    if (rename(s->temp, s->path) != 0)
        return err_errno(errno, "cannot rename \"%s\" to \"%s\"", s->temp, s->path);
    s->committed = true;
    char *dir = path_dirname(s->path);
    int rc = dir ? fsync_dir(dir) : PA_OK;
    free(dir);
    return rc;
}

void verified_state_free(verified_state *s)
{
    if (!s)
        return;
    if (s->out)
        fclose(s->out);
    if (!s->committed && s->temp)
        unlink(s->temp);
    pthread_mutex_destroy(&s->lock);
    free(s->slots);
    free(s->path);
    free(s->temp);
    free(s);
}
