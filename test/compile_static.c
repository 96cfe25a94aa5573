/* FABTX_STATIC: every function private to this TU (vendoring mode). */
#define FABTX_STATIC
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include <stdio.h>
#include <string.h>

int main(void)
{
	int ok = fabtx_version() == FABTX_VERSION &&
	         strcmp(fabtx_strerror(-EAGAIN), fabtx_strerror(-ETIMEDOUT)) != 0;
	printf("%d passed, %d failed\n", ok, !ok);
	return ok ? 0 : 1;
}
