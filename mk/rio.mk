# RapidIO backend (fabtx_rio.h) and its emulator (test/rioemu/).
# build/librioemu.so: LD_PRELOAD emulator for unmodified programs (built
# without sanitizers so it can be preloaded into any binary);
# $(B)/rioemu.o: the same code linked into the test binaries (ASan-safe).
# the examples (build/local_lat ...) carry the rio:// backend
IMPL_CFLAGS += -DFABTX_WITH_RIO

RIOEMU_SRC := test/rioemu/rioemu.c test/rioemu/rioemu.h
RIO_TEST_CFLAGS := $(CSTD) $(CFLAGS_ALL)

# Under TSan the emulator itself is not instrumented (EMU_CFLAGS): it
# defines open, mmap, read ... and TSan's runtime calls them while it starts,
# before instrumented code may run.
$(B)/rioemu.o: $(RIOEMU_SRC) | $(B)/.dir
	$(CC) $(CSTD) $(EMU_CFLAGS) -c -o $@ test/rioemu/rioemu.c
$(B)/librioemu.so: $(RIOEMU_SRC) | $(B)/.dir
	$(CC) $(CSTD) $(filter-out -fsanitize%,$(CFLAGS_ALL)) -fPIC -shared \
		-o $@ test/rioemu/rioemu.c -lpthread -ldl
$(B)/test_rioemu: test/test_rioemu.c $(B)/rioemu.o test/tt.h | $(B)/.dir
	$(CC) $(RIO_TEST_CFLAGS) -o $@ $< $(B)/rioemu.o $(LDLIBS_ALL) -ldl

$(B)/test_rio: test/test_rio.c $(B)/rioemu.o fabtx_rio.h $(HDRS) test/tt.h | $(B)/.dir
	$(CC) $(RIO_TEST_CFLAGS) -o $@ $< $(B)/rioemu.o $(LDLIBS_ALL) -ldl

RIO_BINS := $(B)/librioemu.so $(B)/test_rioemu $(B)/test_rio
TEST_SUITES += test-rio
ALL_BINS += $(RIO_BINS)

.PHONY: test-rio
test-rio: $(RIO_BINS) $(addprefix $(B)/,$(EXAMPLES))
	sh test/run_suite.sh $(B)/results/rio.txt '$(B)/test_rioemu' \
		'$(B)/test_rio' 'sh test/rioemu/run_examples.sh $(B)'
