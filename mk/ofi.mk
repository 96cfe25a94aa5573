# mk/ofi.mk -- the libfabric backend (fabtx_ofi.h), its tests and bench.
# The examples (build/local_lat ...) carry the ofi:// backend.
IMPL_CFLAGS += -DFABTX_WITH_OFI
IMPL_LDLIBS += -lfabric

OFI_CFLAGS := $(CSTD) $(CFLAGS_ALL)

# backend ops against a stand-in core (test/test_ofi_be.c)
$(B)/test_ofi_be: test/test_ofi_be.c fabtx_ofi.h fabtx.h test/tt.h | $(B)/.dir
	$(CC) $(OFI_CFLAGS) -o $@ $< $(LDLIBS_ALL) -lfabric

# fabtx over ofi:// with the real core, between processes
$(B)/test_ofi: test/test_ofi.c fabtx_ofi.h fabtx.h test/tt.h test/th.h | $(B)/.dir
	$(CC) $(OFI_CFLAGS) -o $@ $< $(LDLIBS_ALL) -lfabric

# connection setup facing hostile peers (raw bootstrap / libfabric)
$(B)/test_ofi_hostile: test/test_ofi_hostile.c fabtx_ofi.h fabtx.h test/tt.h test/th.h | $(B)/.dir
	$(CC) $(OFI_CFLAGS) -o $@ $< $(LDLIBS_ALL) -lfabric

# one side of an exchange, for runs across network namespaces
$(B)/test_ofi_peer: test/test_ofi_peer.c fabtx_ofi.h fabtx.h | $(B)/.dir
	$(CC) $(OFI_CFLAGS) -o $@ $< $(LDLIBS_ALL) -lfabric

# bench anchor: raw fi_writedata ping-pong, fabtx's primitive alone
$(B)/fi_rma_pp: bench/fi_rma_pp.c | $(B)/.dir
	$(CC) $(OFI_CFLAGS) -o $@ $< $(LDLIBS_ALL) -lfabric

# what one endpoint of libfabric's shm provider costs to open
$(B)/fi_shm_ep: bench/fi_shm_ep.c | $(B)/.dir
	$(CC) $(OFI_CFLAGS) -o $@ $< $(LDLIBS_ALL) -lfabric

OFI_BINS := $(B)/test_ofi_be $(B)/test_ofi $(B)/test_ofi_hostile $(B)/test_ofi_peer $(B)/fi_rma_pp $(B)/fi_shm_ep
TEST_SUITES += test-ofi
ALL_BINS += $(OFI_BINS)

.PHONY: test-ofi
test-ofi: $(OFI_BINS) $(addprefix $(B)/,$(EXAMPLES))
	sh test/run_suite.sh $(B)/results/ofi.txt '$(B)/test_ofi_be' \
		'$(B)/test_ofi' '$(B)/test_ofi_hostile' 'sh test/ofi_netns.sh $(B)' \
		'bash test/ofi_examples.sh $(B)'
