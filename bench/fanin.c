/* bench/fanin.c -- fan-in: N clients stream to one server.
 *
 *   fanin <listen-url> <clients> <message-size> <messages-per-client>
 *
 * The server (this process) listens at the URL; N child processes connect
 * to it, wait until all N are accepted, then each sends its messages as
 * fast as credits allow and closes.  The server receives from all of them
 * in one thread: busy-polling every connection in turn with FANIN_SPIN=1,
 * else sleeping in poll() on their fds until one has work.  The clients
 * use the environment's setting (FABTX_SPIN_US; unset: they sleep when out
 * of credits).  Prints, in MB/s (1e6 B/s), each client's throughput (from
 * its first to its last message at the server), their mean and the
 * aggregate (all bytes, from the first message of any client to the last
 * of all):
 *   client 3: 1234.5 [MB/s]
 *   per-client mean: 1200.0 [MB/s]
 *   aggregate: 4800.0 [MB/s]
 * Exit 0, or 1 after saying what failed (a client that failed included). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "perf_common.h"

#define FANIN_MAX 64

/* one byte from fd: the parent's go-ahead (0), or -1 if it went away */
static int await_go(int fd)
{
	char b;
	ssize_t n;
	while ((n = read(fd, &b, 1)) < 0 && errno == EINTR) {}
	return n == 1 ? 0 : -1;
}

static int go(int fd, int n)
{
	char b[FANIN_MAX];
	memset(b, 'g', sizeof b);
	return write(fd, b, (size_t)n) == (ssize_t)n ? 0 : -1;
}

static int client(const char *url, size_t size, long count, int connect_fd,
                  int send_fd)
{
	fabtx_ctx *ctx = NULL;
	fabtx_conn *c = NULL;
	char *buf = (char *)calloc(1, size ? size : 1);
	long i;
	int rc, ret = 1;
	if (!buf || await_go(connect_fd) < 0) goto out;
	if ((rc = perf_ctx_create(&ctx)) < 0) { perf_fail("client ctx", rc); goto out; }
	if ((rc = perf_connect(ctx, "fanin client", url, &c)) < 0) {
		perf_fail("client connect", rc);
		goto out;
	}
	if (await_go(send_fd) < 0) goto out;
	for (i = 0; i < count; i++) {
		ssize_t n = fabtx_send(c, buf, size, -1);
		if (n < 0) { perf_fail("client send", n); goto out; }
	}
	rc = fabtx_conn_close(c, 60000);
	c = NULL;
	if (rc < 0) { perf_fail("client close", rc); goto out; }
	ret = 0;
out:
	if (c) fabtx_conn_close(c, 0);
	fabtx_ctx_destroy(ctx);
	free(buf);
	return ret;
}

struct peer {
	fabtx_conn *c;
	long got;
	double t0, t1;
};

