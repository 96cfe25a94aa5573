# mk/nanomsg.mk -- fabtx inside nanomsg 1.1.5 (issue 18; docs/nanomsg.md).
#   make nanomsg            fetch Debian's nanomsg source (once), add the
#                           fabtx transports, build libnanomsg + its perf
#                           tools into build/nanomsg/prefix
#   make test-nanomsg       our test program per transport, nanomsg's own
#                           tests retargeted to shm:// and ofi://, perf tools
#   make test-nanomsg-full  the same, with nanomsg's slow/timing-dependent
#                           tests too
#   make bench-nanomsg      bench/nanomsg.sh: perf tools vs ipc:// tcp://
# nanomsg is built once per build tree (stamp) and without sanitizers;
# under SAN=1 only the test program is instrumented (as for libzmq).
# `make SAN=1 NN_SAN_LIB=1 test-nanomsg` also instruments a second build of
# libnanomsg (build/nanomsg/prefix-san) -- opt-in, not part of CI.  Not part of `all`:
# building it needs the source package (apt-get source, deb-src entry).
NN_DIR ?= build/nanomsg
ifeq ($(SAN)$(NN_SAN_LIB),11)
# opt-in (not in CI: one build of each library per run): libnanomsg
# itself, our transport and fabtx with it, under ASan+UBSan too
NN_PREFIX := $(NN_DIR)/prefix-san
NN_STAMP := $(NN_DIR)/.stamp-san
NN_BUILD_ENV := NN_SAN=1
else
NN_PREFIX := $(NN_DIR)/prefix
NN_STAMP := $(NN_DIR)/.stamp
NN_BUILD_ENV :=
endif
NN_INPUTS := $(wildcard integrations/nanomsg/*.c integrations/nanomsg/*.h) \
	integrations/nanomsg/nanomsg-fabtx.patch \
	integrations/nanomsg/build.sh $(HDRS)

$(NN_STAMP): $(NN_INPUTS)
	$(NN_BUILD_ENV) sh integrations/nanomsg/build.sh $(NN_DIR)
	touch $@

$(B)/test_nanomsg: integrations/nanomsg/test_nanomsg.c test/tt.h $(NN_STAMP) | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -I$(NN_PREFIX)/include -o $@ $< \
		-L$(NN_PREFIX)/lib -Wl,-rpath,$(abspath $(NN_PREFIX)/lib) \
		-lnanomsg $(LDLIBS_ALL)

.PHONY: nanomsg test-nanomsg test-nanomsg-full bench-nanomsg
nanomsg: $(NN_STAMP)

# the rio/scif emulators (LD_PRELOAD) come from mk/rio.mk and mk/scif.mk
NN_EMUS := $(if $(wildcard mk/rio.mk),$(B)/librioemu.so) $(if $(wildcard mk/scif.mk),$(B)/libscifemu.so)

test-nanomsg: $(B)/test_nanomsg $(NN_EMUS)
	@mkdir -p $(B)/results
	NT_RIOEMU=$(abspath $(filter %/librioemu.so,$(NN_EMUS))) \
	NT_SCIFEMU=$(abspath $(filter %/libscifemu.so,$(NN_EMUS))) \
		sh integrations/nanomsg/suite.sh $(B) $(NN_DIR)

test-nanomsg-full: $(B)/test_nanomsg $(NN_EMUS)
	@mkdir -p $(B)/results
	NN_TESTS_SLOW=1 \
	NT_RIOEMU=$(abspath $(filter %/librioemu.so,$(NN_EMUS))) \
	NT_SCIFEMU=$(abspath $(filter %/libscifemu.so,$(NN_EMUS))) \
		sh integrations/nanomsg/suite.sh $(B) $(NN_DIR)

bench-nanomsg: $(NN_STAMP)
	sh bench/nanomsg.sh $(NN_PREFIX)

TEST_SUITES += test-nanomsg
