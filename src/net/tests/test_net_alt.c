/*
 * test_net_alt.c: a shm client context with a tcp fallback (ca_fallback, net_alt.c), in one
 * process and thread: a tcp server (no shm name, hence no doorbell) and a named shm server
 * ("fi_ns://127.0.0.77:PORT", its doorbell bound). The client looks both up by their tcp
 * URIs: the shm one must come back as a shm peer, the tcp one (and an address of another
 * host) as a fallback peer (NET_PEER_ALT); pings and bulk GET/PUT checked by CRC32C go to
 * each over the right transport; a held request is cancelled and times out through the
 * fallback, whose deadline the context reports; counters come back to zero. Exits 77
 * without shm here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos/net.h>

#include "../net_internal.h" /* NET_PEER_ALT */

static struct net_context *t_cli;
static struct net_context *t_tcp;
static struct net_context *t_shm;
static struct net_selftest *t_st_tcp;
static struct net_selftest *t_st_shm;
static char t_tcp_uri[NET_ADDR_STR_MAX];
static char t_shm_uri[NET_ADDR_STR_MAX];

struct t_done {
	bool td_done;
	int td_rc;
	uint32_t td_crc;
	uint64_t td_seq;
};

static void
t_cb(struct net_rpc_done *done, void *arg)
{
	struct t_done *td = arg;

	td->td_done = true;
	td->td_rc = done->rd_rc;
	if (done->rd_reply == NULL)
		return;
	if (done->rd_opc == NET_OPC_BULK)
		td->td_crc = ((struct net_bulk_out *)done->rd_reply)->bo_crc;
	else
		td->td_seq = ((struct net_ping_out *)done->rd_reply)->po_seq;
}

/* Progress the three contexts until @td is done (at most 20 s). */
static void
t_wait(struct t_done *td)
{
	uint64_t end = d_now_ns() + 20 * D_NSEC_PER_SEC;

	while (!td->td_done && d_now_ns() < end) {
		net_progress(t_cli, 0);
		net_progress(t_tcp, 0);
		net_progress(t_shm, 0);
	}
	assert_true(td->td_done);
}

static int
t_setup(void **state)
{
	struct net_context_attr sa = {.ca_provider = "tcp;ofi_rxm", .ca_addr = "127.0.0.1"};
	struct net_context_attr ma = {.ca_provider = "shm"};
	struct net_context_attr ca = {.ca_provider = "shm", .ca_fallback = "tcp;ofi_rxm"};
	char name[64];
	int rc;

	(void)state;
	/* a name of our own: the scripts' engines listen on 127.0.0.1 */
	snprintf(name, sizeof(name), "127.0.0.77:%d", 1600 + (int)(getpid() % 50));
	ma.ca_addr = name;
	rc = net_context_create(&ma, &t_shm);
	if (rc != 0) {
		print_message("no shm here: " DF_RC "\n", DP_RC(rc));
		exit(77);
	}
	assert_int_equal(net_context_create(&sa, &t_tcp), 0);
	assert_int_equal(net_context_create(&ca, &t_cli), 0);
	assert_int_equal(net_selftest_register(t_tcp, &t_st_tcp), 0);
	assert_int_equal(net_selftest_register(t_shm, &t_st_shm), 0);
	snprintf(t_tcp_uri, sizeof(t_tcp_uri), "%s", net_context_addr(t_tcp));
	snprintf(t_shm_uri, sizeof(t_shm_uri), "fi_sockaddr_in://%s", name);
	assert_true(net_context_bell_fd(t_shm) >= 0);
	return 0;
}

static int
t_teardown(void **state)
{
	struct net_stats st;

	(void)state;
	net_context_stats(t_cli, &st);
	assert_int_equal(st.ns_rpcs, 0);
	assert_int_equal(st.ns_bulks, 0);
	net_context_destroy(t_cli);
	net_context_destroy(t_tcp);
	net_context_destroy(t_shm);
	net_selftest_destroy(t_st_tcp);
	net_selftest_destroy(t_st_shm);
	return 0;
}

/* The lookups route by whether a live engine serves the name here. */
static void
t_route(void **state)
{
	net_peer_t p;
	net_peer_t p2;

	(void)state;
	assert_int_equal(net_peer_lookup(t_cli, t_shm_uri, &p), 0);
	assert_true((p & NET_PEER_ALT) == 0);
	assert_int_equal(net_peer_lookup(t_cli, t_shm_uri, &p2), 0);
	assert_true(p2 == p);
	assert_int_equal(net_peer_lookup(t_cli, t_tcp_uri, &p), 0);
	assert_true((p & NET_PEER_ALT) != 0);
	assert_int_equal(net_peer_lookup(t_cli, t_tcp_uri, &p2), 0);
	assert_true(p2 == p);
	/* another host (TEST-NET-1): no bell here, always the fallback */
	assert_int_equal(net_peer_lookup(t_cli, "fi_sockaddr_in://192.0.2.1:31416", &p), 0);
	assert_true((p & NET_PEER_ALT) != 0);
}

static void
t_ping(const char *uri, uint32_t tag, uint64_t seq)
{
	struct net_ping_in in = {.pi_seq = seq};
	struct t_done td = {0};
	char data[100];
	net_peer_t p;

	memset(data, (int)seq, sizeof(data));
	d_iov_set(&in.pi_data, data, sizeof(data));
	assert_int_equal(net_peer_lookup(t_cli, uri, &p), 0);
	p = tag == NET_TAG_ANY ? p : net_peer_tag(p, tag);
	assert_int_equal(net_rpc_send(t_cli, p, NET_OPC_PING, &in, NULL, 10000, t_cb, &td, NULL),
			 0);
	t_wait(&td);
	assert_int_equal(td.td_rc, 0);
	assert_int_equal(td.td_seq, seq);
}