int main(int argc, char **argv)
{
	fabtx_ctx *ctx = NULL;
	fabtx_listener *l = NULL;
	struct peer p[FANIN_MAX];
	struct pollfd pfd[FANIN_MAX];
	pid_t kid[FANIN_MAX];
	int cpipe[2], spipe[2];
	int nc, i, rc, ret = 1, spin, left;
	size_t size;
	long count;
	char *buf = NULL, *e;
	double first = 0, last = 0, sum = 0;
	const char *s = getenv("FANIN_SPIN");
	spin = s && s[0] == '1';
	if (argc != 5) {
		fprintf(stderr, "usage: %s <listen-url> <clients> <message-size> "
		                "<messages-per-client>\n", argv[0]);
		return 1;
	}
	nc = (int)strtol(argv[2], &e, 10);
	if (*e || nc < 1 || nc > FANIN_MAX) {
		fprintf(stderr, "%s: clients must be 1..%d\n", argv[0], FANIN_MAX);
		return 1;
	}
	/* the same checks as the perf tools, from argv[2..3] shifted by one */
	{
		char *a[4];
		a[0] = argv[0]; a[1] = argv[1]; a[2] = argv[3]; a[3] = argv[4];
		if (perf_args(4, a, "listen-url", &size, &count) < 0) return 1;
	}
	if (pipe(cpipe) < 0 || pipe(spipe) < 0) { perror("pipe"); return 1; }
	memset(p, 0, sizeof p);
	memset(kid, 0, sizeof kid);
	/* clients first, before this process holds any fabtx state */
	for (i = 0; i < nc; i++) {
		kid[i] = fork();
		if (kid[i] < 0) { perror("fork"); goto out; }
		if (kid[i] == 0) {
			close(cpipe[1]);
			close(spipe[1]);
			_exit(client(argv[1], size, count, cpipe[0], spipe[0]));
		}
	}
	close(cpipe[0]);
	close(spipe[0]);
	buf = (char *)malloc(size ? size : 1);
	if (!buf) goto out;
	if ((rc = perf_ctx_create(&ctx)) < 0) { perf_fail("ctx", rc); goto out; }
	if ((rc = fabtx_listen(ctx, argv[1], &l)) < 0) {
		perf_url_fail(ctx, argv[0], "listen", argv[1], rc);
		goto out;
	}
	if (go(cpipe[1], nc) < 0) { perror("fanin: start clients"); goto out; }
	for (i = 0; i < nc; i++)
		if ((rc = fabtx_accept(l, &p[i].c, 30000)) < 0) {
			perf_fail("accept", rc);
			goto out;
		}
	if (go(spipe[1], nc) < 0) { perror("fanin: start clients"); goto out; }
	left = nc;
	while (left > 0) {
		int busy = 0;
		for (i = 0; i < nc; i++) {
			ssize_t n;
			if (!p[i].c || p[i].got == count) continue;
			while (p[i].got < count &&
			       (n = fabtx_recv(p[i].c, buf, size, 0)) != -EAGAIN) {
				double t;
				if (n < 0) { perf_fail("recv", n); goto out; }
				if ((size_t)n != size) {
					fprintf(stderr, "message of incorrect size received\n");
					goto out;
				}
				t = perf_now_us();
				if (p[i].got++ == 0) p[i].t0 = t;
				if (first == 0 || t < first) first = t;
				p[i].t1 = last = t;
				busy = 1;
				if (p[i].got == count) left--;
				if (!spin) break; /* fair turns when sleeping too */
			}
		}
		if (busy || spin || left == 0) continue;
		/* nothing anywhere: arm every connection still sending, sleep */
		{
			int k = 0, work = 0;
			for (i = 0; i < nc; i++) {
				if (p[i].got == count) continue;
				rc = fabtx_conn_arm_mask(p[i].c, FABTX_POLLIN);
				if (rc == -EAGAIN) { work = 1; break; }
				if (rc < 0) { perf_fail("arm", rc); goto out; }
				pfd[k].fd = fabtx_conn_fd(p[i].c);
				pfd[k].events = POLLIN;
				pfd[k].revents = 0;
				k++;
			}
			if (!work && poll(pfd, (nfds_t)k, 1000) < 0 && errno != EINTR) {
				perror("poll");
				goto out;
			}
		}
	}
	for (i = 0; i < nc; i++) {
		double us = p[i].t1 - p[i].t0;
		double mbps = us > 0 ? (double)count * (double)size / us : 0;
		sum += mbps;
		printf("client %d: %.1f [MB/s]\n", i, mbps);
	}
	printf("clients: %d\nmessage size: %d [B]\nmessages per client: %ld\n",
	       nc, (int)size, count);
	printf("per-client mean: %.1f [MB/s]\n", sum / nc);
	printf("aggregate: %.1f [MB/s]\n",
	       last > first ? (double)count * (double)size * nc / (last - first) : 0);
	ret = 0;
out:
	for (i = 0; i < nc; i++)
		if (p[i].c) {
			rc = fabtx_conn_close(p[i].c, ret == 0 ? 10000 : 0);
			if (rc < 0 && rc != -ESHUTDOWN && ret == 0) {
				perf_fail("close", rc);
				ret = 1;
			}
		}
	fabtx_listener_close(l);
	fabtx_ctx_destroy(ctx);
	close(cpipe[1]); /* clients still waiting for a go-ahead see EOF */
	close(spipe[1]);
	for (i = 0; i < nc; i++) {
		int st;
		if (kid[i] <= 0) continue;
		if (ret != 0) kill(kid[i], SIGTERM);
		if (waitpid(kid[i], &st, 0) == kid[i] &&
		    (!WIFEXITED(st) || WEXITSTATUS(st) != 0) && ret == 0) {
			fprintf(stderr, "%s: client %d failed\n", argv[0], i);
			ret = 1;
		}
	}
	free(buf);
	return ret;
}
