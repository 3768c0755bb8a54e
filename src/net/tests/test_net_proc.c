/*
 * test_net_proc.c: the net transport between processes: echo and bulk integrity against a
 * net_test_server child, and a server killed with SIGKILL in the middle of RPCs: the client
 * gets -DER_UNREACH or -DER_TIMEDOUT within the timeout and keeps working with another
 * server. Every child is killed by the test in every outcome (and by PR_SET_PDEATHSIG if the
 * test itself dies); shm files of killed servers are removed. The provider is argv[1]
 * (default tcp;ofi_rxm); exits 77 if it is not available here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <d_test.h>
#include "net_test_common.h"

#define T_MAX_CHILD 4

struct t_child {
	pid_t tc_pid;
	char tc_addr[NET_ADDR_STR_MAX];
	char tc_shm[PATH_MAX]; /* its /dev/shm file, if any */
};

static const char *t_provider = NET_PROVIDER_DEFAULT;
static char t_server_path[PATH_MAX];
static struct t_child t_children[T_MAX_CHILD];
static struct net_context *t_ctx;
static uint64_t t_rand;

/* Kill @c (if alive), reap it and remove its shm file. Async-signal-safe. */
static void
t_child_kill(struct t_child *c)
{
	if (c->tc_pid > 0) {
		kill(c->tc_pid, SIGKILL);
		waitpid(c->tc_pid, NULL, 0);
		c->tc_pid = 0;
	}
	if (c->tc_shm[0] != '\0') {
		unlink(c->tc_shm);
		c->tc_shm[0] = '\0';
	}
}

static void
t_cleanup(void)
{
	int i;

	for (i = 0; i < T_MAX_CHILD; i++)
		t_child_kill(&t_children[i]);
}

static void
t_on_signal(int sig)
{
	t_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Start net_test_server listening on @listen; returns 0, 77 (provider missing) or -1. */
static int
t_child_start(struct t_child *c, const char *listen)
{
	char line[NET_ADDR_STR_MAX + 16];
	struct pollfd pfd;
	size_t len = 0;
	int fds[2];
	pid_t pid;
	const char *p;

	memset(c, 0, sizeof(*c));
	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(t_server_path, t_server_path, t_provider, listen, (char *)NULL);
		_exit(127);
	}
	c->tc_pid = pid;
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0)
			break;
		n = read(fds[0], line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	line[len] = '\0';
	if (strncmp(line, "ADDR ", 5) != 0) {
		int status = 0;

		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		c->tc_pid = 0;
		return WIFEXITED(status) && WEXITSTATUS(status) == 77 ? 77 : -1;
	}
	*strchr(line, '\n') = '\0';
	snprintf(c->tc_addr, sizeof(c->tc_addr), "%.*s", (int)sizeof(c->tc_addr) - 1, line + 5);
	/* shm names its region after the address: fi_ns://127.0.0.1:N -> /dev/shm/127.0.0.1:N */
	p = strstr(c->tc_addr, "://");
	if (strcmp(t_provider, "shm") == 0 && p != NULL)
		snprintf(c->tc_shm, sizeof(c->tc_shm), "/dev/shm/%s", p + 3);
	return 0;
}

static const char *
t_listen_addr(char *buf, size_t len)
{
	/* shm needs a distinct name per server; tcp takes any free port. */
	if (strcmp(t_provider, "shm") == 0)
		snprintf(buf, len, "127.0.0.1:%u",
			 20000 + (unsigned)(d_test_rand(&t_rand) % 40000));
	else
		snprintf(buf, len, "127.0.0.1");
	return buf;
}