/* Pings reach each server over its transport; counted on the right server context. */
static void
t_pings(void **state)
{
	struct net_stats s0;
	struct net_stats s1;
	struct net_stats m0;
	struct net_stats m1;
	int i;

	(void)state;
	net_context_stats(t_tcp, &s0);
	net_context_stats(t_shm, &m0);
	for (i = 0; i < 10; i++) {
		t_ping(t_tcp_uri, NET_TAG_ANY, 100 + i);
		t_ping(t_shm_uri, 0, 200 + i);
	}
	net_context_stats(t_tcp, &s1);
	net_context_stats(t_shm, &m1);
	assert_int_equal(s1.ns_replied - s0.ns_replied, 10);
	assert_int_equal(m1.ns_replied - m0.ns_replied, 10);
}

static void
t_bulk_one(const char *uri, uint32_t op, size_t len, uint64_t seed)
{
	struct net_bulk_in in = {
	    .bi_op = op, .bi_flags = NET_BULK_F_CRC, .bi_len = len, .bi_seed = seed};
	struct t_done td = {0};
	struct net_bulk *bulk;
	d_sg_list_t sgl;
	d_iov_t iov;
	uint8_t *buf;
	uint8_t *want;
	net_peer_t p;
	size_t i;

	buf = malloc(len);
	want = malloc(len);
	assert_non_null(buf);
	assert_non_null(want);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7);
	d_iov_set(&iov, buf, len);
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	assert_int_equal(net_bulk_create(t_cli, &sgl,
					 op == NET_BULK_OP_GET ? NET_BULK_READ : NET_BULK_WRITE,
					 &bulk),
			 0);
	assert_int_equal(net_peer_lookup(t_cli, uri, &p), 0);
	/* twice through the same handle: the fallback's copy is made once, reused */
	for (i = 0; i < 2; i++) {
		memset(&td, 0, sizeof(td));
		assert_int_equal(
		    net_rpc_send(t_cli, p, NET_OPC_BULK, &in, bulk, 10000, t_cb, &td, NULL), 0);
		t_wait(&td);
		assert_int_equal(td.td_rc, 0);
		if (op == NET_BULK_OP_GET) {
			assert_int_equal(td.td_crc, net_crc32c(buf, len));
		} else {
			net_selftest_pattern(want, len, seed);
			assert_memory_equal(buf, want, len);
			assert_int_equal(td.td_crc, net_crc32c(want, len));
			memset(buf, 0, len);
		}
	}
	net_bulk_destroy(bulk);
	free(buf);
	free(want);
}

/* Bulk both ways to each server, the data checked. */
static void
t_bulk(void **state)
{
	static const size_t lens[] = {1, 4096, 100000, 3 << 20};
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(lens); i++) {
		t_bulk_one(t_tcp_uri, NET_BULK_OP_GET, lens[i], i + 1);
		t_bulk_one(t_tcp_uri, NET_BULK_OP_PUT, lens[i], i + 11);
		t_bulk_one(t_shm_uri, NET_BULK_OP_GET, lens[i], i + 21);
		t_bulk_one(t_shm_uri, NET_BULK_OP_PUT, lens[i], i + 31);
	}
}

/* A request held by the tcp server: its deadline is the client's, cancel and timeout work. */
static void
t_hold(void **state)
{
	struct net_ping_in in = {.pi_seq = 7, .pi_flags = NET_PING_HOLD};
	struct t_done td = {0};
	uint64_t id;
	uint64_t t0;
	net_peer_t p;

	(void)state;
	assert_int_equal(net_peer_lookup(t_cli, t_tcp_uri, &p), 0);
	assert_int_equal(net_context_deadline(t_cli), 0);
	t0 = d_now_ns();
	assert_int_equal(net_rpc_send(t_cli, p, NET_OPC_PING, &in, NULL, 60000, t_cb, &td, &id), 0);
	assert_true(net_context_deadline(t_cli) >= t0 + 59 * D_NSEC_PER_SEC);
	assert_int_equal(net_rpc_cancel(t_cli, id), 0);
	t_wait(&td);
	assert_int_equal(td.td_rc, -DER_CANCELED);
	assert_int_equal(net_rpc_cancel(t_cli, id), -DER_NONEXIST);

	memset(&td, 0, sizeof(td));
	assert_int_equal(net_rpc_send(t_cli, p, NET_OPC_PING, &in, NULL, 300, t_cb, &td, NULL), 0);
	/* net_progress of the pair sleeps until the fallback's deadline, not past it */
	while (!td.td_done) {
		net_progress(t_cli, 100000);
		net_progress(t_tcp, 0);
	}
	assert_int_equal(td.td_rc, -DER_TIMEDOUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_route),
	    cmocka_unit_test(t_pings),
	    cmocka_unit_test(t_bulk),
	    cmocka_unit_test(t_hold),
	};
	int rc;

	rc = d_log_init();
	if (rc != 0)
		return 1;
	rc = cmocka_run_group_tests_name("net_alt", tests, t_setup, t_teardown);
	d_log_fini();
	return rc;
}
