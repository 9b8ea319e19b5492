#include "pg/timeline_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pg/walname.h"

#define MAX_HISTORY_ENTRIES 100000

static int parse_line(const char *line, size_t len, timeline_switch *out)
{
    /* "parent<ws>X/X<ws>reason" — PostgreSQL reads it with sscanf("%u\t%X/%X"). */
    char copy[128];
    size_t n = len < sizeof copy - 1 ? len : sizeof copy - 1;
    memcpy(copy, line, n);
    copy[n] = '\0';
    unsigned int parent, hi, lo;
    int used = 0;
    if (sscanf(copy, "%u%*[ \t]%X/%X%n", &parent, &hi, &lo, &used) != 3)
        return PA_ERR;
    if (copy[used] != '\0' && copy[used] != '\t' && copy[used] != ' ' && copy[used] != '\r')
        return PA_ERR;
    out->parent = parent;
    out->switchpoint = (uint64_t)hi << 32 | lo;
    return PA_OK;
}

int timeline_history_parse(const char *text, size_t len, uint32_t timeline, const char *where,
                           timeline_history *out)
{
    memset(out, 0, sizeof *out);
    out->timeline = timeline;
    size_t cap = 0, lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        lineno++;
        const char *s = p;
        while (s < line_end && (*s == ' ' || *s == '\t' || *s == '\r'))
            s++;
        if (s < line_end && *s != '#') {
            timeline_switch sw;
            if (parse_line(s, (size_t)(line_end - s), &sw) != PA_OK) {
                err_set("%s: line %zu: expected \"parentTLI<TAB>X/X<TAB>reason\"", where, lineno);
                goto fail;
            }
            if (sw.parent == 0 || sw.parent >= timeline) {
                err_set("%s: line %zu: parent timeline %u is not below timeline %u", where,
                        lineno, sw.parent, timeline);
                goto fail;
            }
            if (out->n > 0 && (sw.parent <= out->switches[out->n - 1].parent ||
                               sw.switchpoint < out->switches[out->n - 1].switchpoint)) {
                err_set("%s: line %zu: timelines and switchpoints must increase", where, lineno);
                goto fail;
            }
            if (out->n == MAX_HISTORY_ENTRIES) {
                err_set("%s: more than %d entries", where, MAX_HISTORY_ENTRIES);
                goto fail;
            }
            if (out->n == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                timeline_switch *ns = realloc(out->switches, ncap * sizeof *ns);
                if (!ns) {
                    err_set("out of memory");
                    goto fail;
                }
                out->switches = ns;
                cap = ncap;
            }
            out->switches[out->n++] = sw;
        }
        p = nl ? nl + 1 : end;
    }
    if (out->n == 0 && timeline > 1) {
        err_set("%s: no entries, but timeline %u must have a parent", where, timeline);
        goto fail;
    }
    return PA_OK;
fail:
    timeline_history_free(out);
    return PA_ERR;
}

void timeline_history_free(timeline_history *h)
{
    free(h->switches);
    h->switches = NULL;
    h->n = 0;
}

int timeline_history_end_of(const timeline_history *h, uint32_t ancestor, uint64_t *end)
{
    if (ancestor == h->timeline) {
        *end = UINT64_MAX;
        return 1;
    }
    for (size_t i = 0; i < h->n; i++)
        if (h->switches[i].parent == ancestor) {
            *end = h->switches[i].switchpoint;
            return 1;
        }
    return 0;
}
