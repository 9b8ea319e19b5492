/* manifest.json as backup-push streams it: fragments in part order make one valid document. */
#include <cJSON.h>

#include "catalog/manifest_writer.h"
#include "common/error.h"
#include "test.h"

static const char *SHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void test_document(void)
{
    sink *mem = memory_sink_new(1 << 20);
    manifest_writer w;
    CHECK_EQ_INT(manifest_writer_begin(&w, mem, "base_000000010000000000000002_00000028"), PA_OK);
    buf f0, f1, empty;
    buf_init(&f0, 1 << 20);
    buf_init(&f1, 1 << 20);
    buf_init(&empty, 1 << 20);
    manifest_entry dir = {"base", MANIFEST_DIR, 0, 0700, 0, NULL, NULL, 0};
    manifest_entry file = {"global/pg_control", MANIFEST_FILE, 8192, 0600, 1700000000, SHA,
                           NULL, 0};
    manifest_entry link = {"odd \"name\"\\\n", MANIFEST_SYMLINK, 0, 0777, 0, NULL, "/x/y", 1};
    CHECK_EQ_INT(manifest_entry_append(&f0, &dir), PA_OK);
    CHECK_EQ_INT(manifest_entry_append(&f0, &file), PA_OK);
    CHECK_EQ_INT(manifest_entry_append(&f1, &link), PA_OK);
    CHECK_EQ_INT(manifest_writer_fragment(&w, &empty), PA_OK);
    CHECK_EQ_INT(manifest_writer_fragment(&w, &f0), PA_OK);
    CHECK_EQ_INT(manifest_writer_fragment(&w, &f1), PA_OK);
    CHECK_EQ_INT(manifest_writer_end(&w), PA_OK);
    size_t len;
    const char *text = memory_sink_data(mem, &len);
    cJSON *root = cJSON_ParseWithLength(text, len);
    CHECK(root != NULL);
    if (root) {
        CHECK_EQ_INT(cJSON_GetObjectItem(root, "pgattest_manifest")->valueint, 1);
        CHECK_STR(cJSON_GetObjectItem(root, "backup")->valuestring,
                  "base_000000010000000000000002_00000028");
        cJSON *files = cJSON_GetObjectItem(root, "files");
        CHECK_EQ_INT(cJSON_GetArraySize(files), 3);
        cJSON *e0 = cJSON_GetArrayItem(files, 0), *e1 = cJSON_GetArrayItem(files, 1),
              *e2 = cJSON_GetArrayItem(files, 2);
        CHECK_STR(cJSON_GetObjectItem(e0, "type")->valuestring, "dir");
        CHECK_EQ_INT(cJSON_GetObjectItem(e0, "mode")->valueint, 448);
        CHECK(cJSON_GetObjectItem(e0, "size") == NULL);
        CHECK_STR(cJSON_GetObjectItem(e1, "path")->valuestring, "global/pg_control");
        CHECK_EQ_INT(cJSON_GetObjectItem(e1, "size")->valuedouble, 8192);
        CHECK_EQ_INT(cJSON_GetObjectItem(e1, "mode")->valueint, 384);
        CHECK_EQ_INT(cJSON_GetObjectItem(e1, "mtime")->valuedouble, 1700000000);
        CHECK_STR(cJSON_GetObjectItem(e1, "sha256")->valuestring, SHA);
        CHECK_EQ_INT(cJSON_GetObjectItem(e1, "part")->valueint, 0);
        CHECK_STR(cJSON_GetObjectItem(e2, "path")->valuestring, "odd \"name\"\\\n");
        CHECK_STR(cJSON_GetObjectItem(e2, "type")->valuestring, "symlink");
        CHECK_STR(cJSON_GetObjectItem(e2, "target")->valuestring, "/x/y");
        CHECK_EQ_INT(cJSON_GetObjectItem(e2, "part")->valueint, 1);
    }
    cJSON_Delete(root);
    buf_free(&f0);
    buf_free(&f1);
    buf_free(&empty);
    sink_free(mem);
}

static void test_empty_document(void)
{
    sink *mem = memory_sink_new(1 << 16);
    manifest_writer w;
    CHECK_EQ_INT(manifest_writer_begin(&w, mem, "b"), PA_OK);
    CHECK_EQ_INT(manifest_writer_end(&w), PA_OK);
    size_t len;
    const char *text = memory_sink_data(mem, &len);
    cJSON *root = cJSON_ParseWithLength(text, len);
    CHECK(root != NULL && cJSON_GetArraySize(cJSON_GetObjectItem(root, "files")) == 0);
    cJSON_Delete(root);
    sink_free(mem);
}

static void test_escape_control_characters(void)
{
    buf b;
    buf_init(&b, 1024);
    CHECK_EQ_INT(json_escape_append(&b, "a\x01" "b\tc"), PA_OK);
    CHECK_STR(b.data, "a\\u0001b\\tc");
    buf_free(&b);
}

TEST_MAIN(TEST(test_document), TEST(test_empty_document), TEST(test_escape_control_characters))
