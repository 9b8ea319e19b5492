/*
 * test.h — a minimal unit-test harness. Each test file defines test functions and a
 * TEST_MAIN listing them. A failed CHECK reports file:line and fails the test but goes on.
 * The binary prints one "ok"/"FAIL" line per test and a summary "N passed, N failed".
 */
#ifndef PGATTEST_TEST_H
#define PGATTEST_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_current_failed;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            test_current_failed = 1;                                               \
        }                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                   \
    do {                                                                                     \
        long long _a = (long long)(a), _b = (long long)(b);                                  \
        if (_a != _b) {                                                                      \
            fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
                    #b, _a, _b);                                                             \
            test_current_failed = 1;                                                         \
        }                                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                                        \
    do {                                                                                       \
        const char *_a = (a), *_b = (b);                                                       \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                               \
            fprintf(stderr, "  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
                    #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");                           \
            test_current_failed = 1;                                                           \
        }                                                                                      \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                          \
    do {                                                                                     \
        const char *_h = (hay), *_n = (needle);                                              \
        if (!_h || !strstr(_h, _n)) {                                                        \
            fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                    _h ? _h : "(null)", _n);                                                 \
            test_current_failed = 1;                                                         \
        }                                                                                    \
    } while (0)

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

#define TEST(name) {#name, name}

static inline int test_run_all(const char *file, const test_case *tests, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        test_current_failed = 0;
        tests[i].fn();
        if (test_current_failed) {
            printf("FAIL %s: %s\n", file, tests[i].name);
            failed++;
        } else {
            printf("ok   %s: %s\n", file, tests[i].name);
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define TEST_MAIN(...)                                                              \
    int main(void)                                                                  \
    {                                                                               \
        static const test_case tests[] = {__VA_ARGS__};                             \
        return test_run_all(__FILE__, tests, sizeof tests / sizeof tests[0]);       \
    }

/* Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
static inline void test_random_bytes(void *out, size_t n, unsigned long long seed)
{
    unsigned long long x = seed * 2654435761ULL + 88172645463325252ULL;
    unsigned char *p = out;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
}

#endif
