/*
 * srv_net.c: the engine's fabric. One net context per xstream (tag 0: the system xstream,
 * tag 1 + i: target i), created, polled and destroyed on that xstream's thread; requests
 * dispatched to the handlers of the loaded modules, each in a ULT of its own; the built-in
 * `srv` module serving the self-test protocol; bulk helpers that let a handler's ULT wait for
 * an RMA transfer. Sits on the net transport (daos/net.h) and the xstream scheduler.
 *
 * Per context, on its xstream only (no locks):
 *
 *   poller   net_progress(ctx, 0) on every pass of the loop; the CQ's wait fd is in the
 *            xstream's epoll set and net_context_arm (fi_trywait) guards the sleep.
 *            A request's net handler (srv_req_dispatch) starts a ULT that runs the module's
 *            handler, which replies whenever it is done (net_reply_send).
 *   waker    a ULT that sleeps until the context's earliest RPC deadline
 *            (net_context_deadline), so that a timeout fires even while the xstream sleeps
 *            in epoll: the scheduler's next timer is the sleep's timeout. The poller signals
 *            it when a new deadline is earlier than the one it sleeps on. With a provider
 *            without wait fd (shm) it also wakes the xstream with a doubling back-off
 *            (4 us .. 128 us, up to 128 ms after an idle second) so that the CQ is polled
 *            while the loop would otherwise sleep. With the shm context's doorbell (a
 *            second poller on net_context_bell_fd, drained by its arm) the back-off jumps
 *            to 1 s after 20 ms without completion: clients ring after a 500 us gap.
 *   shm      with srv_net_attr.na_provider2 (DAOS_SHM=1), a second context per xstream
 *            (st_ctx2) on shm named fi_ns://IP:PORT after the first's tcp address: the
 *            same handlers, the same poller, the waker's back-off; replies and bulk go
 *            back on the context the request came on.
 *
 * Invariants:
 *   1. A context is touched only by its xstream's thread: the start, stop and request ULTs,
 *      the poller and the waker all run there.
 *   2. A context is destroyed only once no request ULT runs (st_inflight == 0): a ULT holds
 *      its net_req, which net_context_destroy frees.
 *   3. Once st_stopping is set no request ULT starts: new requests get -DER_SHUTDOWN at once.
 *
 * Shutdown (srv_net_stop): all contexts stop in parallel: stop accepting, drain (bounded),
 * stop the waker, remove the poller, destroy the context; then the caller stops the xstreams.
 */
#define D_LOGFAC server

#include <stdio.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_errno.h>
#include <daos_srv/sched.h>

#include "srv_net.h"

D_LOG_FAC_DECLARE(server);

/*
 * Back-off of the waker on a context without wait fd (shm): 4 us doubling to 128 us while the
 * context saw a completion within the last second, then on to 128 ms. An idle engine with
 * 4 targets and shm beside tcp took 13.8 % of a core with a 1 ms bound (5 xstreams waking
 * 1000 times a second each, load average 15), 1.55 % with 32 ms, 0.85 % with 128 ms (tcp
 * alone: 0.40 %). The first request after an idle second may wait up to 128 ms; the poller
 * then wakes the waker so that the next ones do not.
 */
#define SRV_BACKOFF_MIN_NS (4 * D_NSEC_PER_USEC)
#define SRV_BACKOFF_MAX_NS (128 * D_NSEC_PER_USEC)
#define SRV_BACKOFF_IDLE_MAX_NS (128 * D_NSEC_PER_MSEC)
#define SRV_BACKOFF_IDLE_NS (1 * D_NSEC_PER_SEC)
/*
 * With the shm listener's doorbell (net_context_bell_fd, in the epoll set): a client rings
 * when it posts a request after not sending to this context for NET_BELL_GAP_NS (500 us).
 * Once the contexts saw no completion for SRV_BELL_IDLE_NS (> that gap: the last request
 * of any client that does not ring came after our last completion), nothing can arrive
 * without a ring, so the waker sleeps SRV_BELL_IDLE_MAX_NS (a safety net only).
 */
