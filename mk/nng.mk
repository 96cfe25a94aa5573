# mk/nng.mk -- fabtx inside nng (issue 18; docs/nng.md).
#   make nng        fetch Debian's nng source (once), add the fabtx
#                   transports, build libnng + perf tools + the nng tests
#                   that test-nng runs into build/nng (never system-wide)
#   make test-nng   our nng-level tests per transport (test_nng) + nng's own
#                   tests retargeted to the fabtx schemes
#   make bench-nng  bench/nng.sh: nng's perf tools, fabtx vs ipc:// tcp://
# libnng is built once per build tree (stamp) and without sanitizers; under
# SAN=1 only the test program is instrumented.  Not part of `all`: it
# needs the source package (apt-get source, deb-src entry).
NNG_DIR ?= build/nng
NNG_PREFIX := $(NNG_DIR)/prefix
NNG_STAMP := $(NNG_DIR)/.stamp
NNG_INPUTS := integrations/nng/fabtx_nng.c integrations/nng/CMakeLists.txt \
	integrations/nng/nng-fabtx.patch integrations/nng/build.sh \
	integrations/nng/nngtests.sh $(HDRS)

$(NNG_STAMP): $(NNG_INPUTS)
	sh integrations/nng/build.sh $(NNG_DIR)
	touch $@

$(B)/test_nng: integrations/nng/test_nng.c test/tt.h $(NNG_STAMP) | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -I$(NNG_PREFIX)/include -o $@ $< \
		-L$(NNG_PREFIX)/lib -Wl,-rpath,$(abspath $(NNG_PREFIX)/lib) \
		-lnng $(LDLIBS_ALL)

.PHONY: nng test-nng bench-nng
nng: $(NNG_STAMP)

# the rio/scif emulators (LD_PRELOAD) come from mk/rio.mk and mk/scif.mk
# (included after this file: named here, not taken from ALL_BINS)
NNG_EMUS := $(if $(wildcard mk/rio.mk),$(B)/librioemu.so) \
	$(if $(wildcard mk/scif.mk),$(B)/libscifemu.so)

test-nng: $(B)/test_nng $(NNG_EMUS)
	@mkdir -p $(B)/results
	NT_RIOEMU=$(abspath $(filter %/librioemu.so,$(NNG_EMUS))) \
	NT_SCIFEMU=$(abspath $(filter %/libscifemu.so,$(NNG_EMUS))) \
		sh integrations/nng/suite.sh $(B) $(NNG_DIR)

bench-nng: $(NNG_STAMP)
	sh bench/nng.sh $(NNG_PREFIX)

TEST_SUITES += test-nng
