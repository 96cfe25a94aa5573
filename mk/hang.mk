# mk/hang.mk -- the sockets provider's stall (docs/ofi.md): 64 MiB round
# trips in a network namespace with small TCP receive buffers.  A long run
# (about a minute), not part of `make test`:
#   make test-ofi-stall [STALL_RUNS=5]
$(B)/test_ofi_stall: test/test_ofi_stall.c fabtx_ofi.h fabtx.h test/tt.h test/th.h | $(B)/.dir
	$(CC) $(OFI_CFLAGS) -o $@ $< $(LDLIBS_ALL) -lfabric

ALL_BINS += $(B)/test_ofi_stall
STALL_RUNS ?= 5

.PHONY: test-ofi-stall
test-ofi-stall: $(B)/test_ofi_stall
	sh test/ofi_sockets_stall.sh $(B) $(STALL_RUNS)
