/*
 * waiver.h — known, accepted problems: a check id, a range and a reason, valid until a date.
 *
 * JSON (a file given with --waivers, and later the "waivers" list of a policy):
 *   [ { "check": "wal.continuity", "timeline": 1,
 *       "from": "000000010000000000000010", "to": "000000010000000000000012",
 *       "reason": "lost during the 2026-03 outage", "expires": "2027-01-31" } ]
 * "from"/"to" are WAL segment names (the timeline is then taken from them) or LSNs "X/X"
 * (then "timeline" is required). A waiver covers a gap when the whole gap lies inside
 * [from, to]. "expires" is a date (valid through that day, UTC) or "YYYY-MM-DDTHH:MM:SSZ";
 * it is required: an accepted risk is re-examined, not forgotten. A waived finding is still
 * reported, marked waived with its reason; an expired waiver no longer applies and the
 * finding says so.
 */
#ifndef PGATTEST_AUDIT_WAIVER_H
#define PGATTEST_AUDIT_WAIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct waiver {
    char *check;
    uint32_t timeline;      /* 0 = any */
    char *from, *to;        /* as written (segment name or LSN) */
    char *reason;
    char *expires;          /* as written */
    int64_t expires_at;     /* first second at which it no longer applies */
} waiver;

typedef struct waiver_list {
    waiver *items;
    size_t n;
} waiver_list;

/* Parse JSON text; `where` names the source ("waivers.json"). Errors give line and column
 * when the JSON does not parse, else the entry number and field. */
int waivers_parse(const char *text, size_t len, const char *where, waiver_list *out);
int waivers_load_file(const char *path, waiver_list *out);
void waivers_free(waiver_list *l);

typedef struct waiver_match {
    const waiver *applies;  /* a valid waiver covering the range, or NULL */
    const waiver *expired;  /* an expired one that would have covered it, or NULL */
} waiver_match;

/* Find waivers of `check` covering segments [first, last] of `timeline`. */
waiver_match waivers_match(const waiver_list *l, const char *check, uint32_t timeline,
                           uint64_t first_segno, uint64_t last_segno, uint32_t seg_size,
                           int64_t now);

#endif