#define SRV_BELL_IDLE_NS (20 * D_NSEC_PER_MSEC)
#define SRV_BELL_IDLE_MAX_NS (1 * D_NSEC_PER_SEC)
/*
 * A target with at least this many bytes of bulk buffers in flight (net_buf_bytes over its
 * contexts: several large updates or fetches at once) is bound by bandwidth: its next event
 * is a ring or CQ completion hundreds of microseconds away, so its loop sleeps in epoll at
 * once instead of spinning (dss_xstream_nospin). DAOS_XS_NOSPIN_MIB overrides it (MiB; 0:
 * never), for measurements.
 */
#define SRV_NOSPIN_BYTES_DEFAULT (4ULL << 20)
static uint64_t srv_nospin_bytes = SRV_NOSPIN_BYTES_DEFAULT;
/* Bulk buffers the srv module keeps per context for reuse (first touch is slow). */
#define SRV_BUF_CACHE_MAX (64ULL << 20)

/* An opcode's module handler on one context: the net handler's argument. */
struct srv_opc_ent {
	struct srv_tgt *oe_tgt;
	net_handler_t oe_fn;
};

struct srv_tgt {
	uint32_t st_tag;
	int st_idx; /* target index, -1 for the system xstream */
	struct dss_xstream *st_xs;
	struct net_context *st_ctx;
	struct net_context *st_ctx2; /* the secondary listener (shm), or NULL */
	struct dss_poller *st_poller;
	struct dss_poller *st_bell_poller; /* the doorbell of st_ctx2, or NULL */
	struct srv_opc_ent *st_opcs;
	uint32_t st_opc_nr;
	bool st_has_fd;
	char st_addr[NET_ADDR_STR_MAX];
	char st_listen[NET_ADDR_STR_MAX];
	char st_addr2[NET_ADDR_STR_MAX];
	const char *st_provider;
	const char *st_provider2;

	/* request ULTs */
	uint32_t st_inflight;
	bool st_stopping;
	uint64_t st_drain_ns; /* absolute deadline of the drain */
	struct dss_mutex st_mx;
	struct dss_cond st_drain_cv;

	/* the waker */
	struct dss_cond st_wake_cv;
	struct dss_ult *st_waker;
	uint64_t st_wake_at; /* what the waker sleeps until, 0: forever or not asleep */
	uint64_t st_backoff_ns;
	uint64_t st_active_ns; /* d_now_ns of the last poll that completed something */
	bool st_waker_stop;

	/* the srv module's self-test server state (its bulk buffers) */
	struct net_selftest *st_selftest;

	/* start / stop from the main thread */
	struct dss_eventual *st_ev;
	int st_rc;

	/* counters, read loosely by other threads */
	uint64_t st_nr_reqs;
	uint64_t st_nr_rejected;
};

/* The started fabric. Written by the main thread only, read by any while started. */
static struct srv_net {
	struct srv_tgt *sn_tgts;
	uint32_t sn_nr;
	uint32_t sn_opc_nr; /* module handlers, the size of each st_opcs */
	const struct dss_engine *sn_eng;
} srv_net;

static __thread struct srv_tgt *srv_tgt_tls;

/* Bulk from a ULT */

static void
srv_bulk_done(int rc, void *arg)
{
	dss_eventual_set(arg, (void *)(intptr_t)rc);
}

static int
srv_req_bulk(struct net_req *req, bool put, uint64_t remote_off, const d_sg_list_t *local,
	     uint64_t len)
{
	struct dss_eventual *ev;
	void *val = NULL;
	int rc;

	D_ASSERT(dss_ult_self() != NULL);
	rc = dss_eventual_create(&ev);
	if (rc != 0)
		return rc;
	if (put)
		rc = net_bulk_put(req, remote_off, local, len, srv_bulk_done, ev);
	else
		rc = net_bulk_get(req, remote_off, local, len, srv_bulk_done, ev);
	if (rc == 0) {
		dss_eventual_wait(ev, &val);
		rc = (int)(intptr_t)val;
	}
	dss_eventual_destroy(ev);
	return rc;
}

int
dss_req_bulk_get(struct net_req *req, uint64_t remote_off, const d_sg_list_t *local, uint64_t len)
{
	return srv_req_bulk(req, false, remote_off, local, len);
}

