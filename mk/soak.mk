# mk/soak.mk -- soak runs (test/soak.c, issue 16).
#   make soak [SOAK_MESSAGES=N]   N messages (default 10 million) over one
#       shm:// and one ofi:// (tcp) connection, and N/4 from 16 clients
#       opening and closing connections into one listener, per scheme;
#       every byte checked; messages, bytes, errors, RSS start/middle/end.
#   make test-soak (part of make test): the same with SOAK_CI_MESSAGES
#       (200000) when CI=true or SOAK_CI=1, else skipped quickly.
SOAK_MESSAGES ?= 10000000
SOAK_CI_MESSAGES ?= 200000

$(B)/soak: test/soak.c $(HDRS) | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -o $@ $< $(LDLIBS_ALL) -lfabric
ALL_BINS += $(B)/soak
TEST_SUITES += test-soak

soak_cmds = "$(B)/soak pair shm $(1)" "$(B)/soak pair ofi $(1)" \
	"$(B)/soak fanin shm $(shell expr $(1) / 4)" \
	"$(B)/soak fanin ofi $(shell expr $(1) / 4)"

.PHONY: soak test-soak
soak: $(B)/soak
	@sh test/run_suite.sh $(B)/results/soak-full.txt $(call soak_cmds,$(SOAK_MESSAGES))

ifneq ($(filter true 1,$(CI) $(SOAK_CI)),)
test-soak: $(B)/soak
	@sh test/run_suite.sh $(B)/results/soak.txt $(call soak_cmds,$(SOAK_CI_MESSAGES))
else
test-soak: $(B)/soak
	@sh test/run_suite.sh $(B)/results/soak.txt "$(B)/soak pair shm 20000"
endif
