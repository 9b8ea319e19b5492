/* manifest.json: parse, look up, refuse malformed or foreign manifests. */
#include "catalog/manifest_index.h"
#include "common/error.h"
#include "test.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *json, manifest_index *m)
{
    return manifest_index_parse(json, strlen(json), "test/manifest.json", "base_X", m);
}

static void test_parse_and_find(void)
{
    manifest_index m;
    const char *json =
        "{\"pgattest_manifest\": 1, \"backup\": \"base_X\", \"files\": ["
        "{\"path\": \".\", \"type\": \"dir\", \"mode\": 448, \"part\": 0},"
        "{\"path\": \"global/pg_control\", \"type\": \"file\", \"size\": 8192, \"mode\": 384,"
        " \"mtime\": 1700000000, \"sha256\": \"" SHA "\", \"part\": 0},"
        "{\"path\": \"./base\", \"type\": \"dir\", \"mode\": 448, \"part\": 1},"
        "{\"path\": \"x\", \"type\": \"symlink\", \"target\": \"base\", \"part\": 2}]}";
    CHECK_EQ_INT(parse(json, &m), PA_OK);
    CHECK_EQ_INT(m.n, 3); /* the root entry is not a member to check */
    manifest_index_entry *e = manifest_index_find(&m, "global/pg_control");
    CHECK(e && e->type == MI_FILE && e->size == 8192 && e->part == 0 &&
          strcmp(e->sha256, SHA) == 0);
    e = manifest_index_find(&m, "base");
    CHECK(e && e->type == MI_DIR && e->part == 1);
    e = manifest_index_find(&m, "x");
    CHECK(e && e->type == MI_SYMLINK && strcmp(e->target, "base") == 0);
    CHECK(manifest_index_find(&m, "nothing") == NULL);
    manifest_index_free(&m);
}

static void test_refuses(void)
{
    manifest_index m;
    CHECK_EQ_INT(parse("{\"pgattest_manifest\": 1, \"backup\": \"base_Y\", \"files\": []}", &m),
                 PA_ERR);
    CHECK_CONTAINS(err_msg(), "belongs to backup \"base_Y\"");
    CHECK_EQ_INT(parse("{\"backup\": \"base_X\", \"files\": []}", &m), PA_ERR);
    CHECK_CONTAINS(err_msg(), "pgattest_manifest");
    CHECK_EQ_INT(parse("{\"pgattest_manifest\": 1, \"backup\": \"base_X\", \"files\": [", &m),
                 PA_ERR);
    CHECK_CONTAINS(err_msg(), "not valid JSON");
    CHECK_EQ_INT(parse("{\"pgattest_manifest\": 1, \"backup\": \"base_X\", \"files\": ["
                       "{\"path\": \"a\", \"type\": \"file\", \"size\": 1, \"part\": 0}]}",
                       &m),
                 PA_ERR);
    CHECK_CONTAINS(err_msg(), "\"a\" needs \"size\" and a 64-digit \"sha256\"");
    CHECK_EQ_INT(parse("{\"pgattest_manifest\": 1, \"backup\": \"base_X\", \"files\": ["
                       "{\"path\": \"../a\", \"type\": \"dir\", \"part\": 0}]}",
                       &m),
                 PA_ERR);
    CHECK_CONTAINS(err_msg(), "\"..\"");
    CHECK_EQ_INT(parse("{\"pgattest_manifest\": 1, \"backup\": \"base_X\", \"files\": ["
                       "{\"path\": \"a\", \"type\": \"dir\", \"part\": 0},"
                       "{\"path\": \"./a\", \"type\": \"dir\", \"part\": 0}]}",
                       &m),
                 PA_ERR);
    CHECK_CONTAINS(err_msg(), "listed twice");
    CHECK_EQ_INT(parse("{\"pgattest_manifest\": 1, \"backup\": \"base_X\", \"files\": ["
                       "{\"path\": \"a\", \"type\": \"fifo\", \"part\": 0}]}",
                       &m),
                 PA_ERR);
    CHECK_CONTAINS(err_msg(), "unknown type");
}

TEST_MAIN(TEST(test_parse_and_find), TEST(test_refuses))