int
dss_req_bulk_put(struct net_req *req, uint64_t remote_off, const d_sg_list_t *local, uint64_t len)
{
	return srv_req_bulk(req, true, remote_off, local, len);
}

int
dss_tgt_idx(const struct srv_tgt *tgt)
{
	return tgt->st_idx;
}

struct srv_tgt *
dss_tgt_self(void)
{
	return srv_tgt_tls;
}

/* The srv module: the self-test protocol, served from ULTs. */

/* The self-test bulk request, from its ULT: net's checks and buffers, the transfer awaited. */
static void
srv_st_bulk(struct net_req *req, void *body, void *arg)
{
	struct srv_tgt *tgt = arg;
	struct net_st_bulk b;
	int rc;

	if (net_selftest_bulk_start(tgt->st_selftest, req, body, &b) != 0)
		return; /* answered */
	if (b.sb_in.bi_op == NET_BULK_OP_GET)
		rc = dss_req_bulk_get(req, 0, &b.sb_sgl, b.sb_in.bi_len);
	else
		rc = dss_req_bulk_put(req, 0, &b.sb_sgl, b.sb_in.bi_len);
	net_selftest_bulk_end(tgt->st_selftest, req, &b, rc);
}

static const struct net_handler_ent srv_st_handlers[] = {
    {NET_OPC_PING, net_selftest_ping_handler},
    {NET_OPC_BULK, srv_st_bulk},
};

struct dss_module srv_module = {
    .sm_name = "srv",
    .sm_mod_id = NET_MODULE_SELFTEST,
    .sm_proto = &net_selftest_proto,
    .sm_handlers = srv_st_handlers,
    .sm_handler_nr = D_ARRAY_SIZE(srv_st_handlers),
};

/* Requests */

struct srv_req_ult_arg {
	struct net_req *ra_req;
	void *ra_body;
	struct srv_opc_ent *ra_ent;
};

static void
srv_req_ult(void *arg)
{
	struct srv_req_ult_arg ra = *(struct srv_req_ult_arg *)arg;
	struct srv_tgt *tgt = ra.ra_ent->oe_tgt;

	D_FREE(arg);
	ra.ra_ent->oe_fn(ra.ra_req, ra.ra_body, tgt);
	D_ASSERT(tgt->st_inflight > 0);
	/* atomic only for srv_net_stats_get: this thread alone writes it */
	if (__atomic_sub_fetch(&tgt->st_inflight, 1, __ATOMIC_RELAXED) == 0 && tgt->st_stopping)
		dss_cond_signal(&tgt->st_drain_cv);
}

/* The net handler of every module opcode: run the module's handler in a ULT. */
static void
srv_req_dispatch(struct net_req *req, void *body, void *arg)
{
	struct srv_opc_ent *ent = arg;
	struct srv_tgt *tgt = ent->oe_tgt;
	struct srv_req_ult_arg *ra;
	int rc = -DER_SHUTDOWN;

	if (tgt->st_stopping)
		goto out_reject;
	rc = -DER_NOMEM;
	D_ALLOC_PTR(ra);
	if (ra == NULL)
		goto out_reject;
	ra->ra_req = req;
	ra->ra_body = body;
	ra->ra_ent = ent;
	rc = dss_ult_create(tgt->st_xs, srv_req_ult, ra, 0, NULL);
	if (rc != 0) {
		D_FREE(ra);
		goto out_reject;
	}
	__atomic_add_fetch(&tgt->st_inflight, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&tgt->st_nr_reqs, 1, __ATOMIC_RELAXED);
	return;

out_reject:
	__atomic_add_fetch(&tgt->st_nr_rejected, 1, __ATOMIC_RELAXED);
	net_reply_send(req, rc, NULL);
}

/* Poller and waker */

/* The earliest RPC deadline of the contexts of @tgt, 0 if none. */
static uint64_t
srv_tgt_deadline(struct srv_tgt *tgt)
{
	uint64_t dl = net_context_deadline(tgt->st_ctx);
	uint64_t dl2;

	if (tgt->st_ctx2 == NULL)
		return dl;
	dl2 = net_context_deadline(tgt->st_ctx2);
	return dl == 0 || (dl2 != 0 && dl2 < dl) ? dl2 : dl;
}

