/* MR cache: lookup by containment, reuse, LRU eviction of idle entries
 * under count and byte limits, never evicting an entry in use, explicit
 * invalidation, statistics.  The registrar records every call and fails
 * the test on a dereg of an entry in use or a double dereg. */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "th.h"
#include <stdlib.h>
#include <sys/mman.h>

#define MAXR 65536
struct rec {
	int live[MAXR]; /* registration id -> registered and not dereg'd */
	uint64_t addr[MAXR], len[MAXR];
	int next, regs, deregs;
};
static int rec_reg(void *u, void *addr, size_t len, unsigned access,
                   fabtx_mr_reg *out)
{
	struct rec *r = (struct rec *)u;
	(void)access;
	if (r->next >= MAXR) return -ENOMEM;
	r->live[r->next] = 1;
	r->addr[r->next] = (uint64_t)(uintptr_t)addr;
	r->len[r->next] = len;
	out->mr = (void *)(uintptr_t)(r->next + 1);
	out->key = (uint64_t)r->next;
	out->addr = (uint64_t)(uintptr_t)addr;
	out->len = len;
	r->next++;
	r->regs++;
	return 0;
}
static void rec_dereg(void *u, fabtx_mr_reg *reg)
{
	struct rec *r = (struct rec *)u;
	int id = (int)(uintptr_t)reg->mr - 1;
	if (id < 0 || id >= r->next || !r->live[id]) {
		fprintf(stderr, "bad or double dereg %d\n", id);
		_exit(1);
	}
	r->live[id] = 0;
	r->deregs++;
}
static fabtx_mr_cache *mk(struct rec *r, uint32_t cnt, uint64_t bytes)
{
	fabtx_mr_cache *mc;
	fabtx_mr_cache_config cfg;
	fabtx_mr_ops ops;
	memset(r, 0, sizeof *r);
	cfg.max_count = cnt;
	cfg.max_bytes = bytes;
	ops.reg = rec_reg;
	ops.dereg = rec_dereg;
	ops.user = r;
	TT_OK(fabtx_mr_cache_create(&mc, &cfg, &ops, NULL));
	return mc;
}
static int id_of(fabtx_mr_entry *e)
{
	return (int)(uintptr_t)fabtx_mr_entry_reg(e)->mr - 1;
}

TT_TEST(mr_hit_on_containment_and_stats)
{
	static struct rec r;
	static char buf[1 << 16] __attribute__((aligned(4096)));
	fabtx_mr_cache *mc = mk(&r, 8, 1 << 30);
	fabtx_mr_entry *a, *b, *c;
	fabtx_mr_cache_stats st;
	TT_OK(fabtx_mr_get(mc, buf, 8192, 1, &a));
	TT_OK(fabtx_mr_get(mc, buf + 100, 50, 1, &b)); /* inside: hit */
	TT_ASSERT(a == b);
	TT_ASSERT(fabtx_mr_entry_reg(a)->addr <= (uint64_t)(uintptr_t)buf);
	TT_OK(fabtx_mr_get(mc, buf + 8000, 4096, 1, &c)); /* sticks out: miss */
	TT_ASSERT(c != a);
	fabtx_mr_cache_stats_get(mc, &st);
	TT_EQ(st.hits, 1);
	TT_EQ(st.misses, 2);
	TT_EQ(r.regs, 2);
	fabtx_mr_put(mc, a);
	fabtx_mr_put(mc, b);
	fabtx_mr_put(mc, c);
	TT_OK(fabtx_mr_get(mc, buf + 4096, 8192, 1, &a)); /* in c now */
	TT_ASSERT(a == c);
	fabtx_mr_put(mc, a);
	TT_EQ(fabtx_mr_get(mc, buf, 0, 1, &a), -EINVAL);
	TT_EQ(fabtx_mr_cache_destroy(mc), 0);
	TT_EQ(r.regs, r.deregs); /* destroy leaks nothing */
}

