/* Doorbell range allocation: reserved values, aligned ranges, O(1) decode,
 * exhaustion, quarantine, checked against a model under random operations. */
#define FABTX_IMPLEMENTATION
#include "fabtx.h"
#include "th.h"
#include <stdlib.h>

TT_TEST(db_first_ranges_have_no_off_by_one)
{
	fabtx_db_alloc *d;
	fabtx_db_range r[4];
	int i;
	TT_OK(fabtx_db_alloc_create(&d, NULL));
	/* 8-cell rings take 16 values: [16,32), [32,48), [48,64) ... never
	 * the thesis's [34,49) mistake, never the reserved [0,16) */
	for (i = 0; i < 4; i++) {
		TT_EQ(fabtx_db_alloc_range(d, 8, 4, (uint16_t)(i + 1), 0, &r[i]), 8);
		TT_EQ(r[i].base, 16 + 16 * i);
		TT_EQ(r[i].count, 16);
	}
	TT_EQ(fabtx_db_in_use(d), 64);
	fabtx_db_alloc_destroy(d);
}

TT_TEST(db_decode_is_total_and_exact)
{
	fabtx_db_alloc *d;
	fabtx_db_range r;
	uint32_t v, off;
	uint16_t o;
	TT_OK(fabtx_db_alloc_create(&d, NULL));
	TT_EQ(fabtx_db_alloc_range(d, 64, 4, 9, 0, &r), 64);
	TT_EQ(r.base % 128, 0);
	for (v = 0; v < 65536 + 4; v++) {
		fabtx_db_kind k = fabtx_db_decode(d, v, &o, &off);
		if (v == 0 || v >= 65536) TT_EQ(k, FABTX_DB_KIND_SPURIOUS);
		else if (v < 16) TT_EQ(k, FABTX_DB_KIND_CONTROL);
		else if (v >= r.base && v < r.base + 64u) {
			TT_EQ(k, FABTX_DB_KIND_DATA);
			TT_EQ(o, 9);
			TT_EQ(off, v - r.base);
		} else if (v >= r.base + 64u && v < r.base + 128u) {
			TT_EQ(k, FABTX_DB_KIND_CREDIT);
			TT_EQ(off, v - r.base - 64);
		} else TT_EQ(k, FABTX_DB_KIND_SPURIOUS);
	}
	fabtx_db_alloc_destroy(d);
}

TT_TEST(db_exhaustion_halves_then_fails_cleanly)
{
	fabtx_db_alloc *d;
	fabtx_db_range r;
	int n = 0, rc, slot = 1;
	TT_OK(fabtx_db_alloc_create(&d, NULL));
	/* 16384-cell ranges (32768 values): only [32768, 65536) fits */
	TT_EQ(fabtx_db_alloc_range(d, 16384, 16384, (uint16_t)slot++, 0, &r), 16384);
	TT_EQ(r.base, 32768);
	TT_EQ(fabtx_db_alloc_range(d, 16384, 16384, (uint16_t)slot++, 0, &r), -ENOSPC);
	/* the rest fills with smaller ranges, offered N, N/2, ... */
	while ((rc = fabtx_db_alloc_range(d, 4096, 4, (uint16_t)slot++, 0, &r)) > 0)
		n += rc * 2;
	TT_EQ(rc, -ENOSPC);
	TT_EQ(fabtx_db_in_use(d), 65536 - 16);
	TT_EQ(n, 32768 - 16);
	r.base = 17; /* inside granted space, but not a range's bounds */
	r.count = 8;
	TT_EQ(fabtx_db_free_range(d, r, 0, 0), -EINVAL);
	fabtx_db_alloc_destroy(d);
}

