/*
 * verify_scale — continuity analysis at scale on a synthetic listing (not a timed test).
 *
 * 1,000,000 WAL segment keys over 3 timelines (1 -> 2 -> 3, switches mid-segment, with
 * the .partial and .history objects promotion leaves), 25 holes (or one every HOLE_EVERY
 * segments), and 500 base backups
 * spread over the timelines. The keys are produced in listing order and fed one by one to
 * the same callback the storage listing drives (wal_index_add), then every backup is
 * analysed. Prints wall time per phase and peak RSS.
 *
 *   make bench-verify            (or: build/bench/verify_scale [SEGMENTS] [BACKUPS] [HOLE_EVERY])
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "catalog/continuity.h"
#include "catalog/wal_index.h"
#include "pg/timeline_history.h"
#include "pg/walname.h"

#define SEG WAL_DEFAULT_SEG_SIZE

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int add(wal_index *ix, uint32_t tli, uint64_t segno, const char *suffix)
{
    char name[WAL_NAME_LEN + 1], key[64];
    wal_segment_name(name, tli, segno, SEG);
    snprintf(key, sizeof key, "%s%s.lzo", name, suffix);
    return wal_index_add(ix, key, 2000000, 1700000000 + (int64_t)segno);
}

int main(int argc, char **argv)
{
    uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    size_t n_backups = argc > 2 ? strtoul(argv[2], NULL, 10) : 500;
    uint64_t hole_every = argc > 3 ? strtoull(argv[3], NULL, 10) : total / 25;
    if (hole_every < 2)
        hole_every = 2;
    uint64_t sw2 = total * 2 / 5, sw3 = total * 7 / 10; /* segments where 2 and 3 begin */
    uint64_t switch2 = sw2 * SEG + 0x2000, switch3 = sw3 * SEG + 0x4000;

    double t0 = now();
    wal_index ix;
    wal_index_init(&ix, SEG);
    uint64_t keys = 0, holes = 0;
    /* Listing order: timeline 1's segments, its .partial, then "00000002.history" sorts
     * before timeline 2's segments, and so on. A hole every total/25 segments. */
    for (uint32_t tli = 1; tli <= 3; tli++) {
        uint64_t first = tli == 1 ? 1 : tli == 2 ? sw2 : sw3;
        uint64_t last = tli == 1 ? sw2 : tli == 2 ? sw3 : total; /* exclusive */
        if (tli > 1) {
            char key[32];
            snprintf(key, sizeof key, "%08X.history.lzo", tli);
            wal_index_add(&ix, key, 100, 1700000000);
            keys++;
        }
        for (uint64_t s = first; s < last; s++) {
            if (s % hole_every == hole_every / 2 && s + 10 < last) {
                holes++;
                continue;
            }
            if (add(&ix, tli, s, "") != 0)
                return 1;
            keys++;
            if (tli < 3 && s + 1 == last) { /* the parent's switch segment as .partial */
                add(&ix, tli, s, ".partial");
                keys++;
            }
        }
    }
    wal_index_finish(&ix);
    double t1 = now();

    timeline_history h[2];
    char text[128];
    snprintf(text, sizeof text, "1\t%X/%X\tpromoted\n", (uint32_t)(switch2 >> 32), (uint32_t)switch2);
    timeline_history_parse(text, strlen(text), 2, "2.history", &h[0]);
    snprintf(text, sizeof text, "1\t%X/%X\tpromoted\n2\t%X/%X\tpromoted\n",
             (uint32_t)(switch2 >> 32), (uint32_t)switch2, (uint32_t)(switch3 >> 32),
             (uint32_t)switch3);
    timeline_history_parse(text, strlen(text), 3, "3.history", &h[1]);

    /* as verify runs it: each backup lists its first 1000 gaps */
    continuity_options o = {.seg_size = SEG, .in_progress_segments = 2, .now = 1800000000,
                            .max_gaps = 1000};
    uint64_t gaps = 0, restorable = 0;
    for (size_t i = 0; i < n_backups; i++) {
        uint64_t start = 2 + (total - 10) * i / n_backups;
        uint32_t tli = start >= sw3 ? 3 : start >= sw2 ? 2 : 1;
        if (start == sw2 || start == sw3)
            start++;
        continuity_input b = {"b", tli, start * SEG + 0x28, (start + 1) * SEG + 0x100};
        backup_continuity c;
        if (continuity_analyze(&ix, h, 2, &b, &o, &c) != 0)
            return 1;
        gaps += c.n_gaps;
        restorable += c.restorable;
        continuity_free(&c);
    }
    double t2 = now();

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    size_t ranges = 0;
    for (size_t t = 0; t < ix.n_timelines; t++)
        ranges += ix.timelines[t].n_ranges;
    printf("listing: %" PRIu64 " keys (%" PRIu64 " segments on %zu timelines, %" PRIu64
           " holes) -> %zu ranges\n",
           keys, total - 1 - holes, ix.n_timelines, holes, ranges);
    printf("index build:        %.3f s\n", t1 - t0);
    printf("continuity (%zu backups, %" PRIu64 " restorable, %" PRIu64 " gap records): %.3f s\n",
           n_backups, restorable, gaps, t2 - t1);
    printf("total:              %.3f s   peak RSS: %.1f MiB\n", t2 - t0, ru.ru_maxrss / 1024.0);
    timeline_history_free(&h[0]);
    timeline_history_free(&h[1]);
    wal_index_free(&ix);
    return 0;
}