TT_TEST(mr_access_rights_must_cover_request)
{
	static struct rec r;
	static char buf[8192] __attribute__((aligned(4096)));
	fabtx_mr_cache *mc = mk(&r, 8, 1 << 30);
	fabtx_mr_entry *a, *b;
	int ida;
	TT_OK(fabtx_mr_get(mc, buf, 100, 1, &a));
	ida = id_of(a);
	fabtx_mr_put(mc, a);
	TT_OK(fabtx_mr_get(mc, buf, 100, 3, &b)); /* needs more access: miss */
	TT_ASSERT(id_of(b) != ida);
	TT_EQ(r.live[0], 0); /* the overlapping idle entry was uncached */
	fabtx_mr_put(mc, b);
	TT_EQ(fabtx_mr_cache_destroy(mc), 0);
}

TT_TEST(mr_lru_eviction_never_touches_entries_in_use)
{
	static struct rec r;
	static char buf[64 * 4096] __attribute__((aligned(4096)));
	fabtx_mr_cache *mc = mk(&r, 4, 1 << 30);
	fabtx_mr_entry *e[64];
	fabtx_mr_cache_stats st;
	int i, id[64];
	for (i = 0; i < 4; i++) {
		TT_OK(fabtx_mr_get(mc, buf + i * 4096, 10, 1, &e[i]));
		id[i] = id_of(e[i]);
	}
	/* all four in use; a fifth cannot evict them: uncached, not failed */
	TT_OK(fabtx_mr_get(mc, buf + 4 * 4096, 10, 1, &e[4]));
	id[4] = id_of(e[4]);
	fabtx_mr_cache_stats_get(mc, &st);
	TT_EQ(st.uncached, 1);
	for (i = 0; i < 4; i++) TT_EQ(r.live[id[i]], 1);
	fabtx_mr_put(mc, e[4]);
	TT_EQ(r.live[id[4]], 0); /* uncached: gone at its put */
	/* release 0 and 2 (0 first: least recently used) */
	fabtx_mr_put(mc, e[0]);
	fabtx_mr_put(mc, e[2]);
	TT_OK(fabtx_mr_get(mc, buf + 10 * 4096, 10, 1, &e[10]));
	TT_EQ(r.live[id[0]], 0); /* LRU idle entry evicted */
	TT_EQ(r.live[id[2]], 1);
	TT_EQ(r.live[id[1]], 1); /* in use: untouched */
	TT_EQ(r.live[id[3]], 1);
	fabtx_mr_cache_stats_get(mc, &st);
	TT_EQ(st.evictions, 1);
	TT_EQ(st.entries, 4);
	fabtx_mr_put(mc, e[1]);
	fabtx_mr_put(mc, e[3]);
	fabtx_mr_put(mc, e[10]);
	TT_EQ(fabtx_mr_cache_destroy(mc), 0);
	TT_EQ(r.regs, r.deregs);
}

TT_TEST(mr_byte_limit_evicts_idle)
{
	static struct rec r;
	static char buf[16 * 4096] __attribute__((aligned(4096)));
	fabtx_mr_cache *mc = mk(&r, 100, 3 * 4096);
	fabtx_mr_entry *e;
	fabtx_mr_cache_stats st;
	int i;
	for (i = 0; i < 10; i++) {
		TT_OK(fabtx_mr_get(mc, buf + i * 4096, 4096, 1, &e));
		fabtx_mr_put(mc, e);
		fabtx_mr_cache_stats_get(mc, &st);
		TT_ASSERT(st.bytes <= 3 * 4096);
	}
	TT_EQ(st.entries, 3);
	TT_EQ(fabtx_mr_cache_destroy(mc), 0);
}

TT_TEST(mr_invalidate_in_use_defers_dereg)
{
	static struct rec r;
	static char buf[8 * 4096] __attribute__((aligned(4096)));
	fabtx_mr_cache *mc = mk(&r, 8, 1 << 30);
	fabtx_mr_entry *a, *b, *c;
	int ida, idb;
	TT_OK(fabtx_mr_get(mc, buf, 4096, 1, &a));
	TT_OK(fabtx_mr_get(mc, buf + 4096 * 4, 4096, 1, &b));
	ida = id_of(a);
	idb = id_of(b);
	fabtx_mr_put(mc, b);
	TT_EQ(fabtx_mr_invalidate(mc, buf, 8 * 4096), 2);
	TT_EQ(r.live[idb], 0); /* idle: deregistered at once */
	TT_EQ(r.live[ida], 1); /* in use: still registered */
	TT_OK(fabtx_mr_get(mc, buf, 4096, 1, &c)); /* lookup after: a miss */
	TT_ASSERT(id_of(c) != ida);
	fabtx_mr_put(mc, a);
	TT_EQ(r.live[ida], 0); /* freed by its last put */
	fabtx_mr_put(mc, c);
	TT_EQ(fabtx_mr_cache_destroy(mc), 0);
	TT_EQ(r.regs, r.deregs);
}

