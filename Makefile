# pgattest — build, test, install.
#   make            release build: build/pgattest
#   make check      install missing Debian packages, build with sanitizers, run every test
#   make demo       install missing Debian packages, run the end-to-end demo
#   make install    PREFIX=/usr/local DESTDIR= -> $(DESTDIR)$(PREFIX)/bin/pgattest
#   make clean

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
PKGS    := libcurl openssl lzo2 libpq libcjson libxml-2.0 libarchive libisal

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Isrc $(WARN) $(PKG_CFLAGS) -pthread
REL_CFLAGS  := $(BASE_CFLAGS) -O2 -g
TEST_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined -DPGATTEST_SANITIZED
LDLIBS   := $(PKG_LIBS) -pthread -lm

SRCS     := $(shell find src -name '*.c' | sort)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))

FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CC   ?= clang
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -DPGATTEST_SANITIZED
FUZZ_SAN  := address,undefined

REL_OBJS  := $(SRCS:%.c=build/rel/%.o)
TEST_OBJS := $(SRCS:%.c=build/test/%.o)
TEST_LIB_OBJS := $(LIB_SRCS:%.c=build/test/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=build/test/unit/%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=build/fuzz/%.o)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

.PHONY: all check test-build unit demo deps install clean pkgcheck
all: build/pgattest

pkgcheck:
	@pkg-config --exists $(PKGS) || { echo "pgattest: missing development packages (pkg-config cannot find: $$(for p in $(PKGS); do pkg-config --exists $$p || printf '%s ' $$p; done)); run 'make deps' as root" >&2; exit 1; }

# V=1 shows the full commands.
Q := $(if $(V),,@)

build/pgattest: $(REL_OBJS) | pkgcheck
	@echo "  LD      $@"
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $(REL_OBJS) $(LDLIBS)

build/rel/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(REL_CFLAGS) -MMD -MP -c -o $@ $<

build/test/pgattest: $(TEST_OBJS)
	@echo "  LD      $@ (sanitizers)"
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $(TEST_OBJS) $(LDLIBS)

build/test/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	@echo "  CC      $< (sanitizers)"
	$(Q)$(CC) $(TEST_CFLAGS) -MMD -MP -c -o $@ $<

build/test/unit/%: tests/unit/%.c tests/unit/test.h $(TEST_LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(TEST_CFLAGS) -Itests/unit -o $@ $< $(TEST_LIB_OBJS) $(LDLIBS)

# Fuzz targets (libFuzzer, clang): tests/run.sh runs each for a bounded time.
build/fuzz/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzzing)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -MMD -MP -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< $(FUZZ_LIB_OBJS) $(LDLIBS)

deps:
	@scripts/install-deps.sh

# The test build: sanitizers on, release binary too (benchmarks and the demo use it).
check: deps
	@$(MAKE) --no-print-directory test-build
	@tests/run.sh

test-build: build/test/pgattest $(UNIT_BINS) $(FUZZ_BINS) build/pgattest

unit: build/test/pgattest $(UNIT_BINS)
	@tests/run.sh --unit-only

demo: deps
	@$(MAKE) --no-print-directory build/pgattest
	@scripts/demo.sh

install: build/pgattest
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 build/pgattest $(DESTDIR)$(PREFIX)/bin/pgattest

clean:
	rm -rf build

-include $(REL_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(FUZZ_LIB_OBJS:.o=.d)

# Continuity analysis at scale (bench/verify_scale.c): 1,000,000 segments, 500 backups.
build/bench/verify_scale: bench/verify_scale.c $(filter-out build/rel/src/main.o,$(REL_OBJS))
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: bench-verify
bench-verify: build/bench/verify_scale
	@build/bench/verify_scale
