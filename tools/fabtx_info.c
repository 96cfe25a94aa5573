/* fabtx_info -- what this machine offers fabtx (like fi_info / ucx_info).
 *
 *   fabtx_info [-v] [-m] [-b BACKEND] [-p PROVIDER] [-e msg|rdm]
 *
 * Prints the version and wire version, the backends compiled in, and per
 * backend what fabtx could use here and why not: shm:// the ring it would
 * negotiate; ofi:// every libfabric provider and endpoint type with the
 * verdict of the backend's own checks (fabtx_ofi.h: the hints it passes to
 * fi_getinfo and fabtx__ofi_usable), its wait method, inject size, remote
 * CQ data and MR mode; rio:// the mports and their limits; scif:// the
 * nodes.  -m prints the same as tab-separated "key=value" records.  Exit
 * status 0 when something selected is usable, 1 otherwise (and on bad
 * arguments).  The manual is fabtx_info(1), from man/fabtx.man.
 *
 * This is the implementation's translation unit: it calls the ofi
 * backend's own selection helpers, so its verdicts are the backend's. */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#ifdef FABTX_WITH_OFI
#include "fabtx_ofi.h"
#endif
#ifdef FABTX_WITH_RIO
#include "fabtx_rio.h"
#endif
#ifdef FABTX_WITH_SCIF
#include "fabtx_scif.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

typedef struct info_opts {
	int verbose, machine;
	const char *backend; /* NULL: all */
	const char *prov;    /* NULL: all */
	int ep;              /* 0 any, 1 msg, 2 rdm */
} info_opts;

/* the last line the library logged (shown as the reason of a failure) */
static char g_last_log[512];
static void info_logger(fabtx_log_level lvl, const char *msg, void *user)
{
	(void)lvl;
	(void)user;
	snprintf(g_last_log, sizeof g_last_log, "%s", msg);
}

