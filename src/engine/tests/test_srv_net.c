/*
 * test_srv_net.c: the engine's fabric (srv_net.c) in one process: a system xstream and two
 * target xstreams serving the srv module and a test module, driven by a plain client thread
 * over tcp on loopback (any free ports). Checks that every context answers, that bulk
 * transfers from handler ULTs move the right bytes both ways, that handlers run in ULTs that
 * may yield (many slow requests overlap on one target), that an RPC a handler sends times out
 * on time while its xstream sleeps, and the stop: in-flight requests finish and reply, new
 * ones get -DER_SHUTDOWN, then the contexts are gone.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include <gurt/common.h>
#include <daos_srv/sched.h>

#include "srv_net.h"

#define T_MS ((uint64_t)1000 * 1000)
#define TST_MODULE 63
#define TST_TGT_NR 2

enum {
	TST_OPC_SLEEP = NET_OPC(TST_MODULE, 0),
	TST_OPC_FWD = NET_OPC(TST_MODULE, 1),
};

#define TST_IN_FIELDS(F) F(u32, ti_ms, 0) F(str, ti_addr, 255)
#define TST_OUT_FIELDS(F) F(i32, to_tgt, 0) F(i32, to_rc, 0) F(u64, to_ns, 0)
NET_STRUCT(tst_in, TST_IN_FIELDS);
NET_STRUCT(tst_out, TST_OUT_FIELDS);
NET_CODEC_DEFINE(tst_in, TST_IN_FIELDS)
NET_CODEC_DEFINE(tst_out, TST_OUT_FIELDS)

static void tst_sleep(struct net_req *req, void *body, void *arg);
static void tst_fwd(struct net_req *req, void *body, void *arg);

#define TST_RPCS(X)                                                                                \
	X(TST_OPC_SLEEP, sleep, tst_in, tst_out, tst_sleep)                                        \
	X(TST_OPC_FWD, fwd, tst_in, tst_out, tst_fwd)

NET_PROTO_DEFINE(tst_proto, "srv_net_test", TST_MODULE, TST_RPCS);
NET_HANDLERS_DEFINE(tst_handlers, TST_RPCS);

static struct dss_module tst_module = {
    .sm_name = "srv_net_test",
    .sm_mod_id = TST_MODULE,
    .sm_proto = &tst_proto,
    .sm_handlers = tst_handlers,
    .sm_handler_nr = D_ARRAY_SIZE(tst_handlers),
};

/* Sleep ti_ms in the handler's ULT (it yields), then tell which target ran it. */
static void
tst_sleep(struct net_req *req, void *body, void *arg)
{
	struct tst_in *in = body;
	struct tst_out out = {.to_tgt = dss_tgt_idx(arg)};

	if (dss_tgt_self() != arg || dss_ult_self() == NULL)
		out.to_rc = -DER_MISMATCH;
	else if (in->ti_ms > 0)
		out.to_rc = dss_sleep(in->ti_ms);
	net_reply_send(req, 0, &out);
}

static void
tst_fwd_cb(struct net_rpc_done *done, void *arg)
{
	dss_eventual_set(arg, (void *)(intptr_t)done->rd_rc);
}

/* Send a ping that is never answered (HOLD) to ti_addr with timeout ti_ms; report its end. */
static void
tst_fwd(struct net_req *req, void *body, void *arg)
{
	struct tst_in *in = body;
	struct tst_out out = {.to_tgt = dss_tgt_idx(arg)};
	struct net_context *ctx = net_req_context(req);
	struct net_ping_in pin = {.pi_flags = NET_PING_HOLD};
	struct dss_eventual *ev;
	net_peer_t peer;
	void *val = NULL;
	uint64_t t0;
	int rc;

	rc = net_peer_lookup(ctx, in->ti_addr, &peer);
	if (rc == 0)
		rc = dss_eventual_create(&ev);
	if (rc != 0) {
		net_reply_send(req, rc, NULL);
		return;
	}
	t0 = d_now_ns();
	rc = net_rpc_send(ctx, peer, NET_OPC_PING, &pin, NULL, in->ti_ms, tst_fwd_cb, ev, NULL);
	if (rc == 0) {
		dss_eventual_wait(ev, &val);
		rc = (int)(intptr_t)val;
	}
	dss_eventual_destroy(ev);
	out.to_rc = rc;
	out.to_ns = d_now_ns() - t0;
	net_reply_send(req, 0, &out);
}

/* The engine under test and the client. */
static struct dss_engine t_eng;
static struct dss_xstream *t_tgt_xs[TST_TGT_NR];
static struct net_context *t_cli;
static net_peer_t t_peers[TST_TGT_NR + 1];
static char t_addrs[TST_TGT_NR + 1][NET_ADDR_STR_MAX];

