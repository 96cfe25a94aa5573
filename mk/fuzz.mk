# mk/fuzz.mk -- fuzz targets (test/fuzz/fuzz_*.c, issue 16).
#   make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="fuzz_ring ..."]
#       builds each target with clang -fsanitize=fuzzer,address,undefined
#       into build/fuzz/ and runs it N seconds (default 60) from its seed
#       corpus (test/fuzz/corpus/NAME) plus what earlier runs found
#       (build/fuzz/corpus/NAME); prints executions and coverage per
#       target.  Crashes land in build/fuzz/artifacts/.
#   make test-fuzz (part of make test)
#       replays every seed corpus through a plain build of each target
#       ($(CC), and ASan+UBSan under SAN=1); with CI=true or FUZZ_CI=1
#       (and not SAN=, the fuzz builds carry their own sanitizers) it also
#       fuzzes each target for FUZZ_CI_SECONDS (10: a smoke run; `make fuzz`
#       is the long one).
FUZZ_ALL := fuzz_url fuzz_handshake fuzz_ring fuzz_ofi fuzz_scif fuzz_rio
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 10
FUZZ_CC ?= clang
FUZZ_B := build/fuzz
FUZZ_FLAGS := -g -O1 $(WARN) -std=c11 -D_GNU_SOURCE -I. -Itest \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_LIBS_fuzz_url := -lfabric
FUZZ_LIBS_fuzz_ofi := -lfabric
FUZZ_DEPS := test/fuzz/fz.h $(HDRS)

$(FUZZ_B)/.dir:
	@mkdir -p $(FUZZ_B) && touch $@
$(FUZZ_B)/fuzz_%: test/fuzz/fuzz_%.c $(FUZZ_DEPS) | $(FUZZ_B)/.dir
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< -lpthread $(FUZZ_LIBS_fuzz_$*)
# the same target with a corpus-replaying main (test/fuzz/replay.c)
$(B)/replay_fuzz_%: test/fuzz/fuzz_%.c test/fuzz/replay.c $(FUZZ_DEPS) | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -o $@ $< test/fuzz/replay.c $(LDLIBS_ALL) \
		$(FUZZ_LIBS_fuzz_$*)

FUZZ_BINS := $(addprefix $(FUZZ_B)/,$(FUZZ_TARGETS))
REPLAY_BINS := $(addprefix $(B)/replay_,$(FUZZ_ALL))
ALL_BINS += $(REPLAY_BINS)
TEST_SUITES += test-fuzz

ifneq ($(filter true 1,$(CI) $(FUZZ_CI)),)
ifeq ($(SAN),)
FUZZ_IN_TEST := 1
endif
endif

.PHONY: fuzz fuzz-build test-fuzz
fuzz-build: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	@sh test/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

test-fuzz: $(REPLAY_BINS) $(if $(FUZZ_IN_TEST),$(addprefix $(FUZZ_B)/,$(FUZZ_ALL)))
	@sh test/run_suite.sh $(B)/results/fuzz.txt \
	  $(foreach t,$(FUZZ_ALL),"$(B)/replay_$(t) test/fuzz/corpus/$(t:fuzz_%=%)") \
	  $(if $(FUZZ_IN_TEST),"sh test/fuzz/run.sh $(FUZZ_B) $(FUZZ_CI_SECONDS) $(FUZZ_ALL)")