static void
t_ping_ok(net_peer_t peer, size_t len)
{
	static uint8_t data[16384];
	struct net_ping_in in = {.pi_seq = len};
	struct nt_result res = {0};
	size_t i;

	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + len);
	d_iov_set(&in.pi_data, data, len);
	assert_int_equal(
	    net_rpc_send(t_ctx, peer, NET_OPC_PING, &in, NULL, 5000, nt_cb, &res, NULL), 0);
	assert_true(nt_wait(t_ctx, &res, 6000));
	assert_int_equal(res.nr_rc, 0);
	assert_int_equal(res.nr_out.ping.po_seq, len);
	assert_int_equal(res.nr_data_len, len);
	assert_int_equal(res.nr_data_crc, net_crc32c(data, len));
}

static void
t_bulk_ok(net_peer_t peer, uint8_t *buf, uint8_t *check, size_t len, uint32_t op)
{
	struct net_bulk_in in = {.bi_op = op, .bi_flags = NET_BULK_F_CRC, .bi_len = len};
	struct nt_result res = {0};
	struct net_bulk *bulk;
	d_iov_t iov;
	d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};

	in.bi_seed = d_test_rand(&t_rand);
	d_iov_set(&iov, buf, len);
	if (op == NET_BULK_OP_GET)
		net_selftest_pattern(buf, len, in.bi_seed + 1);
	else
		memset(buf, 0x5a, len);
	assert_int_equal(net_bulk_create(t_ctx, &sgl, NET_BULK_READ | NET_BULK_WRITE, &bulk), 0);
	assert_int_equal(
	    net_rpc_send(t_ctx, peer, NET_OPC_BULK, &in, bulk, 30000, nt_cb, &res, NULL), 0);
	assert_true(nt_wait(t_ctx, &res, 31000));
	assert_int_equal(res.nr_rc, 0);
	assert_int_equal(res.nr_out.bulk.bo_crc, net_crc32c(buf, len));
	if (op == NET_BULK_OP_PUT) {
		net_selftest_pattern(check, len, in.bi_seed);
		assert_memory_equal(buf, check, len);
	}
	net_bulk_destroy(bulk);
}

