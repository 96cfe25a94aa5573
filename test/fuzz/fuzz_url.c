/* SPDX-License-Identifier: MIT */
/* fuzz_url -- every URL parser: the core's HOST:PORT[?query] splitter and
 * query lookup, the scheme lookup of connect/listen, shm:// names,
 * ofi:// (both spellings, query keys), rio://DESTID:CHANNEL[?mport=],
 * scif://NODE:PORT and scif://PORT.  No network: ofi and shm names are
 * only parsed; rio and scif connects and listens stop at the missing
 * device (-ENODEV) after parsing.  Checks: results NUL-terminated within
 * their buffers, parsed numbers in range, no crash on any bytes. */
#define FZ_WITH_OFI
#define FZ_WITH_RIO
#define FZ_WITH_SCIF
#include "fz.h"

static void hostport(const char *s, size_t hc, size_t pc)
{
	char host[300], port[32];
	const char *q = NULL;
	int rc;
	memset(host, 'x', sizeof host);
	memset(port, 'x', sizeof port);
	rc = fabtx_url_hostport(s, host, hc, port, pc, &q);
	if (rc == 0) {
		FZ_CHECK(strlen(host) < hc && strlen(port) < pc);
		FZ_CHECK(host[0] && port[0]);
		FZ_CHECK(atoi(port) <= 65535);
		if (q) FZ_CHECK(q >= s && q < s + strlen(s));
	}
	/* bytes past the cap are untouched */
	if (hc < sizeof host) FZ_CHECK(host[sizeof host - 1] == 'x');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fabtx_ctx *ctx;
	char s[700], val[64];
	fabtx__ofi_url u;
	struct sockaddr_un sa;
	socklen_t sl;
	long destid;
	uint16_t ch;
	int mport, rc, i;
	size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
	static const char *keys[] = {"provider", "prov", "fabric", "domain",
	                             "ep", "mport", ""};
	if (!ctx) {
		fabtx_ctx_config cfg = fabtx_ctx_config_init();
		cfg.logger.func = fz_quiet;
		if (fabtx_ctx_create(&ctx, &cfg) < 0) return 0;
		fabtx_ctx_add_backend(ctx, fabtx_rio_backend());
		fabtx_ctx_add_backend(ctx, fabtx_scif_backend());
	}
	memcpy(s, data, n);
	s[n] = 0;
	hostport(s, 128, 16);
	hostport(s, 1 + (size ? data[0] % 64 : 0), 1 + (size > 1 ? data[1] % 8 : 0));
	for (i = 0; i < (int)(sizeof keys / sizeof keys[0]); i++) {
		rc = fabtx_url_query(s, keys[i], val, sizeof val);
		if (rc >= 0) FZ_CHECK((size_t)rc == strlen(val) && (size_t)rc < sizeof val);
		rc = fabtx_url_query(s, keys[i], val, 1 + (size ? data[0] % 4 : 0));
		if (rc >= 0) FZ_CHECK((size_t)rc == strlen(val));
	}
	rc = fabtx__ofi_parse_url(s, &u);
	if (rc == 0) {
		FZ_CHECK(u.host[0] && u.port[0]);
		FZ_CHECK(strlen(u.prov) < sizeof u.prov && strlen(u.fabric) < sizeof u.fabric);
		FZ_CHECK(strlen(u.domain) < sizeof u.domain);
		FZ_CHECK(u.ep >= 0 && u.ep <= 2);
		FZ_CHECK(strchr(u.prov, '+') == NULL);
	}
	rc = fabtx__rio_parse(s, &destid, &ch, &mport);
	if (rc == 0) {
		FZ_CHECK(destid >= -1 && destid < 0xffff);
		FZ_CHECK(ch != 0 && mport >= 0 && mport <= 7);
	}
	rc = fabtx__shm_addr(s, &sa, &sl);
	if (rc == 0) FZ_CHECK(sl <= sizeof sa);
	/* through the core: scheme lookup, then the backend's own parse; rio
	 * and scif stop at the device, which this machine does not have */
	if (strncmp(s, "rio://", 6) == 0 || strncmp(s, "scif://", 7) == 0 ||
	    strncmp(s, "nope://", 7) == 0 || !strstr(s, "://")) {
		fabtx_conn *c = NULL;
		fabtx_listener *l = NULL;
		rc = fabtx_connect(ctx, s, &c, 0);
		FZ_CHECK(rc < 0 && c == NULL);
		rc = fabtx_listen(ctx, s, &l);
		FZ_CHECK(rc < 0 && l == NULL);
	}
	return 0;
}
