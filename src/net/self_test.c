/*
 * self_test.c: measures the net transport between two processes on loopback — RPC
 * round-trip latency (p50/p99) for 0 B to 4 KiB payloads, RPC throughput with 1 and 16 in
 * flight, bulk bandwidth from 64 KiB to 4 MiB with 1 and 16 in flight in both directions —
 * and prints next to them what raw libfabric does in the same run with the same provider and
 * hints: fi_send/fi_recv ping-pong and fi_read bandwidth. It starts its own server process
 * (itself, with --server) unless given --peer. With --engine it measures a running
 * daos_server's contexts instead (the raw baseline still comes from its own child), and with
 * --load it keeps a checked mix of pings and bulk transfers in flight against them and
 * reports the first errors (exit 3), which is how the server tests watch a stop or a crash
 * under load. Built on the net module and, for the baseline, on its fabric helpers
 * (net_internal.h).
 *
 * Usage: self_test [-p PROVIDER] [-a LISTEN_ADDR] [-d SECONDS] [-s SPIN_US]
 *                  [--peer NET_ADDR RAW_ADDR]
 *        self_test --engine NET_ADDR[,NET_ADDR...] [--load [-q DEPTH] [-t TIMEOUT_MS]]
 *                  [--no-raw] [--idle MS] [-p PROVIDER] [-a LISTEN_ADDR] [-d SECONDS] [-s SPIN_US]
 * -s sets the busy-poll time of both net contexts before they sleep (default 50 us).
 */
#define D_LOGFAC net

#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net_internal.h"

#define ST_RAW_BUF (64 * 1024)   /* raw message buffers */
#define ST_RAW_NR 32             /* raw receives posted on each side */
#define ST_RMA_LEN (64ULL << 20) /* the raw server's RMA region */
#define ST_HELLO_MAGIC 0x4f4c4548U
#define ST_DEPTH_MAX 16

static volatile sig_atomic_t st_stop;
static double st_secs = 0.5;

static void
st_on_signal(int sig)
{
	(void)sig;
	st_stop = 1;
}

/* The hello a raw client sends first: its address. The server answers with its region. */
struct st_hello {
	uint32_t sh_magic;
	uint32_t sh_len;
	uint8_t sh_addr[NET_ADDR_RAW_MAX];
};

struct st_region {
	uint64_t sr_addr;
	uint64_t sr_key;
	uint64_t sr_len;
};

struct st_rbuf {
	struct fi_context rb_ctx;
	bool rb_send; /* echoing back (a send is posted) rather than receiving */
	size_t rb_len;
	uint8_t rb_data[ST_RAW_BUF];
};

/* Raw server: echoes every message after the hello; its region is open for RMA. */
struct st_raw_srv {
	struct net_fab rs_fab;
	struct fid_mr *rs_mr;
	void *rs_region;
	struct st_region rs_reg;
	struct st_rbuf *rs_bufs;
	fi_addr_t rs_client;
	bool rs_hello;
};

static void
st_sleep_idle(struct net_fab *fab, uint64_t *idle_since)
{
	uint64_t now = d_now_ns();

	if (*idle_since == 0) {
		*idle_since = now;
		return;
	}
	/* A baseline server polls as long as a client is active; it sleeps between runs. */
	if (now - *idle_since < D_NSEC_PER_SEC)
		return;
	if (fab->nf_fd >= 0) {
		struct fid *fids[1] = {&fab->nf_cq->fid};
		struct pollfd pfd = {.fd = fab->nf_fd, .events = POLLIN};

		if (fi_trywait(fab->nf_fabric, fids, 1) == FI_SUCCESS)
			poll(&pfd, 1, 100);
	} else {
		usleep(now - *idle_since > D_NSEC_PER_MSEC ? 200 : 10);
	}
}

static void
st_raw_repost(struct st_raw_srv *rs, struct st_rbuf *b)
{
	b->rb_send = false;
	while (fi_recv(rs->rs_fab.nf_ep, b->rb_data, ST_RAW_BUF, NULL, FI_ADDR_UNSPEC,
		       &b->rb_ctx) == -FI_EAGAIN)
		;
}

static void *
st_raw_srv_main(void *arg)
{
	struct st_raw_srv *rs = arg;
	struct fi_cq_msg_entry ents[16];
	struct fi_cq_err_entry err;
	uint64_t idle = 0;
	ssize_t n;
	int i;

	while (!st_stop) {
		n = fi_cq_read(rs->rs_fab.nf_cq, ents, 16);
		if (n == -FI_EAGAIN) {
			st_sleep_idle(&rs->rs_fab, &idle);
			continue;
		}
		idle = 0;
		if (n == -FI_EAVAIL) {
			memset(&err, 0, sizeof(err));
			fi_cq_readerr(rs->rs_fab.nf_cq, &err, 0);
			if (err.op_context != NULL)
				st_raw_repost(rs, err.op_context);
			continue;
		}
		for (i = 0; i < n; i++) {
			struct st_rbuf *b = ents[i].op_context;

			if (b->rb_send) {
				st_raw_repost(rs, b);
				continue;
			}
			b->rb_len = ents[i].len;
			if (!rs->rs_hello) {
				struct st_hello *h = (struct st_hello *)b->rb_data;

				if (b->rb_len < 8 || h->sh_magic != ST_HELLO_MAGIC ||
				    h->sh_len > NET_ADDR_RAW_MAX ||
				    fi_av_insert(rs->rs_fab.nf_av, h->sh_addr, 1, &rs->rs_client, 0,
						 NULL) != 1) {
					st_raw_repost(rs, b);
					continue;
				}
				rs->rs_hello = true;
				memcpy(b->rb_data, &rs->rs_reg, sizeof(rs->rs_reg));
				b->rb_len = sizeof(rs->rs_reg);
			}
			b->rb_send = true;
			while (fi_send(rs->rs_fab.nf_ep, b->rb_data, b->rb_len, NULL, rs->rs_client,
				       &b->rb_ctx) == -FI_EAGAIN)
				fi_cq_read(rs->rs_fab.nf_cq, NULL, 0);
		}
	}
	return NULL;
}

