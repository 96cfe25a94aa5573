/* SPDX-License-Identifier: MIT */
/* replay.c -- main() for a fuzz target built without libFuzzer: runs
 * LLVMFuzzerTestOneInput on every file named (directories: every file in
 * them) and prints the tt.h summary line: the replay is one test.  A
 * crash or a failed invariant aborts, which run_suite.sh counts as a
 * failure. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int npass;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;
	if (!f) {
		printf("FAIL %s: cannot open\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = (uint8_t *)malloc(n > 0 ? (size_t)n : 1);
	if (!b || (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n)) {
		printf("FAIL %s: cannot read\n", path);
		exit(1);
	}
	fclose(f);
	fflush(stdout);
	LLVMFuzzerTestOneInput(b, (size_t)n);
	free(b);
	npass++;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t nn = 0, i;
	if (stat(path, &sb) < 0) {
		printf("FAIL %s: missing\n", path);
		exit(1);
	}
	if (!S_ISDIR(sb.st_mode)) {
		run_file(path);
		return;
	}
	d = opendir(path);
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') continue;
		names = (char **)realloc(names, (nn + 1) * sizeof *names);
		names[nn] = (char *)malloc(strlen(path) + strlen(e->d_name) + 2);
		sprintf(names[nn], "%s/%s", path, e->d_name);
		nn++;
	}
	if (d) closedir(d);
	if (nn) qsort(names, nn, sizeof *names, cmp);
	for (i = 0; i < nn; i++) {
		run_path(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) run_path(argv[i]);
	printf("PASS replay of %d inputs\n", npass);
	printf("1 passed, 0 failed, 0 skipped\n");
	return 0;
}