static int
group_setup(void **state)
{
	static struct dss_module *const mods[] = {&srv_module, &tst_module};
	struct net_context_attr cattr = {.ca_addr = "127.0.0.1"};
	struct srv_net_attr attr = {.na_host = "127.0.0.1", .na_drain_ms = 5000};
	char name[DSS_XS_NAME_MAX];
	uint32_t i;

	(void)state;
	assert_int_equal(d_log_init(), 0);
	assert_int_equal(dss_xstream_create("sys", NULL, &t_eng.de_sys_xs), 0);
	assert_int_equal(dss_xstream_start(t_eng.de_sys_xs), 0);
	for (i = 0; i < TST_TGT_NR; i++) {
		snprintf(name, sizeof(name), "tgt_%u", i);
		assert_int_equal(dss_xstream_create(name, NULL, &t_tgt_xs[i]), 0);
		assert_int_equal(dss_xstream_start(t_tgt_xs[i]), 0);
	}
	t_eng.de_tgt_xs = t_tgt_xs;
	t_eng.de_tgt_nr = TST_TGT_NR;
	dss_engine_set(&t_eng);
	assert_int_equal(dss_modules_init(mods, D_ARRAY_SIZE(mods)), 0);
	assert_int_equal(srv_net_start(&t_eng, &attr), 0);
	assert_int_equal(srv_net_start(&t_eng, &attr), -DER_ALREADY);
	assert_int_equal(srv_net_ctx_nr(), TST_TGT_NR + 1);
	assert_null(srv_net_ctx_addr(TST_TGT_NR + 1));

	assert_int_equal(net_proto_register(&tst_proto), 0);
	assert_int_equal(net_context_create(&cattr, &t_cli), 0);
	for (i = 0; i < TST_TGT_NR + 1; i++) {
		snprintf(t_addrs[i], sizeof(t_addrs[i]), "%s", srv_net_ctx_addr(i));
		assert_int_equal(net_peer_lookup(t_cli, t_addrs[i], &t_peers[i]), 0);
	}
	return 0;
}

static int
group_teardown(void **state)
{
	uint32_t i;

	(void)state;
	assert_int_equal(srv_net_stop(), 0); /* a no-op when the last test stopped it */
	net_context_destroy(t_cli);
	for (i = 0; i < TST_TGT_NR; i++)
		dss_xstream_destroy(t_tgt_xs[i]);
	dss_xstream_destroy(t_eng.de_sys_xs);
	dss_modules_fini();
	dss_engine_set(NULL);
	d_log_fini();
	return 0;
}

/* Every context answers a ping with its echo, and the test module from the right target. */
static void
test_ping_all(void **state)
{
	static uint8_t data[4096];
	struct net_ping_out out;
	struct tst_out tout;
	struct tst_in tin = {.ti_ms = 0};
	struct net_msg *msg;
	uint32_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	for (i = 0; i < TST_TGT_NR + 1; i++) {
		struct net_ping_in in = {.pi_seq = i};

		d_iov_set(&in.pi_data, data, sizeof(data));
		assert_int_equal(
		    net_rpc_call(t_cli, t_peers[i], NET_OPC_PING, &in, NULL, 5000, &out, &msg), 0);
		assert_int_equal(out.po_seq, i);
		assert_int_equal(out.po_data.iov_len, sizeof(data));
		assert_memory_equal(out.po_data.iov_buf, data, sizeof(data));
		net_msg_free(msg);

		assert_int_equal(
		    net_rpc_call(t_cli, t_peers[i], TST_OPC_SLEEP, &tin, NULL, 5000, &tout, &msg),
		    0);
		assert_int_equal(tout.to_rc, 0);
		assert_int_equal(tout.to_tgt, (int)i - 1);
		net_msg_free(msg);
	}
	/* a failing ping gets its status back */
	{
		struct net_ping_in in = {.pi_flags = NET_PING_FAIL, .pi_status = -DER_NOSPACE};

		assert_int_equal(
		    net_rpc_call(t_cli, t_peers[1], NET_OPC_PING, &in, NULL, 5000, NULL, &msg),
		    -DER_NOSPACE);
		net_msg_free(msg);
	}
	/* tagged requests: served by the context with that tag, refused by the others */
	for (i = 0; i < TST_TGT_NR + 1; i++) {
		uint32_t tag;

		for (tag = 0; tag < TST_TGT_NR + 2; tag++) {
			int rc = net_rpc_call(t_cli, net_peer_tag(t_peers[i], tag), TST_OPC_SLEEP,
					      &tin, NULL, 5000, &tout, &msg);

			if (tag == i) {
				assert_int_equal(rc, 0);
				assert_int_equal(tout.to_tgt, (int)i - 1);
			} else {
				assert_int_equal(rc, -DER_BAD_TARGET);
			}
			net_msg_free(msg);
		}
	}
}

