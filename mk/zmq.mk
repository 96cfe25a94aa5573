# mk/zmq.mk -- fabtx inside libzmq (issue 6; docs/zmq.md).
#   make zmq        fetch Debian's zeromq3 source (once), add the fabtx
#                   transports, build libzmq + perf tools into build/zmq/prefix
#   make test-zmq   zmq-level tests per transport + libzmq perf tools
#   make bench-zmq  bench/zmq.sh: latency/throughput table vs tcp:// ipc://
# libzmq is built once per build tree (stamp) and without sanitizers; under
# SAN=1 only the test program is instrumented.  It is not part of `all`:
# building it needs the source package (apt-get source, deb-src entry).
ZMQ_DIR ?= build/zmq
ZMQ_PREFIX := $(ZMQ_DIR)/prefix
ZMQ_STAMP := $(ZMQ_DIR)/.stamp
ZMQ_INPUTS := $(wildcard examples/zmq/*.cpp examples/zmq/*.hpp \
	examples/zmq/*.h) examples/zmq/libzmq-fabtx.patch \
	examples/zmq/build.sh $(HDRS)

$(ZMQ_STAMP): $(ZMQ_INPUTS)
	sh examples/zmq/build.sh $(ZMQ_DIR)
	touch $@

$(B)/test_zmq: examples/zmq/test_zmq.c test/tt.h $(ZMQ_STAMP) | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) -I$(ZMQ_PREFIX)/include -o $@ $< \
		-L$(ZMQ_PREFIX)/lib -Wl,-rpath,$(abspath $(ZMQ_PREFIX)/lib) \
		-lzmq $(LDLIBS_ALL)

.PHONY: zmq test-zmq bench-zmq
zmq: $(ZMQ_STAMP)

# the rio/scif emulators (LD_PRELOAD) come from mk/rio.mk and mk/scif.mk
ZMQ_EMUS := $(filter %/librioemu.so %/libscifemu.so,$(ALL_BINS))

test-zmq: $(B)/test_zmq $(ZMQ_EMUS)
	@mkdir -p $(B)/results
	ZT_RIOEMU=$(abspath $(filter %/librioemu.so,$(ZMQ_EMUS))) \
	ZT_SCIFEMU=$(abspath $(filter %/libscifemu.so,$(ZMQ_EMUS))) \
		sh examples/zmq/suite.sh $(B) $(ZMQ_DIR)

bench-zmq: $(ZMQ_STAMP)
	sh bench/zmq.sh $(ZMQ_PREFIX)

TEST_SUITES += test-zmq