static int
srv_tgt_poll(void *arg)
{
	struct srv_tgt *tgt = arg;
	uint64_t dl;
	int n;

	n = net_progress(tgt->st_ctx, 0);
	if (tgt->st_ctx2 != NULL)
		n += net_progress(tgt->st_ctx2, 0);
	if (n > 0 && (!tgt->st_has_fd || tgt->st_ctx2 != NULL)) {
		/* busy after an idle second: the waker sleeping up to 128 ms restarts now */
		if (tgt->st_backoff_ns > SRV_BACKOFF_MAX_NS && tgt->st_wake_at != 0)
			dss_cond_signal(&tgt->st_wake_cv);
		tgt->st_backoff_ns = SRV_BACKOFF_MIN_NS;
		tgt->st_active_ns = d_now_ns();
	}
	dl = srv_tgt_deadline(tgt);
	if (dl != 0 && (tgt->st_wake_at == 0 || dl < tgt->st_wake_at))
		dss_cond_signal(&tgt->st_wake_cv);
	if (srv_nospin_bytes != 0 &&
	    net_buf_bytes(tgt->st_ctx) + (tgt->st_ctx2 != NULL ? net_buf_bytes(tgt->st_ctx2) : 0) >=
		srv_nospin_bytes)
		dss_xstream_nospin();
	return n;
}

static int
srv_tgt_arm(void *arg)
{
	struct srv_tgt *tgt = arg;

	/* the secondary has no wait fd: the waker's back-off polls it, unless work waits */
	if (tgt->st_ctx2 != NULL && net_context_pending(tgt->st_ctx2))
		return 1;
	return net_context_arm(tgt->st_ctx);
}

/* The doorbell's poller: nothing to poll (the shm context's own poller does that). */
static int
srv_tgt_bell_poll(void *arg)
{
	(void)arg;
	return 0;
}

/* Before the loop sleeps: drain the doorbell; a ring read now means poll once more. */
static int
srv_tgt_bell_arm(void *arg)
{
	struct srv_tgt *tgt = arg;

	return net_context_bell_arm(tgt->st_ctx2);
}

static void
srv_tgt_waker(void *arg)
{
	struct srv_tgt *tgt = arg;
	uint64_t now;
	uint64_t wake;
	uint64_t bo;

	dss_mutex_lock(&tgt->st_mx);
	while (!tgt->st_waker_stop) {
		now = d_now_ns();
		wake = srv_tgt_deadline(tgt);
		if (!tgt->st_has_fd || tgt->st_ctx2 != NULL) {
			if (tgt->st_bell_poller != NULL &&
			    now - tgt->st_active_ns > SRV_BELL_IDLE_NS)
				tgt->st_backoff_ns = SRV_BELL_IDLE_MAX_NS; /* the bell wakes us */
			bo = now + tgt->st_backoff_ns;
			if (wake == 0 || bo < wake)
				wake = bo;
			if (tgt->st_backoff_ns < SRV_BACKOFF_MAX_NS ||
			    (tgt->st_backoff_ns < SRV_BACKOFF_IDLE_MAX_NS &&
			     now - tgt->st_active_ns > SRV_BACKOFF_IDLE_NS))
				tgt->st_backoff_ns *= 2;
		}
		if (wake != 0 && wake <= now) {
			/* due: let the poller fire it on the next pass */
			dss_mutex_unlock(&tgt->st_mx);
			dss_yield();
			dss_mutex_lock(&tgt->st_mx);
			continue;
		}
		tgt->st_wake_at = wake;
		(void)dss_cond_timedwait(&tgt->st_wake_cv, &tgt->st_mx, wake);
		tgt->st_wake_at = 0;
	}
	dss_mutex_unlock(&tgt->st_mx);
}

/* Start and stop, on the context's own xstream */