static int
st_raw_srv_open(struct st_raw_srv *rs, const char *prov, const char *listen)
{
	int i;
	int rc;

	memset(rs, 0, sizeof(*rs));
	rc = net_fab_open(prov, listen, true, &rs->rs_fab);
	if (rc != 0)
		return rc;
	rs->rs_region = malloc(ST_RMA_LEN);
	rs->rs_bufs = calloc(ST_RAW_NR, sizeof(*rs->rs_bufs));
	if (rs->rs_region == NULL || rs->rs_bufs == NULL)
		return -DER_NOMEM;
	memset(rs->rs_region, 0x11, ST_RMA_LEN);
	rs->rs_reg.sr_len = ST_RMA_LEN;
	rc =
	    net_fab_mr_reg(&rs->rs_fab, rs->rs_region, ST_RMA_LEN, FI_REMOTE_READ | FI_REMOTE_WRITE,
			   &rs->rs_mr, &rs->rs_reg.sr_key, &rs->rs_reg.sr_addr);
	if (rc != 0)
		return rc;
	for (i = 0; i < ST_RAW_NR; i++)
		st_raw_repost(rs, &rs->rs_bufs[i]);
	return 0;
}

/* --server mode: a net context with the self-test handlers plus a raw echo endpoint. */
static int
st_server(const char *prov, const char *listen)
{
	struct net_context_attr attr = {.ca_provider = prov, .ca_addr = listen};
	struct net_context *ctx;
	struct net_selftest *st;
	struct st_raw_srv rs;
	const char *spin = getenv("SELF_TEST_SPIN_US");
	pthread_t raw_thread;
	char raw_listen[64];
	const char *colon;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGTERM, st_on_signal);
	signal(SIGINT, st_on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (spin != NULL)
		attr.ca_spin_us = (uint32_t)atoi(spin);
	rc = net_context_create(&attr, &ctx);
	if (rc != 0) {
		fprintf(stderr, "server: net_context_create: " DF_RC "\n", DP_RC(rc));
		return 1;
	}
	rc = net_selftest_register(ctx, &st);
	if (rc != 0)
		return 1;
	/* The raw endpoint listens on the same host, next port (or any port). */
	colon = strrchr(listen, ':');
	if (colon != NULL && atoi(colon + 1) != 0)
		snprintf(raw_listen, sizeof(raw_listen), "%.*s:%d", (int)(colon - listen), listen,
			 atoi(colon + 1) + 1);
	else
		snprintf(raw_listen, sizeof(raw_listen), "%.*s",
			 colon == NULL ? (int)strlen(listen) : (int)(colon - listen), listen);
	rc = st_raw_srv_open(&rs, prov, raw_listen);
	if (rc != 0) {
		fprintf(stderr, "server: raw endpoint: " DF_RC "\n", DP_RC(rc));
		return 1;
	}
	pthread_create(&raw_thread, NULL, st_raw_srv_main, &rs);
	printf("ADDR %s\nRAW %s\n", net_context_addr(ctx), rs.rs_fab.nf_straddr);
	fflush(stdout);
	while (!st_stop && getppid() != 1)
		net_progress(ctx, 100 * 1000);
	st_stop = 1;
	pthread_join(raw_thread, NULL);
	net_context_destroy(ctx);
	net_selftest_destroy(st);
	fi_close(&rs.rs_mr->fid);
	net_fab_close(&rs.rs_fab);
	free(rs.rs_region);
	free(rs.rs_bufs);
	return 0;
}

/* Client side */

static int
st_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct st_lat {
	double sl_p50;
	double sl_p99;
};

static struct st_lat
st_percentiles(uint64_t *ns, size_t n)
{
	struct st_lat l = {0, 0};

	if (n == 0)
		return l;
	qsort(ns, n, sizeof(*ns), st_cmp_u64);
	l.sl_p50 = (double)ns[n / 2] / 1000.0;
	l.sl_p99 = (double)ns[(n * 99) / 100] / 1000.0;
	return l;
}

#define ST_SAMPLES_MAX 200000

static uint64_t *st_samples;

struct st_slot {
	bool ss_busy;
	int ss_rc;
	uint64_t ss_start;
};

static void
st_rpc_cb(struct net_rpc_done *done, void *arg)
{
	struct st_slot *s = arg;

	s->ss_rc = done->rd_rc;
	s->ss_busy = false;
}

static struct st_lat
st_rpc_latency(struct net_context *ctx, net_peer_t peer, size_t size)
{
	static uint8_t data[4096];
	struct net_ping_in in = {0};
	struct st_slot slot;
	uint64_t end = 0;
	size_t n = 0;
	int i;

	d_iov_set(&in.pi_data, data, size);
	for (i = -200; n < ST_SAMPLES_MAX; i++) {
		uint64_t t0 = d_now_ns();

		slot.ss_busy = true;
		if (net_rpc_send(ctx, peer, NET_OPC_PING, &in, NULL, 5000, st_rpc_cb, &slot,
				 NULL) != 0)
			break;
		while (slot.ss_busy)
			net_progress(ctx, 1000);
		if (slot.ss_rc != 0) {
			fprintf(stderr, "ping failed: " DF_RC "\n", DP_RC(slot.ss_rc));
			break;
		}
		if (i == 0)
			end = d_now_ns() + (uint64_t)(st_secs * 1e9);
		if (i >= 0) {
			st_samples[n++] = d_now_ns() - t0;
			if (d_now_ns() >= end)
				break;
		}
	}
	return st_percentiles(st_samples, n);
}

