#include "catalog/manifest_writer.h"

#include <inttypes.h>
#include <string.h>

#include "common/error.h"

int json_escape_append(buf *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (buf_append(b, run, (size_t)(s - run)) != PA_OK)
            return PA_ERR;
        int rc = c == '"'    ? buf_append_str(b, "\\\"")
                 : c == '\\' ? buf_append_str(b, "\\\\")
                 : c == '\n' ? buf_append_str(b, "\\n")
                 : c == '\t' ? buf_append_str(b, "\\t")
                             : buf_appendf(b, "\\u%04x", c);
        if (rc != PA_OK)
            return PA_ERR;
        run = s + 1;
    }
    return buf_append(b, run, (size_t)(s - run));
}

/* Every entry starts with ",\n": the writer drops the comma of the manifest's first one. */
int manifest_entry_append(buf *f, const manifest_entry *e)
{
    if (buf_append_str(f, ",\n{\"path\": \"") != PA_OK || json_escape_append(f, e->path) != PA_OK)
        return PA_ERR;
    switch (e->type) {
    case MANIFEST_FILE:
        return buf_appendf(f,
                           "\", \"type\": \"file\", \"size\": %" PRIu64 ", \"mode\": %u, "
                           "\"mtime\": %" PRId64 ", \"sha256\": \"%s\", \"part\": %u}",
                           e->size, e->mode, e->mtime, e->sha256, e->part);
    case MANIFEST_DIR:
        return buf_appendf(f, "\", \"type\": \"dir\", \"mode\": %u, \"part\": %u}", e->mode,
                           e->part);
    case MANIFEST_SYMLINK:
        if (buf_append_str(f, "\", \"type\": \"symlink\", \"target\": \"") != PA_OK ||
            json_escape_append(f, e->target) != PA_OK)
            return PA_ERR;
        return buf_appendf(f, "\", \"part\": %u}", e->part);
    }
    return err_set("manifest: unknown entry type");
}

int manifest_writer_begin(manifest_writer *w, sink *out, const char *name)
{
    w->out = out;
    w->entries = 0;
    buf b;
    buf_init(&b, 4096);
    int rc = buf_appendf(&b, "{\"pgattest_manifest\": %d, \"backup\": \"", MANIFEST_FORMAT);
    if (rc == PA_OK)
        rc = json_escape_append(&b, name);
    if (rc == PA_OK)
        rc = buf_append_str(&b, "\", \"files\": [");
    if (rc == PA_OK)
        rc = sink_write(out, b.data, b.len);
    buf_free(&b);
    return rc;
}

int manifest_writer_fragment(manifest_writer *w, const buf *f)
{
    if (f->len == 0)
        return PA_OK;
    size_t skip = w->entries == 0 ? 1 : 0; /* the leading comma */
    w->entries++;
    return sink_write(w->out, f->data + skip, f->len - skip);
}

int manifest_writer_end(manifest_writer *w)
{
    return sink_write(w->out, "\n]}\n", 4);
}