static int
srv_mod_register(struct dss_module *mod, void *arg)
{
	struct srv_tgt *tgt = arg;
	uint32_t i;
	int rc;

	if (mod->sm_proto == NULL || mod->sm_handlers == NULL)
		return 0;
	for (i = 0; i < mod->sm_handler_nr; i++) {
		struct srv_opc_ent *ent = &tgt->st_opcs[tgt->st_opc_nr];

		D_ASSERT(tgt->st_opc_nr < srv_net.sn_opc_nr);
		ent->oe_tgt = tgt;
		ent->oe_fn = mod->sm_handlers[i].he_handler;
		rc = net_handler_register(tgt->st_ctx, mod->sm_handlers[i].he_opc, srv_req_dispatch,
					  ent);
		if (rc == 0 && tgt->st_ctx2 != NULL)
			rc = net_handler_register(tgt->st_ctx2, mod->sm_handlers[i].he_opc,
						  srv_req_dispatch, ent);
		if (rc != 0) {
			D_ERROR("module %s: opcode %#x: " DF_RC "\n", mod->sm_name,
				mod->sm_handlers[i].he_opc, DP_RC(rc));
			return rc;
		}
		tgt->st_opc_nr++;
	}
	return 0;
}

/* Undo srv_tgt_start_ult on the xstream; the context must have no request ULT left. */
static void
srv_tgt_close(struct srv_tgt *tgt)
{
	D_ASSERT(tgt->st_inflight == 0);
	if (tgt->st_waker != NULL) {
		tgt->st_waker_stop = true;
		dss_cond_signal(&tgt->st_wake_cv);
		dss_ult_join(tgt->st_waker);
		tgt->st_waker = NULL;
	}
	if (tgt->st_poller != NULL) {
		dss_xstream_poller_del(tgt->st_xs, tgt->st_poller);
		tgt->st_poller = NULL;
	}
	if (tgt->st_bell_poller != NULL) {
		dss_xstream_poller_del(tgt->st_xs, tgt->st_bell_poller);
		tgt->st_bell_poller = NULL;
	}
	if (tgt->st_ctx2 != NULL) {
		net_context_destroy(tgt->st_ctx2);
		tgt->st_ctx2 = NULL;
	}
	net_context_destroy(tgt->st_ctx);
	tgt->st_ctx = NULL;
	net_selftest_destroy(tgt->st_selftest);
	tgt->st_selftest = NULL;
	srv_tgt_tls = NULL;
}

/*
 * Open the secondary listener of @tgt (shm) under the name a same-host client derives from
 * the primary's address: "fi_sockaddr_in://IP:PORT" -> "fi_ns://IP:PORT" (net_peer_lookup
 * of a shm context does the same), so that the system map, the join and GetAttachInfo
 * carry the tcp URIs alone. shm keeps a region per name in /dev/shm ("/dev/shm/IP:PORT"),
 * which stays behind when a process dies without closing it: the primary's bind to
 * IP:PORT just succeeded, so no live engine owns that name and a leftover is removed.
 */
static int
srv_tgt_open2(struct srv_tgt *tgt)
{
	static const char in4[] = "fi_sockaddr_in://";
	struct net_context_attr attr = {
	    .ca_provider = tgt->st_provider2, .ca_tag = tgt->st_tag, .ca_tag_set = true};
	char path[NET_ADDR_STR_MAX + 16];
	const char *hp;
	int rc;

	if (strncmp(tgt->st_addr, in4, sizeof(in4) - 1) != 0) {
		D_ERROR("context %u: a %s listener needs an IPv4 primary, not %s\n", tgt->st_tag,
			tgt->st_provider2, tgt->st_addr);
		return -DER_INVAL;
	}
	hp = tgt->st_addr + sizeof(in4) - 1;
	attr.ca_addr = hp;
	if (strcmp(tgt->st_provider2, "shm") == 0) {
		snprintf(path, sizeof(path), "/dev/shm/%s", hp);
		if (unlink(path) == 0)
			D_WARN("context %u: removed a stale %s\n", tgt->st_tag, path);
	}
	rc = net_context_create(&attr, &tgt->st_ctx2);
	if (rc != 0) {
		D_ERROR("context %u: cannot listen on %s (%s): " DF_RC "\n", tgt->st_tag, hp,
			tgt->st_provider2, DP_RC(rc));
		tgt->st_ctx2 = NULL;
		return rc;
	}
	snprintf(tgt->st_addr2, sizeof(tgt->st_addr2), "%s", net_context_addr(tgt->st_ctx2));
	return 0;
}

