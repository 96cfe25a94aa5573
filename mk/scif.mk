# mk/scif.mk -- the SCIF backend (fabtx_scif.h) and its /dev/scif emulator.
# build/libscifemu.so: LD_PRELOAD it to run the examples over scif://
# (see docs/scif.md).  Test binaries link the emulator object instead
# (LD_PRELOAD does not mix with ASan).
SCIFEMU_SRC := test/scifemu/scifemu.c test/scifemu/scifemu.h

$(B)/scifemu.o: $(SCIFEMU_SRC) | $(B)/.dir
	$(CC) $(CSTD) $(EMU_CFLAGS) -c -o $@ test/scifemu/scifemu.c

# the preload library is built without sanitizers
$(B)/libscifemu.so: $(SCIFEMU_SRC) | $(B)/.dir
	$(CC) $(CSTD) $(OPT) $(WARN) -D_GNU_SOURCE -Itest -fPIC -shared \
		-o $@ test/scifemu/scifemu.c -ldl -lpthread

$(B)/test_scifemu: test/test_scifemu.c $(B)/scifemu.o test/tt.h | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -o $@ $< $(B)/scifemu.o $(LDLIBS_ALL) -ldl

$(B)/test_scif: test/test_scif.c fabtx.h fabtx_scif.h $(B)/scifemu.o test/tt.h | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -o $@ $< $(B)/scifemu.o $(LDLIBS_ALL) -ldl

# the examples carry the backend (run them with LD_PRELOAD=libscifemu.so)
IMPL_CFLAGS += -DFABTX_WITH_SCIF

ALL_BINS += $(B)/libscifemu.so $(B)/test_scifemu $(B)/test_scif
TEST_SUITES += test-scif

.PHONY: test-scif
test-scif: $(B)/test_scifemu $(B)/test_scif $(B)/libscifemu.so \
		$(addprefix $(B)/,$(EXAMPLES))
	sh test/run_suite.sh $(B)/results/scif.txt '$(B)/test_scifemu' \
		'$(B)/test_scif' 'sh test/test_scif_examples.sh $(B)'