/* Bulk GET and PUT through handler ULTs, checked by CRC and pattern. */
static void
test_bulk(void **state)
{
	const size_t sizes[] = {1, 4096, 65536 + 3, 1 << 20, 8 << 20};
	struct net_bulk_out out;
	struct net_bulk *bulk;
	struct net_msg *msg;
	uint8_t *buf;
	uint8_t *want;
	size_t i;

	(void)state;
	buf = malloc(8 << 20);
	want = malloc(8 << 20);
	assert_non_null(buf);
	assert_non_null(want);
	for (i = 0; i < D_ARRAY_SIZE(sizes); i++) {
		struct net_bulk_in in = {.bi_flags = NET_BULK_F_CRC, .bi_len = sizes[i]};
		d_sg_list_t sgl;
		d_iov_t iov;
		net_peer_t peer = t_peers[1 + i % TST_TGT_NR];

		d_iov_set(&iov, buf, sizes[i]);
		sgl.sg_nr = 1;
		sgl.sg_nr_out = 0;
		sgl.sg_iovs = &iov;
		assert_int_equal(
		    net_bulk_create(t_cli, &sgl, NET_BULK_READ | NET_BULK_WRITE, &bulk), 0);

		net_selftest_pattern(buf, sizes[i], 77 + i);
		in.bi_op = NET_BULK_OP_GET;
		assert_int_equal(
		    net_rpc_call(t_cli, peer, NET_OPC_BULK, &in, bulk, 10000, &out, &msg), 0);
		assert_int_equal(out.bo_len, sizes[i]);
		assert_int_equal(out.bo_crc, net_crc32c(buf, sizes[i]));
		net_msg_free(msg);

		memset(buf, 0, sizes[i]);
		in.bi_op = NET_BULK_OP_PUT;
		in.bi_seed = 1000 + i;
		assert_int_equal(
		    net_rpc_call(t_cli, peer, NET_OPC_BULK, &in, bulk, 10000, &out, &msg), 0);
		net_msg_free(msg);
		net_selftest_pattern(want, sizes[i], 1000 + i);
		assert_memory_equal(buf, want, sizes[i]);

		/* more than the client registered: refused, not a crash */
		in.bi_len = sizes[i] + 1;
		assert_int_equal(
		    net_rpc_call(t_cli, peer, NET_OPC_BULK, &in, bulk, 10000, NULL, &msg),
		    -DER_INVAL);
		net_msg_free(msg);
		net_bulk_destroy(bulk);
	}
	free(buf);
	free(want);
}

struct t_slot {
	bool ts_busy;
	int ts_rc;
	struct tst_out ts_out;
};

static void
t_slot_cb(struct net_rpc_done *done, void *arg)
{
	struct t_slot *ts = arg;

	ts->ts_rc = done->rd_rc;
	if (done->rd_reply != NULL)
		ts->ts_out = *(struct tst_out *)done->rd_reply;
	ts->ts_busy = false;
}

static void
t_slots_wait(struct t_slot *slots, int nr, uint64_t timeout_ms)
{
	uint64_t end = d_now_ns() + timeout_ms * T_MS;
	int busy;
	int i;

	do {
		net_progress(t_cli, 1000);
		for (busy = 0, i = 0; i < nr; i++)
			busy += slots[i].ts_busy;
	} while (busy > 0 && d_now_ns() < end);
	assert_int_equal(busy, 0);
}

/* 32 requests sleeping 200 ms in their ULTs on one target overlap: the handler yields. */
static void
test_handlers_yield(void **state)
{
	struct t_slot slots[32];
	struct tst_in in = {.ti_ms = 200};
	uint64_t t0 = d_now_ns();
	uint64_t ms;
	int i;

	(void)state;
	memset(slots, 0, sizeof(slots));
	for (i = 0; i < 32; i++) {
		slots[i].ts_busy = true;
		assert_int_equal(net_rpc_send(t_cli, t_peers[2], TST_OPC_SLEEP, &in, NULL, 5000,
					      t_slot_cb, &slots[i], NULL),
				 0);
	}
	t_slots_wait(slots, 32, 5000);
	ms = (d_now_ns() - t0) / T_MS;
	for (i = 0; i < 32; i++) {
		assert_int_equal(slots[i].ts_rc, 0);
		assert_int_equal(slots[i].ts_out.to_rc, 0);
		assert_int_equal(slots[i].ts_out.to_tgt, 1);
	}
	print_message("32 x 200 ms handlers on one target: %" PRIu64 " ms\n", ms);
	assert_true(ms >= 200 && ms < 1500);
}