static void
srv_tgt_start_ult(void *arg)
{
	struct srv_tgt *tgt = arg;
	struct net_context_attr attr = {.ca_provider = tgt->st_provider,
					.ca_addr = tgt->st_listen,
					.ca_tag = tgt->st_tag,
					.ca_tag_set = true};
	int fd;
	int rc;

	rc = net_context_create(&attr, &tgt->st_ctx);
	if (rc != 0) {
		D_ERROR("context %u: cannot listen on %s (%s): " DF_RC "\n", tgt->st_tag,
			tgt->st_listen,
			tgt->st_provider == NULL ? NET_PROVIDER_DEFAULT : tgt->st_provider,
			DP_RC(rc));
		goto out;
	}
	snprintf(tgt->st_addr, sizeof(tgt->st_addr), "%s", net_context_addr(tgt->st_ctx));
	if (tgt->st_provider2 != NULL) {
		rc = srv_tgt_open2(tgt);
		if (rc != 0)
			goto out_close;
	}
	rc = net_selftest_create(SRV_BUF_CACHE_MAX, &tgt->st_selftest);
	if (rc != 0)
		goto out_close;
	rc = dss_module_foreach(srv_mod_register, tgt);
	if (rc != 0)
		goto out_close;
	fd = net_context_fd(tgt->st_ctx);
	tgt->st_has_fd = fd >= 0;
	tgt->st_backoff_ns = SRV_BACKOFF_MIN_NS;
	rc = dss_xstream_poller_add(tgt->st_xs, srv_tgt_poll, tgt->st_has_fd ? srv_tgt_arm : NULL,
				    fd, tgt, &tgt->st_poller);
	if (rc != 0)
		goto out_close;
	if (tgt->st_ctx2 != NULL && net_context_bell_fd(tgt->st_ctx2) >= 0) {
		rc = dss_xstream_poller_add(tgt->st_xs, srv_tgt_bell_poll, srv_tgt_bell_arm,
					    net_context_bell_fd(tgt->st_ctx2), tgt,
					    &tgt->st_bell_poller);
		if (rc != 0)
			goto out_close;
	}
	rc = dss_ult_create(tgt->st_xs, srv_tgt_waker, tgt, 0, &tgt->st_waker);
	if (rc != 0)
		goto out_close;
	srv_tgt_tls = tgt;
	D_DEBUG("context %u on %s: %s%s%s\n", tgt->st_tag, dss_xstream_name(tgt->st_xs),
		tgt->st_addr, tgt->st_ctx2 != NULL ? " and " : "", tgt->st_addr2);
	goto out;

out_close:
	tgt->st_waker = NULL;
	srv_tgt_close(tgt);
out:
	tgt->st_rc = rc;
	dss_eventual_set(tgt->st_ev, NULL);
}

static void
srv_tgt_stop_ult(void *arg)
{
	struct srv_tgt *tgt = arg;
	int rc = 0;

	tgt->st_stopping = true;
	dss_mutex_lock(&tgt->st_mx);
	while (tgt->st_inflight > 0) {
		rc = dss_cond_timedwait(&tgt->st_drain_cv, &tgt->st_mx, tgt->st_drain_ns);
		if (rc == -DER_TIMEDOUT && tgt->st_inflight > 0)
			break;
		rc = 0;
	}
	dss_mutex_unlock(&tgt->st_mx);
	if (tgt->st_inflight > 0) {
		D_ERROR("context %u (%s): %u requests still running after the drain: left open\n",
			tgt->st_tag, tgt->st_addr, tgt->st_inflight);
		rc = -DER_TIMEDOUT;
	} else {
		srv_tgt_close(tgt);
	}
	tgt->st_rc = rc;
	dss_eventual_set(tgt->st_ev, NULL);
}

/*
 * Run @fn on the xstream of each context in @tgts[0, @nr) (@only_open: those with an open
 * net context) at once, and wait for all of them. Returns the first error (st_rc of a
 * context, or of the ULT creation).
 */
