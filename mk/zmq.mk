# mk/zmq.mk -- fabtx inside libzmq (issue 6; docs/zmq.md).
#   make zmq        fetch Debian's zeromq3 source (once), add the fabtx
#                   transports, build libzmq + perf tools into build/zmq/prefix
#   make test-zmq   zmq-level tests per transport + libzmq perf tools +
#                   libzmq's own test programs over every transport
#                   (examples/zmq/upstream/; ZMQ_UPSTREAM=0 leaves them out)
#   make bench-zmq  bench/zmq.sh: latency/throughput table vs tcp:// ipc://
#   make bench-zmq-setup  connection setup latency per transport
# libzmq is built once per build tree (stamp) and without sanitizers; under
# SAN=1 only the test program is instrumented.  It is not part of `all`:
# building it needs the source package (apt-get source, deb-src entry).
ZMQ_DIR ?= build/zmq
ZMQ_PREFIX := $(ZMQ_DIR)/prefix
ZMQ_STAMP := $(ZMQ_DIR)/.stamp
ZMQ_INPUTS := $(wildcard examples/zmq/*.cpp examples/zmq/*.hpp \
	examples/zmq/*.h) examples/zmq/libzmq-fabtx.patch \
	examples/zmq/upstream/test-fixes.patch \
	examples/zmq/build.sh $(HDRS)

$(ZMQ_STAMP): $(ZMQ_INPUTS)
	sh examples/zmq/build.sh $(ZMQ_DIR)
	touch $@

$(B)/test_zmq: examples/zmq/test_zmq.c test/tt.h $(ZMQ_STAMP) | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -I$(ZMQ_PREFIX)/include -o $@ $< \
		-L$(ZMQ_PREFIX)/lib -Wl,-rpath,$(abspath $(ZMQ_PREFIX)/lib) \
		-lzmq $(LDLIBS_ALL)

# libzmq's own tests/ programs, built by its `make check` (once per build
# tree; they link libzmq dynamically, so a libzmq rebuild only relinks
# them), and the LD_PRELOAD library that retargets their tcp:// endpoints
ZMQ_UP_STAMP := $(ZMQ_DIR)/upstream/.stamp
$(ZMQ_UP_STAMP): $(ZMQ_STAMP)
	@mkdir -p $(ZMQ_DIR)/upstream
	$(MAKE) -C $(ZMQ_DIR)/src -j2 check TESTS= > $(ZMQ_DIR)/upstream/build.log 2>&1 || \
		{ tail -n 30 $(ZMQ_DIR)/upstream/build.log; exit 1; }
	touch $@
$(ZMQ_DIR)/upstream/retarget.so: examples/zmq/upstream/retarget.c
	@mkdir -p $(ZMQ_DIR)/upstream
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -pedantic -fPIC -shared -o $@ $< -ldl -lpthread
ZMQ_UPSTREAM ?= 1
ZMQ_UP_DEPS := $(if $(filter 1,$(ZMQ_UPSTREAM)),$(ZMQ_UP_STAMP) $(ZMQ_DIR)/upstream/retarget.so)

.PHONY: zmq test-zmq bench-zmq bench-zmq-setup test-zmq-upstream
zmq: $(ZMQ_STAMP)

# the rio/scif emulators (LD_PRELOAD) come from mk/rio.mk and mk/scif.mk
ZMQ_EMUS := $(filter %/librioemu.so %/libscifemu.so,$(ALL_BINS))

test-zmq: $(B)/test_zmq $(ZMQ_EMUS) $(ZMQ_UP_DEPS)
	@mkdir -p $(B)/results
	ZMQ_UPSTREAM=$(ZMQ_UPSTREAM) ZT_RIOEMU=$(abspath $(filter %/librioemu.so,$(ZMQ_EMUS))) \
	ZT_SCIFEMU=$(abspath $(filter %/libscifemu.so,$(ZMQ_EMUS))) \
		sh examples/zmq/suite.sh $(B) $(ZMQ_DIR)

# the upstream programs alone (TRANSPORTS="shm ofi-tcp scif" to choose)
test-zmq-upstream: $(ZMQ_UP_STAMP) $(ZMQ_DIR)/upstream/retarget.so $(ZMQ_EMUS)
	ZT_SCIFEMU=$(abspath $(filter %/libscifemu.so,$(ZMQ_EMUS))) \
		sh examples/zmq/upstream/run.sh $(ZMQ_DIR) $(B)/zmq-upstream $(TRANSPORTS)

bench-zmq: $(ZMQ_STAMP)
	sh bench/zmq.sh $(ZMQ_PREFIX)

# connection setup latency (zmq_connect -> CONNECTED / HANDSHAKE_SUCCEEDED)
# over tcp:// and each fabtx transport: bench/zmq_setup.sh
$(B)/zmq_setup_lat: examples/zmq/setup_lat.c $(ZMQ_STAMP) | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -I$(ZMQ_PREFIX)/include -o $@ $< \
		-L$(ZMQ_PREFIX)/lib -Wl,-rpath,$(abspath $(ZMQ_PREFIX)/lib) \
		-lzmq $(LDLIBS_ALL)
bench-zmq-setup: $(B)/zmq_setup_lat
	sh bench/zmq_setup.sh $(B)/zmq_setup_lat

TEST_SUITES += test-zmq