/* ---- output: human lines, or records "kind\tkey=value\t..." (-m) ---- */
static void rec(const info_opts *o, const char *kind, const char *fmt, ...)
{
	va_list ap;
	if (!o->machine) return;
	fputs(kind, stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static void say(const info_opts *o, const char *fmt, ...)
{
	va_list ap;
	if (o->machine) return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static int want(const info_opts *o, const char *backend)
{
	return !o->backend || strcmp(o->backend, backend) == 0;
}

/* ---------------------------------------------------------------- shm */
#ifndef FABTX_NO_SHM
static int info_shm(const info_opts *o, fabtx_ctx *ctx)
{
	const fabtx_ctx_config *c = &ctx->cfg;
	uint64_t win = FABTX_WIN_HDR_SIZE + (uint64_t)c->cell_count * c->cell_size;
	uint32_t ranges = (FABTX_DB_SPACE - FABTX_DB_RESERVED) / (2u * c->cell_count);
	int fd = memfd_create("fabtx-info", MFD_CLOEXEC), ok = fd >= 0;
	char why[128] = "";
	if (fd >= 0)
		close(fd);
	else
		snprintf(why, sizeof why, "memfd_create: %s", strerror(errno));
	say(o, "\nshm://NAME  %s%s\n", ok ? "usable" : "not usable: ", why);
	say(o, "    ring per direction: %u cells x %u B (window %llu B), "
	       "messages up to %llu B\n",
	    c->cell_count, c->cell_size, (unsigned long long)win,
	    (unsigned long long)c->max_msg);
	say(o, "    connections per context: up to %u at this cell count "
	       "(doorbell ranges of 2N values)\n", ranges);
	say(o, "    peers: processes of this machine; NAME 1..97 chars of "
	       "[A-Za-z0-9._-]\n");
	if (o->verbose)
		say(o, "    spin_us %d, keepalive %d ms / %d ms, zero-copy loans "
		       "up to %u cells\n",
		    c->spin_us, c->keepalive_ms, c->keepalive_timeout_ms,
		    c->zc_max_held);
	rec(o, "shm", "\tusable=%d\tcell_size=%u\tcell_count=%u\twindow=%llu"
	              "\tmax_msg=%llu\tmax_conns=%u\treason=%s",
	    ok, c->cell_size, c->cell_count, (unsigned long long)win,
	    (unsigned long long)c->max_msg, ranges, why);
	return ok;
}
#endif

/* ---------------------------------------------------------------- ofi */
#ifdef FABTX_WITH_OFI
static const char *ep_name(enum fi_ep_type t)
{
	switch (t) {
	case FI_EP_MSG: return "msg";
	case FI_EP_RDM: return "rdm";
	case FI_EP_DGRAM: return "dgram";
	default: return "other";
	}
}

typedef struct bitname {
	uint64_t bit;
	const char *name;
} bitname;

static void bits_str(char *out, size_t cap, uint64_t v, const bitname *t,
                     size_t n)
{
	size_t i, o = 0;
	out[0] = 0;
	for (i = 0; i < n && o < cap; i++)
		if (v & t[i].bit) {
			int k = snprintf(out + o, cap - o, "%s%s", o ? "|" : "",
			                 t[i].name);
			if (k < 0) break;
			o += (size_t)k;
			v &= ~t[i].bit;
		}
	if (v && o < cap) snprintf(out + o, cap - o, "%s0x%llx", o ? "|" : "",
		                   (unsigned long long)v);
	if (!out[0]) snprintf(out, cap, "none");
}

static const bitname mr_bits[] = {
    {FI_MR_LOCAL, "FI_MR_LOCAL"},         {FI_MR_RAW, "FI_MR_RAW"},
    {FI_MR_VIRT_ADDR, "FI_MR_VIRT_ADDR"}, {FI_MR_ALLOCATED, "FI_MR_ALLOCATED"},
    {FI_MR_PROV_KEY, "FI_MR_PROV_KEY"},   {FI_MR_MMU_NOTIFY, "FI_MR_MMU_NOTIFY"},
    {FI_MR_RMA_EVENT, "FI_MR_RMA_EVENT"}, {FI_MR_ENDPOINT, "FI_MR_ENDPOINT"},
    {FI_MR_HMEM, "FI_MR_HMEM"},
};
static const bitname cap_bits[] = {
    {FI_MSG, "FI_MSG"},     {FI_RMA, "FI_RMA"},
    {FI_SEND, "FI_SEND"},   {FI_RECV, "FI_RECV"},
    {FI_WRITE, "FI_WRITE"}, {FI_REMOTE_WRITE, "FI_REMOTE_WRITE"},
};
static const bitname mode_bits[] = {
    {FI_CONTEXT, "FI_CONTEXT"},
    {FI_CONTEXT2, "FI_CONTEXT2"},
    {FI_MSG_PREFIX, "FI_MSG_PREFIX"},
    {FI_ASYNC_IOV, "FI_ASYNC_IOV"},
    {FI_RX_CQ_DATA, "FI_RX_CQ_DATA"},
    {FI_LOCAL_MR, "FI_LOCAL_MR"},
};
#define NB(t) (sizeof(t) / sizeof((t)[0]))

static int same_entry(const struct fi_info *a, const struct fi_info *b)
{
	return a->ep_attr->type == b->ep_attr->type &&
	       strcmp(a->fabric_attr->prov_name, b->fabric_attr->prov_name) == 0 &&
	       strcmp(a->fabric_attr->name, b->fabric_attr->name) == 0 &&
	       strcmp(a->domain_attr->name, b->domain_attr->name) == 0;
}

/* Why the backend would not take this provider entry: `full` is what the
 * provider offers at all, `fx` what it answered to fabtx's own hints (NULL:
 * nothing), h those hints.  "" when fabtx can use it. */
static void ofi_reason(char *why, size_t cap, const struct fi_info *full,
                       const struct fi_info *fx, const struct fi_info *h)
{
	const struct fi_info *f = fx ? fx : full;
	char b[256];
	why[0] = 0;
	if (f->ep_attr->type != FI_EP_MSG && f->ep_attr->type != FI_EP_RDM) {
		snprintf(why, cap, "endpoint type FI_EP_%s (fabtx needs FI_EP_MSG "
		                   "or FI_EP_RDM)",
		         f->ep_attr->type == FI_EP_DGRAM ? "DGRAM" : "other");
		return;
	}
	if ((h->caps & ~f->caps) & (FI_RMA | FI_WRITE | FI_REMOTE_WRITE)) {
		bits_str(b, sizeof b, h->caps & ~f->caps, cap_bits, NB(cap_bits));
		snprintf(why, cap, "no RMA writes (lacks %s)", b);
		return;
	}
	if (h->caps & ~f->caps) {
		bits_str(b, sizeof b, h->caps & ~f->caps, cap_bits, NB(cap_bits));
		snprintf(why, cap, "lacks capabilities %s", b);
		return;
	}
	if (f->domain_attr->cq_data_size < 4) {
		snprintf(why, cap, "remote CQ data of %zu B (fabtx needs >= 4 B: "
		                   "doorbells ride in it)",
		         f->domain_attr->cq_data_size);
		return;
	}
	if ((uint64_t)f->domain_attr->mr_mode &
	    ~(uint64_t)h->domain_attr->mr_mode &
	    ~(uint64_t)(FI_MR_BASIC | FI_MR_SCALABLE)) {
		bits_str(b, sizeof b,
		         (uint64_t)f->domain_attr->mr_mode &
		             ~(uint64_t)h->domain_attr->mr_mode,
		         mr_bits, NB(mr_bits));
		snprintf(why, cap, "memory registration mode %s that fabtx does "
		                   "not handle",
		         b);
		return;
	}
	if (f->mode & ~h->mode) {
		bits_str(b, sizeof b, f->mode & ~h->mode, mode_bits, NB(mode_bits));
		snprintf(why, cap, "requires mode %s", b);
		return;
	}
	if (f->domain_attr->mr_key_size > 8) {
		snprintf(why, cap, "MR keys of %zu B (fabtx carries 8)",
		         f->domain_attr->mr_key_size);
		return;
	}
	if (!fx) {
		snprintf(why, cap, "not offered for fabtx's request (manual "
		                   "progress, RMA write with remote CQ data)");
		return;
	}
	if (!fabtx__ofi_usable(fx))
		snprintf(why, cap, "rejected by the backend's checks");
}

/* The wakeup the backend would use: 1 fd, 0 timer (why says why).  The
 * domain is opened by the backend itself (fabtx__ofi_dom_get: the same
 * tweaks, e.g. sockets' automatic progress), then a CQ as ep_open asks. */
static int ofi_wait(fabtx_ctx *ctx, const struct fi_info *fi, char *why,
                    size_t cap)
{
	const char *e = getenv("FABTX_OFI_WAIT");
	fabtx__ofi_dom *d = NULL;
	struct fid_cq *cq = NULL;
	struct fi_cq_attr a;
	int fd = -1, rc;
	why[0] = 0;
	if (!fabtx__ofi_want_wait_fd(fi, ctx)) {
		if (e && strcmp(e, "timer") == 0)
			snprintf(why, cap, "FABTX_OFI_WAIT=timer");
		else if (ctx->cfg.spin_us > 0)
			snprintf(why, cap, "busy-poll context (FABTX_SPIN_US)");
		else
			snprintf(why, cap, "its wait fd does not serve fabtx, "
			                   "docs/ofi.md");
		return 0;
	}
	rc = fabtx__ofi_dom_get(ctx, fi, &d);
	if (rc == 0) {
		memset(&a, 0, sizeof a);
		a.format = FI_CQ_FORMAT_DATA;
		a.size = 64;
		a.wait_obj = FI_WAIT_FD;
		rc = fi_cq_open(d->domain, &a, &cq, NULL);
		if (rc == 0) rc = fi_control(&cq->fid, FI_GETWAIT, &fd);
		if (cq) fi_close(&cq->fid);
		if (rc != 0 || fd < 0)
			snprintf(why, cap, "the CQ has no wait fd: %s",
			         fi_strerror(rc < 0 ? -rc : rc));
	} else {
		snprintf(why, cap, "opening the domain: %s", fabtx_strerror(rc));
	}
	return rc == 0 && fd >= 0;
}

/* the inject size the backend uses: none on ofi_rxm (fabtx_ofi.h,
 * fabtx__ofi_ep_open: rxm's flushed injects carry no context) */
static size_t eff_inject(const struct fi_info *e)
{
	return strstr(e->fabric_attr->prov_name, "ofi_rxm") ? 0
	                                                    : e->tx_attr->inject_size;
}

typedef struct ofi_row {
	const struct fi_info *full, *fx;
	char why[320];
	int usable;
} ofi_row;

static int prov_match(const info_opts *o, const char *prov)
{
	return !o->prov || strcmp(o->prov, prov) == 0;
}

static void ofi_default(const info_opts *o, fabtx_ctx *ctx, const char *hp,
                        const char *label)
{
	fabtx__ofi_url u;
	struct fi_info *fi = NULL;
	if (fabtx__ofi_parse_url(hp, &u) < 0) return;
	g_last_log[0] = 0;
	if (fabtx__ofi_resolve(ctx, &u, 1, &fi) == 0 && fi) {
		say(o, "    automatic choice for ofi://%s: %s %s (%s)\n", label,
		    fi->fabric_attr->prov_name, ep_name(fi->ep_attr->type),
		    fi->domain_attr->name);
		rec(o, "ofi_default", "\thost=%s\tprovider=%s\tep=%s\tdomain=%s",
		    label, fi->fabric_attr->prov_name, ep_name(fi->ep_attr->type),
		    fi->domain_attr->name);
		fi_freeinfo(fi);
	} else {
		say(o, "    automatic choice for ofi://%s: none\n", label);
		rec(o, "ofi_default", "\thost=%s\tprovider=\tep=\tdomain=", label);
	}
}

/* q (from a FI_PROV_ATTR_ONLY list) names a provider, not a hook, that
 * has no row (no endpoint here), and is its first mention in the list */
static int noep_new(const struct fi_info *pa, const struct fi_info *q,
                    const ofi_row *rows, size_t n)
{
	const char *p = q->fabric_attr ? q->fabric_attr->prov_name : NULL;
	const struct fi_info *g;
	size_t i;
	if (!p || strncmp(p, "ofi_hook", 8) == 0)
		return 0; /* hooks wrap providers, they are none */
	for (i = 0; i < n; i++)
		if (strstr(rows[i].full->fabric_attr->prov_name, p)) return 0;
	for (g = pa; g != q; g = g->next)
		if (g->fabric_attr && strcmp(g->fabric_attr->prov_name, p) == 0)
			return 0;
	return 1;
}

static int info_ofi(const info_opts *o, fabtx_ctx *ctx)
{
	struct fi_info *broad, *all = NULL, *fx = NULL, *h, *f, *g, *pa = NULL, *q;
	ofi_row *rows = NULL;
	size_t n = 0, i, j;
	int rc, any = 0, known = 0;
	uint32_t v = fi_version();

	say(o, "\nofi://HOST:PORT  libfabric %u.%u; fabtx asks for API %u.%u\n",
	    FI_MAJOR(v), FI_MINOR(v), FI_MAJOR(FABTX__OFI_VERSION),
	    FI_MINOR(FABTX__OFI_VERSION));
	rec(o, "ofi", "\tlibfabric=%u.%u\tapi=%u.%u", FI_MAJOR(v), FI_MINOR(v),
	    FI_MAJOR(FABTX__OFI_VERSION), FI_MINOR(FABTX__OFI_VERSION));
	/* everything the providers offer (any mode, any MR mode) ... */
	broad = fi_allocinfo();
	h = fabtx__ofi_hints(o->ep);
	if (!broad || !h) {
		fprintf(stderr, "fabtx_info: out of memory\n");
		fi_freeinfo(broad);
		fi_freeinfo(h);
		return 0;
	}
	broad->mode = ~(uint64_t)0;
	broad->domain_attr->mode = ~(uint64_t)0;
	broad->domain_attr->mr_mode = ~(FI_MR_BASIC | FI_MR_SCALABLE);
	broad->ep_attr->type = h->ep_attr->type;
	rc = fi_getinfo(FABTX__OFI_VERSION, NULL, NULL, 0, broad, &all);
	if (rc != 0) all = NULL;
	/* ... and what they answer to the backend's own request */
	rc = fi_getinfo(FABTX__OFI_VERSION, NULL, NULL, 0, h, &fx);
	if (rc != 0) fx = NULL;
	for (f = all; f; f = f->next) n++;
	for (f = fx; f; f = f->next) n++;
	rows = (ofi_row *)calloc(n ? n : 1, sizeof *rows);
	if (!rows) goto out;
	n = 0;
	for (f = all; f; f = f->next) {
		for (i = 0; i < n; i++)
			if (same_entry(rows[i].full, f)) break;
		if (i < n) continue;
		rows[n].full = f;
		for (g = fx; g; g = g->next)
			if (same_entry(g, f)) {
				rows[n].fx = g;
				break;
			}
		n++;
	}
	/* answers to fabtx's request that the broad one did not list */
	for (g = fx; g; g = g->next) {
		for (i = 0; i < n; i++)
			if (same_entry(rows[i].full, g)) break;
		if (i < n) continue;
		rows[n].full = rows[n].fx = g;
		n++;
	}
	for (i = 0; i < n; i++) {
		ofi_reason(rows[i].why, sizeof rows[i].why, rows[i].full,
		           rows[i].fx, h);
		rows[i].usable = rows[i].why[0] == 0;
		if (prov_match(o, rows[i].full->fabric_attr->prov_name)) known = 1;
	}
	if (fi_getinfo(FABTX__OFI_VERSION, NULL, NULL, FI_PROV_ATTR_ONLY, NULL,
	               &pa) != 0)
		pa = NULL;
	for (q = pa; q; q = q->next)
		if (noep_new(pa, q, rows, n) && prov_match(o, q->fabric_attr->prov_name))
			known = 1;
	if (o->prov && !known) {
		char list[1024] = "";
		size_t l = 0;
		for (i = 0; i < n; i++) {
			const char *p = rows[i].full->fabric_attr->prov_name;
			int k;
			for (j = 0; j < i; j++)
				if (!strcmp(rows[j].full->fabric_attr->prov_name, p)) break;
			if (j < i || l + strlen(p) + 3 >= sizeof list) continue;
			k = snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", p);
			if (k > 0) l += (size_t)k;
		}
		for (q = pa; q; q = q->next) {
			const char *p = q->fabric_attr ? q->fabric_attr->prov_name : NULL;
			int k;
			if (!p || !noep_new(pa, q, rows, n) || l + strlen(p) + 20 >= sizeof list)
				continue;
			k = snprintf(list + l, sizeof list - l, "%s%s (no endpoint)",
			             l ? ", " : "", p);
			if (k > 0) l += (size_t)k;
		}
		fprintf(stderr, "fabtx_info: libfabric has no provider '%s'%s here "
		                "(found: %s)\n",
		        o->prov, o->ep ? " with that endpoint type" : "",
		        l ? list : "none");
		goto out;
	}
	/* one line per provider and endpoint type (-v: per fabric/domain) */
	for (i = 0; i < n; i++) {
		const struct fi_info *e = rows[i].fx ? rows[i].fx : rows[i].full;
		const char *p = e->fabric_attr->prov_name;
		char mr[256], wwhy[160] = "", doms[512] = "";
		int wfd = -1, usable = 0, excl_lo, excl;
		size_t dl = 0;
		if (!prov_match(o, p)) continue;
		for (j = 0; j < n; j++) {
			const struct fi_info *x = rows[j].full;
			if (strcmp(x->fabric_attr->prov_name, p) ||
			    x->ep_attr->type != e->ep_attr->type)
				continue;
			if (rows[j].usable) usable = 1;
		}
		excl_lo = fabtx__ofi_excluded_auto(p, "127.0.0.1");
		excl = fabtx__ofi_excluded_auto(p, "*");
		bits_str(mr, sizeof mr, (uint64_t)e->domain_attr->mr_mode, mr_bits,
		         NB(mr_bits));
		if (rows[i].usable) wfd = ofi_wait(ctx, e, wwhy, sizeof wwhy);
		rec(o, "ofi_ep",
		    "\tprovider=%s\tep=%s\tfabric=%s\tdomain=%s\tusable=%d"
		    "\tauto=%s\twait=%s\tinject=%zu\tcq_data=%zu\tmr_mode=%s"
		    "\treason=%s",
		    p, ep_name(e->ep_attr->type), e->fabric_attr->name,
		    e->domain_attr->name, rows[i].usable,
		    excl ? (excl_lo ? "named" : "loopback") : "yes",
		    wfd < 0 ? "" : wfd ? "fd" : "timer",
		    eff_inject(e), e->domain_attr->cq_data_size, mr,
		    rows[i].why);
		if (o->verbose) {
			say(o, "    %-14s %-5s %-22s %-8s %s%s\n", p,
			    ep_name(e->ep_attr->type), e->fabric_attr->name,
			    e->domain_attr->name, rows[i].usable ? "yes" : "no: ",
			    rows[i].why);
			if (rows[i].usable) {
				say(o, "        wait %s%s%s%s, inject %zu B%s, remote CQ "
				       "data %zu B, MR mode %s, max message %zu B, "
				       "%s\n",
				    wfd ? "fd" : "timer", wwhy[0] ? " (" : "", wwhy,
				    wwhy[0] ? ")" : "", eff_inject(e),
				    eff_inject(e) != e->tx_attr->inject_size
				        ? " (the provider's is not used with ofi_rxm)"
				        : "",
				    e->domain_attr->cq_data_size, mr,
				    e->ep_attr->max_msg_size,
				    excl ? (excl_lo ? "used only when named"
				                    : "chosen automatically for "
				                      "loopback hosts only")
				         : "may be chosen automatically");
			}
		}
		if (rows[i].usable) any = 1;
		if (o->verbose || o->machine) continue;
		/* the grouped line: first entry of this provider/ep only */
		for (j = 0; j < i; j++)
			if (!strcmp(rows[j].full->fabric_attr->prov_name, p) &&
			    rows[j].full->ep_attr->type == e->ep_attr->type)
				break;
		if (j < i) continue;
		for (j = i; j < n; j++) {
			const char *d = rows[j].full->domain_attr->name;
			int k;
			if (strcmp(rows[j].full->fabric_attr->prov_name, p) ||
			    rows[j].full->ep_attr->type != e->ep_attr->type ||
			    (usable && !rows[j].usable) || strstr(doms, d))
				continue;
			if (dl + strlen(d) + 8 >= sizeof doms) break;
			k = snprintf(doms + dl, sizeof doms - dl, "%s%s", dl ? "," : "", d);
			if (k > 0) dl += (size_t)k;
		}
		if (usable) {
			if (!rows[i].usable) {
				/* describe a usable entry of the group */
				for (j = i; j < n; j++)
					if (rows[j].usable &&
					    !strcmp(rows[j].full->fabric_attr->prov_name, p) &&
					    rows[j].full->ep_attr->type == e->ep_attr->type)
						break;
				e = rows[j].fx;
				wfd = ofi_wait(ctx, e, wwhy, sizeof wwhy);
			}
			say(o, "    %-14s %-5s yes  wait %s%s%s%s, inject %zu, cq data "
			       "%zu B%s; domains %s\n",
			    p, ep_name(e->ep_attr->type), wfd ? "fd" : "timer",
			    wwhy[0] ? " (" : "", wwhy, wwhy[0] ? ")" : "",
			    eff_inject(e),
			    e->domain_attr->cq_data_size,
			    excl ? (fabtx__ofi_quirk(p, FABTX__OFI_Q_TRUSTS_PEER)
			                ? "; only when named, it trusts its peers "
			                  "(docs/peers.md)"
			            : excl_lo ? "; only when named"
			                      : "; auto on loopback only")
			         : "",
			    doms);
		} else {
			say(o, "    %-14s %-5s no:  %s\n", p, ep_name(e->ep_attr->type),
			    rows[i].why);
		}
	}
	/* providers libfabric has that offer no endpoint here (no device) */
	for (q = pa; q; q = q->next) {
		const char *p = q->fabric_attr ? q->fabric_attr->prov_name : NULL;
		if (!p || !noep_new(pa, q, rows, n) || !prov_match(o, p)) continue;
		say(o, "    %-14s %-5s no:  no endpoint on this machine (no "
		       "device or driver)\n",
		    p, "-");
		rec(o, "ofi_ep", "\tprovider=%s\tep=\tfabric=\tdomain=\t"
		                 "usable=0\tauto=\twait=\tinject=0\tcq_data=0"
		                 "\tmr_mode=\treason=no endpoint on this machine",
		    p);
	}
	if (!n) {
		say(o, "    fi_getinfo found no provider\n");
		rec(o, "ofi_none", "\treason=fi_getinfo found no provider");
	}
	if (!o->prov) {
		ofi_default(o, ctx, "127.0.0.1:0", "127.0.0.1:PORT");
		ofi_default(o, ctx, "*:0", "*:PORT");
	}
out:
	free(rows);
	fi_freeinfo(pa);
	fi_freeinfo(all);
	fi_freeinfo(fx);
	fi_freeinfo(broad);
	fi_freeinfo(h);
	return any;
}
#endif

/* ---------------------------------------------------------------- rio */
#ifdef FABTX_WITH_RIO
static int info_rio(const info_opts *o)
{
	int i, any = 0, found = 0, cm;
	char why[160];
	say(o, "\n");
	cm = open("/dev/rio_cm", O_RDWR | O_CLOEXEC);
	for (i = 0; i < 8; i++) {
		char path[32];
		struct rio_mport_properties p;
		int fd;
		snprintf(path, sizeof path, "/dev/rio_mport%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			if (errno != ENOENT && errno != ENODEV && errno != ENXIO) {
				found++;
				say(o, "rio://  mport %d: not usable: %s: %s\n", i, path,
				    strerror(errno));
				rec(o, "rio_mport", "\tindex=%d\tusable=0\treason=%s: %s",
				    i, path, strerror(errno));
			}
			continue;
		}
		found++;
		memset(&p, 0, sizeof p);
		why[0] = 0;
		if (ioctl(fd, RIO_MPORT_GET_PROPERTIES, &p) < 0)
			snprintf(why, sizeof why, "RIO_MPORT_GET_PROPERTIES: %s",
			         strerror(errno));
		else if (!(p.transfer_mode & RIO_TRANSFER_MODE_TRANSFER) ||
		         !(p.flags & FABTX__RIO_MPORT_DMA))
			snprintf(why, sizeof why, "no DMA transfer support");
		else if (p.hdid == FABTX__RIO_ANY_DESTID)
			snprintf(why, sizeof why, "no destID (port not enumerated)");
		else if (cm < 0)
			snprintf(why, sizeof why, "/dev/rio_cm: %s (rio_cm not loaded)",
			         strerror(errno));
		close(fd);
		if (!why[0]) any = 1;
		say(o, "rio://DESTID:CHANNEL?mport=%d  %s%s\n", i,
		    why[0] ? "not usable: " : "usable", why);
		if (!why[0] || o->verbose)
			say(o, "    destID %u, %s system (%s destIDs), link %s x%u, DMA "
			       "up to %llu B in %u segments (align %u), port %s\n",
			    p.hdid, p.sys_size ? "large" : "small",
			    p.sys_size ? "16-bit" : "8-bit",
			    p.link_speed == 0 ? "down" : "up", p.link_width,
			    (unsigned long long)(p.dma_max_size ? p.dma_max_size
			                                        : (64ull << 20)),
			    p.dma_max_sge, p.dma_align, p.port_ok ? "ok" : "not ok");
		rec(o, "rio_mport",
		    "\tindex=%d\tusable=%d\tdestid=%u\tsys_size=%u\tlink_width=%u"
		    "\tdma_max=%llu\tdma_sge=%u\tdma_align=%u\tport_ok=%u\treason=%s",
		    i, !why[0], p.hdid, p.sys_size, p.link_width,
		    (unsigned long long)p.dma_max_size, p.dma_max_sge, p.dma_align,
		    p.port_ok, why);
		if (!why[0] && cm >= 0) {
			uint32_t k = (uint32_t)i, cnt = 0;
			if (ioctl(cm, RIO_CM_EP_GET_LIST_SIZE, &k) == 0) cnt = k;
			say(o, "    rio_cm peers on this mport: %u\n", cnt);
			rec(o, "rio_peers", "\tindex=%d\tcount=%u", i, cnt);
		}
	}
	if (cm >= 0) close(cm);
	if (!found) {
		say(o, "rio://  not usable: no /dev/rio_mport0..7 (no RapidIO "
		       "hardware, or rio_mport_cdev not loaded)\n");
		rec(o, "rio", "\tusable=0\treason=no /dev/rio_mport0..7");
	} else {
		rec(o, "rio", "\tusable=%d\treason=%s", any,
		    any ? "" : "no mport fabtx can use");
	}
	return any;
}
#endif

/* --------------------------------------------------------------- scif */
#ifdef FABTX_WITH_SCIF
static int info_scif(const info_opts *o)
{
	struct scifioctl_node_ids ni;
	uint16_t nodes[64], self = 0;
	int fd = open(FABTX_SCIF_DEV, O_RDWR | O_CLOEXEC), i, n;
	say(o, "\n");
	if (fd < 0) {
		int e = errno;
		say(o, "scif://NODE:PORT  not usable: %s: %s (no Intel SCIF "
		       "driver)\n", FABTX_SCIF_DEV, strerror(e));
		rec(o, "scif", "\tusable=0\treason=%s: %s", FABTX_SCIF_DEV,
		    strerror(e));
		return 0;
	}
	memset(&ni, 0, sizeof ni);
	ni.nodes = (uint64_t)(uintptr_t)nodes;
	ni.self = (uint64_t)(uintptr_t)&self;
	ni.len = (int32_t)(sizeof nodes / sizeof nodes[0]);
	if (ioctl(fd, SCIF_GET_NODEIDS, &ni) < 0) {
		int e = errno;
		close(fd);
		say(o, "scif://NODE:PORT  not usable: SCIF_GET_NODEIDS: %s\n",
		    strerror(e));
		rec(o, "scif", "\tusable=0\treason=SCIF_GET_NODEIDS: %s",
		    strerror(e));
		return 0;
	}
	close(fd);
	n = ni.len < 0 ? 0 : ni.len;
	say(o, "scif://NODE:PORT  usable: this is node %u, %d node%s online:", self,
	    n, n == 1 ? "" : "s");
	rec(o, "scif", "\tusable=1\tself=%u\tnodes=%d\treason=", self, n);
	for (i = 0; i < n; i++) {
		say(o, " %d%s", i, i == self ? " (self)" : i == 0 ? " (host)" : "");
		rec(o, "scif_node", "\tid=%d\tself=%d", i, i == self);
	}
	say(o, "\n");
	return 1;
}
#endif

/* ---------------------------------------------------------------- main */
static const char *const g_backends[] = {
#ifndef FABTX_NO_SHM
    "shm",
#endif
#ifdef FABTX_WITH_OFI
    "ofi",
#endif
#ifdef FABTX_WITH_RIO
    "rio",
#endif
#ifdef FABTX_WITH_SCIF
    "scif",
#endif
    NULL};

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: fabtx_info [-v] [-m] [-b BACKEND] [-p PROVIDER] [-e msg|rdm]\n"
	        "  -b BACKEND   only this backend (shm, ofi, rio, scif)\n"
	        "  -p PROVIDER  only this libfabric provider (implies -b ofi)\n"
	        "  -e EP        only this endpoint type: msg or rdm (ofi)\n"
	        "  -v           every fabric/domain entry, and more detail\n"
	        "  -m           machine-readable: tab-separated key=value records\n"
	        "  -V           version only\n"
	        "  -h           this help\n"
	        "Exit status 0 if fabtx can use something selected, else 1.\n");
}