static int
srv_tgts_run(struct srv_tgt *tgts, uint32_t nr, dss_ult_func_t fn, bool only_open)
{
	uint32_t i;
	int rc = 0;

	for (i = 0; i < nr; i++) {
		struct srv_tgt *tgt = &tgts[i];

		int err;

		tgt->st_ev = NULL;
		tgt->st_rc = 0;
		if (only_open && tgt->st_ctx == NULL)
			continue;
		err = dss_eventual_create(&tgt->st_ev);
		if (err == 0) {
			/* @fn may run and set st_rc before this returns: st_rc is its alone */
			err = dss_ult_create(tgt->st_xs, fn, tgt, 0, NULL);
			if (err != 0) {
				dss_eventual_destroy(tgt->st_ev);
				tgt->st_ev = NULL;
			}
		}
		if (err != 0)
			tgt->st_rc = err;
	}
	for (i = 0; i < nr; i++) {
		struct srv_tgt *tgt = &tgts[i];

		if (tgt->st_ev != NULL) {
			dss_eventual_wait(tgt->st_ev, NULL);
			dss_eventual_destroy(tgt->st_ev);
			tgt->st_ev = NULL;
		}
		if (tgt->st_rc != 0 && rc == 0)
			rc = tgt->st_rc;
	}
	return rc;
}

static int
srv_mod_count(struct dss_module *mod, void *arg)
{
	uint32_t *nr = arg;
	uint32_t i;
	int rc;

	if (mod->sm_proto == NULL || mod->sm_handlers == NULL)
		return 0;
	if (mod->sm_proto->np_module != mod->sm_mod_id) {
		D_ERROR("module %s: its opcode table is module %u, not %u\n", mod->sm_name,
			mod->sm_proto->np_module, mod->sm_mod_id);
		return -DER_INVAL;
	}
	for (i = 0; i < mod->sm_handler_nr; i++)
		if (NET_OPC_MODULE(mod->sm_handlers[i].he_opc) != mod->sm_mod_id) {
			D_ERROR("module %s: handler of opcode %#x outside module %u\n",
				mod->sm_name, mod->sm_handlers[i].he_opc, mod->sm_mod_id);
			return -DER_INVAL;
		}
	rc = net_proto_register(mod->sm_proto);
	if (rc != 0) {
		D_ERROR("module %s: cannot register its opcodes: " DF_RC "\n", mod->sm_name,
			DP_RC(rc));
		return rc;
	}
	*nr += mod->sm_handler_nr;
	return 0;
}

static void
srv_tgts_free(struct srv_tgt *tgts, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		dss_cond_fini(&tgts[i].st_wake_cv);
		dss_cond_fini(&tgts[i].st_drain_cv);
		dss_mutex_fini(&tgts[i].st_mx);
		D_FREE(tgts[i].st_opcs);
	}
	D_FREE(tgts);
}