/*
 * A handler on target 0 sends a ping that is never answered, with a 300 ms timeout: it fails
 * with -DER_TIMEDOUT close to the deadline although nothing else wakes the xstream.
 */
static void
test_timeout_while_asleep(void **state)
{
	struct tst_in in = {.ti_ms = 300, .ti_addr = t_addrs[0]};
	struct dss_xstream_stats before, after;
	struct tst_out out;
	struct net_msg *msg;

	(void)state;
	dss_xstream_stats_get(t_tgt_xs[0], &before);
	assert_int_equal(net_rpc_call(t_cli, t_peers[1], TST_OPC_FWD, &in, NULL, 5000, &out, &msg),
			 0);
	net_msg_free(msg);
	dss_xstream_stats_get(t_tgt_xs[0], &after);
	print_message("held ping from target 0: " DF_RC " after %" PRIu64 " ms, %" PRIu64
		      " idle sleeps meanwhile\n",
		      DP_RC(out.to_rc), out.to_ns / T_MS,
		      after.xss_idle_sleeps - before.xss_idle_sleeps);
	assert_int_equal(out.to_rc, -DER_TIMEDOUT);
	assert_true(out.to_ns >= 300 * T_MS && out.to_ns < 600 * T_MS);
	/* it slept while waiting: the deadline, not a busy loop, woke it */
	assert_true(after.xss_idle_sleeps > before.xss_idle_sleeps);
}

static void *
t_stop_thread(void *arg)
{
	*(int *)arg = srv_net_stop();
	return NULL;
}

/*
 * Stop with requests in flight: they finish and reply; a request sent meanwhile gets
 * -DER_SHUTDOWN; once stopped, a request fails with a transport error, not a hang.
 */
static void
test_stop_drains(void **state)
{
	struct t_slot slots[8];
	struct t_slot late = {0};
	struct tst_in in = {.ti_ms = 400};
	struct tst_in fast = {.ti_ms = 0};
	struct srv_net_stats st;
	pthread_t thr;
	int stop_rc = -1;
	int i;

	(void)state;
	memset(slots, 0, sizeof(slots));
	for (i = 0; i < 8; i++) {
		slots[i].ts_busy = true;
		assert_int_equal(net_rpc_send(t_cli, t_peers[i % 3], TST_OPC_SLEEP, &in, NULL, 5000,
					      t_slot_cb, &slots[i], NULL),
				 0);
	}
	/* let them all start */
	do {
		net_progress(t_cli, 1000);
		srv_net_stats_get(&st);
	} while (st.sns_inflight < 8);
	assert_int_equal(pthread_create(&thr, NULL, t_stop_thread, &stop_rc), 0);
	usleep(100 * 1000);
	late.ts_busy = true;
	assert_int_equal(net_rpc_send(t_cli, t_peers[1], TST_OPC_SLEEP, &fast, NULL, 5000,
				      t_slot_cb, &late, NULL),
			 0);
	t_slots_wait(slots, 8, 5000);
	t_slots_wait(&late, 1, 5000);
	pthread_join(thr, NULL);
	assert_int_equal(stop_rc, 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(slots[i].ts_rc, 0);
		assert_int_equal(slots[i].ts_out.to_rc, 0);
	}
	assert_int_equal(late.ts_rc, -DER_SHUTDOWN);
	assert_int_equal(srv_net_ctx_nr(), 0);

	/* gone: a transport error within the timeout */
	{
		struct net_msg *msg;
		uint64_t t0 = d_now_ns();
		int rc =
		    net_rpc_call(t_cli, t_peers[2], TST_OPC_SLEEP, &fast, NULL, 1000, NULL, &msg);

		net_msg_free(msg);
		print_message("after stop: " DF_RC " in %" PRIu64 " ms\n", DP_RC(rc),
			      (d_now_ns() - t0) / T_MS);
		assert_true(rc == -DER_UNREACH || rc == -DER_TIMEDOUT);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ping_all),       cmocka_unit_test(test_bulk),
	    cmocka_unit_test(test_handlers_yield), cmocka_unit_test(test_timeout_while_asleep),
	    cmocka_unit_test(test_stop_drains),
	};

	return cmocka_run_group_tests_name("engine_srv_net", tests, group_setup, group_teardown);
}