static double
st_rpc_rate(struct net_context *ctx, net_peer_t peer, int depth)
{
	struct st_slot slots[ST_DEPTH_MAX];
	struct net_ping_in in = {0};
	uint64_t start;
	uint64_t end;
	uint64_t done = 0;
	int i;

	memset(slots, 0, sizeof(slots));
	start = d_now_ns();
	end = start + (uint64_t)(st_secs * 1e9);
	for (;;) {
		bool idle = true;
		uint64_t now = d_now_ns();

		for (i = 0; i < depth; i++) {
			if (slots[i].ss_busy) {
				idle = false;
				continue;
			}
			if (slots[i].ss_start != 0)
				done++;
			slots[i].ss_start = 0;
			if (now >= end)
				continue;
			slots[i].ss_busy = true;
			slots[i].ss_start = now;
			if (net_rpc_send(ctx, peer, NET_OPC_PING, &in, NULL, 5000, st_rpc_cb,
					 &slots[i], NULL) != 0)
				return 0;
			idle = false;
		}
		if (idle && now >= end)
			break;
		net_progress(ctx, 1000);
	}
	return (double)done / ((double)(d_now_ns() - start) / 1e9);
}

static double
st_bulk_bw(struct net_context *ctx, net_peer_t peer, size_t size, int depth, uint32_t op,
	   uint8_t *buf)
{
	struct st_slot slots[ST_DEPTH_MAX];
	struct net_bulk *bulks[ST_DEPTH_MAX];
	struct net_bulk_in in = {.bi_op = op, .bi_len = size};
	uint64_t start;
	uint64_t end;
	uint64_t bytes = 0;
	int i;

	memset(slots, 0, sizeof(slots));
	for (i = 0; i < depth; i++) {
		d_iov_t iov;
		d_sg_list_t sgl = {.sg_nr = 1, .sg_iovs = &iov};

		d_iov_set(&iov, buf + (size_t)i * size, size);
		if (net_bulk_create(ctx, &sgl, NET_BULK_READ | NET_BULK_WRITE, &bulks[i]) != 0)
			return 0;
	}
	start = d_now_ns();
	end = start + (uint64_t)(st_secs * 1e9);
	for (;;) {
		bool idle = true;
		uint64_t now = d_now_ns();

		for (i = 0; i < depth; i++) {
			if (slots[i].ss_busy) {
				idle = false;
				continue;
			}
			if (slots[i].ss_start != 0) {
				if (slots[i].ss_rc != 0) {
					fprintf(stderr, "bulk failed: " DF_RC "\n",
						DP_RC(slots[i].ss_rc));
					end = 0;
				}
				bytes += size;
			}
			slots[i].ss_start = 0;
			if (now >= end)
				continue;
			slots[i].ss_busy = true;
			slots[i].ss_start = now;
			if (net_rpc_send(ctx, peer, NET_OPC_BULK, &in, bulks[i], 10000, st_rpc_cb,
					 &slots[i], NULL) != 0)
				return 0;
			idle = false;
		}
		if (idle && now >= end)
			break;
		net_progress(ctx, 1000);
	}
	for (i = 0; i < depth; i++)
		net_bulk_destroy(bulks[i]);
	return (double)bytes / ((double)(d_now_ns() - start));
}

/* Raw client: ping-pong and fi_read against the raw server. */
struct st_raw_cli {
	struct net_fab rc_fab;
	fi_addr_t rc_srv;
	struct st_region rc_reg;
	struct fi_context rc_sctx;
	struct fi_context rc_rctx[ST_DEPTH_MAX];
	uint8_t *rc_sbuf;
	uint8_t *rc_rbuf;
};

/*
 * Busy-poll the CQ until @sends send completions, @recvs receives and, if @rma_want, at least
 * that many RMA completions (counted in *@rma) are in. -1 on error or after 5 s.
 */
static int
st_raw_wait(struct st_raw_cli *rc, int sends, int recvs, int rma_want, int *rma)
{
	struct fi_cq_msg_entry ents[16];
	struct fi_cq_err_entry err;
	uint64_t deadline = d_now_ns() + 5 * D_NSEC_PER_SEC;
	ssize_t n;
	int i;

	while (sends > 0 || recvs > 0 || *rma < rma_want) {
		n = fi_cq_read(rc->rc_fab.nf_cq, ents, 16);
		if (n == -FI_EAGAIN) {
			if (d_now_ns() > deadline)
				return -1;
			continue;
		}
		if (n < 0) {
			memset(&err, 0, sizeof(err));
			fi_cq_readerr(rc->rc_fab.nf_cq, &err, 0);
			fprintf(stderr, "raw completion error: %s\n", fi_strerror(err.err));
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (ents[i].flags & FI_RECV)
				recvs--;
			else if (ents[i].flags & FI_RMA)
				(*rma)++;
			else
				sends--;
		}
	}
	return 0;
}

static int
st_raw_send(struct st_raw_cli *rc, const void *buf, size_t len)
{
	ssize_t rc_;

	while ((rc_ = fi_send(rc->rc_fab.nf_ep, buf, len, NULL, rc->rc_srv, &rc->rc_sctx)) ==
	       -FI_EAGAIN)
		fi_cq_read(rc->rc_fab.nf_cq, NULL, 0);
	return rc_ == 0 ? 0 : -1;
}