int
srv_net_start(const struct dss_engine *eng, const struct srv_net_attr *attr)
{
	struct srv_tgt *tgts;
	uint32_t drain_ms = attr->na_drain_ms == 0 ? SRV_NET_DRAIN_MS_DEFAULT : attr->na_drain_ms;
	uint32_t opc_nr = 0;
	uint32_t nr = eng->de_tgt_nr + 1;
	const char *env = getenv("DAOS_XS_NOSPIN_MIB");
	uint32_t i;
	int rc;

	if (srv_net.sn_tgts != NULL)
		return -DER_ALREADY;
	srv_nospin_bytes = SRV_NOSPIN_BYTES_DEFAULT;
	if (env != NULL && *env != '\0') {
		uint64_t mib;

		if (d_getenv_uint64_t("DAOS_XS_NOSPIN_MIB", &mib) == 0 && mib < (1ULL << 40))
			srv_nospin_bytes = mib << 20;
		else
			D_WARN("ignoring DAOS_XS_NOSPIN_MIB=%s: not a number of MiB\n", env);
	}
	if (attr->na_host == NULL || attr->na_port + nr - 1 > 65535 || eng->de_sys_xs == NULL)
		return -DER_INVAL;
	rc = dss_module_foreach(srv_mod_count, &opc_nr);
	if (rc != 0)
		return rc;
	D_ALLOC_ARRAY(tgts, nr);
	if (tgts == NULL)
		return -DER_NOMEM;
	for (i = 0; i < nr; i++) {
		struct srv_tgt *tgt = &tgts[i];

		tgt->st_tag = i;
		tgt->st_idx = (int)i - 1;
		tgt->st_xs = i == 0 ? eng->de_sys_xs : eng->de_tgt_xs[i - 1];
		tgt->st_provider = attr->na_provider;
		tgt->st_provider2 = attr->na_provider2;
		tgt->st_drain_ns = (uint64_t)drain_ms * D_NSEC_PER_MSEC; /* relative until stop */
		snprintf(tgt->st_listen, sizeof(tgt->st_listen), "%s:%u", attr->na_host,
			 attr->na_port == 0 ? 0 : attr->na_port + i);
		dss_mutex_init(&tgt->st_mx);
		dss_cond_init(&tgt->st_drain_cv);
		dss_cond_init(&tgt->st_wake_cv);
		if (opc_nr > 0) {
			D_ALLOC_ARRAY(tgt->st_opcs, opc_nr);
			if (tgt->st_opcs == NULL) {
				srv_tgts_free(tgts, i + 1);
				return -DER_NOMEM;
			}
		}
	}
	srv_net.sn_opc_nr = opc_nr;
	srv_net.sn_eng = eng;
	rc = srv_tgts_run(tgts, nr, srv_tgt_start_ult, false);
	if (rc != 0) {
		/* stop the contexts that did start, on their xstreams, then free everything */
		for (i = 0; i < nr; i++)
			tgts[i].st_drain_ns += d_now_ns();
		if (srv_tgts_run(tgts, nr, srv_tgt_stop_ult, true) != 0) {
			D_ERROR("contexts left open after a failed start\n");
			return rc; /* leaked with their open contexts: ULTs still use them */
		}
		srv_tgts_free(tgts, nr);
		srv_net.sn_eng = NULL;
		return rc;
	}
	srv_net.sn_tgts = tgts;
	__atomic_store_n(&srv_net.sn_nr, nr, __ATOMIC_RELEASE);
	return 0;
}

int
srv_net_stop(void)
{
	struct srv_tgt *tgts = srv_net.sn_tgts;
	uint32_t nr = srv_net.sn_nr;
	uint64_t now = d_now_ns();
	uint32_t i;
	int rc;

	if (tgts == NULL)
		return 0;
	for (i = 0; i < nr; i++)
		tgts[i].st_drain_ns += now;
	rc = srv_tgts_run(tgts, nr, srv_tgt_stop_ult, true);
	if (rc != 0)
		return rc; /* some contexts stay open: nothing may be freed */
	__atomic_store_n(&srv_net.sn_nr, 0, __ATOMIC_RELEASE);
	srv_tgts_free(tgts, nr);
	srv_net.sn_tgts = NULL;
	srv_net.sn_eng = NULL;
	return 0;
}

uint32_t
srv_net_ctx_nr(void)
{
	return __atomic_load_n(&srv_net.sn_nr, __ATOMIC_ACQUIRE);
}

const char *
srv_net_ctx_addr(uint32_t tag)
{
	if (tag >= srv_net_ctx_nr())
		return NULL;
	return srv_net.sn_tgts[tag].st_addr;
}

void
srv_net_stats_get(struct srv_net_stats *st)
{
	uint32_t nr = srv_net_ctx_nr();
	uint32_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < nr; i++) {
		struct srv_tgt *tgt = &srv_net.sn_tgts[i];

		st->sns_reqs += __atomic_load_n(&tgt->st_nr_reqs, __ATOMIC_RELAXED);
		st->sns_rejected += __atomic_load_n(&tgt->st_nr_rejected, __ATOMIC_RELAXED);
		st->sns_inflight += __atomic_load_n(&tgt->st_inflight, __ATOMIC_RELAXED);
	}
}

const char *
srv_net_ctx_addr2(uint32_t tag)
{
	if (tag >= srv_net_ctx_nr() || srv_net.sn_tgts[tag].st_ctx2 == NULL)
		return NULL;
	return srv_net.sn_tgts[tag].st_addr2;
}
