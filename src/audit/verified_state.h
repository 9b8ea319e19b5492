/*
 * verified_state.h — what `verify --deep` already checked, so the next run checks only
 * what is new (pgBackRest issue 2828: its verify re-reads the whole archive every time).
 *
 * The state is a text file per repository:
 *     pgattest-verified 1 <repository URL>
 *     <key>\t<size>\t<mtime>\t<etag>
 * An object is skipped when its key, size, mtime and ETag are all unchanged since it
 * passed. A run writes a new file (temporary name, fsync, rename) holding the objects that
 * passed or were skipped in that run, so deleted objects drop out and a failed object is
 * checked again next time. A state for another URL is ignored. In memory only a 128-bit
 * digest per object is kept (16 bytes: 1,000,000 objects cost about 32 MiB).
 *
 * Default location: $XDG_STATE_HOME/pgattest/, else ~/.local/state/pgattest/, file
 * "verify-<first 16 hex digits of SHA-256(URL)>.state".
 */
#ifndef PGATTEST_AUDIT_VERIFIED_STATE_H
#define PGATTEST_AUDIT_VERIFIED_STATE_H

#include <stdbool.h>

#include "storage/storage.h"

typedef struct verified_state verified_state;

/* malloc'd path (caller frees) or NULL when neither variable is set. */
char *verified_state_default_path(const char *url);
/* Load the previous state of `url` from path (unless full) and start the new one. */
int verified_state_open(const char *path, const char *url, bool full, verified_state **out);
/* Unchanged since it passed? Thread-safe. */
bool verified_state_known(verified_state *s, const storage_entry *e);
/* It passed (or was skipped as known): keep it in the new state. Thread-safe. */
int verified_state_record(verified_state *s, const storage_entry *e);
/* Make the new state durable and replace the old one. */
int verified_state_commit(verified_state *s);
/* Discards the new state unless committed. */
void verified_state_free(verified_state *s);

#endif
