/* The one translation unit of the examples that carries the fabtx
 * implementation, with every backend this build was configured for. */
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

/* Create a context with every backend compiled in. */
int perf_ctx_create(fabtx_ctx **ctx);
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