static int
st_raw_recv(struct st_raw_cli *rc)
{
	return fi_recv(rc->rc_fab.nf_ep, rc->rc_rbuf, ST_RAW_BUF, NULL, FI_ADDR_UNSPEC,
		       &rc->rc_rctx[0]) == 0
		   ? 0
		   : -1;
}

static int
st_raw_open(struct st_raw_cli *rc, const char *prov, const char *listen, const char *srv)
{
	struct st_hello hello = {.sh_magic = ST_HELLO_MAGIC};
	uint8_t raw[NET_ADDR_RAW_MAX];
	size_t len;
	int dummy = 0;

	memset(rc, 0, sizeof(*rc));
	rc->rc_sbuf = malloc(ST_RAW_BUF);
	rc->rc_rbuf = malloc(ST_RAW_BUF);
	if (rc->rc_sbuf == NULL || rc->rc_rbuf == NULL)
		return -1;
	memset(rc->rc_sbuf, 0x42, ST_RAW_BUF);
	if (net_fab_open(prov, listen, true, &rc->rc_fab) != 0 ||
	    net_fab_str2raw(&rc->rc_fab, srv, raw, &len) != 0 ||
	    fi_av_insert(rc->rc_fab.nf_av, raw, 1, &rc->rc_srv, 0, NULL) != 1)
		return -1;
	hello.sh_len = (uint32_t)rc->rc_fab.nf_name_len;
	memcpy(hello.sh_addr, rc->rc_fab.nf_name, rc->rc_fab.nf_name_len);
	if (st_raw_recv(rc) != 0 || st_raw_send(rc, &hello, sizeof(hello)) != 0 ||
	    st_raw_wait(rc, 1, 1, 0, &dummy) != 0)
		return -1;
	memcpy(&rc->rc_reg, rc->rc_rbuf, sizeof(rc->rc_reg));
	return 0;
}

static struct st_lat
st_raw_latency(struct st_raw_cli *rc, size_t size)
{
	uint64_t end = 0;
	size_t n = 0;
	int dummy = 0;
	int i;

	for (i = -200; n < ST_SAMPLES_MAX; i++) {
		uint64_t t0 = d_now_ns();

		if (st_raw_recv(rc) != 0 || st_raw_send(rc, rc->rc_sbuf, size) != 0 ||
		    st_raw_wait(rc, 1, 1, 0, &dummy) != 0)
			break;
		if (i == 0)
			end = d_now_ns() + (uint64_t)(st_secs * 1e9);
		if (i >= 0) {
			st_samples[n++] = d_now_ns() - t0;
			if (d_now_ns() >= end)
				break;
		}
	}
	return st_percentiles(st_samples, n);
}

static double
st_raw_read_bw(struct st_raw_cli *rc, uint8_t *buf, size_t size, int depth)
{
	struct fi_context ctxs[ST_DEPTH_MAX];
	uint64_t start = d_now_ns();
	uint64_t end = start + (uint64_t)(st_secs * 1e9);
	uint64_t bytes = 0;
	int inflight = 0;
	int next = 0;
	int done;

	for (;;) {
		while (inflight < depth && d_now_ns() < end) {
			uint64_t off = ((uint64_t)next * size) % (ST_RMA_LEN - size + 1);
			ssize_t r = fi_read(rc->rc_fab.nf_ep, buf + (size_t)(next % depth) * size,
					    size, NULL, rc->rc_srv, rc->rc_reg.sr_addr + off,
					    rc->rc_reg.sr_key, &ctxs[next % depth]);

			if (r == -FI_EAGAIN)
				break;
			if (r != 0) {
				fprintf(stderr, "raw fi_read: %s\n", fi_strerror((int)-r));
				return 0;
			}
			inflight++;
			next++;
		}
		if (inflight == 0)
			break;
		done = 0;
		if (st_raw_wait(rc, 0, 0, 1, &done) != 0) {
			fprintf(stderr, "raw fi_read did not complete\n");
			return 0;
		}
		inflight -= done;
		bytes += (uint64_t)done * size;
	}
	return (double)bytes / ((double)(d_now_ns() - start));
}

static pid_t st_child;

static void
st_kill_child(void)
{
	if (st_child > 0) {
		kill(st_child, SIGTERM);
		waitpid(st_child, NULL, 0);
		st_child = 0;
	}
}

/* Start our own server process; fills @net_addr and @raw_addr. */
static int
st_spawn(const char *prov, const char *listen, char *net_addr, char *raw_addr)
{
	char self[PATH_MAX];
	char out[2 * NET_ADDR_STR_MAX + 32];
	size_t len = 0;
	ssize_t n;
	int fds[2];
	char *raw;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || pipe(fds) != 0)
		return -1;
	self[n] = '\0';
	st_child = fork();
	if (st_child < 0)
		return -1;
	if (st_child == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(self, self, "--server", prov, listen, (char *)NULL);
		_exit(127);
	}
	atexit(st_kill_child);
	close(fds[1]);
	while (len < sizeof(out) - 1) {
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};

		if (poll(&pfd, 1, 10000) <= 0)
			break;
		n = read(fds[0], out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = '\0';
		if (strstr(out, "RAW ") != NULL && strchr(strstr(out, "RAW "), '\n') != NULL)
			break;
	}
	close(fds[0]);
	out[len] = '\0';
	raw = strstr(out, "\nRAW ");
	if (strncmp(out, "ADDR ", 5) != 0 || raw == NULL) {
		fprintf(stderr, "server did not start\n");
		return -1;
	}
	*raw = '\0';
	snprintf(net_addr, NET_ADDR_STR_MAX, "%.*s", NET_ADDR_STR_MAX - 1, out + 5);
	raw += 5;
	raw[strcspn(raw, "\n")] = '\0';
	snprintf(raw_addr, NET_ADDR_STR_MAX, "%.*s", NET_ADDR_STR_MAX - 1, raw);
	return 0;
}

