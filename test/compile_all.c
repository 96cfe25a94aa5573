/* Every fabtx header's implementation in one translation unit, compiled
 * without any feature macro on the command line (test/compile_headers.sh):
 * fabtx.h, included first, must set what the implementation needs. */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "fabtx_ofi.h"
#include "fabtx_rio.h"
#include "fabtx_scif.h"
#include <stdio.h>
#include <string.h>

int other_version(void);

int main(void)
{
	fabtx_ctx *ctx;
	int ok = fabtx_version() == (uint32_t)other_version() &&
	         fabtx_ctx_create(&ctx, NULL) == 0;
	if (ok) {
		/* every backend registers; shm is built in */
		ok = fabtx_ctx_add_backend(ctx, fabtx_ofi_backend()) == 0 &&
		     fabtx_ctx_add_backend(ctx, fabtx_rio_backend()) == 0 &&
		     fabtx_ctx_add_backend(ctx, fabtx_scif_backend()) == 0 &&
		     strcmp(fabtx_shm_backend()->scheme, "shm") == 0 &&
		     strcmp(fabtx_scif_backend()->scheme, "scif") == 0;
		fabtx_ctx_destroy(ctx);
	}
	printf("%d passed, %d failed\n", ok, !ok);
	return ok ? 0 : 1;
}
