# fabtx -- build, test, demo.  `make` builds into build/, `make test` runs
# every suite (make test SAN=1: under ASan+UBSan), `make demo` runs the
# shm:// ping-pong and throughput examples.  Backends and integrations add
# their rules in mk/*.mk.
CC      ?= cc
CXX     ?= c++
B       := build
WARN    := -Wall -Wextra -Werror -pedantic
CSTD    ?= -std=c11
# under ASan+UBSan -O1 (what ASan's documentation advises): the SAN build
# compiles ~40 % faster than at -O2, which the CI run's 30 minutes need
ifeq ($(SAN),1)
OPT     ?= -O1 -g
endif
OPT     ?= -O2 -g
CFLAGS_ALL := $(OPT) $(WARN) -D_GNU_SOURCE -I. -Itest
LDLIBS_ALL := -lpthread
ifeq ($(SAN),1)
  CFLAGS_ALL += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDLIBS_ALL += -fsanitize=address,undefined
  B := build/san
endif
ifeq ($(SAN),thread)
  CFLAGS_ALL += -fsanitize=thread
  LDLIBS_ALL += -fsanitize=thread
  B := build/tsan
endif
# the emulators (test/rioemu, test/scifemu) are instrumented by ASan, not
# by TSan (see mk/rio.mk)
EMU_CFLAGS := $(filter-out -fsanitize=thread,$(CFLAGS_ALL))
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

HDRS := fabtx.h $(wildcard fabtx_*.h)
EXAMPLES := local_lat remote_lat local_thr remote_thr
ALL_BINS :=
TEST_SUITES := test-core

.PHONY: all test test-core demo deps deps-auto deps-check clean format format-check bench
all: deps-check

$(B)/.dir:
	@mkdir -p $(B) && touch $@

# examples: one shared TU carries the implementation
$(B)/fabtx_impl.o: examples/fabtx_impl.c $(HDRS) | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) $(IMPL_CFLAGS) -c -o $@ $<
$(B)/%: examples/%.c $(B)/fabtx_impl.o examples/perf_common.h $(HDRS)
	$(CC) $(CSTD) $(CFLAGS_ALL) -o $@ $< $(B)/fabtx_impl.o $(LDLIBS_ALL) $(IMPL_LDLIBS)
ALL_BINS += $(addprefix $(B)/,$(EXAMPLES))

# ---- core tests ----------------------------------------------------------
CORE_TESTS := test_ring test_db test_mr test_wakeup test_shm test_hostile
CORE_TEST_BINS := $(addprefix $(B)/,$(CORE_TESTS))
$(B)/test_%: test/test_%.c $(HDRS) test/tt.h test/th.h | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -o $@ $< $(LDLIBS_ALL)
# the header as C99, C11, C++11, static, and from several translation units
$(B)/compile_c99: test/compile_main.c test/compile_other.c $(HDRS) | $(B)/.dir
	$(CC) -std=c99 $(CFLAGS_ALL) -o $@ test/compile_main.c test/compile_other.c $(LDLIBS_ALL)
$(B)/compile_c11: test/compile_main.c test/compile_other.c $(HDRS) | $(B)/.dir
	$(CC) -std=c11 $(CFLAGS_ALL) -o $@ test/compile_main.c test/compile_other.c $(LDLIBS_ALL)
$(B)/compile_cxx11: test/compile_main.c test/compile_other.c $(HDRS) | $(B)/.dir
	$(CXX) -x c++ -std=c++11 $(CFLAGS_ALL) -o $@ test/compile_main.c test/compile_other.c $(LDLIBS_ALL)
$(B)/compile_static: test/compile_static.c $(HDRS) | $(B)/.dir
	$(CC) -std=c11 $(CFLAGS_ALL) -o $@ test/compile_static.c $(LDLIBS_ALL)
COMPILE_TESTS := $(B)/compile_c99 $(B)/compile_c11 $(B)/compile_cxx11 $(B)/compile_static
# (the threaded tests again under ThreadSanitizer: mk/tsan.mk; under SAN=1
# not test/compile_headers.sh, which takes no flags of ours: the plain run's)
ALL_BINS += $(CORE_TEST_BINS) $(COMPILE_TESTS)

test-core: $(CORE_TEST_BINS) $(COMPILE_TESTS) $(addprefix $(B)/,$(EXAMPLES))
	@sh test/run_suite.sh $(B)/results/core.txt \
	  "$(B)/compile_c99" "$(B)/compile_c11" "$(B)/compile_cxx11" "$(B)/compile_static" \
	  $(if $(SAN),,"sh test/compile_headers.sh") \
	  $(foreach t,$(CORE_TESTS),"$(B)/$(t)") \
	  "bash test/examples.sh $(B)" $(CORE_EXTRA)

-include mk/*.mk

all: $(ALL_BINS)

# ---- tests -------------------------------------------------------------
test: deps-auto
	@mkdir -p $(B)/results; rm -f $(B)/results/*.txt; \
	$(MAKE) --no-print-directory -k $(TEST_SUITES) ; \
	sh test/summarize.sh $(B)/results

demo: deps-auto
	@$(MAKE) --no-print-directory $(addprefix $(B)/,$(EXAMPLES))
	sh examples/demo.sh $(B)

# install what is missing (as root), or print the exact apt-get line
deps:
	sh scripts/deps.sh
deps-auto:
	@sh scripts/deps.sh --auto
deps-check:
	@sh scripts/deps.sh --check || true

format:
	clang-format -i fabtx*.h examples/*.c examples/*.h test/*.c test/*.h

format-check:
	clang-format --dry-run --Werror fabtx*.h

clean:
	rm -rf build
