# mk/install.mk -- install like the libraries next to fabtx (issue 20):
#   make install [PREFIX=/usr/local] [DESTDIR=]   make uninstall
# headers      $(INCLUDEDIR)/fabtx/ (#include "fabtx.h" with the Cflags,
#              or <fabtx/fabtx.h> without)
# tools        $(BINDIR)/fabtx_info, fabtx_local_lat ... (the perf examples)
# pkg-config   $(PCDIR)/fabtx.pc, fabtx-ofi.pc (Requires: libfabric)
# CMake        $(CMAKEDIR)/fabtxConfig.cmake: find_package(fabtx CONFIG
#              [COMPONENTS ofi rio scif]) -> fabtx::fabtx, fabtx::ofi, ...
# man pages    $(MANDIR)/man7/fabtx.7, man1/fabtx_info.1 (man/fabtx.man)
# Vendoring (copy the headers) needs none of this.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR     ?= $(PREFIX)/lib
PCDIR      ?= $(LIBDIR)/pkgconfig
CMAKEDIR   ?= $(LIBDIR)/cmake/fabtx
MANDIR     ?= $(PREFIX)/share/man
FABTX_VER  := $(shell sed -n 's/^\#define FABTX_VERSION_STRING "\(.*\)"/\1/p' fabtx.h)
PUB_HDRS   := fabtx.h fabtx_ofi.h fabtx_rio.h fabtx_scif.h
PERF_TOOLS := $(EXAMPLES)

# fabtx_info: its own implementation TU with every backend of this build
$(B)/fabtx_info: tools/fabtx_info.c $(HDRS) | $(B)/.dir
	$(CC) $(CSTD) $(CFLAGS_ALL) $(IMPL_CFLAGS) -o $@ $< $(LDLIBS_ALL) $(IMPL_LDLIBS)

# man pages: one source, checked against the headers (scripts/man.sh)
MAN_PAGES := $(B)/man/fabtx.7 $(B)/man/fabtx_info.1
$(MAN_PAGES) &: man/fabtx.man scripts/man.sh $(HDRS) tools/fabtx_info.c $(wildcard examples/*.c examples/*.h) | $(B)/.dir
	sh scripts/man.sh man/fabtx.man $(B)/man

# pkg-config and CMake files for this PREFIX
PKG_FILES := $(B)/pkg/fabtx.pc $(B)/pkg/fabtx-ofi.pc \
	$(B)/pkg/fabtxConfig.cmake $(B)/pkg/fabtxConfigVersion.cmake
# (remade when PREFIX or a directory changes: $(B)/pkg/.vars records them)
PKG_VARS := $(PREFIX)|$(INCLUDEDIR)|$(CMAKEDIR)
$(B)/pkg/.vars: FORCE | $(B)/.dir
	@mkdir -p $(B)/pkg; echo '$(PKG_VARS)' | cmp -s - $@ || echo '$(PKG_VARS)' > $@
.PHONY: FORCE
FORCE:
$(PKG_FILES) &: $(wildcard pkg/*.in) fabtx.h mk/install.mk $(B)/pkg/.vars
	@mkdir -p $(B)/pkg
	@set -e; rel=$$(realpath -m --relative-to="$(CMAKEDIR)" "$(PREFIX)"); \
	inc=$$(realpath -m --relative-to="$(PREFIX)" "$(INCLUDEDIR)"); \
	for f in fabtx.pc fabtx-ofi.pc fabtxConfig.cmake fabtxConfigVersion.cmake; do \
	  sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	      -e 's|@VERSION@|$(FABTX_VER)|g' -e "s|@CMAKE_TO_PREFIX@|$$rel|g" \
	      -e "s|@INCLUDE_REL@|$$inc|g" pkg/$$f.in > $(B)/pkg/$$f; done

INSTALL_BUILT := $(B)/fabtx_info $(addprefix $(B)/,$(PERF_TOOLS)) $(MAN_PAGES) $(PKG_FILES)
ALL_BINS += $(B)/fabtx_info $(MAN_PAGES)

.PHONY: install uninstall test-install
install: $(INSTALL_BUILT)
	install -d "$(DESTDIR)$(INCLUDEDIR)/fabtx" "$(DESTDIR)$(BINDIR)" \
		"$(DESTDIR)$(PCDIR)" "$(DESTDIR)$(CMAKEDIR)" \
		"$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(MANDIR)/man7"
	install -m 644 $(PUB_HDRS) "$(DESTDIR)$(INCLUDEDIR)/fabtx/"
	install -m 755 $(B)/fabtx_info "$(DESTDIR)$(BINDIR)/"
	for t in $(PERF_TOOLS); do install -m 755 $(B)/$$t "$(DESTDIR)$(BINDIR)/fabtx_$$t" || exit 1; done
	install -m 644 $(B)/pkg/fabtx.pc $(B)/pkg/fabtx-ofi.pc "$(DESTDIR)$(PCDIR)/"
	install -m 644 $(B)/pkg/fabtxConfig.cmake $(B)/pkg/fabtxConfigVersion.cmake "$(DESTDIR)$(CMAKEDIR)/"
	install -m 644 $(B)/man/fabtx_info.1 "$(DESTDIR)$(MANDIR)/man1/"
	install -m 644 $(B)/man/fabtx.7 "$(DESTDIR)$(MANDIR)/man7/"

uninstall:
	rm -f $(addprefix "$(DESTDIR)$(INCLUDEDIR)/fabtx/,$(addsuffix ",$(PUB_HDRS))) \
		"$(DESTDIR)$(BINDIR)/fabtx_info" \
		$(foreach t,$(PERF_TOOLS),"$(DESTDIR)$(BINDIR)/fabtx_$(t)") \
		"$(DESTDIR)$(PCDIR)/fabtx.pc" "$(DESTDIR)$(PCDIR)/fabtx-ofi.pc" \
		"$(DESTDIR)$(CMAKEDIR)/fabtxConfig.cmake" \
		"$(DESTDIR)$(CMAKEDIR)/fabtxConfigVersion.cmake" \
		"$(DESTDIR)$(MANDIR)/man1/fabtx_info.1" "$(DESTDIR)$(MANDIR)/man7/fabtx.7"
	-rmdir "$(DESTDIR)$(INCLUDEDIR)/fabtx" "$(DESTDIR)$(CMAKEDIR)" 2>/dev/null

# install into a temporary DESTDIR, build programs out of tree three ways
# (pkg-config, CMake, vendored) for shm and ofi and run them; fabtx_info's
# verdicts against real connections; the man pages render cleanly
TEST_SUITES += test-install
test-install: $(INSTALL_BUILT) $(B)/librioemu.so $(B)/libscifemu.so
	sh test/run_suite.sh $(B)/results/install.txt 'bash test/install.sh $(B)'