TT_TEST(db_free_checks_exact_bounds_and_quarantine)
{
	fabtx_db_alloc *d;
	fabtx_db_range r, bad, r2;
	TT_OK(fabtx_db_alloc_create(&d, NULL));
	TT_EQ(fabtx_db_alloc_range(d, 4, 4, 1, 1000, &r), 4);
	bad = r;
	bad.count = 4;
	TT_EQ(fabtx_db_free_range(d, bad, 1000, 50), -EINVAL);
	bad = r;
	bad.base += 8;
	TT_EQ(fabtx_db_free_range(d, bad, 1000, 50), -EINVAL);
	TT_EQ(fabtx_db_free_range(d, r, 1000, 50), 0);
	TT_EQ(fabtx_db_free_range(d, r, 1000, 50), -EINVAL); /* double free */
	/* not reissued before the quarantine ends */
	TT_EQ(fabtx_db_alloc_range(d, 4, 4, 2, 1049, &r2), 4);
	TT_ASSERT(r2.base != r.base);
	TT_EQ(fabtx_db_alloc_range(d, 4, 4, 3, 1050, &r2), 4);
	TT_EQ(r2.base, r.base);
	TT_EQ(fabtx_db_alloc_range(d, 4, 4, 3, 1050, &r2), -EINVAL); /* slot busy */
	TT_EQ(fabtx_db_alloc_range(d, 6, 4, 4, 1050, &r2), -EINVAL);  /* not pow2 */
	TT_EQ(fabtx_db_alloc_range(d, 4, 2, 4, 1050, &r2), -EINVAL);  /* min < 4 */
	TT_EQ(fabtx_db_alloc_range(d, 4, 4, 0, 1050, &r2), -EINVAL);  /* slot 0 */
	fabtx_db_alloc_destroy(d);
}

TT_TEST(db_quarantine_gives_way_when_nothing_else_is_free)
{
	/* ranges freed with a long quarantine are reused at once (the one
	 * whose quarantine ends first) instead of failing or shrinking the
	 * ring; a free range out of quarantine is still preferred */
	fabtx_db_alloc *d;
	fabtx_db_range r[8], x;
	int i, rc;
	TT_OK(fabtx_db_alloc_create(&d, NULL));
	for (i = 0; i < 7; i++) /* [8192k, 8192(k+1)) for k = 1..7 */
		TT_EQ(fabtx_db_alloc_range(d, 4096, 4096, (uint16_t)(i + 1), 0, &r[i]), 4096);
	TT_OK(fabtx_db_free_range(d, r[2], 1000, 60000));
	TT_OK(fabtx_db_free_range(d, r[0], 1000, 50000));
	TT_OK(fabtx_db_free_range(d, r[3], 1000, 70000));
	TT_OK(fabtx_db_free_range(d, r[1], 1000, 0));
	/* out of quarantine first, at full size */
	TT_EQ(fabtx_db_alloc_range(d, 4096, 4, 11, 2000, &x), 4096);
	TT_EQ(x.base, r[1].base);
	/* then the quarantined ones, earliest end first, at full size (the
	 * free values below 8192 are too few for 4096 cells) */
	TT_EQ(fabtx_db_alloc_range(d, 4096, 4, 12, 2000, &x), 4096);
	TT_EQ(x.base, r[0].base);
	TT_EQ(fabtx_db_alloc_range(d, 4096, 4, 13, 2000, &x), 4096);
	TT_EQ(x.base, r[2].base);
	TT_EQ(fabtx_db_alloc_range(d, 4096, 4, 14, 2000, &x), 4096);
	TT_EQ(x.base, r[3].base);
	/* what is left lies below 8192: smaller ranges there until every
	 * value is owned, then -ENOSPC */
	for (i = 20; (rc = fabtx_db_alloc_range(d, 4096, 4, (uint16_t)i, 2000, &x)) > 0;
	     i++)
		TT_ASSERT(x.base + x.count <= 8192);
	TT_EQ(rc, -ENOSPC);
	fabtx_db_alloc_destroy(d);
}

