# mk/hot19.mk -- instructions per message (issue 19's profiles, docs/bench.md
# "Profiles (issue 19)").
#   make bench-ir   bench/ir.sh: callgrind Ir per message of the send and
#                   receive paths (build/bench_irmsg: both ends in one
#                   thread, no polling), unaffected by machine load
$(BENCH_B)/bench_irmsg: bench/irmsg.c $(BENCH_B)/fabtx_impl.o examples/perf_common.h $(HDRS)
	$(CC) $(CSTD) $(OPT) $(WARN) -D_GNU_SOURCE -I. -Iexamples -o $@ $< \
		$(BENCH_B)/fabtx_impl.o -lpthread $(IMPL_LDLIBS)

.PHONY: bench-ir
bench-ir:
	@$(MAKE) --no-print-directory SAN= $(BENCH_B)/bench_irmsg
	bash bench/ir.sh

ifeq ($(SAN),)
ALL_BINS += $(BENCH_B)/bench_irmsg
endif
