/*
 * timeline_history.h — PostgreSQL's timeline history files (<TLI>.history).
 *
 * Each line is "parentTLI<TAB>switchpoint<TAB>reason": the parent timeline and the LSN at
 * which the timeline after it began. Lines starting with '#' and blank lines are comments
 * (PostgreSQL's readTimeLineHistory). A file for timeline N lists the whole ancestry of N,
 * oldest first; N itself is implied (it begins at the last switchpoint).
 */
#ifndef PGATTEST_PG_TIMELINE_HISTORY_H
#define PGATTEST_PG_TIMELINE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

typedef struct timeline_switch {
    uint32_t parent;     /* the timeline that ended here */
    uint64_t switchpoint; /* LSN where the next timeline in the file begins */
} timeline_switch;

typedef struct timeline_history {
    uint32_t timeline;       /* the file's own timeline */
    timeline_switch *switches; /* ancestry, oldest first; caller frees with timeline_history_free */
    size_t n;
} timeline_history;

/* Parse the text of the history file of `timeline`. `where` names the file in messages
 * ("line 3: ..."). Parent timelines must increase and be below `timeline`, switchpoints must
 * not decrease (PostgreSQL's own rules). On success *out is owned by the caller. */
int timeline_history_parse(const char *text, size_t len, uint32_t timeline, const char *where,
                           timeline_history *out);
void timeline_history_free(timeline_history *h);

/* Where `ancestor` ends in the history of h->timeline: its switchpoint, or UINT64_MAX when
 * ancestor == h->timeline. Returns 0 (and leaves *end) when ancestor is not in the history. */
int timeline_history_end_of(const timeline_history *h, uint32_t ancestor, uint64_t *end);

#endif
