/*
 * walname.h — names of files in pg_wal and the archive, and WAL positions.
 *
 * Inside the program, positions are a timeline (uint32) and a segment number (uint64) or an
 * LSN (uint64); 24-hex names are parsed and printed only at the edges, as in PostgreSQL's
 * xlog_internal.h.
 */
#ifndef PGATTEST_PG_WALNAME_H
#define PGATTEST_PG_WALNAME_H

#include <stdbool.h>
#include <stdint.h>

typedef enum wal_file_kind {
    WAL_INVALID = 0,
    WAL_SEGMENT,        /* 000000010000000000000001                 */
    WAL_PARTIAL,        /* 000000010000000000000001.partial         */
    WAL_BACKUP_HISTORY, /* 000000010000000000000001.00000028.backup */
    WAL_HISTORY,        /* 00000002.history                         */
} wal_file_kind;

#define WAL_NAME_LEN 24
#define WAL_MIN_SEG_SIZE (1u * 1024 * 1024)
#define WAL_MAX_SEG_SIZE (1024u * 1024 * 1024)
#define WAL_DEFAULT_SEG_SIZE (16u * 1024 * 1024)

typedef struct wal_file_name {
    wal_file_kind kind;
    uint32_t timeline;
    uint32_t log;     /* high 32 bits of the segment's position ("XXXXXXXX") */
    uint32_t seg;     /* low part ("YYYYYYYY")                                 */
    uint32_t offset;  /* for backup history files                             */
} wal_file_name;

/* Classify and parse a bare file name (no directory). Upper-case hex only, as PostgreSQL
 * writes it. */
wal_file_kind wal_name_parse(const char *name, wal_file_name *out);
const char *wal_kind_name(wal_file_kind kind);

static inline bool wal_seg_size_valid(uint64_t size)
{
    return size >= WAL_MIN_SEG_SIZE && size <= WAL_MAX_SEG_SIZE && (size & (size - 1)) == 0;
}

/* Segment number <-> (log, seg) for a given segment size (XLogSegmentsPerXLogId). */
uint64_t wal_segno(uint32_t log, uint32_t seg, uint32_t seg_size);
void wal_segment_name(char out[WAL_NAME_LEN + 1], uint32_t timeline, uint64_t segno,
                      uint32_t seg_size);
/* LSN -> segment number containing it. */
static inline uint64_t wal_lsn_segno(uint64_t lsn, uint32_t seg_size) { return lsn / seg_size; }
/* "16/B374D848" <-> uint64. Parse returns false on bad input. */
bool lsn_parse(const char *text, uint64_t *out);
void lsn_format(char out[20], uint64_t lsn);

#endif
