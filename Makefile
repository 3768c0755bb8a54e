# Thin front for CMake. `make help` lists the targets.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 10
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc)
MAKEFLAGS  += --no-print-directory
CTEST_ARGS ?=
# Sources to format: what git tracks (or would), else every C file of the tree (a tarball).
FMT_FILES   = $(or $(shell git ls-files -co --exclude-standard '*.c' '*.h' 2>/dev/null), \
                   $(shell find include src tests -name '*.[ch]' 2>/dev/null))

.PHONY: all deps build test unit asan asan-system fuzz fmt fmt-check install clean help run

all: build

help:
	@echo "make            build everything (installs missing Debian packages first)"
	@echo "make run        build, start a single-node system with a pool (Ctrl-C stops it)"
	@echo "make test       build, then run every test through ctest"
	@echo "make unit       build, then run only the unit tests (ctest -L unit)"
	@echo "make asan       ASan+UBSan build, then run the unit tests"
	@echo "make asan-system  ASan+UBSan build, then the system and crash tests (9-17 min)"
	@echo "make fuzz       clang build of the libFuzzer targets, each run FUZZ_SECONDS (10)"
	@echo "make fmt        clang-format the tree;  make fmt-check: fail if it is not clean"
	@echo "make install PREFIX=DIR   headers to DIR/include, libraries to DIR/lib64"
	@echo "make clean      remove the build directories"

deps:
	@scripts/install-deps.sh --check 2>/dev/null || scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit $(CTEST_ARGS)

$(ASAN_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DD_SANITIZE=ON

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) -L unit $(CTEST_ARGS)

# Not in `make test` or CI (9-17 minutes with -j2 here): every server, agent, dfuse and client
# instrumented; any process's sanitizer report fails its test (tests/common/san_wrap.sh).
asan-system: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L 'system|crash' $(CTEST_ARGS)

$(FUZZ_BUILD)/CMakeCache.txt: | deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined"

fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz
	set -e; for f in $(FUZZ_BUILD)/src/*/fuzz_*; do \
		echo "== $$f"; $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 2>&1 | tail -2; \
	done

fmt:
	clang-format -i $(FMT_FILES)

fmt-check:
	clang-format --dry-run -Werror $(FMT_FILES)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

run: build
	@scripts/run.sh $(BUILD)