/*
 * --load: keep @depth RPCs in flight over the @nr engine addresses for st_secs: 64 B pings
 * (echo checked), 1 MiB bulk GETs (the server's CRC checked) and PUTs (the pattern checked).
 * After the first failure no new RPC is sent; those in flight finish (each within
 * @timeout_ms). Exit code: 0 all succeeded, 3 some failed (each outcome is printed with the
 * time it took), 4 wrong data.
 */
#define ST_LOAD_BULK (1U << 20)
#define ST_LOAD_ADDRS_MAX 128

struct st_load_slot {
	struct net_bulk *ls_bulk;
	uint8_t *ls_buf;
	uint64_t ls_start;
	uint64_t ls_seed;
	uint32_t ls_kind; /* 0 ping, 1 get, 2 put */
	uint32_t ls_crc;
	bool ls_busy;
};

struct st_load {
	struct st_load_slot *sl_slots;
	uint64_t sl_ok;
	uint64_t sl_failed;
	uint64_t sl_bad_data;
	uint64_t sl_first_err_ns;    /* since the start */
	uint64_t sl_max_err_wait_ns; /* longest time a failed RPC took */
	uint64_t sl_start;
	int sl_errs[8];
	uint64_t sl_err_nr[8];
};

static struct st_load st_ld;

static void
st_load_cb(struct net_rpc_done *done, void *arg)
{
	struct st_load_slot *ls = arg;
	uint64_t now = d_now_ns();
	int i;

	ls->ls_busy = false;
	if (done->rd_rc != 0) {
		st_ld.sl_failed++;
		if (st_ld.sl_first_err_ns == 0)
			st_ld.sl_first_err_ns = now - st_ld.sl_start;
		if (now - ls->ls_start > st_ld.sl_max_err_wait_ns)
			st_ld.sl_max_err_wait_ns = now - ls->ls_start;
		for (i = 0; i < 8; i++) {
			if (st_ld.sl_err_nr[i] == 0 || st_ld.sl_errs[i] == done->rd_rc) {
				st_ld.sl_errs[i] = done->rd_rc;
				st_ld.sl_err_nr[i]++;
				break;
			}
		}
		return;
	}
	if (ls->ls_kind == 0) {
		struct net_ping_out *out = done->rd_reply;

		if (out->po_data.iov_len != 64 || memcmp(out->po_data.iov_buf, ls->ls_buf, 64) != 0)
			st_ld.sl_bad_data++;
	} else if (ls->ls_kind == 1) {
		struct net_bulk_out *out = done->rd_reply;

		if (out->bo_len != ST_LOAD_BULK || out->bo_crc != ls->ls_crc)
			st_ld.sl_bad_data++;
	} else {
		static uint8_t *want;

		if (want == NULL)
			want = malloc(ST_LOAD_BULK);
		if (want != NULL) {
			net_selftest_pattern(want, ST_LOAD_BULK, ls->ls_seed);
			if (memcmp(want, ls->ls_buf, ST_LOAD_BULK) != 0)
				st_ld.sl_bad_data++;
		}
	}
	st_ld.sl_ok++;
}

static int
st_load_send(struct net_context *ctx, net_peer_t peer, struct st_load_slot *ls, uint32_t seq,
	     uint32_t timeout_ms)
{
	struct net_ping_in pin = {.pi_seq = seq};
	struct net_bulk_in bin = {.bi_flags = NET_BULK_F_CRC, .bi_len = ST_LOAD_BULK};

	ls->ls_kind = seq % 3;
	ls->ls_seed = seq;
	ls->ls_start = d_now_ns();
	ls->ls_busy = true;
	if (ls->ls_kind == 0) {
		memset(ls->ls_buf, (int)(seq & 0xff), 64);
		d_iov_set(&pin.pi_data, ls->ls_buf, 64);
		return net_rpc_send(ctx, peer, NET_OPC_PING, &pin, NULL, timeout_ms, st_load_cb, ls,
				    NULL);
	}
	if (ls->ls_kind == 1) {
		ls->ls_buf[seq % ST_LOAD_BULK] ^= 0x5a;
		ls->ls_crc = net_crc32c(ls->ls_buf, ST_LOAD_BULK);
		bin.bi_op = NET_BULK_OP_GET;
	} else {
		bin.bi_op = NET_BULK_OP_PUT;
		bin.bi_seed = ls->ls_seed;
	}
	return net_rpc_send(ctx, peer, NET_OPC_BULK, &bin, ls->ls_bulk, timeout_ms, st_load_cb, ls,
			    NULL);
}

