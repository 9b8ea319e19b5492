/*
 * tar_member_path.h — the rules that keep a restored tar member inside its target directory.
 *
 * Tar member names and symlink targets come from the repository, which may be damaged or
 * hostile. These pure functions decide what may be written; the extractor applies them on
 * top of libarchive's own secure-extraction flags.
 */
#ifndef PGATTEST_PG_TAR_MEMBER_PATH_H
#define PGATTEST_PG_TAR_MEMBER_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Normalize a member name into out: leading "./" and "." components and repeated or
 * trailing slashes are dropped ("./base//1/" -> "base/1"). Returns PA_OK; 1 when the name
 * is the root itself ("." or "./"); PA_ERR with a message naming the member for an absolute
 * name, a ".." component, an empty name, a NUL-free name too long for out. */
int tar_member_normalize(const char *name, char *out, size_t outlen);

/* May a symlink at normalized path `link_path` point to `target`? Only relative targets whose
 * ".." components come first and climb no higher than the link's own directory
 * ("pg_wal/x -> ../base" yes; "a -> ../x", "a -> /etc", "a -> b/../..", "a -> " no). */
bool tar_symlink_target_inside(const char *link_path, const char *target);

#endif