TT_TEST(mr_munmap_remap_same_address_misses_after_invalidate)
{
	static struct rec r;
	fabtx_mr_cache *mc = mk(&r, 8, 1 << 30);
	fabtx_mr_entry *a, *b;
	int ida;
	size_t len = 1 << 20;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *q;
	TT_ASSERT(p != MAP_FAILED);
	TT_OK(fabtx_mr_get(mc, p, len, 1, &a));
	ida = id_of(a);
	fabtx_mr_put(mc, a);
	TT_EQ(fabtx_mr_invalidate(mc, p, len), 1); /* the app says it goes */
	munmap(p, len);
	q = mmap(p, len, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	TT_ASSERT(q == p);
	TT_OK(fabtx_mr_get(mc, q, len, 1, &b));
	TT_ASSERT(id_of(b) != ida); /* a fresh registration */
	TT_EQ(r.live[ida], 0);
	fabtx_mr_put(mc, b);
	TT_EQ(fabtx_mr_cache_destroy(mc), 0);
	munmap(q, len);
}

TT_TEST(mr_destroy_refuses_while_in_use)
{
	static struct rec r;
	static char buf[4096] __attribute__((aligned(4096)));
	fabtx_mr_cache *mc = mk(&r, 8, 1 << 30);
	fabtx_mr_entry *a;
	TT_OK(fabtx_mr_get(mc, buf, 10, 1, &a));
	TT_EQ(fabtx_mr_cache_destroy(mc), -EBUSY);
	fabtx_mr_put(mc, a);
	TT_EQ(fabtx_mr_cache_destroy(mc), 0);
}

TT_TEST(mr_random_ops_against_model)
{
	static struct rec r;
	static char buf[256 * 4096] __attribute__((aligned(4096)));
	fabtx_mr_cache *mc = mk(&r, 16, 64 * 4096);
	fabtx_mr_entry *held[64];
	fabtx_mr_cache_stats st;
	int nh = 0, i, k;
	uint64_t s = 777;
	for (i = 0; i < 20000; i++) {
		uint64_t op = th_rand(&s) % 10;
		if (op < 5 && nh < 64) {
			size_t off = (size_t)(th_rand(&s) % (250 * 4096));
			size_t len = 1 + (size_t)(th_rand(&s) % (5 * 4096));
			fabtx_mr_entry *e;
			const fabtx_mr_reg *g;
			TT_OK(fabtx_mr_get(mc, buf + off, len, 1, &e));
			g = fabtx_mr_entry_reg(e);
			/* the entry covers the request and is registered */
			TT_ASSERT(g->addr <= (uint64_t)(uintptr_t)(buf + off));
			TT_ASSERT(g->addr + g->len >= (uint64_t)(uintptr_t)(buf + off + len));
			TT_EQ(r.live[id_of(e)], 1);
			held[nh++] = e;
		} else if (op < 9 && nh) {
			k = (int)(th_rand(&s) % (uint64_t)nh);
			fabtx_mr_put(mc, held[k]);
			held[k] = held[--nh];
		} else {
			size_t off = (size_t)(th_rand(&s) % (250 * 4096));
			fabtx_mr_invalidate(mc, buf + off, 3 * 4096);
		}
		for (k = 0; k < nh; k++) TT_EQ(r.live[id_of(held[k])], 1);
		fabtx_mr_cache_stats_get(mc, &st);
		/* idle entries stay within limits unless everything is in use */
		if (st.in_use < 16) TT_ASSERT(st.entries <= 16);
	}
	while (nh) fabtx_mr_put(mc, held[--nh]);
	TT_EQ(fabtx_mr_cache_destroy(mc), 0);
	TT_EQ(r.regs, r.deregs);
}

TT_MAIN()
