# mk/tsan.mk -- the tests whose processes run threads of their own (an
# accept thread beside a connecting one: th_pair; the rio backend's setup
# thread), again under ThreadSanitizer: `make test-tsan`, part of the plain
# `make test` (the SAN=1 run has ASan instead; TSan cannot be combined).
# The emulators are linked uninstrumented ($(B)/rioemu.o of the plain
# build): they define open, mmap, read ... which TSan's runtime calls while
# it starts.  From test_ofi only the tests that run two threads in one
# process: in the others each process has one thread of ours, and the
# sockets provider's progress thread writing into our windows is what an
# RDMA NIC does, which TSan cannot tell from a race.
ifeq ($(SAN),)
TSAN_FLAGS := $(CSTD) -O1 -g $(WARN) -D_GNU_SOURCE -I. -Itest -fsanitize=thread
TSAN_CORE := test_ring test_db test_hostile test_shm test_wakeup
TSAN_OFI := sockets_early_endpoint_guess_is_confirmed_or_discarded \
	shm_rdm_client_endpoint_opens_early \
	shm_rdm_peer_dead_holding_our_region_lock_hangs_nobody \
	shm_rdm_peer_dead_holding_its_region_lock_hangs_nobody \
	shm_rdm_commands_a_dead_peer_left_under_our_lock_are_dropped \
	shm_rdm_lock_guard_thread_ends_with_the_last_connection \
	shm_rdm_a_spare_endpoint_serves_the_next_connection

$(B)/tsan_test_%: test/test_%.c $(HDRS) test/tt.h test/th.h | $(B)/.dir
	$(CC) $(TSAN_FLAGS) -o $@ $< -lpthread
$(B)/tsan_test_rio: test/test_rio.c $(B)/rioemu.o $(HDRS) test/tt.h | $(B)/.dir
	$(CC) $(TSAN_FLAGS) -o $@ $< $(B)/rioemu.o -lpthread -ldl
$(B)/tsan_test_ofi: test/test_ofi.c $(HDRS) test/tt.h test/th.h | $(B)/.dir
	$(CC) $(TSAN_FLAGS) -o $@ $< -lpthread -lfabric

TSAN_BINS := $(addprefix $(B)/tsan_,$(TSAN_CORE)) $(B)/tsan_test_rio \
	$(B)/tsan_test_ofi
ALL_BINS += $(TSAN_BINS)
TEST_SUITES += test-tsan

.PHONY: test-tsan
test-tsan: $(TSAN_BINS)
	@sh test/run_suite.sh $(B)/results/tsan.txt \
	  $(foreach t,$(TSAN_CORE),"$(B)/tsan_$(t)") "$(B)/tsan_test_rio" \
	  "$(B)/tsan_test_ofi $(TSAN_OFI)"
endif
