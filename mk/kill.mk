# mk/kill.mk -- kill trials (test/kill_trials.c, issue 16): a peer
# SIGKILLed at random points, both directions, messages from 0 B to 3 ring
# sizes, over shm://, ofi:// tcp and tcp;ofi_rxm, and the rio and scif
# emulators.
#   make kill-trials [KILL_TRIALS=50]   per backend
#   make test-kill (part of make test): KILL_CI_TRIALS (20) per backend
#       with CI=true or KILL_CI=1, else 4
KILL_TRIALS ?= 50
KILL_CI_TRIALS ?= 20
KT_FLAGS := $(CSTD) $(CFLAGS_ALL)

$(B)/kill_trials: test/kill_trials.c $(HDRS) test/tt.h | $(B)/.dir
	$(CC) $(KT_FLAGS) -o $@ $< $(LDLIBS_ALL) -lfabric
$(B)/kill_trials_rio: test/kill_trials.c $(B)/rioemu.o $(HDRS) test/tt.h | $(B)/.dir
	$(CC) $(KT_FLAGS) -DKT_RIO -o $@ $< $(B)/rioemu.o $(LDLIBS_ALL) -ldl
$(B)/kill_trials_scif: test/kill_trials.c $(B)/scifemu.o $(HDRS) test/tt.h | $(B)/.dir
	$(CC) $(KT_FLAGS) -DKT_SCIF -o $@ $< $(B)/scifemu.o $(LDLIBS_ALL) -ldl
KT_BINS := $(B)/kill_trials $(B)/kill_trials_rio $(B)/kill_trials_scif
ALL_BINS += $(KT_BINS)
TEST_SUITES += test-kill

# one test per backend; tt.h's alarm bounds each (TT_TIMEOUT_S)
kt_cmds = "TT_TIMEOUT_S=900 $(B)/kill_trials shm $(1)" \
	"TT_TIMEOUT_S=900 $(B)/kill_trials ofi $(1)" \
	"TT_TIMEOUT_S=900 $(B)/kill_trials rxm $(1)" \
	"TT_TIMEOUT_S=900 $(B)/kill_trials_rio rio $(1)" \
	"TT_TIMEOUT_S=900 $(B)/kill_trials_scif scif $(1)"

ifneq ($(filter true 1,$(CI) $(KILL_CI)),)
KT_TEST_TRIALS := $(KILL_CI_TRIALS)
else
KT_TEST_TRIALS := 4
endif

.PHONY: kill-trials test-kill
kill-trials: $(KT_BINS)
	@sh test/run_suite.sh $(B)/results/kill-full.txt $(call kt_cmds,$(KILL_TRIALS))
test-kill: $(KT_BINS)
	@sh test/run_suite.sh $(B)/results/kill.txt $(call kt_cmds,$(KT_TEST_TRIALS))
