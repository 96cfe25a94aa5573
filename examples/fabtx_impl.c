/* The one translation unit of the examples that carries the fabtx
 * implementation, with every backend this build was configured for.  Being
 * that unit, it can also ask the backends locally whether a URL can ever
 * work here (perf_url_check, perf_url_explain: examples/perf_common.h). */
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
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "perf_common.h"

/* Create a context with every backend compiled in. */
int perf_ctx_create(fabtx_ctx **ctx)
{
	int rc = fabtx_ctx_create(ctx, NULL);
	if (rc < 0) return rc;
#ifdef FABTX_WITH_OFI
	if ((rc = fabtx_ctx_add_backend(*ctx, fabtx_ofi_backend())) < 0) goto fail;
#endif
#ifdef FABTX_WITH_RIO
	if ((rc = fabtx_ctx_add_backend(*ctx, fabtx_rio_backend())) < 0) goto fail;
#endif
#ifdef FABTX_WITH_SCIF
	if ((rc = fabtx_ctx_add_backend(*ctx, fabtx_scif_backend())) < 0) goto fail;
#endif
	return 0;
#if defined(FABTX_WITH_OFI) || defined(FABTX_WITH_RIO) || defined(FABTX_WITH_SCIF)
fail:
	fabtx_ctx_destroy(*ctx);
	*ctx = NULL;
	return rc;
#endif
}

/* perf_url_check said on stderr why the URL cannot work */
static int perf__said;

/* the schemes of the context's backends, "shm:// ofi:// ..." */
static void perf_schemes(fabtx_ctx *ctx, char *out, size_t cap)
{
	int i;
	size_t o = 0;
	out[0] = 0;
	for (i = 0; i < ctx->nbe && o < cap; i++) {
		int k = snprintf(out + o, cap - o, "%s%s://", i ? " " : "",
		                 ctx->be[i]->scheme);
		if (k < 0) break;
		o += (size_t)k;
	}
}

/* the backend for url's scheme, or NULL after saying why on stderr */
static const fabtx_backend *perf_backend(fabtx_ctx *ctx, const char *prog,
                                         const char *url)
{
	const char *sep = strstr(url, "://");
	char have[128];
	int i;
	perf_schemes(ctx, have, sizeof have);
	if (!sep) {
		fprintf(stderr, "%s: '%s' is not a URL (SCHEME://ADDRESS; this "
		                "build has %s)\n", prog, url, have);
		return NULL;
	}
	for (i = 0; i < ctx->nbe; i++)
		if (strlen(ctx->be[i]->scheme) == (size_t)(sep - url) &&
		    strncmp(ctx->be[i]->scheme, url, (size_t)(sep - url)) == 0)
			return ctx->be[i];
	fprintf(stderr, "%s: no backend for '%.*s://' in this build (it has %s)\n",
	        prog, (int)(sep - url), url, have);
	return NULL;
}

int perf_url_check(fabtx_ctx *ctx, const char *prog, const char *url)
{
	const fabtx_backend *be = perf_backend(ctx, prog, url);
	perf__said = 1; /* every failure below says why */
	if (!be) return strstr(url, "://") ? -EPROTONOSUPPORT : -EINVAL;
#ifdef FABTX_WITH_OFI
	if (be == fabtx_ofi_backend()) {
		fabtx__ofi_url u;
		struct fi_info *fi = NULL, *h, *all = NULL, *f;
		const char *env = getenv("FABTX_OFI_PROVIDER");
		int rc;
		if (fabtx__ofi_parse_url(url + 6, &u) < 0) {
			fprintf(stderr, "%s: malformed ofi URL '%s' (ofi://HOST:PORT"
			                "[?provider=P&fabric=F&domain=D&ep=msg|rdm])\n",
			        prog, url);
			return -EINVAL;
		}
		/* the listener chooses fabric and domain; provider and
		 * endpoint type must exist here, or no listener will do */
		u.fabric[0] = u.domain[0] = 0;
		if (u.prov[0] || (env && *env)) {
			/* the backend's own resolution: its log line names
			 * what fi_getinfo found instead */
			rc = fabtx__ofi_resolve(ctx, &u, 0, &fi);
			fi_freeinfo(fi);
			perf__said = rc < 0;
			if (rc < 0)
				fprintf(stderr, "%s: provider '%s' cannot carry fabtx "
				                "here (fabtx_info lists why)\n",
				        prog, u.prov[0] ? u.prov : env);
			return rc;
		}
		h = fabtx__ofi_hints(u.ep);
		if (!h) return -ENOMEM;
		if (fi_getinfo(FABTX__OFI_VERSION, NULL, NULL, 0, h, &all) != 0)
			all = NULL;
		for (f = all; f; f = f->next)
			if (fabtx__ofi_usable(f)) break;
		rc = f ? 0 : -ENODEV;
		perf__said = rc < 0;
		fi_freeinfo(all);
		fi_freeinfo(h);
		if (rc < 0)
			fprintf(stderr, "%s: no libfabric provider here can carry "
			                "fabtx (fabtx_info -b ofi lists why)\n", prog);
		return rc;
	}
#endif
	perf__said = 0;
	return 0;
}

void perf_url_explain(fabtx_ctx *ctx, const char *prog, const char *url,
                      long rc)
{
	const fabtx_backend *be;
	if (perf__said) return; /* perf_url_check has told */
	if (rc != -ENODEV && rc != -ENOTSUP && rc != -EPROTONOSUPPORT &&
	    rc != -EINVAL)
		return;
	be = perf_backend(ctx, prog, url);
	if (!be || (rc != -ENODEV && rc != -ENOTSUP)) return;
	if (strcmp(be->scheme, "rio") == 0) {
		char found[160] = "", p[32];
		size_t o = 0;
		struct stat st;
		int i;
		for (i = 0; i < 8; i++) {
			snprintf(p, sizeof p, "/dev/rio_mport%d", i);
			if (stat(p, &st) == 0 && o + strlen(p) + 2 < sizeof found)
				o += (size_t)snprintf(found + o, sizeof found - o, " %s", p);
		}
		if (stat("/dev/rio_cm", &st) == 0 && o + 14 < sizeof found)
			o += (size_t)snprintf(found + o, sizeof found - o, " /dev/rio_cm");
		fprintf(stderr, "%s: rio:// needs /dev/rio_mport<N> with DMA and an "
		                "enumerated destID, and /dev/rio_cm; found:%s "
		                "(fabtx_info -b rio)\n",
		        prog, o ? found : " none");
	} else if (strcmp(be->scheme, "scif") == 0) {
		struct stat st;
		fprintf(stderr, "%s: scif:// needs /dev/scif (Intel SCIF driver); "
		                "%s (fabtx_info -b scif)\n",
		        prog, stat("/dev/scif", &st) == 0 ? "it is there"
		                                          : "there is none");
	} else if (strcmp(be->scheme, "ofi") == 0) {
		fprintf(stderr, "%s: fabtx_info -b ofi lists the providers and why "
		                "fabtx can or cannot use them\n", prog);
	}
}