static int
st_load(struct net_context *ctx, net_peer_t *peers, uint32_t nr, int depth, uint32_t timeout_ms)
{
	uint64_t end;
	uint64_t last;
	uint32_t seq = 0;
	bool stop = false;
	int busy;
	int i;
	int rc;

	st_ld.sl_slots = calloc((size_t)depth, sizeof(*st_ld.sl_slots));
	if (st_ld.sl_slots == NULL)
		return 1;
	for (i = 0; i < depth; i++) {
		struct st_load_slot *ls = &st_ld.sl_slots[i];
		d_sg_list_t sgl;
		d_iov_t iov;

		ls->ls_buf = malloc(ST_LOAD_BULK);
		if (ls->ls_buf == NULL)
			return 1;
		net_selftest_pattern(ls->ls_buf, ST_LOAD_BULK, (uint64_t)i + 1000);
		d_iov_set(&iov, ls->ls_buf, ST_LOAD_BULK);
		sgl.sg_nr = 1;
		sgl.sg_nr_out = 0;
		sgl.sg_iovs = &iov;
		rc = net_bulk_create(ctx, &sgl, NET_BULK_READ | NET_BULK_WRITE, &ls->ls_bulk);
		if (rc != 0) {
			fprintf(stderr, "load: bulk create: " DF_RC "\n", DP_RC(rc));
			return 1;
		}
	}
	printf("load: %u context(s), %d in flight, timeout %u ms, %.1f s\n", nr, depth, timeout_ms,
	       st_secs);
	fflush(stdout);
	st_ld.sl_start = d_now_ns();
	end = st_ld.sl_start + (uint64_t)(st_secs * 1e9);
	last = st_ld.sl_start;
	for (;;) {
		uint64_t now = d_now_ns();

		if (now >= end || st_ld.sl_failed > 0 || st_stop)
			stop = true;
		busy = 0;
		for (i = 0; i < depth; i++) {
			struct st_load_slot *ls = &st_ld.sl_slots[i];

			if (ls->ls_busy) {
				busy++;
				continue;
			}
			if (stop)
				continue;
			rc = st_load_send(ctx, peers[seq % nr], ls, seq, timeout_ms);
			seq++;
			if (rc != 0) {
				ls->ls_busy = false;
				st_ld.sl_failed++;
				if (st_ld.sl_first_err_ns == 0)
					st_ld.sl_first_err_ns = now - st_ld.sl_start;
				st_ld.sl_errs[7] = rc;
				st_ld.sl_err_nr[7]++;
				continue;
			}
			busy++;
		}
		if (stop && busy == 0)
			break;
		if (now - last >= D_NSEC_PER_SEC) {
			printf("load: %.0f s: %" PRIu64 " ok, %" PRIu64 " failed\n",
			       (double)(now - st_ld.sl_start) / 1e9, st_ld.sl_ok, st_ld.sl_failed);
			fflush(stdout);
			last = now;
		}
		net_progress(ctx, 1000);
	}
	printf("load: %" PRIu64 " RPCs ok in %.2f s (%.0f/s), %" PRIu64 " failed, %" PRIu64
	       " with wrong data\n",
	       st_ld.sl_ok, (double)(d_now_ns() - st_ld.sl_start) / 1e9,
	       (double)st_ld.sl_ok / ((double)(d_now_ns() - st_ld.sl_start) / 1e9), st_ld.sl_failed,
	       st_ld.sl_bad_data);
	for (i = 0; i < 8; i++)
		if (st_ld.sl_err_nr[i] > 0)
			printf("load: error %s (%d): %" PRIu64 " RPC(s)\n",
			       d_errstr(st_ld.sl_errs[i]), st_ld.sl_errs[i], st_ld.sl_err_nr[i]);
	if (st_ld.sl_failed > 0)
		printf("load: first error after %.3f s; a failed RPC took at most %.3f s\n",
		       (double)st_ld.sl_first_err_ns / 1e9, (double)st_ld.sl_max_err_wait_ns / 1e9);
	for (i = 0; i < depth; i++) {
		net_bulk_destroy(st_ld.sl_slots[i].ls_bulk);
		free(st_ld.sl_slots[i].ls_buf);
	}
	free(st_ld.sl_slots);
	if (st_ld.sl_bad_data > 0)
		return 4;
	return st_ld.sl_failed > 0 ? 3 : 0;
}

/* Split the comma-separated @list (modified) into @addrs; returns how many, 0 on error. */
static uint32_t
st_addrs_split(char *list, char **addrs, uint32_t max)
{
	uint32_t n = 0;
	char *save = NULL;
	char *tok;

	for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			return 0;
		addrs[n++] = tok;
	}
	return n;
}

