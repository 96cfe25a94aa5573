/* SPDX-License-Identifier: MIT */
/* tt.h -- fabtx's own tiny test framework (no third-party code).
 *
 *   #include "tt.h"
 *   TT_TEST(ring_wraps) { TT_ASSERT(x == 1); TT_EQ(a, b); }
 *   ...
 *   TT_MAIN()
 *
 * Each test runs in a forked child (a crash or hang fails only that test;
 * TT_TIMEOUT_S, default 120, bounds a test).  Output: "PASS name",
 * "FAIL name: why", "SKIP name: why", then "N passed, N failed, N skipped".
 * Arguments: test names or prefixes to run (default all).  Env TT_NOFORK=1
 * runs in-process (for gdb).  Exit status: 0 if nothing failed.
 */
#ifndef TT_H
#define TT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

typedef void (*tt_fn)(void);
struct tt_case { const char *name; tt_fn fn; };
#define TT_MAX 512
static struct tt_case tt_cases[TT_MAX];
static int tt_ncases;
static void tt_register(const char *name, tt_fn fn)
{
	if (tt_ncases < TT_MAX) { tt_cases[tt_ncases].name = name; tt_cases[tt_ncases].fn = fn; tt_ncases++; }
}
#define TT_TEST(name)                                                          \
	static void tt_t_##name(void);                                         \
	__attribute__((constructor)) static void tt_r_##name(void)             \
	{ tt_register(#name, tt_t_##name); }                                   \
	static void tt_t_##name(void)

#define TT_FAIL(...)                                                           \
	do { fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                 \
	     fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n");               \
	     fflush(stderr); _exit(1); } while (0)
#define TT_SKIP(...)                                                           \
	do { fprintf(stderr, "  skip: "); fprintf(stderr, __VA_ARGS__);         \
	     fprintf(stderr, "\n"); fflush(stderr); _exit(77); } while (0)
#define TT_ASSERT(cond)                                                        \
	do { if (!(cond)) TT_FAIL("assertion failed: %s", #cond); } while (0)
#define TT_EQ(a, b)                                                            \
	do { long long tt_a_ = (long long)(a), tt_b_ = (long long)(b);          \
	     if (tt_a_ != tt_b_)                                                \
		TT_FAIL("%s == %s: %lld != %lld", #a, #b, tt_a_, tt_b_); } while (0)
#define TT_OK(expr)                                                            \
	do { long long tt_r_ = (long long)(expr);                               \
	     if (tt_r_ < 0) TT_FAIL("%s failed: %lld", #expr, tt_r_); } while (0)

static int tt_selected(int argc, char **argv, const char *name)
{
	int i;
	if (argc < 2) return 1;
	for (i = 1; i < argc; i++)
		if (strncmp(name, argv[i], strlen(argv[i])) == 0) return 1;
	return 0;
}

static int tt_main(int argc, char **argv)
{
	int i, pass = 0, fail = 0, skip = 0;
	int nofork = getenv("TT_NOFORK") != NULL;
	int tmo = getenv("TT_TIMEOUT_S") ? atoi(getenv("TT_TIMEOUT_S")) : 120;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < tt_ncases; i++) {
		int st = 0;
		pid_t p;
		if (!tt_selected(argc, argv, tt_cases[i].name)) continue;
		if (nofork) { tt_cases[i].fn(); printf("PASS %s\n", tt_cases[i].name); pass++; continue; }
		fflush(NULL);
		p = fork();
		if (p == 0) {
			setpgid(0, 0);
			alarm((unsigned)tmo);
			tt_cases[i].fn();
			fflush(NULL);
			_exit(0);
		}
		if (p < 0 || waitpid(p, &st, 0) < 0) { printf("FAIL %s: fork/wait\n", tt_cases[i].name); fail++; continue; }
		kill(-p, SIGKILL); /* reap helpers the test may have left */
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) { printf("PASS %s\n", tt_cases[i].name); pass++; }
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 77) { printf("SKIP %s\n", tt_cases[i].name); skip++; }
		else if (WIFSIGNALED(st)) { printf("FAIL %s: signal %d%s\n", tt_cases[i].name, WTERMSIG(st), WTERMSIG(st) == SIGALRM ? " (timeout)" : ""); fail++; }
		else { printf("FAIL %s: exit %d\n", tt_cases[i].name, WEXITSTATUS(st)); fail++; }
	}
	printf("%d passed, %d failed, %d skipped\n", pass, fail, skip);
	return fail ? 1 : 0;
}
#define TT_MAIN() int main(int argc, char **argv) { return tt_main(argc, argv); }
#endif
