# mk/bench.mk -- make bench (issue 19; docs/bench.md).
#   make bench        fabtx against the anchors and the physical floors, every
#                     backend here, >= 5 rounds, tables + plots in build/bench/
#                     (10-14 min on a quiet 2-CPU machine; builds libzmq once
#                     first, as `make zmq`, unless BENCH_ZMQ=0)
#   make bench-quick  the same machinery with fewer sizes and 2 short rounds
#                     into build/bench-quick/ (1-2 minutes)
#   make test-bench   bench-quick, then bench/check.py: every table has rows
#                     of numbers, ratios and targets, every plot is a PNG
#                     (no timing thresholds); not under SAN=1
# Overrides: BENCH_ROUNDS, BENCH_SIZES, BENCH_OFI_SIZES, BENCH_SIDE_SIZES,
# BENCH_TIME_MS, BENCH_OUT ... (bench/run.sh's header).  The perf tools
# are always the optimised build in build/, never a sanitizer build.
BENCH_B := build
BENCH_TOOLS := $(addprefix $(BENCH_B)/,$(EXAMPLES) bench_phys bench_fanin)
# (deferred: mk/rio.mk and mk/scif.mk are read after this file)
BENCH_EMUS = $(filter %/librioemu.so %/libscifemu.so,$(ALL_BINS))
BENCH_ZMQ ?= 1

# the floors: no fabtx in it
$(BENCH_B)/bench_phys: bench/phys.c | $(BENCH_B)/.dir
	$(CC) $(CSTD) $(OPT) $(WARN) -D_GNU_SOURCE -o $@ $< -lpthread
# fan-in: the examples' implementation unit, every backend of the build
$(BENCH_B)/bench_fanin: bench/fanin.c $(BENCH_B)/fabtx_impl.o examples/perf_common.h $(HDRS)
	$(CC) $(CSTD) $(OPT) $(WARN) -D_GNU_SOURCE -I. -Iexamples -o $@ $< \
		$(BENCH_B)/fabtx_impl.o -lpthread $(IMPL_LDLIBS)
ifneq ($(BENCH_B),$(B))
$(BENCH_B)/.dir:
	@mkdir -p $(BENCH_B) && touch $@
endif

.PHONY: bench bench-quick test-bench bench-tools
bench-tools:
	@$(MAKE) --no-print-directory SAN= $(BENCH_TOOLS) \
		$(patsubst $(B)/%,$(BENCH_B)/%,$(BENCH_EMUS))

bench: deps-auto bench-tools
ifeq ($(BENCH_ZMQ),1)
	@$(MAKE) --no-print-directory SAN= zmq
endif
	bash bench/run.sh

bench-quick: deps-auto bench-tools
	bash bench/run.sh --quick

# CI: the quick run and a check of what it wrote (not of the figures)
test-bench: bench-tools
	@mkdir -p $(B)/results
	@sh test/run_suite.sh $(B)/results/bench.txt \
		"BENCH_OUT=$(BENCH_B)/bench-ci bash bench/run.sh --quick" \
		"python3 bench/check.py $(BENCH_B)/bench-ci"

ifeq ($(SAN),)
TEST_SUITES += test-bench
ALL_BINS += $(BENCH_B)/bench_phys $(BENCH_B)/bench_fanin
endif
