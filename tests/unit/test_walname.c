/* WAL file names and positions. */
#include "pg/walname.h"
#include "test.h"

static void test_classify(void)
{
    wal_file_name w;
    CHECK_EQ_INT(wal_name_parse("000000010000000000000001", &w), WAL_SEGMENT);
    CHECK_EQ_INT(w.timeline, 1);
    CHECK_EQ_INT(w.log, 0);
    CHECK_EQ_INT(w.seg, 1);
    CHECK_EQ_INT(wal_name_parse("0000000A00000003000000FF", &w), WAL_SEGMENT);
    CHECK_EQ_INT(w.timeline, 10);
    CHECK_EQ_INT(w.log, 3);
    CHECK_EQ_INT(w.seg, 255);
    CHECK_EQ_INT(wal_name_parse("000000010000000000000001.partial", &w), WAL_PARTIAL);
    CHECK_EQ_INT(wal_name_parse("000000010000000000000002.00000028.backup", &w),
                 WAL_BACKUP_HISTORY);
    CHECK_EQ_INT(w.offset, 0x28);
    CHECK_EQ_INT(wal_name_parse("00000002.history", &w), WAL_HISTORY);
    CHECK_EQ_INT(w.timeline, 2);
}

static void test_invalid(void)
{
    const char *bad[] = {"", "00000001", "0000000100000000000000",
                         "0000000100000000000000011", "00000001000000000000000g",
                         "000000010000000000000001.part", "00000000.history",
                         "000000000000000000000001", "00000001.History",
                         "0000000100000000000000aa", "000000010000000000000002.0000028.backup",
                         "../00000001000000000000001", "RECOVERYXLOG"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (wal_name_parse(bad[i], NULL) != WAL_INVALID)
            fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
        CHECK_EQ_INT(wal_name_parse(bad[i], NULL), WAL_INVALID);
    }
}

static void test_segno(void)
{
    uint32_t mb16 = 16u * 1024 * 1024;
    CHECK_EQ_INT(wal_segno(0, 1, mb16), 1);
    CHECK_EQ_INT(wal_segno(1, 0, mb16), 256);
    CHECK_EQ_INT(wal_segno(2, 5, 1024u * 1024 * 1024), 2 * 4 + 5);
    char name[WAL_NAME_LEN + 1];
    wal_segment_name(name, 1, 256 + 0xFF, mb16);
    CHECK_STR(name, "0000000100000001000000FF");
    wal_segment_name(name, 3, 9, 64u * 1024 * 1024);
    CHECK_STR(name, "000000030000000000000009");
    wal_segment_name(name, 3, 64 + 9, 64u * 1024 * 1024);
    CHECK_STR(name, "000000030000000100000009");
    CHECK_EQ_INT(wal_lsn_segno(0x16B374D848ULL, mb16), 0x16B374D848ULL / mb16);
    CHECK(wal_seg_size_valid(mb16));
    CHECK(!wal_seg_size_valid(mb16 + 1));
    CHECK(!wal_seg_size_valid(512 * 1024));
    CHECK(wal_seg_size_valid(1024u * 1024 * 1024));
}

static void test_lsn(void)
{
    uint64_t lsn;
    CHECK(lsn_parse("16/B374D848", &lsn));
    CHECK(lsn == 0x16B374D848ULL);
    char text[20];
    lsn_format(text, lsn);
    CHECK_STR(text, "16/B374D848");
    lsn_format(text, 0);
    CHECK_STR(text, "0/0");
    CHECK(!lsn_parse("16/", &lsn));
    CHECK(!lsn_parse("16/B374D848x", &lsn));
    CHECK(!lsn_parse("", &lsn));
}

TEST_MAIN(TEST(test_classify), TEST(test_invalid), TEST(test_segno), TEST(test_lsn))