int main(int argc, char **argv)
{
	info_opts o;
	fabtx_ctx *ctx = NULL;
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	int i, any = 0, rc;
	static char prov[64];
	memset(&o, 0, sizeof o);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			o.verbose = 1;
			continue;
		}
		if (strcmp(a, "-m") == 0 || strcmp(a, "--machine") == 0) {
			o.machine = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("fabtx_info %s (wire protocol %d.%d)\n",
			       FABTX_VERSION_STRING, FABTX_WIRE_MAJOR, FABTX_WIRE_MINOR);
			return 0;
		}
		if ((strcmp(a, "-p") == 0 || strcmp(a, "-b") == 0 ||
		     strcmp(a, "-e") == 0) &&
		    i + 1 < argc)
			val = argv[++i];
		else if (strncmp(a, "--provider=", 11) == 0 ||
		         strncmp(a, "--backend=", 10) == 0 ||
		         strncmp(a, "--ep_type=", 10) == 0)
			val = strchr(a, '=') + 1;
		if (!val) {
			fprintf(stderr, "fabtx_info: %s '%s'\n",
			        a[0] == '-' ? "unknown option or missing value for"
			                    : "unexpected argument",
			        a);
			usage(stderr);
			return 1;
		}
		if (a[1] == 'p' || a[2] == 'p') {
			size_t k;
			snprintf(prov, sizeof prov, "%s", val);
			for (k = 0; prov[k]; k++)
				if (prov[k] == '+') prov[k] = ';'; /* URL spelling */
			o.prov = prov;
		} else if (a[1] == 'b' || a[2] == 'b') {
			o.backend = val;
		} else if (strcmp(val, "msg") == 0) {
			o.ep = 1;
		} else if (strcmp(val, "rdm") == 0) {
			o.ep = 2;
		} else {
			fprintf(stderr, "fabtx_info: endpoint type '%s': fabtx uses "
			                "msg or rdm\n", val);
			return 1;
		}
	}
	if (o.prov || o.ep) {
		if (o.backend && strcmp(o.backend, "ofi") != 0) {
			fprintf(stderr, "fabtx_info: -p and -e select ofi providers, "
			                "not backend '%s'\n", o.backend);
			return 1;
		}
		o.backend = "ofi";
	}
	if (o.backend) {
		for (i = 0; g_backends[i]; i++)
			if (strcmp(g_backends[i], o.backend) == 0) break;
		if (!g_backends[i]) {
			fprintf(stderr, "fabtx_info: no backend '%s' in this build "
			                "(compiled in:", o.backend);
			for (i = 0; g_backends[i]; i++)
				fprintf(stderr, " %s", g_backends[i]);
			fprintf(stderr, ")\n");
			return 1;
		}
	}

	cfg.logger.func = info_logger;
	cfg.logger.level = FABTX_LOG_DEBUG;
	rc = fabtx_ctx_create(&ctx, &cfg);
	if (rc < 0) {
		fprintf(stderr, "fabtx_info: cannot create a context: %s (check "
		                "FABTX_CELL_SIZE / FABTX_CELL_COUNT)\n",
		        fabtx_strerror(rc));
		return 1;
	}
