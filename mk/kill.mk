# mk/kill.mk -- kill trials (test/kill_trials.c, issue 16): a peer
# SIGKILLed at random points, both directions, messages from 0 B to 3 ring
# sizes, over shm://, ofi:// tcp and tcp;ofi_rxm, and the rio and scif
# emulators.
#   make kill-trials [KILL_TRIALS=50]   per backend
#   make test-kill (part of make test): KILL_CI_TRIALS (10) per backend
#       with CI=true or KILL_CI=1, else 4
KILL_TRIALS ?= 50
KILL_CI_TRIALS ?= 10
KT_FLAGS := $(CSTD) $(CFLAGS_ALL)

$(B)/kill_trials: test/kill_trials.c $(HDRS) test/tt.h test/th.h | $(B)/.dir
	$(CC) $(KT_FLAGS) -o $@ $< $(LDLIBS_ALL) -lfabric
$(B)/kill_trials_rio: test/kill_trials.c $(B)/rioemu.o $(HDRS) test/tt.h test/th.h | $(B)/.dir
	$(CC) $(KT_FLAGS) -DKT_RIO -o $@ $< $(B)/rioemu.o $(LDLIBS_ALL) -ldl
$(B)/kill_trials_scif: test/kill_trials.c $(B)/scifemu.o $(HDRS) test/tt.h test/th.h | $(B)/.dir
	$(CC) $(KT_FLAGS) -DKT_SCIF -o $@ $< $(B)/scifemu.o $(LDLIBS_ALL) -ldl
KT_BINS := $(B)/kill_trials $(B)/kill_trials_rio $(B)/kill_trials_scif
ALL_BINS += $(KT_BINS)
TEST_SUITES += test-kill

# one test per backend; tt.h's alarm bounds each (TT_TIMEOUT_S)
kt_cmds = "TT_TIMEOUT_S=900 $(B)/kill_trials shm $(1)" \
	"TT_TIMEOUT_S=900 $(B)/kill_trials ofi $(1)" \
	"TT_TIMEOUT_S=900 $(B)/kill_trials rxm $(1)" \
	"TT_TIMEOUT_S=900 $(B)/kill_trials ofishm $(1)" \
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

# Fault trials (test/fault_trials.c) over shm:// (built with FABTX_FAULTS:
# the shm backend's own knobs) and the rio and scif emulators, with their
# fault knobs (test/rioemu, test/scifemu): random knobs per peer, and
# a second run with knobs on the survivor too.
#   make fault-trials [FAULT_TRIALS=100]
#   make test-fault (part of make test): FAULT_CI_TRIALS (5) with CI=true
#       or KILL_CI=1, else 3
FAULT_TRIALS ?= 100
FAULT_CI_TRIALS ?= 5
$(B)/fault_trials_rio: test/fault_trials.c $(B)/rioemu.o $(HDRS) test/tt.h test/th.h | $(B)/.dir
	$(CC) $(KT_FLAGS) -DFT_RIO -o $@ $< $(B)/rioemu.o $(LDLIBS_ALL) -ldl
$(B)/fault_trials_scif: test/fault_trials.c $(B)/scifemu.o $(HDRS) test/tt.h test/th.h | $(B)/.dir
	$(CC) $(KT_FLAGS) -o $@ $< $(B)/scifemu.o $(LDLIBS_ALL) -ldl
$(B)/fault_trials_shm: test/fault_trials.c $(HDRS) test/tt.h test/th.h | $(B)/.dir
	$(CC) $(KT_FLAGS) -DFT_SHM -DFABTX_FAULTS -o $@ $< $(LDLIBS_ALL)
FT_BINS := $(B)/fault_trials_shm $(B)/fault_trials_rio $(B)/fault_trials_scif
ALL_BINS += $(FT_BINS)
TEST_SUITES += test-fault
ft_cmds = "TT_TIMEOUT_S=1800 $(B)/fault_trials_shm $(1)" \
	"FABTX_SHM_FAULT_SEED=7 FABTX_SHM_EAGAIN=300 FABTX_SHM_DROP_DB=100 FABTX_SHM_DUP_DB=50 TT_TIMEOUT_S=1800 $(B)/fault_trials_shm $(1)" \
	"TT_TIMEOUT_S=1800 $(B)/fault_trials_rio $(1)" \
	"TT_TIMEOUT_S=1800 $(B)/fault_trials_scif $(1)" \
	"FABTX_RIOEMU_FAULT_SEED=7 FABTX_RIOEMU_EBUSY=300 FABTX_RIOEMU_DROP_DB=50 FABTX_RIOEMU_DUP_DB=50 TT_TIMEOUT_S=1800 $(B)/fault_trials_rio $(1)" \
	"FABTX_SCIFEMU_FAULT_SEED=7 FABTX_SCIFEMU_EAGAIN=300 FABTX_SCIFEMU_SHORT=100 TT_TIMEOUT_S=1800 $(B)/fault_trials_scif $(1)"
ifneq ($(filter true 1,$(CI) $(KILL_CI)),)
FT_TEST_TRIALS := $(FAULT_CI_TRIALS)
else
FT_TEST_TRIALS := 3
endif
.PHONY: fault-trials test-fault
fault-trials: $(FT_BINS)
	@sh test/run_suite.sh $(B)/results/fault-full.txt $(call ft_cmds,$(FAULT_TRIALS))
test-fault: $(FT_BINS)
	@sh test/run_suite.sh $(B)/results/fault.txt $(call ft_cmds,$(FT_TEST_TRIALS))
