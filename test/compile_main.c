/* Compile/link test: the implementation in this TU, declarations only in
 * compile_other.c; built as C99, C11 and C++11 with -Wall -Wextra -Werror
 * -pedantic.  A misspelled IMPLEMENTATION macro fails the link. */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "fabtx.h" /* a second include is harmless */
#include <stdio.h>

int other_version(void);

int main(void)
{
	fabtx_ctx *ctx;
	int ok = fabtx_version() == (uint32_t)other_version() &&
	         fabtx_version() == FABTX_VERSION &&
	         fabtx_ctx_create(&ctx, NULL) == 0;
	if (ok) fabtx_ctx_destroy(ctx);
	printf("%d passed, %d failed\n", ok, !ok);
	return ok ? 0 : 1;
}