#ifdef FABTX_WITH_OFI
	rc = fabtx_ctx_add_backend(ctx, fabtx_ofi_backend());
	if (rc < 0) {
		fprintf(stderr, "fabtx_info: ofi backend: %s\n", fabtx_strerror(rc));
		fabtx_ctx_destroy(ctx);
		return 1;
	}
#endif
	say(&o, "fabtx %s, wire protocol %d.%d\nbackends:", FABTX_VERSION_STRING,
	    FABTX_WIRE_MAJOR, FABTX_WIRE_MINOR);
	rec(&o, "fabtx", "\tversion=%s\twire=%d.%d", FABTX_VERSION_STRING,
	    FABTX_WIRE_MAJOR, FABTX_WIRE_MINOR);
	for (i = 0; g_backends[i]; i++) {
		say(&o, " %s", g_backends[i]);
		rec(&o, "backend", "\tname=%s", g_backends[i]);
	}
	say(&o, "\n");
#ifndef FABTX_NO_SHM
	if (want(&o, "shm")) {
		any |= info_shm(&o, ctx);
	}
#endif
#ifdef FABTX_WITH_OFI
	if (want(&o, "ofi")) {
		any |= info_ofi(&o, ctx);
	}
#endif
#ifdef FABTX_WITH_RIO
	if (want(&o, "rio")) {
		any |= info_rio(&o);
	}
#endif
#ifdef FABTX_WITH_SCIF
	if (want(&o, "scif")) {
		any |= info_scif(&o);
	}
#endif
	fabtx_ctx_destroy(ctx);
	return any ? 0 : 1;
}