TT_TEST(db_random_ops_match_model)
{
	static uint16_t model[65536];
	fabtx_db_alloc *d;
	fabtx_db_range live[600];
	uint16_t slot_of[600];
	uint64_t s = 4242, now = 0, quar_until[65536 / 8];
	int nlive = 0, i, iter, early;
	uint16_t next_slot = 1;
	memset(quar_until, 0, sizeof quar_until);
	TT_OK(fabtx_db_alloc_create(&d, NULL));
	for (iter = 0; iter < 20000; iter++) {
		now += th_rand(&s) % 3;
		if (nlive < 600 && (th_rand(&s) % 3 || nlive == 0)) {
			uint32_t cells = 4u << (th_rand(&s) % 8);
			fabtx_db_range r;
			uint16_t slot = next_slot++;
			int rc;
			if (next_slot >= 8000) next_slot = 1;
			for (i = 0; i < nlive; i++)
				if (slot_of[i] == slot) break;
			if (i < nlive) continue;
			rc = fabtx_db_alloc_range(d, cells, 4, slot, now, &r);
			if (rc == -ENOSPC) continue;
			TT_ASSERT(rc >= 4 && (uint32_t)rc <= cells);
			TT_EQ(r.count, 2 * rc);
			TT_EQ(r.base % r.count, 0); /* aligned */
			TT_ASSERT(r.base >= 16);
			early = 0;
			for (i = r.base; i < r.base + r.count; i++) {
				TT_EQ(model[i], 0); /* no overlap */
				early |= quar_until[i / 8] > now;
			}
			/* early reuse only where no free aligned range of the
			 * size granted was out of quarantine */
			for (i = r.count < 16 ? 16 : r.count; early && i < 65536;
			     i += r.count) {
				int j, used = 0, quar = 0;
				for (j = i; j < i + r.count; j++) {
					used |= model[j] != 0;
					quar |= quar_until[j / 8] > now;
				}
				TT_ASSERT(used || quar);
			}
			for (i = r.base; i < r.base + r.count; i++) model[i] = slot;
			live[nlive] = r;
			slot_of[nlive++] = slot;
		} else {
			int k = (int)(th_rand(&s) % (uint64_t)nlive);
			uint32_t q = (uint32_t)(th_rand(&s) % 20);
			fabtx_db_range r = live[k];
			TT_EQ(fabtx_db_free_range(d, r, now, q), 0);
			for (i = r.base; i < r.base + r.count; i++) {
				model[i] = 0;
				quar_until[i / 8] = now + q;
			}
			live[k] = live[--nlive];
			slot_of[k] = slot_of[nlive];
		}
		if (iter % 1000 == 0) { /* the owner table matches the model */
			uint32_t v, use = 0;
			for (v = 16; v < 65536; v++) {
				uint16_t o = 0;
				fabtx_db_kind kd = fabtx_db_decode(d, v, &o, NULL);
				TT_EQ(kd == FABTX_DB_KIND_SPURIOUS ? 0 : o, model[v]);
				use += model[v] != 0;
			}
			TT_EQ(fabtx_db_in_use(d), use);
		}
	}
	fabtx_db_alloc_destroy(d);
}

TT_TEST(db_ranges_follow_connections)
{
	/* each connection's inbound range is its own, and freed at close */
	fabtx_ctx *ctx = th_ctx(64, 256);
	fabtx_conn *a[3], *b[3];
	fabtx_conn_stats sa, sb;
	memset(&sa, 0, sizeof sa);
	memset(&sb, 0, sizeof sb);
	int i, j;
	for (i = 0; i < 3; i++) th_pair(ctx, ctx, &a[i], &b[i]);
	for (i = 0; i < 3; i++) {
		fabtx_conn_stats_get(a[i], &sa);
		fabtx_conn_stats_get(b[i], &sb);
		TT_EQ(sa.db_count, 128);
		TT_EQ(sa.peer_db_base, sb.db_base); /* what each side told the other */
		TT_EQ(sb.peer_db_base, sa.db_base);
		for (j = 0; j < i; j++) {
			fabtx_conn_stats_get(a[j], &sb);
			TT_ASSERT(sb.db_base != sa.db_base);
		}
	}
	for (i = 0; i < 3; i++) {
		TT_EQ(fabtx_send(a[i], "z", 1, 1000), 1);
		fabtx_conn_close(a[i], 1000);
		fabtx_conn_close(b[i], 1000);
	}
	fabtx_ctx_destroy(ctx);
}