static void
st_usage(const char *prog)
{
	fprintf(
	    stderr,
	    "usage: %s [-p PROVIDER] [-a LISTEN_ADDR] [-d SECONDS] [-s SPIN_US] [-r SPIN_RPC_US]\n"
	    "          [--peer NET_ADDR RAW_ADDR]\n"
	    "       %s --engine NET_ADDR[,NET_ADDR...] [--load [-q DEPTH] [-t TIMEOUT_MS]]\n"
	    "          [--no-raw] [--idle MS] [-p PROVIDER] [-a LISTEN_ADDR] [-d SECONDS]\n"
	    "          [-s SPIN_US] [-r SPIN_RPC_US]\n"
	    "       %s --server PROVIDER LISTEN_ADDR\n"
	    "--engine measures a running daos_server's contexts (the first address; every one\n"
	    "is pinged); --load keeps DEPTH (default 8) checked RPCs in flight over all of them\n"
	    "for -d seconds and exits 3 at the first failure (after those in flight end).\n"
	    "-s sets the busy-poll before sleeping of both ends (ca_spin_us), -r the client's\n"
	    "bound while its RPCs wait for replies (ca_spin_rpc_us; off by default, -r 1000 to\n"
	    "spin through RPCs answered within 1 ms).\n",
	    prog, prog, prog);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"provider", required_argument, NULL, 'p'}, {"addr", required_argument, NULL, 'a'},
	    {"duration", required_argument, NULL, 'd'}, {"peer", no_argument, NULL, 'P'},
	    {"server", no_argument, NULL, 'S'},         {"engine", required_argument, NULL, 'e'},
	    {"load", no_argument, NULL, 'L'},           {"no-raw", no_argument, NULL, 'R'},
	    {"idle", required_argument, NULL, 'I'},     {"timeout", required_argument, NULL, 't'},
	    {"depth", required_argument, NULL, 'q'},    {"spin-rpc", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	const size_t lat_sizes[] = {0, 64, 512, 4096};
	const size_t bulk_sizes[] = {64 << 10, 256 << 10, 1 << 20, 4 << 20};
	struct st_lat lat[4];
	struct st_lat raw_lat[4];
	double bw[4][6];
	double rate1;
	double rate16;
	struct net_context_attr attr = {.ca_provider = NET_PROVIDER_DEFAULT};
	const char *listen = "127.0.0.1";
	char net_addr[NET_ADDR_STR_MAX];
	char raw_addr[NET_ADDR_STR_MAX];
	struct net_context *ctx = NULL;
	struct st_raw_cli *raw = NULL;
	bool peer_given = false;
	bool server = false;
	char *engine = NULL;
	int idle_ms = 0;
	char *eng_addrs[ST_LOAD_ADDRS_MAX];
	net_peer_t eng_peers[ST_LOAD_ADDRS_MAX];
	uint32_t eng_nr = 0;
	bool load = false;
	bool no_raw = false;
	uint32_t timeout_ms = 5000;
	int depth = 8;
	net_peer_t peer;
	uint8_t *buf = NULL;
	size_t i;
	int opt;
	int rc = 1;

	while ((opt = getopt_long(argc, argv, "p:a:d:s:r:e:t:q:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			attr.ca_provider = optarg;
			break;
		case 'a':
			listen = optarg;
			break;
		case 'd':
			st_secs = atof(optarg);
			break;
		case 'P':
			peer_given = true;
			break;
		case 's':
			/* Read by this process and by the server it starts. */
			setenv("SELF_TEST_SPIN_US", optarg, 1);
			break;
		case 'r':
			attr.ca_spin_rpc_us = (uint32_t)atoi(optarg);
			break;
		case 'S':
			server = true;
			break;
		case 'e':
			engine = optarg;
			break;
		case 'L':
			load = true;
			break;
		case 'I':
			idle_ms = atoi(optarg);
			break;
		case 'R':
			no_raw = true;
			break;
		case 't':
			timeout_ms = (uint32_t)atoi(optarg);
			break;
		case 'q':
			depth = atoi(optarg);
			if (depth < 1 || depth > 256) {
				fprintf(stderr, "-q: 1..256\n");
				return 2;
			}
			break;
		default:
			st_usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (server) {
		if (argc - optind != 2) {
			st_usage(argv[0]);
			return 2;
		}
		return st_server(argv[optind], argv[optind + 1]);
	}
	signal(SIGPIPE, SIG_IGN);
	if (engine != NULL) {
		eng_nr = st_addrs_split(engine, eng_addrs, ST_LOAD_ADDRS_MAX);
		if (eng_nr == 0 || peer_given) {
			st_usage(argv[0]);
			return 2;
		}
		snprintf(net_addr, sizeof(net_addr), "%s", eng_addrs[0]);
	} else if (load) {
		st_usage(argv[0]);
		return 2;
	}
	if (engine != NULL && (load || no_raw)) {
		raw_addr[0] = '\0';
	} else if (engine != NULL) {
		/* the baseline: our own raw server, same provider and host */
		char srv_listen[64];
		char unused[NET_ADDR_STR_MAX];

		if (strcmp(attr.ca_provider, "shm") == 0)
			snprintf(srv_listen, sizeof(srv_listen), "%s:%d", listen,
				 20000 + (int)(getpid() % 20000) * 2);
		else
			snprintf(srv_listen, sizeof(srv_listen), "%s", listen);
		if (st_spawn(attr.ca_provider, srv_listen, unused, raw_addr) != 0)
			goto out;
	} else if (peer_given) {
		if (argc - optind != 2) {
			st_usage(argv[0]);
			return 2;
		}
		snprintf(net_addr, sizeof(net_addr), "%s", argv[optind]);
		snprintf(raw_addr, sizeof(raw_addr), "%s", argv[optind + 1]);
	} else {
		/* shm names endpoints after their address: give the server distinct ones. */
		char srv_listen[64];

		if (strcmp(attr.ca_provider, "shm") == 0)
			snprintf(srv_listen, sizeof(srv_listen), "%s:%d", listen,
				 20000 + (int)(getpid() % 20000) * 2);
		else
			snprintf(srv_listen, sizeof(srv_listen), "%s", listen);
		if (st_spawn(attr.ca_provider, srv_listen, net_addr, raw_addr) != 0)
			goto out;
	}
	st_samples = calloc(ST_SAMPLES_MAX, sizeof(*st_samples));
	buf = malloc((size_t)ST_DEPTH_MAX * (4 << 20));
	raw = calloc(1, sizeof(*raw));
	if (st_samples == NULL || buf == NULL || raw == NULL)
		goto out;
	memset(buf, 0x33, (size_t)ST_DEPTH_MAX * (4 << 20));

	attr.ca_addr = listen;
	if (getenv("SELF_TEST_SPIN_US") != NULL)
		attr.ca_spin_us = (uint32_t)atoi(getenv("SELF_TEST_SPIN_US"));
	rc = net_context_create(&attr, &ctx);
	if (rc == 0)
		rc = net_peer_lookup(ctx, net_addr, &peer);
	for (i = 0; rc == 0 && i < eng_nr; i++)
		rc = net_peer_lookup(ctx, eng_addrs[i], &eng_peers[i]);
	if (rc != 0) {
		fprintf(stderr, "client context: " DF_RC "\n", DP_RC(rc));
		rc = 1;
		goto out;
	}
	if (load) {
		signal(SIGTERM, st_on_signal);
		signal(SIGINT, st_on_signal);
		rc = st_load(ctx, eng_peers, eng_nr, depth, timeout_ms);
		goto out;
	}
	rc = 1;
	for (i = 0; i < eng_nr; i++) {
		struct net_ping_in pin = {0};
		uint64_t t0 = d_now_ns();
		int prc = net_rpc_call(ctx, eng_peers[i], NET_OPC_PING, &pin, NULL, timeout_ms,
				       NULL, NULL);

		if (prc != 0) {
			fprintf(stderr, "engine context %s: ping failed: " DF_RC "\n", eng_addrs[i],
				DP_RC(prc));
			goto out;
		}
		/* the first request to an idle engine: its wake-up (tests/obj/test_shm.sh) */
		printf("self_test: engine context %s: first ping %" PRIu64 " us\n", eng_addrs[i],
		       (d_now_ns() - t0) / 1000);
	}
	/* --idle MS: the same pings after the engine idled MS ms (a client's pause) */
	for (i = 0; idle_ms > 0 && i < eng_nr; i++) {
		struct net_ping_in pin = {0};
		uint64_t t0;
		int prc;

		if (i == 0)
			usleep((useconds_t)idle_ms * 1000);
		t0 = d_now_ns();
		prc = net_rpc_call(ctx, eng_peers[i], NET_OPC_PING, &pin, NULL, timeout_ms, NULL,
				   NULL);
		if (prc != 0) {
			fprintf(stderr, "engine context %s: ping failed: " DF_RC "\n", eng_addrs[i],
				DP_RC(prc));
			goto out;
		}
		printf("self_test: engine context %s: ping after %d ms idle %" PRIu64 " us\n",
		       eng_addrs[i], idle_ms, (d_now_ns() - t0) / 1000);
	}
	if (eng_nr > 0)
		printf("self_test: %u engine context(s) answer\n", eng_nr);
	if (raw_addr[0] != '\0' && st_raw_open(raw, attr.ca_provider, listen, raw_addr) != 0) {
		fprintf(stderr, "raw client failed\n");
		goto out;
	}
	printf("self_test: provider %s, server %s (raw %s), %.2f s per figure\n\n",
	       attr.ca_provider, net_addr, raw_addr[0] != '\0' ? raw_addr : "none", st_secs);

	/* All RPC figures first, then all raw ones: each server thread polls only while used. */
	for (i = 0; i < D_ARRAY_SIZE(lat_sizes); i++)
		lat[i] = st_rpc_latency(ctx, peer, lat_sizes[i]);
	rate1 = st_rpc_rate(ctx, peer, 1);
	rate16 = st_rpc_rate(ctx, peer, 16);
	for (i = 0; i < D_ARRAY_SIZE(bulk_sizes); i++) {
		bw[i][0] = st_bulk_bw(ctx, peer, bulk_sizes[i], 1, NET_BULK_OP_GET, buf);
		bw[i][1] = st_bulk_bw(ctx, peer, bulk_sizes[i], 16, NET_BULK_OP_GET, buf);
		bw[i][2] = st_bulk_bw(ctx, peer, bulk_sizes[i], 1, NET_BULK_OP_PUT, buf);
		bw[i][3] = st_bulk_bw(ctx, peer, bulk_sizes[i], 16, NET_BULK_OP_PUT, buf);
	}
	memset(raw_lat, 0, sizeof(raw_lat));
	for (i = 0; raw_addr[0] != '\0' && i < D_ARRAY_SIZE(lat_sizes); i++)
		raw_lat[i] = st_raw_latency(raw, lat_sizes[i]);
	for (i = 0; i < D_ARRAY_SIZE(bulk_sizes); i++) {
		bw[i][4] = raw_addr[0] == '\0' ? 0 : st_raw_read_bw(raw, buf, bulk_sizes[i], 1);
		bw[i][5] = raw_addr[0] == '\0' ? 0 : st_raw_read_bw(raw, buf, bulk_sizes[i], 16);
	}

	printf("RPC round trip (us)       rpc p50   rpc p99   raw p50   raw p99\n");
	for (i = 0; i < D_ARRAY_SIZE(lat_sizes); i++)
		printf("  %5zu B echo          %9.1f %9.1f %9.1f %9.1f\n", lat_sizes[i],
		       lat[i].sl_p50, lat[i].sl_p99, raw_lat[i].sl_p50, raw_lat[i].sl_p99);
	printf("\nRPC rate (0 B ping)       1 in flight: %8.0f/s   16 in flight: %8.0f/s\n", rate1,
	       rate16);
	printf(
	    "\nbulk (GB/s)        get x1  get x16   put x1  put x16 | raw read x1  raw read x16\n");
	for (i = 0; i < D_ARRAY_SIZE(bulk_sizes); i++)
		printf("  %5zu KiB      %8.2f %8.2f %8.2f %8.2f | %11.2f %13.2f\n",
		       bulk_sizes[i] >> 10, bw[i][0], bw[i][1], bw[i][2], bw[i][3], bw[i][4],
		       bw[i][5]);
	printf("(get: the server reads the client's buffer, as an update does; put: it writes "
	       "it, as a fetch does)\n");
	rc = 0;
out:
	if (raw != NULL && raw->rc_fab.nf_ep != NULL)
		net_fab_close(&raw->rc_fab);
	if (raw != NULL) {
		free(raw->rc_sbuf);
		free(raw->rc_rbuf);
	}
	free(raw);
	net_context_destroy(ctx);
	free(buf);
	free(st_samples);
	st_kill_child();
	return rc;
}