static void
t_echo_bulk(void **state)
{
	size_t sizes[] = {0, 5000, (1 << 20) + 7, 64 << 20};
	struct t_child *srv = &t_children[0];
	char listen[64];
	net_peer_t peer;
	uint8_t *buf;
	uint8_t *check;
	size_t i;
	int op;

	(void)state;
	assert_int_equal(t_child_start(srv, t_listen_addr(listen, sizeof(listen))), 0);
	assert_int_equal(net_peer_lookup(t_ctx, srv->tc_addr, &peer), 0);
	for (i = 0; i < 200; i++)
		t_ping_ok(peer, d_test_rand(&t_rand) % 16385);
	D_ALLOC_NZ(buf, 64 << 20);
	D_ALLOC_NZ(check, 64 << 20);
	assert_non_null(buf);
	assert_non_null(check);
	for (op = NET_BULK_OP_GET; op <= NET_BULK_OP_PUT; op++) {
		for (i = 0; i < D_ARRAY_SIZE(sizes); i++)
			t_bulk_ok(peer, buf, check, sizes[i], (uint32_t)op);
		t_bulk_ok(peer, buf, check, d_test_rand(&t_rand) % (16 << 20), (uint32_t)op);
	}
	D_FREE(buf);
	D_FREE(check);
	/* A clean stop: SIGTERM, exit 0, no shm file left behind. */
	kill(srv->tc_pid, SIGTERM);
	{
		int status;

		assert_int_equal(waitpid(srv->tc_pid, &status, 0), srv->tc_pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		srv->tc_pid = 0;
		if (srv->tc_shm[0] != '\0')
			assert_int_equal(access(srv->tc_shm, F_OK), -1);
	}
	t_child_kill(srv);
}

static void
t_kill(void **state)
{
	struct t_child *a = &t_children[0];
	struct t_child *b = &t_children[1];
	struct net_ping_in hold = {.pi_flags = NET_PING_HOLD};
	struct nt_result res[3];
	char listen[64];
	net_peer_t pa;
	net_peer_t pb;
	uint64_t start;
	uint64_t end;
	struct net_stats st;
	int i;

	(void)state;
	assert_int_equal(t_child_start(a, t_listen_addr(listen, sizeof(listen))), 0);
	assert_int_equal(t_child_start(b, t_listen_addr(listen, sizeof(listen))), 0);
	assert_int_equal(net_peer_lookup(t_ctx, a->tc_addr, &pa), 0);
	assert_int_equal(net_peer_lookup(t_ctx, b->tc_addr, &pb), 0);
	t_ping_ok(pa, 100);
	t_ping_ok(pb, 100);

	/* Two RPCs in flight on A (one held by the server, one plain), then A dies. */
	memset(res, 0, sizeof(res));
	start = d_now_ns();
	assert_int_equal(
	    net_rpc_send(t_ctx, pa, NET_OPC_PING, &hold, NULL, 1500, nt_cb, &res[0], NULL), 0);
	net_progress(t_ctx, 20 * 1000);
	kill(a->tc_pid, SIGKILL);
	waitpid(a->tc_pid, NULL, 0);
	a->tc_pid = 0;
	assert_int_equal(
	    net_rpc_send(t_ctx, pa, NET_OPC_PING, &hold, NULL, 1000, nt_cb, &res[1], NULL), 0);
	/* B keeps answering meanwhile. */
	end = d_now_ns() + 4 * D_NSEC_PER_SEC;
	while ((res[0].nr_done == 0 || res[1].nr_done == 0) && d_now_ns() < end) {
		t_ping_ok(pb, 64);
		net_progress(t_ctx, 10 * 1000);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(res[i].nr_done, 1);
		assert_true(res[i].nr_rc == -DER_UNREACH || res[i].nr_rc == -DER_TIMEDOUT);
	}
	assert_true(res[0].nr_at - start < 2500 * D_NSEC_PER_MSEC);

	/* A fresh RPC to the dead peer fails within its timeout too. */
	start = d_now_ns();
	assert_int_equal(
	    net_rpc_send(t_ctx, pa, NET_OPC_PING, &hold, NULL, 500, nt_cb, &res[2], NULL), 0);
	assert_true(nt_wait(t_ctx, &res[2], 2000));
	assert_true(res[2].nr_rc == -DER_UNREACH || res[2].nr_rc == -DER_TIMEDOUT);
	assert_true(res[2].nr_at - start < 1500 * D_NSEC_PER_MSEC);
	t_ping_ok(pb, 1000);

	/* Nothing leaked: every RPC is freed once late send completions are in. */
	for (i = 0; i < 200; i++) {
		net_context_stats(t_ctx, &st);
		if (st.ns_rpcs == 0)
			break;
		net_progress(t_ctx, 1000);
	}
	assert_int_equal(st.ns_rpcs, 0);
	t_child_kill(a);
	t_child_kill(b);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_echo_bulk),
	    cmocka_unit_test(t_kill),
	};
	struct net_context_attr attr = {0};
	char *slash;
	ssize_t n;
	int rc;

	if (argc > 1)
		t_provider = argv[1];
	t_rand = d_test_rand_seed(d_test_seed("test_net_proc"));
	n = readlink("/proc/self/exe", t_server_path, sizeof(t_server_path) - 32);
	if (n <= 0)
		return 1;
	t_server_path[n] = '\0';
	slash = strrchr(t_server_path, '/');
	strcpy(slash + 1, "net_test_server");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, t_on_signal);
	signal(SIGINT, t_on_signal);
	signal(SIGALRM, t_on_signal);
	alarm(55);
	atexit(t_cleanup);

	attr.ca_provider = t_provider;
	rc = net_context_create(&attr, &t_ctx);
	if (rc == -DER_NONEXIST) {
		printf("provider %s not available: skipped\n", t_provider);
		return 77;
	}
	if (rc != 0)
		return 1;
	rc = cmocka_run_group_tests_name(t_provider, tests, NULL, NULL);
	net_context_destroy(t_ctx);
	t_cleanup();
	return rc;
}
