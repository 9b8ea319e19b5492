/*
 * wal_pages.h — check the page headers of a WAL segment as its bytes stream by (a terminal
 * sink, fed by the lzop decompressor).
 *
 * Every page starts with XLogPageHeaderData (access/xlog_internal.h):
 *     uint16 xlp_magic; uint16 xlp_info; uint32 xlp_tli; uint64 xlp_pageaddr;
 *     uint32 xlp_rem_len;   (24 bytes with padding)
 * and the first page of a segment with XLogLongPageHeaderData, which adds
 *     uint64 xlp_sysid; uint32 xlp_seg_size; uint32 xlp_xlog_blcksz;
 * Checked: the long header on page 0 with the expected segment size, block size and system
 * identifier; on every page the magic of the server version (the same on every page when
 * the version is unknown), a timeline that is not after the file's and never decreases,
 * and xlp_pageaddr equal to the page's own position. WAL is in the server's byte order;
 * this reads it in ours (the verifier runs where the cluster runs: x86-64, aarch64 —
 * both little-endian).
 *
 * After the end of WAL: an all-zero page ends the checked part, and every later page must be
 * all zero too. A .partial file ends where the promotion happened; the rest of the file is
 * whatever was there (zeros, or a recycled segment's old pages), so checking stops at its
 * first page that is not a valid continuation.
 */
#ifndef PGATTEST_PG_WAL_PAGES_H
#define PGATTEST_PG_WAL_PAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "io/sink.h"

typedef struct wal_pages_expect {
    uint32_t timeline;          /* the file's timeline */
    uint64_t segno;
    uint32_t seg_size;
    bool partial;
    uint64_t system_identifier; /* 0 = unknown: not compared */
    uint32_t server_version;    /* server_version_num; 0 = unknown */
} wal_pages_expect;

/* A terminal sink; its finish fails when the byte count is not one segment. `where` names
 * the object in messages (copied). */
sink *wal_pages_sink_new(const wal_pages_expect *expect, const char *where);
/* The system identifier from the long header (0 before page 0 was seen). */
uint64_t wal_pages_system_identifier(sink *s);
/* XLOG_PAGE_MAGIC of a server_version_num, 0 when unknown. */
uint16_t wal_page_magic_for_version(uint32_t server_version);

#endif