TT_TEST(db_exhaustion_rejects_connection_with_clear_error)
{
	/* a server whose doorbell space is full offers smaller rings, then
	 * rejects with -ENOSPC at both ends; existing connections keep working */
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	fabtx_ctx *srv;
	fabtx_conn *b[64];
	fabtx_conn_stats st;
	memset(&st, 0, sizeof st);
	int i, n = 0, rc, smaller = 0;
	char url[96];
	fabtx_listener *l;
	cfg.cell_count = 8192; /* 16384 values per connection */
	cfg.cell_size = 128;
	TT_OK(fabtx_ctx_create(&srv, &cfg));
	th_name(url, sizeof url, "dbx");
	TT_OK(fabtx_listen(srv, url, &l));
	for (;;) {
		pid_t p = fork();
		if (p == 0) {
			fabtx_ctx *c2;
			fabtx_conn *cc;
			char x[4];
			fabtx_ctx_create(&c2, &cfg);
			rc = fabtx_connect(c2, url, &cc, 5000);
			if (rc == 0) {
				ssize_t r = fabtx_recv(cc, x, sizeof x, 10000);
				/* closed, not just gone: the server's close
				 * says 0 only to a peer that closed or took
				 * everything */
				_exit(r == 2 && fabtx_conn_close(cc, 5000) == 0 ? 0 : 3);
			}
			_exit(rc == -ENOSPC ? 42 : 1);
		}
		TT_ASSERT(n < 64);
		rc = fabtx_accept(l, &b[n], 5000);
		if (rc == -ENOSPC) {
			int stt;
			waitpid(p, &stt, 0);
			TT_ASSERT(WIFEXITED(stt) && WEXITSTATUS(stt) == 42);
			break;
		}
		TT_OK(rc);
		fabtx_conn_stats_get(b[n], &st);
		if (st.cell_count < 8192) smaller++;
		n++;
	}
	TT_EQ(n - smaller, 3); /* [16384,32768), [32768,..), [49152,..) */
	TT_ASSERT(smaller >= 8); /* then 4096, 2048, ... down to 4 cells */
	for (i = 0; i < n; i++) { /* all still work */
		TT_EQ(fabtx_send(b[i], "ok", 2, 1000), 2);
		TT_EQ(fabtx_conn_close(b[i], 1000), 0);
	}
	for (i = 0; i < n; i++) {
		int stt;
		TT_ASSERT(wait(&stt) > 0);
		TT_ASSERT(WIFEXITED(stt) && WEXITSTATUS(stt) == 0);
	}
	fabtx_listener_close(l);
	fabtx_ctx_destroy(srv);
}

TT_TEST(db_a_churning_client_cannot_lock_others_out)
{
	/* every range a closed connection leaves is in quarantine (here for
	 * ten minutes): a client that opens and closes connections faster
	 * than quarantine ends used to fill the space, and the next client
	 * got a shrunk ring, then -ENOSPC.  Now the quarantined ranges are
	 * reused: each of 8 churned connections and a good one afterwards get
	 * the full ring (3 fit in the space at once) */
	fabtx_ctx_config cfg = fabtx_ctx_config_init();
	fabtx_ctx *srv;
	fabtx_listener *l;
	fabtx_conn_stats st;
	char url[96], x[4];
	int i, stt, go[2];
	pid_t p;
	memset(&st, 0, sizeof st);
	cfg.cell_count = 8192; /* 16384 values per connection */
	cfg.cell_size = 128;
	cfg.quarantine_ms = 600000;
	TT_OK(pipe(go)); /* one connection at a time: the server's go */
	TT_OK(fabtx_ctx_create(&srv, &cfg));
	th_name(url, sizeof url, "dbchurn");
	TT_OK(fabtx_listen(srv, url, &l));
	p = fork();
	if (p == 0) { /* 8 connections opened and closed, then a good one */
		fabtx_ctx *c2;
		fabtx_conn *cc;
		if (fabtx_ctx_create(&c2, &cfg) < 0) _exit(1);
		for (i = 0; i < 9; i++) {
			if (read(go[0], x, 1) != 1) _exit(4);
			if (fabtx_connect(c2, url, &cc, 5000) < 0) _exit(10 + i);
			fabtx_conn_stats_get(cc, &st);
			if (st.cell_count != 8192) _exit(30 + i);
			if (i == 8 && fabtx_recv(cc, x, sizeof x, 5000) != 2) _exit(2);
			if (fabtx_conn_close(cc, 5000) < 0) _exit(3);
		}
		_exit(0);
	}
	for (i = 0; i < 9; i++) {
		fabtx_conn *c;
		TT_EQ(write(go[1], "g", 1), 1); /* the last one is closed */
		TT_OK(fabtx_accept(l, &c, 5000));
		fabtx_conn_stats_get(c, &st);
		TT_EQ(st.cell_count, 8192);
		if (i == 8) TT_EQ(fabtx_send(c, "ok", 2, 5000), 2);
		else TT_EQ(fabtx_recv(c, x, sizeof x, 5000), -ESHUTDOWN);
		TT_EQ(fabtx_conn_close(c, 5000), 0);
	}
	TT_EQ(waitpid(p, &stt, 0), p);
	TT_ASSERT(WIFEXITED(stt));
	TT_EQ(WEXITSTATUS(stt), 0);
	close(go[0]);
	close(go[1]);
	fabtx_listener_close(l);
	fabtx_ctx_destroy(srv);
}

TT_MAIN()
