/*
 * test_ctl.c: the control thread and the management-port protocol (daos_srv/ctl.h): the
 * frame codec against garbage, ping round trips (measured), concurrent clients, handlers
 * replying from other threads and from ULTs on an xstream, oversize frames, garbage bytes,
 * truncated frames, idle and half-open connections, connection floods, telemetry, dead and
 * silent peers, dss_ctl_exec from several threads, timers, stop with requests pending,
 * allocation failures, the daos_ctl_ping tool, and TLS with certificates and roles.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gurt/common.h>
#include <gurt/telemetry.h>
#include <daos_srv/ctl.h>
#include <daos_srv/sched.h>
#include <d_test.h>

#include "ctl_frame.h"
#include "ctl/ctl.pb-c.h"
#include "mgmt/svc.pb-c.h"

/*
 * cmocka's assertions longjmp, which must not happen on another thread: code there records
 * failures with T_CHECK and the test asserts there were none.
 */
static int t_failures;

#define T_CHECK(cond)                                                                              \
	do {                                                                                       \
		if (!(cond) && __atomic_fetch_add(&t_failures, 1, __ATOMIC_RELAXED) < 10)          \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
	} while (0)

#define T_MS (1000ULL * 1000)

/* Methods of the tests, in the free range. */
#define M_THREAD 600 /* replied from a helper thread */
#define M_ULT 601    /* replied from a ULT on an xstream */
#define M_HOLD 602   /* held until the test replies */
#define M_ECHO 603   /* raw echo, replied at once */
#define M_BIG 604    /* replies with the request twice over */

static int
setup(void **state)
{
	(void)state;
	t_failures = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(t_failures, 0);
	return 0;
}

static uint64_t
ms_since(uint64_t start)
{
	return (d_now_ns() - start) / T_MS;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
echo_handler(struct dss_ctl_req *req, void *arg)
{
	const void *body;
	size_t len;

	(void)arg;
	body = dss_ctl_req_body(req, &len);
	dss_ctl_reply(req, 0, body, len);
}

static void
big_handler(struct dss_ctl_req *req, void *arg)
{
	const void *body;
	size_t len;
	char *buf;

	(void)arg;
	body = dss_ctl_req_body(req, &len);
	D_ALLOC_NZ(buf, 2 * len + 1);
	if (buf == NULL) {
		dss_ctl_reply(req, -DER_NOMEM, NULL, 0);
		return;
	}
	memcpy(buf, body, len);
	memcpy(buf + len, body, len);
	dss_ctl_reply(req, 0, buf, 2 * len);
	D_FREE(buf);
}

/* A started server on 127.0.0.1 (a free port) with the echo method; its address in @addr. */
static struct dss_ctl *
server_start(struct dss_ctl_attr *attr, char *addr)
{
	struct dss_ctl_attr def = {0};
	struct dss_ctl *ctl;
	int rc;

	if (attr == NULL)
		attr = &def;
	if (attr->ca_listen == NULL)
		attr->ca_listen = "127.0.0.1:0";
	rc = dss_ctl_create(attr, &ctl);
	assert_int_equal(rc, 0);
	rc = dss_ctl_register(ctl, M_ECHO, echo_handler, NULL);
	assert_int_equal(rc, 0);
	rc = dss_ctl_register(ctl, M_BIG, big_handler, NULL);
	assert_int_equal(rc, 0);
	rc = dss_ctl_start(ctl);
	assert_int_equal(rc, 0);
	if (addr != NULL) {
		rc = dss_ctl_listen_addr(ctl, addr, DSS_CTL_ADDR_LEN);
		assert_int_equal(rc, 0);
	}
	return ctl;
}

/* A control thread without a listener, to make calls through. */
static struct dss_ctl *
caller_start(void)
{
	struct dss_ctl_attr attr = {0};
	struct dss_ctl *ctl;

	assert_int_equal(dss_ctl_create(&attr, &ctl), 0);
	assert_int_equal(dss_ctl_start(ctl), 0);
	return ctl;
}

/* Ping @addr with the blocking client; 0 or the error. */
static int
ping_addr(const char *addr)
{
	Ctl__PingReq in = CTL__PING_REQ__INIT;
	Ctl__PingResp *out;
	uint8_t buf[64];
	size_t len;
	void *reply;
	int rc;

	in.payload.data = (uint8_t *)"hello";
	in.payload.len = 5;
	in.client_time = 42;
	len = ctl__ping_req__pack(&in, buf);
	rc = dss_ctl_call(NULL, addr, DSS_CTL_PING, buf, len, 2000, &reply, &len);
	if (rc != 0)
		return rc;
	out = ctl__ping_resp__unpack(NULL, len, reply);
	D_FREE(reply);
	if (out == NULL)
		return -DER_PROTO;
	if (out->payload.len != 5 || memcmp(out->payload.data, "hello", 5) != 0 ||
	    out->client_time != 42 || out->server_hlc == 0)
		rc = -DER_MISMATCH;
	ctl__ping_resp__free_unpacked(out, NULL);
	return rc;
}

/* Wait until @ctl has @want connections open (or 3 s pass); the count then. */
static uint64_t
wait_conns(struct dss_ctl *ctl, uint64_t want)
{
	struct dss_ctl_stats st;
	uint64_t start = d_now_ns();

	do {
		dss_ctl_stats_get(ctl, &st);
		if (st.cs_conns_open == want)
			break;
		usleep(5000);
	} while (ms_since(start) < 3000);
	return st.cs_conns_open;
}

#define wait_conns_closed(ctl) wait_conns(ctl, 0)

/*
 * Raw sockets, to misbehave.
 */

static int
raw_connect(const char *addr)
{
	struct sockaddr_storage ss;
	char host[DSS_CTL_ADDR_LEN];
	uint16_t port;
	int fd;

	assert_int_equal(ctl_addr_split(addr, host, sizeof(host), &port), 0);
	assert_int_equal(ctl_addr_numeric(host, port, &ss), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
	return fd;
}

static void
raw_send(int fd, const void *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

	/* the server may already have closed: that is what some tests want */
	(void)n;
}

static void
raw_hdr(uint8_t *h, uint32_t len)
{
	uint32_t be = htonl(len);

	h[0] = CTL_MAGIC0;
	h[1] = CTL_MAGIC1;
	h[2] = CTL_VERSION;
	h[3] = 0;
	memcpy(h + 4, &be, 4);
}

/* Did the server close @fd within @ms? (Reads and drops whatever it sent first.) */
static bool
raw_closed_within(int fd, int ms)
{
	uint64_t start = d_now_ns();
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[256];
	ssize_t n;

	while ((int)ms_since(start) < ms) {
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
	}
	return false;
}

/* An address nothing listens on: a port that was just free. */
static void
dead_addr(char *addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	snprintf(addr, DSS_CTL_ADDR_LEN, "127.0.0.1:%u", ntohs(sin.sin_port));
}

/* A listening socket that never accepts: the kernel completes connections, nobody answers. */
static int
silent_listener(char *addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, DSS_CTL_ADDR_LEN, "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

/*
 * The codec.
 */

static void
test_codec(void **state)
{
	struct ctl_env env = {CTL__KIND__KIND_REQUEST, DSS_CTL_PING, 77, 0};
	Ctl__PingReq in = CTL__PING_REQ__INIT;
	Ctl__PingReq *pr;
	Ctl__Envelope *msg;
	struct ctl_env out;
	uint64_t seed = d_test_rand_seed(d_test_seed("test_codec"));
	uint8_t junk[512];
	char host[DSS_CTL_ADDR_LEN];
	uint16_t port;
	uint32_t len;
	size_t flen;
	char *buf;
	int i;

	(void)state;
	/* a message body packed in place decodes with protobuf-c as an ordinary field */
	in.payload.data = (uint8_t *)"xyz";
	in.payload.len = 3;
	in.client_time = 123456789;
	assert_int_equal(ctl_frame_encode(&env, NULL, 0, &in.base, 16, 1 << 20, &buf, &flen), 0);
	assert_int_equal(ctl_hdr_decode(buf + 16, 1 << 20, &len), 0);
	assert_int_equal(len + CTL_HDR_SIZE, flen);
	assert_int_equal(ctl_env_decode(buf + 16 + CTL_HDR_SIZE, len, &out, &msg), 0);
	assert_int_equal(out.ce_kind, CTL__KIND__KIND_REQUEST);
	assert_int_equal(out.ce_method, DSS_CTL_PING);
	assert_int_equal(out.ce_seq, 77);
	pr = ctl__ping_req__unpack(NULL, msg->body.len, msg->body.data);
	assert_non_null(pr);
	assert_int_equal(pr->client_time, 123456789);
	assert_memory_equal(pr->payload.data, "xyz", 3);
	ctl__ping_req__free_unpacked(pr, NULL);
	ctl_env_free(msg);
	D_FREE(buf);

	/* raw body, a large one (multi-byte varint), and the frame limit */
	D_ALLOC_NZ(buf, 300000);
	memset(buf, 0xAB, 300000);
	env.ce_kind = CTL__KIND__KIND_REPLY;
	env.ce_status = -DER_NOSPACE;
	{
		char *f;

		assert_int_equal(ctl_frame_encode(&env, buf, 300000, NULL, 0, 1 << 20, &f, &flen),
				 0);
		assert_int_equal(ctl_hdr_decode(f, 1 << 20, &len), 0);
		assert_int_equal(ctl_env_decode(f + CTL_HDR_SIZE, len, &out, &msg), 0);
		assert_int_equal(out.ce_status, -DER_NOSPACE);
		assert_int_equal(msg->body.len, 300000);
		assert_memory_equal(msg->body.data, buf, 300000);
		ctl_env_free(msg);
		D_FREE(f);
		assert_int_equal(ctl_frame_encode(&env, buf, 300000, NULL, 0, 200000, &f, &flen),
				 -DER_REC2BIG);
		assert_int_equal(ctl_hdr_decode(buf, 1 << 20, &len), -DER_PROTO);
	}
	D_FREE(buf);

	/* headers */
	raw_hdr(junk, 100);
	assert_int_equal(ctl_hdr_decode(junk, 100, &len), 0);
	assert_int_equal(ctl_hdr_decode(junk, 99, &len), -DER_REC2BIG);
	raw_hdr(junk, 0xFFFFFFFF);
	assert_int_equal(ctl_hdr_decode(junk, DSS_CTL_FRAME_MAX_LIMIT, &len), -DER_REC2BIG);
	raw_hdr(junk, 1);
	junk[2] = 2;
	assert_int_equal(ctl_hdr_decode(junk, 100, &len), -DER_PROTO);
	junk[2] = CTL_VERSION;
	junk[3] = 1;
	assert_int_equal(ctl_hdr_decode(junk, 100, &len), -DER_PROTO);

	/* envelopes that decode but must be refused */
	{
		Ctl__Envelope e = CTL__ENVELOPE__INIT;
		uint8_t b[64];

		assert_int_equal(ctl_env_decode(b, ctl__envelope__pack(&e, b), &out, &msg),
				 -DER_PROTO); /* no kind */
		e.kind = CTL__KIND__KIND_REQUEST;
		assert_int_equal(ctl_env_decode(b, ctl__envelope__pack(&e, b), &out, &msg),
				 -DER_PROTO); /* no method */
		e.kind = CTL__KIND__KIND_REPLY;
		e.status = 5;
		assert_int_equal(ctl_env_decode(b, ctl__envelope__pack(&e, b), &out, &msg),
				 -DER_PROTO); /* positive status */
		e.kind = 7;
		e.status = 0;
		assert_int_equal(ctl_env_decode(b, ctl__envelope__pack(&e, b), &out, &msg),
				 -DER_PROTO); /* unknown kind */
	}

	/* random bytes never crash the decoder (ASan watches) */
	for (i = 0; i < 20000; i++) {
		size_t n = d_test_rand(&seed) % sizeof(junk);
		size_t j;

		for (j = 0; j < n; j++)
			junk[j] = (uint8_t)d_test_rand(&seed);
		if (i % 2 == 0 && n > 2) /* half of them start like an envelope */
			junk[0] = 0x08, junk[1] = 1 + (uint8_t)(i % 3);
		if (ctl_env_decode(junk, n, &out, &msg) == 0)
			ctl_env_free(msg);
	}

	/* addresses */
	assert_int_equal(ctl_addr_split("127.0.0.1:10001", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 10001);
	assert_int_equal(ctl_addr_split("[::1]:0", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(ctl_addr_split(":80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "");
	assert_int_equal(ctl_addr_split("::1:80", host, sizeof(host), &port), -DER_INVAL);
	assert_int_equal(ctl_addr_split("host", host, sizeof(host), &port), -DER_INVAL);
	assert_int_equal(ctl_addr_split("host:", host, sizeof(host), &port), -DER_INVAL);
	assert_int_equal(ctl_addr_split("host:65536", host, sizeof(host), &port), -DER_INVAL);
	assert_int_equal(ctl_addr_split("host:12x", host, sizeof(host), &port), -DER_INVAL);
	assert_int_equal(ctl_addr_split("[::1:80", host, sizeof(host), &port), -DER_INVAL);
}

/*
 * Round trips.
 */

#define RTT_N 2000

struct caller_arg {
	struct dss_ctl *ca_ctl; /* NULL: blocking client */
	const char *ca_addr;
	int ca_id;
	int ca_n;
	uint32_t ca_method;
	uint64_t *ca_rtt;
};

static void
test_ping_rtt(void **state)
{
	uint64_t *rtt;
	struct dss_ctl_client *cli;
	struct dss_ctl *srv;
	struct dss_ctl *caller;
	char addr[DSS_CTL_ADDR_LEN];
	void *reply;
	size_t len;
	int i;

	(void)state;
	D_ALLOC_ARRAY(rtt, RTT_N);
	assert_non_null(rtt);
	srv = server_start(NULL, addr);
	assert_int_equal(ping_addr(addr), 0);

	/* blocking client, one connection */
	assert_int_equal(dss_ctl_client_open(addr, 1000, &cli), 0);
	for (i = 0; i < RTT_N; i++) {
		uint64_t t = d_now_ns();

		assert_int_equal(dss_ctl_client_call(cli, M_ECHO, "ping", 4, 1000, &reply, &len),
				 0);
		rtt[i] = d_now_ns() - t;
		assert_int_equal(len, 4);
		D_FREE(reply);
	}
	dss_ctl_client_close(cli);
	qsort(rtt, RTT_N, sizeof(rtt[0]), cmp_u64);
	printf("ping RTT, blocking client -> ctl loop: median %.1f us, p99 %.1f us (%d pings)\n",
	       rtt[RTT_N / 2] / 1e3, rtt[RTT_N * 99 / 100] / 1e3, RTT_N);

	/* through another control thread: caller thread -> its loop -> server loop and back */
	caller = caller_start();
	for (i = 0; i < RTT_N; i++) {
		uint64_t t = d_now_ns();

		assert_int_equal(dss_ctl_call(caller, addr, M_ECHO, "ping", 4, 1000, &reply, &len),
				 0);
		rtt[i] = d_now_ns() - t;
		assert_memory_equal(reply, "ping", 4);
		D_FREE(reply);
	}
	qsort(rtt, RTT_N, sizeof(rtt[0]), cmp_u64);
	printf("ping RTT, thread -> ctl loop -> ctl loop: median %.1f us, p99 %.1f us\n",
	       rtt[RTT_N / 2] / 1e3, rtt[RTT_N * 99 / 100] / 1e3);

	/* an empty body and an unknown method */
	assert_int_equal(dss_ctl_call(caller, addr, M_ECHO, NULL, 0, 1000, &reply, &len), 0);
	assert_null(reply);
	assert_int_equal(len, 0);
	assert_int_equal(dss_ctl_call(caller, addr, 999, NULL, 0, 1000, NULL, NULL), -DER_UNREG);
	assert_int_equal(dss_ctl_call(NULL, addr, 999, NULL, 0, 1000, NULL, NULL), -DER_UNREG);
	assert_int_equal(dss_ctl_call(NULL, addr, 5000, NULL, 0, 1000, NULL, NULL), -DER_UNREG);
	/* bad arguments */
	assert_int_equal(dss_ctl_call(caller, "nonsense", M_ECHO, NULL, 0, 1000, NULL, NULL),
			 -DER_INVAL);
	assert_int_equal(dss_ctl_call(NULL, "nonsense", M_ECHO, NULL, 0, 1000, NULL, NULL),
			 -DER_INVAL);
	dss_ctl_destroy(caller);
	assert_int_equal(wait_conns_closed(srv), 0);
	dss_ctl_destroy(srv);
	D_FREE(rtt);
}

/* Each caller sends ca_n requests with its own payload and checks every echo. */
static void *
caller_thread(void *arg)
{
	struct caller_arg *ca = arg;
	struct dss_ctl_client *cli = NULL;
	char msg[64];
	size_t len;
	void *reply;
	int rc;
	int i;

	if (ca->ca_ctl == NULL) {
		rc = dss_ctl_client_open(ca->ca_addr, 2000, &cli);
		T_CHECK(rc == 0);
		if (rc != 0)
			return NULL;
	}
	for (i = 0; i < ca->ca_n; i++) {
		snprintf(msg, sizeof(msg), "caller %d request %d", ca->ca_id, i);
		if (cli != NULL)
			rc = dss_ctl_client_call(cli, ca->ca_method, msg, strlen(msg), 5000, &reply,
						 &len);
		else
			rc = dss_ctl_call(ca->ca_ctl, ca->ca_addr, ca->ca_method, msg, strlen(msg),
					  5000, &reply, &len);
		T_CHECK(rc == 0);
		if (rc != 0)
			break;
		T_CHECK(len == strlen(msg) && memcmp(reply, msg, len) == 0);
		D_FREE(reply);
	}
	dss_ctl_client_close(cli);
	return NULL;
}

static void
run_callers(struct dss_ctl *via, const char *addr, uint32_t method, int nthreads, int total)
{
	struct caller_arg ca[16];
	pthread_t th[16];
	int i;

	assert_true(nthreads <= 16);
	for (i = 0; i < nthreads; i++) {
		ca[i] = (struct caller_arg){via, addr, i, total / nthreads, method, NULL};
		assert_int_equal(pthread_create(&th[i], NULL, caller_thread, &ca[i]), 0);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
}

static void
test_concurrent(void **state)
{
	struct dss_ctl_stats st;
	struct dss_ctl *srv;
	struct dss_ctl *caller;
	char addr[DSS_CTL_ADDR_LEN];
	uint64_t start;

	(void)state;
	srv = server_start(NULL, addr);
	start = d_now_ns();
	run_callers(NULL, addr, M_ECHO, 8, 1000);
	printf("1000 requests from 8 connections: %" PRIu64 " ms\n", ms_since(start));
	dss_ctl_stats_get(srv, &st);
	assert_int_equal(st.cs_requests, 1000);
	assert_int_equal(st.cs_replies, 1000);
	assert_int_equal(st.cs_conns_accepted, 8);

	/* 8 threads through one control thread: their calls share one connection */
	caller = caller_start();
	start = d_now_ns();
	run_callers(caller, addr, M_ECHO, 8, 1000);
	printf("1000 requests from 8 threads via one ctl: %" PRIu64 " ms\n", ms_since(start));
	dss_ctl_stats_get(srv, &st);
	assert_int_equal(st.cs_conns_accepted, 9);
	dss_ctl_stats_get(caller, &st);
	assert_int_equal(st.cs_calls, 1000);
	dss_ctl_destroy(caller);
	dss_ctl_destroy(srv);
}

/*
 * Asynchronous handlers.
 */

/* Requests a helper thread replies to. */
struct req_queue {
	pthread_mutex_t rq_lock;
	pthread_cond_t rq_cond;
	struct dss_ctl_req *rq_reqs[4096];
	int rq_head;
	int rq_tail;
	bool rq_stop;
};

static void
rq_push(struct req_queue *q, struct dss_ctl_req *req)
{
	pthread_mutex_lock(&q->rq_lock);
	q->rq_reqs[q->rq_tail++ % 4096] = req;
	pthread_cond_signal(&q->rq_cond);
	pthread_mutex_unlock(&q->rq_lock);
}

static void
thread_handler(struct dss_ctl_req *req, void *arg)
{
	rq_push(arg, req);
}

static void *
replier_thread(void *arg)
{
	struct req_queue *q = arg;
	struct dss_ctl_req *req;
	const void *body;
	size_t len;

	pthread_mutex_lock(&q->rq_lock);
	for (;;) {
		while (q->rq_head == q->rq_tail && !q->rq_stop)
			pthread_cond_wait(&q->rq_cond, &q->rq_lock);
		if (q->rq_head == q->rq_tail)
			break;
		req = q->rq_reqs[q->rq_head++ % 4096];
		pthread_mutex_unlock(&q->rq_lock);
		T_CHECK(!dss_ctl_on_loop(dss_ctl_req_ctl(req)));
		T_CHECK(dss_ctl_req_method(req) == M_THREAD);
		T_CHECK(strncmp(dss_ctl_req_peer(req), "127.0.0.1:", 10) == 0);
		body = dss_ctl_req_body(req, &len);
		dss_ctl_reply(req, 0, body, len);
		pthread_mutex_lock(&q->rq_lock);
	}
	pthread_mutex_unlock(&q->rq_lock);
	return NULL;
}

static int ult_replies;

static void
reply_ult(void *arg)
{
	struct dss_ctl_req *req = arg;
	const void *body;
	size_t len;

	T_CHECK(dss_ult_self() != NULL);
	dss_yield();
	dss_usleep(50);
	body = dss_ctl_req_body(req, &len);
	/* the reply message packed straight into the frame */
	{
		Ctl__PingResp out = CTL__PING_RESP__INIT;
		Ctl__PingReq *in = ctl__ping_req__unpack(NULL, len, body);

		if (in == NULL) {
			dss_ctl_reply(req, -DER_INVAL, NULL, 0);
			return;
		}
		out.payload = in->payload;
		out.client_time = in->client_time + 1;
		__atomic_fetch_add(&ult_replies, 1, __ATOMIC_RELAXED);
		dss_ctl_reply_msg(req, 0, &out.base);
		ctl__ping_req__free_unpacked(in, NULL);
	}
}

static void
ult_handler(struct dss_ctl_req *req, void *arg)
{
	int rc;

	/* from the loop thread to an xstream: the ULT replies from there */
	rc = dss_ult_create(arg, reply_ult, req, 0, NULL);
	if (rc != 0)
		dss_ctl_reply(req, rc, NULL, 0);
}

struct ult_caller {
	const char *uc_addr;
	int uc_n;
};

static void *
ult_caller_thread(void *arg)
{
	struct ult_caller *uc = arg;
	Ctl__PingReq in = CTL__PING_REQ__INIT;
	struct dss_ctl_client *cli;
	Ctl__PingResp *out;
	uint8_t buf[64];
	size_t len;
	void *reply;
	int rc;
	int i;

	rc = dss_ctl_client_open(uc->uc_addr, 2000, &cli);
	T_CHECK(rc == 0);
	if (rc != 0)
		return NULL;
	for (i = 0; i < uc->uc_n; i++) {
		in.payload.data = (uint8_t *)&i;
		in.payload.len = sizeof(i);
		in.client_time = (uint64_t)i * 10;
		len = ctl__ping_req__pack(&in, buf);
		rc = dss_ctl_client_call(cli, M_ULT, buf, len, 5000, &reply, &len);
		T_CHECK(rc == 0);
		if (rc != 0)
			break;
		out = ctl__ping_resp__unpack(NULL, len, reply);
		T_CHECK(out != NULL && out->client_time == (uint64_t)i * 10 + 1 &&
			out->payload.len == sizeof(i) &&
			memcmp(out->payload.data, &i, sizeof(i)) == 0);
		if (out != NULL)
			ctl__ping_resp__free_unpacked(out, NULL);
		D_FREE(reply);
	}
	dss_ctl_client_close(cli);
	return NULL;
}

struct ult_call {
	struct dss_ctl *uc_ctl;
	const char *uc_addr;
	int uc_rc;
	struct dss_eventual *uc_done;
};

static void
ult_call_fn(void *arg)
{
	struct ult_call *uc = arg;
	void *reply = NULL;
	size_t len;

	uc->uc_rc =
	    dss_ctl_call(uc->uc_ctl, uc->uc_addr, M_ECHO, "from a ULT", 10, 2000, &reply, &len);
	if (uc->uc_rc == 0 && (len != 10 || memcmp(reply, "from a ULT", 10) != 0))
		uc->uc_rc = -DER_MISMATCH;
	D_FREE(reply);
	dss_eventual_set(uc->uc_done, NULL);
}

static void
test_async_handlers(void **state)
{
	struct req_queue q = {0};
	struct dss_xstream *xs;
	struct ult_caller uc[4];
	pthread_t replier;
	pthread_t th[4];
	struct dss_ctl *srv;
	struct dss_ctl *caller;
	char addr[DSS_CTL_ADDR_LEN];
	int i;

	(void)state;
	pthread_mutex_init(&q.rq_lock, NULL);
	pthread_cond_init(&q.rq_cond, NULL);
	assert_int_equal(pthread_create(&replier, NULL, replier_thread, &q), 0);
	assert_int_equal(dss_xstream_create("ctl_test_xs", NULL, &xs), 0);
	assert_int_equal(dss_xstream_start(xs), 0);

	srv = server_start(NULL, addr);
	assert_int_equal(dss_ctl_register(srv, M_THREAD, thread_handler, &q), 0);
	assert_int_equal(dss_ctl_register(srv, M_THREAD, thread_handler, &q), -DER_EXIST);
	assert_int_equal(dss_ctl_register(srv, M_ULT, ult_handler, xs), 0);
	assert_int_equal(dss_ctl_register(srv, 0, ult_handler, xs), -DER_INVAL);
	assert_int_equal(dss_ctl_register(srv, DSS_CTL_METHOD_MAX, ult_handler, xs), -DER_INVAL);

	/* replies from another OS thread: blocking clients and calls through a ctl */
	run_callers(NULL, addr, M_THREAD, 4, 400);
	caller = caller_start();
	run_callers(caller, addr, M_THREAD, 4, 400);

	/* replies from ULTs on an xstream, 4 clients at once */
	ult_replies = 0;
	for (i = 0; i < 4; i++) {
		uc[i] = (struct ult_caller){addr, 100};
		assert_int_equal(pthread_create(&th[i], NULL, ult_caller_thread, &uc[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(ult_replies, 400);

	/* a ULT calling another server through the ctl (it yields while waiting) */
	{
		struct ult_call uca = {caller, addr, -1, NULL};

		assert_int_equal(dss_eventual_create(&uca.uc_done), 0);
		assert_int_equal(dss_ult_create(xs, ult_call_fn, &uca, 0, NULL), 0);
		dss_eventual_wait(uca.uc_done, NULL);
		dss_eventual_destroy(uca.uc_done);
		assert_int_equal(uca.uc_rc, 0);
	}

	dss_ctl_destroy(caller);
	dss_ctl_destroy(srv);
	dss_xstream_destroy(xs);
	pthread_mutex_lock(&q.rq_lock);
	q.rq_stop = true;
	pthread_cond_signal(&q.rq_cond);
	pthread_mutex_unlock(&q.rq_lock);
	pthread_join(replier, NULL);
	pthread_cond_destroy(&q.rq_cond);
	pthread_mutex_destroy(&q.rq_lock);
}

/*
 * Bad peers.
 */

static void
test_oversize(void **state)
{
	struct dss_ctl_attr attr = {.ca_max_frame = 64 * 1024};
	struct dss_ctl_stats st;
	struct dss_ctl *srv;
	char addr[DSS_CTL_ADDR_LEN];
	char *big;
	uint8_t h[8];
	void *reply;
	size_t len;
	int fd;
	int fd2;

	(void)state;
	srv = server_start(&attr, addr);

	/* one byte over the limit: refused on the header, nothing allocated */
	fd = raw_connect(addr);
	raw_hdr(h, 64 * 1024 + 1);
	raw_send(fd, h, sizeof(h));
	fd2 = raw_connect(addr);
	raw_hdr(h, 0xFFFFFFFF);
	raw_send(fd2, h, sizeof(h));
	assert_true(raw_closed_within(fd, 2000));
	assert_true(raw_closed_within(fd2, 2000));
	close(fd);
	close(fd2);
	assert_int_equal(ping_addr(addr), 0);

	/* at the limit it passes (a large frame read into a buffer of its own) */
	D_ALLOC_NZ(big, 64 * 1024);
	memset(big, 'x', 64 * 1024);
	assert_int_equal(dss_ctl_call(NULL, addr, M_ECHO, big, 60000, 2000, &reply, &len), 0);
	assert_int_equal(len, 60000);
	assert_memory_equal(reply, big, 60000);
	D_FREE(reply);
	/* a request over the server's limit: it closes the connection */
	assert_int_equal(dss_ctl_call(NULL, addr, M_ECHO, big, 64 * 1024, 2000, &reply, &len),
			 -DER_UNREACH);
	/* a reply over the limit becomes -DER_REC2BIG */
	assert_int_equal(dss_ctl_call(NULL, addr, M_BIG, big, 40000, 2000, &reply, &len),
			 -DER_REC2BIG);
	assert_null(reply);
	D_FREE(big);

	dss_ctl_stats_get(srv, &st);
	assert_true(st.cs_conns_bad >= 3);
	assert_int_equal(wait_conns_closed(srv), 0);
	dss_ctl_destroy(srv);
}

static void
test_garbage(void **state)
{
	struct dss_ctl_attr attr = {.ca_idle_timeout_ms = 300, .ca_max_conns = 16};
	uint64_t seed = d_test_rand_seed(d_test_seed("test_garbage"));
	struct dss_ctl_stats st;
	struct dss_ctl *srv;
	char addr[DSS_CTL_ADDR_LEN];
	uint8_t buf[4096];
	uint64_t start;
	int fds[40];
	int fd;
	int i;

	(void)state;
	srv = server_start(&attr, addr);

	/* random bytes */
	for (i = 0; i < 20; i++) {
		size_t n = CTL_HDR_SIZE + d_test_rand(&seed) % (sizeof(buf) - CTL_HDR_SIZE);
		size_t j;

		for (j = 0; j < n; j++)
			buf[j] = (uint8_t)d_test_rand(&seed);
		buf[0] = 'G'; /* never the magic: a whole header is there to refuse */
		fd = raw_connect(addr);
		raw_send(fd, buf, n);
		assert_true(raw_closed_within(fd, 2000));
		close(fd);
	}
	/* an HTTP request, as a confused browser or scraper would send */
	fd = raw_connect(addr);
	raw_send(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25);
	assert_true(raw_closed_within(fd, 2000));
	close(fd);

	/* a good header, then bytes that are no envelope */
	fd = raw_connect(addr);
	raw_hdr(buf, 20);
	memset(buf + 8, 0xFF, 20);
	raw_send(fd, buf, 28);
	assert_true(raw_closed_within(fd, 2000));
	close(fd);

	/* an envelope without a kind */
	fd = raw_connect(addr);
	raw_hdr(buf, 2);
	buf[8] = 0x10; /* method = 1 */
	buf[9] = 0x01;
	raw_send(fd, buf, 10);
	assert_true(raw_closed_within(fd, 2000));
	close(fd);
	assert_int_equal(ping_addr(addr), 0);

	/* truncated frames, then a disconnect: small, and large (own buffer) */
	fd = raw_connect(addr);
	raw_hdr(buf, 100);
	raw_send(fd, buf, 8 + 10);
	usleep(20000);
	close(fd);
	fd = raw_connect(addr);
	raw_hdr(buf, 1 << 20);
	raw_send(fd, buf, 8);
	for (i = 0; i < 30; i++)
		raw_send(fd, buf + 8, 4000);
	usleep(20000);
	close(fd);
	/* a half-sent header */
	fd = raw_connect(addr);
	raw_send(fd, buf, 5);
	usleep(20000);
	close(fd);
	assert_int_equal(ping_addr(addr), 0);

	/* idle: connects and says nothing; slow: starts a frame and never finishes it */
	start = d_now_ns();
	fd = raw_connect(addr);
	fds[0] = raw_connect(addr);
	raw_send(fds[0], buf, 8 + 3);
	assert_true(raw_closed_within(fd, 3000));
	assert_true(raw_closed_within(fds[0], 3000));
	printf("idle connections closed after %" PRIu64 " ms (timeout 300 ms)\n", ms_since(start));
	assert_true(ms_since(start) >= 250);
	close(fd);
	close(fds[0]);
	dss_ctl_stats_get(srv, &st);
	assert_true(st.cs_conns_idle >= 2);

	/* a flood: beyond 16 connections the server closes the newcomers at once */
	for (i = 0; i < 40; i++)
		fds[i] = raw_connect(addr);
	for (i = 16; i < 40; i++)
		assert_true(raw_closed_within(fds[i], 2000));
	for (i = 0; i < 40; i++)
		close(fds[i]);
	dss_ctl_stats_get(srv, &st);
	assert_true(st.cs_conns_refused >= 24);
	assert_int_equal(wait_conns_closed(srv), 0);
	assert_int_equal(ping_addr(addr), 0);

	dss_ctl_stats_get(srv, &st);
	printf("garbage: %" PRIu64 " bad, %" PRIu64 " idle, %" PRIu64 " refused connections\n",
	       st.cs_conns_bad, st.cs_conns_idle, st.cs_conns_refused);
	assert_true(st.cs_conns_bad >= 23);
	assert_int_equal(wait_conns_closed(srv), 0);
	dss_ctl_destroy(srv);
}

/* A handler that keeps its requests until the test replies. */
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dss_ctl_req *held[64];
static int held_n;

static void
hold_handler(struct dss_ctl_req *req, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&held_lock);
	T_CHECK(held_n < 64);
	if (held_n < 64)
		held[held_n++] = req;
	pthread_mutex_unlock(&held_lock);
}

static int
held_count(void)
{
	int n;

	pthread_mutex_lock(&held_lock);
	n = held_n;
	pthread_mutex_unlock(&held_lock);
	return n;
}

/* The oldest held request, waiting up to 3 s for one; NULL if none came. */
static struct dss_ctl_req *
wait_held(void)
{
	struct dss_ctl_req *req = NULL;
	uint64_t start = d_now_ns();

	do {
		pthread_mutex_lock(&held_lock);
		if (held_n > 0) {
			req = held[0];
			memmove(held, held + 1, --held_n * sizeof(held[0]));
		}
		pthread_mutex_unlock(&held_lock);
		if (req == NULL)
			usleep(1000);
	} while (req == NULL && ms_since(start) < 3000);
	return req;
}

/* A connection is no longer read while its requests fill the handlers or its replies pile up. */
static void
test_backpressure(void **state)
{
	struct dss_ctl_attr attr = {.ca_idle_timeout_ms = 500, .ca_conn_inflight = 8};
	struct ctl_env env = {CTL__KIND__KIND_REQUEST, M_HOLD, 0, 0};
	struct sockaddr_storage ss;
	struct dss_ctl_stats st;
	struct dss_ctl_req *req;
	struct dss_ctl *srv;
	char addr[DSS_CTL_ADDR_LEN];
	char host[DSS_CTL_ADDR_LEN];
	uint64_t sent = 0;
	uint64_t start;
	uint16_t port;
	char *frame;
	char *body;
	size_t flen;
	size_t off;
	int rcvbuf = 4096;
	int fd;
	int i;

	(void)state;
	srv = server_start(&attr, addr);
	assert_int_equal(dss_ctl_register(srv, M_HOLD, hold_handler, NULL), 0);

	/* 20 requests whose handler holds them: the server reads 8, then waits */
	fd = raw_connect(addr);
	for (i = 0; i < 20; i++) {
		env.ce_seq = i + 1;
		assert_int_equal(ctl_frame_encode(&env, "h", 1, NULL, 0, 1 << 20, &frame, &flen),
				 0);
		raw_send(fd, frame, flen);
		D_FREE(frame);
	}
	start = d_now_ns();
	while (held_count() < 8 && ms_since(start) < 2000)
		usleep(1000);
	usleep(100000);
	assert_int_equal(held_count(), 8);
	/* replying lets it read on; then every request gets its answer */
	for (i = 0; i < 20; i++) {
		req = wait_held();
		assert_non_null(req);
		dss_ctl_reply(req, 0, NULL, 0);
	}
	usleep(50000);
	assert_int_equal(held_count(), 0);
	dss_ctl_stats_get(srv, &st);
	assert_int_equal(st.cs_requests, 20);
	assert_int_equal(st.cs_replies, 20);
	close(fd);

	/* a client that never reads its (large) replies: paused, then closed as stalled */
	assert_int_equal(ctl_addr_split(addr, host, sizeof(host), &port), 0);
	assert_int_equal(ctl_addr_numeric(host, port, &ss), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
	D_ALLOC(body, 1 << 20);
	assert_non_null(body);
	env.ce_method = M_ECHO;
	for (i = 0; i < 64; i++) {
		env.ce_seq = i + 1;
		assert_int_equal(
		    ctl_frame_encode(&env, body, 1 << 20, NULL, 0, 1 << 24, &frame, &flen), 0);
		for (off = 0; off < flen;) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			ssize_t n;

			if (poll(&pfd, 1, 300) <= 0)
				break; /* the server stopped reading us */
			n = send(fd, frame + off, flen - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n <= 0 && errno != EAGAIN)
				break;
			if (n > 0)
				off += (size_t)n;
		}
		sent += off;
		D_FREE(frame);
		if (off < flen)
			break;
	}
	D_FREE(body);
	printf("backpressure: the server stopped reading after %" PRIu64 " MiB of requests\n",
	       sent >> 20);
	assert_true(i < 64);
	assert_int_equal(ping_addr(addr), 0); /* others are served meanwhile */
	assert_int_equal(wait_conns_closed(srv), 0);
	dss_ctl_stats_get(srv, &st);
	assert_true(st.cs_conns_idle >= 1);
	close(fd);
	dss_ctl_destroy(srv);
}

/*
 * Built-in methods.
 */

static void
test_telemetry(void **state)
{
	Ctl__TelemetryReq in = CTL__TELEMETRY_REQ__INIT;
	Mgmt__GetAttachInfoReq ain = MGMT__GET_ATTACH_INFO_REQ__INIT;
	struct dss_ctl_attr attr = {.ca_sys_name = "daos_test"};
	Mgmt__GetAttachInfoResp *aout;
	Ctl__TelemetryResp *out;
	struct d_tm_node_t *node;
	struct dss_ctl *srv;
	char addr[DSS_CTL_ADDR_LEN];
	uint8_t buf[64];
	void *reply;
	size_t len;

	(void)state;
	srv = server_start(&attr, addr);
	len = ctl__telemetry_req__pack(&in, buf);
	/* before d_tm_init the registry does not exist */
	assert_int_equal(dss_ctl_call(NULL, addr, DSS_CTL_TELEMETRY, buf, len, 2000, &reply, &len),
			 -DER_UNINIT);

	assert_int_equal(d_tm_init(), 0);
	assert_int_equal(d_tm_add_metric(&node, D_TM_COUNTER, "ctl test counter", NULL,
					 "engine/ctl_test/requests{rank=\"0\"}"),
			 0);
	d_tm_inc_counter(node, 42);
	len = ctl__telemetry_req__pack(&in, buf);
	assert_int_equal(dss_ctl_call(NULL, addr, DSS_CTL_TELEMETRY, buf, len, 2000, &reply, &len),
			 0);
	out = ctl__telemetry_resp__unpack(NULL, len, reply);
	assert_non_null(out);
	assert_non_null(strstr(out->text, "# TYPE daos_engine_ctl_test_requests counter"));
	assert_non_null(strstr(out->text, "daos_engine_ctl_test_requests{rank=\"0\"} 42\n"));
	ctl__telemetry_resp__free_unpacked(out, NULL);
	D_FREE(reply);
	d_tm_fini();

	/* GetAttachInfo: the placeholder knows the system name, version and itself */
	len = mgmt__get_attach_info_req__pack(&ain, buf);
	assert_int_equal(
	    dss_ctl_call(NULL, addr, DSS_CTL_GET_ATTACH_INFO, buf, len, 2000, &reply, &len), 0);
	aout = mgmt__get_attach_info_resp__unpack(NULL, len, reply);
	assert_non_null(aout);
	assert_string_equal(aout->sys, "daos_test");
	assert_non_null(aout->build_info);
	assert_int_equal(aout->build_info->major, 2);
	assert_int_equal(aout->n_access_points, 1);
	assert_string_equal(aout->access_points[0], addr);
	mgmt__get_attach_info_resp__free_unpacked(aout, NULL);
	D_FREE(reply);
	ain.sys = "other";
	len = mgmt__get_attach_info_req__pack(&ain, buf);
	assert_int_equal(
	    dss_ctl_call(NULL, addr, DSS_CTL_GET_ATTACH_INFO, buf, len, 2000, &reply, &len),
	    -DER_INVAL);
	D_FREE(reply);
	/* a request body that is not the method's message */
	assert_int_equal(
	    dss_ctl_call(NULL, addr, DSS_CTL_PING, "\xff\xff\xff", 3, 2000, NULL, NULL),
	    -DER_INVAL);
	/* SystemQuery belongs to the management service: nobody serves it yet */
	assert_int_equal(dss_ctl_call(NULL, addr, DSS_CTL_SYSTEM_QUERY, NULL, 0, 2000, NULL, NULL),
			 -DER_UNREG);
	/* a built-in replaced */
	assert_int_equal(dss_ctl_unregister(srv, DSS_CTL_PING), 0);
	assert_int_equal(dss_ctl_unregister(srv, DSS_CTL_PING), -DER_NONEXIST);
	assert_int_equal(dss_ctl_call(NULL, addr, DSS_CTL_PING, NULL, 0, 2000, NULL, NULL),
			 -DER_UNREG);
	assert_int_equal(dss_ctl_register(srv, DSS_CTL_PING, echo_handler, NULL), 0);
	assert_int_equal(dss_ctl_call(NULL, addr, DSS_CTL_PING, "a", 1, 2000, NULL, NULL), 0);
	dss_ctl_destroy(srv);
}

/*
 * Dead and silent peers.
 */

static void
test_unreach_timeout(void **state)
{
	struct dss_ctl *caller;
	struct dss_ctl_client *cli;
	char addr[DSS_CTL_ADDR_LEN];
	uint64_t start;
	int lfd;

	(void)state;
	caller = caller_start();

	/* nothing listens: refused at once */
	dead_addr(addr);
	start = d_now_ns();
	assert_int_equal(dss_ctl_call(NULL, addr, M_ECHO, "x", 1, 5000, NULL, NULL), -DER_UNREACH);
	assert_int_equal(dss_ctl_client_open(addr, 5000, &cli), -DER_UNREACH);
	assert_int_equal(dss_ctl_call(caller, addr, M_ECHO, "x", 1, 5000, NULL, NULL),
			 -DER_UNREACH);
	printf("dead address: -DER_UNREACH after %" PRIu64 " ms (3 calls)\n", ms_since(start));
	assert_true(ms_since(start) < 1000);
	/* by name: this host's name, where it resolves to the loopback (name lookups) */
	{
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
		struct addrinfo *res = NULL;
		struct dss_ctl *srv;
		char name[256];
		char srv_addr[DSS_CTL_ADDR_LEN];
		char by_name[300];

		srv = server_start(NULL, srv_addr);
		if (gethostname(name, sizeof(name)) == 0 && strchr(name, '.') == NULL &&
		    getaddrinfo(name, NULL, &hints, &res) == 0 &&
		    ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr ==
			htonl(INADDR_LOOPBACK)) {
			snprintf(by_name, sizeof(by_name), "%s:%s", name,
				 strrchr(srv_addr, ':') + 1);
			assert_int_equal(
			    dss_ctl_call(NULL, by_name, M_ECHO, "n", 1, 2000, NULL, NULL), 0);
			assert_int_equal(
			    dss_ctl_call(caller, by_name, M_ECHO, "n", 1, 2000, NULL, NULL), 0);
			printf("calls by name (%s) answered\n", by_name);
		}
		if (res != NULL)
			freeaddrinfo(res);
		dss_ctl_destroy(srv);
	}

	/* a peer that accepts and never answers: -DER_TIMEDOUT at the timeout */
	lfd = silent_listener(addr);
	start = d_now_ns();
	assert_int_equal(dss_ctl_call(NULL, addr, M_ECHO, "x", 1, 300, NULL, NULL), -DER_TIMEDOUT);
	printf("silent peer (blocking client): -DER_TIMEDOUT after %" PRIu64 " ms (300)\n",
	       ms_since(start));
	assert_true(ms_since(start) >= 290 && ms_since(start) < 1000);
	start = d_now_ns();
	assert_int_equal(dss_ctl_call(caller, addr, M_ECHO, "x", 1, 300, NULL, NULL),
			 -DER_TIMEDOUT);
	printf("silent peer (through a ctl): -DER_TIMEDOUT after %" PRIu64 " ms (300)\n",
	       ms_since(start));
	assert_true(ms_since(start) >= 290 && ms_since(start) < 1000);
	/* nothing heard while waiting: the connection is presumed half-open and dropped */
	assert_int_equal(wait_conns_closed(caller), 0);
	close(lfd);
	dss_ctl_destroy(caller);
}

static void *
stopper_thread(void *arg)
{
	dss_ctl_stop(arg);
	return NULL;
}

static void
test_late_reply_and_stop(void **state)
{
	struct dss_ctl_stats st;
	struct dss_ctl_client *cli;
	struct dss_ctl_req *req;
	struct dss_ctl *srv;
	struct dss_ctl *caller;
	char addr[DSS_CTL_ADDR_LEN];
	pthread_t stopper;
	uint64_t start;
	void *reply;
	size_t len;
	int rc;

	(void)state;
	srv = server_start(NULL, addr);
	assert_int_equal(dss_ctl_register(srv, M_HOLD, hold_handler, NULL), 0);
	caller = caller_start();

	/* the server answers after the client gave up: the reply finds no call, nothing breaks */
	assert_int_equal(dss_ctl_client_open(addr, 1000, &cli), 0);
	assert_int_equal(dss_ctl_client_call(cli, M_HOLD, "late", 4, 200, NULL, NULL),
			 -DER_TIMEDOUT);
	req = wait_held();
	assert_non_null(req);
	dss_ctl_reply(req, 0, "too late", 8);
	assert_int_equal(dss_ctl_client_call(cli, M_ECHO, "next", 4, 1000, &reply, &len), 0);
	assert_memory_equal(reply, "next", 4);
	D_FREE(reply);
	assert_int_equal(dss_ctl_call(caller, addr, M_HOLD, "late", 4, 200, NULL, NULL),
			 -DER_TIMEDOUT);
	req = wait_held();
	assert_non_null(req);
	dss_ctl_reply(req, 0, "too late", 8);
	assert_int_equal(dss_ctl_call(caller, addr, M_ECHO, "next", 4, 1000, &reply, &len), 0);
	D_FREE(reply);

	/* the client disconnects while its request is in a handler: the reply is dropped */
	assert_int_equal(dss_ctl_client_call(cli, M_HOLD, "gone", 4, 100, NULL, NULL),
			 -DER_TIMEDOUT);
	dss_ctl_client_close(cli);
	req = wait_held();
	assert_non_null(req);
	/* the server has seen the close: only the caller's connection is left */
	assert_int_equal(wait_conns(srv, 1), 1);
	dss_ctl_reply(req, 0, NULL, 0);
	assert_int_equal(wait_conns(srv, 1), 1);

	/* stop waits for a pending request; the request's connection is gone already */
	assert_int_equal(dss_ctl_call(caller, addr, M_HOLD, "stop", 4, 100, NULL, NULL),
			 -DER_TIMEDOUT);
	req = wait_held();
	assert_non_null(req);
	assert_int_equal(pthread_create(&stopper, NULL, stopper_thread, srv), 0);
	/*
	 * Handshake, not a sleep: the stop has begun once the listener is closed (pings
	 * answered until then); it then closes every connection and waits for the request.
	 */
	start = d_now_ns();
	while ((rc = ping_addr(addr)) != -DER_UNREACH && ms_since(start) < 10000)
		usleep(5000);
	assert_int_equal(rc, -DER_UNREACH);
	assert_int_equal(wait_conns_closed(srv), 0);
	dss_ctl_stats_get(srv, &st);
	assert_int_equal(st.cs_pending, 1);
	assert_int_equal(st.cs_conns_open, 0);
	/* the stopper still waits for the request */
	assert_int_equal(pthread_tryjoin_np(stopper, NULL), EBUSY);
	dss_ctl_reply(req, 0, NULL, 0);
	pthread_join(stopper, NULL);
	dss_ctl_stats_get(srv, &st);
	assert_int_equal(st.cs_pending, 0);
	dss_ctl_destroy(srv);
	dss_ctl_destroy(caller);
}

/*
 * Running code on the loop.
 */

#define EXEC_THREADS 4
#define EXEC_PER_THREAD 5000

struct exec_arg {
	struct dss_ctl *ea_ctl;
	int ea_id;
	int *ea_counts;
	int *ea_off_loop;
};

struct exec_item {
	struct exec_arg *ei_ea;
	int ei_idx;
};

static struct exec_item exec_items[EXEC_THREADS * EXEC_PER_THREAD];

static void
exec_fn(void *arg)
{
	struct exec_item *it = arg;

	if (!dss_ctl_on_loop(it->ei_ea->ea_ctl))
		(*it->ei_ea->ea_off_loop)++;
	it->ei_ea->ea_counts[it->ei_idx]++; /* loop thread only: no atomics needed */
}

static void
exec_barrier(void *arg)
{
	(void)arg;
}

static void *
exec_thread(void *arg)
{
	struct exec_arg *ea = arg;
	int i;

	for (i = 0; i < EXEC_PER_THREAD; i++) {
		struct exec_item *it = &exec_items[ea->ea_id * EXEC_PER_THREAD + i];

		it->ei_ea = ea;
		it->ei_idx = ea->ea_id * EXEC_PER_THREAD + i;
		T_CHECK(dss_ctl_exec(ea->ea_ctl, exec_fn, it) == 0);
	}
	/* FIFO: once this has run, so has everything this thread queued before */
	T_CHECK(dss_ctl_exec_sync(ea->ea_ctl, exec_barrier, NULL) == 0);
	return NULL;
}

static int timer_fires;
static int oneshot_fires;

static void
timer_cb(struct dss_ctl_timer *t, void *arg)
{
	T_CHECK(dss_ctl_on_loop(arg));
	if (++timer_fires == 5)
		dss_ctl_timer_del(t); /* a timer may delete itself */
}

static void
oneshot_cb(struct dss_ctl_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	oneshot_fires++;
}

static void
timers_add(void *arg)
{
	struct dss_ctl *ctl = arg;
	struct dss_ctl_timer *t;

	T_CHECK(dss_ctl_timer_add(ctl, 10, 10, timer_cb, ctl, &t) == 0);
	T_CHECK(dss_ctl_timer_add(ctl, 5, 0, oneshot_cb, NULL, NULL) == 0);
	T_CHECK(dss_ctl_timer_add(ctl, 5, 5, oneshot_cb, NULL, NULL) == -DER_INVAL);
	/* left for the stop to delete */
	T_CHECK(dss_ctl_timer_add(ctl, 60000, 0, oneshot_cb, NULL, &t) == 0);
	T_CHECK(dss_ctl_timer_add(ctl, 60000, 0, oneshot_cb, NULL, NULL) == 0);
}

static void
test_exec_timers(void **state)
{
	struct exec_arg ea[EXEC_THREADS];
	pthread_t th[EXEC_THREADS];
	struct dss_ctl_stats st;
	struct dss_ctl_timer *t;
	struct dss_ctl *ctl;
	int *counts;
	int off_loop = 0;
	uint64_t start;
	int i;

	(void)state;
	assert_int_equal(dss_ctl_create(NULL, &ctl), 0);
	assert_int_equal(dss_ctl_exec(ctl, exec_barrier, NULL), -DER_UNINIT);
	assert_int_equal(dss_ctl_start(ctl), 0);
	assert_int_equal(dss_ctl_start(ctl), -DER_ALREADY);
	assert_false(dss_ctl_on_loop(ctl));
	assert_int_equal(dss_ctl_timer_add(ctl, 1, 0, oneshot_cb, NULL, &t), -DER_INVAL);
	D_ALLOC_ARRAY(counts, EXEC_THREADS * EXEC_PER_THREAD);
	assert_non_null(counts);

	start = d_now_ns();
	for (i = 0; i < EXEC_THREADS; i++) {
		ea[i] = (struct exec_arg){ctl, i, counts, &off_loop};
		assert_int_equal(pthread_create(&th[i], NULL, exec_thread, &ea[i]), 0);
	}
	for (i = 0; i < EXEC_THREADS; i++)
		pthread_join(th[i], NULL);
	printf("%d dss_ctl_exec from %d threads: %" PRIu64 " ms\n", EXEC_THREADS * EXEC_PER_THREAD,
	       EXEC_THREADS, ms_since(start));
	for (i = 0; i < EXEC_THREADS * EXEC_PER_THREAD; i++)
		assert_int_equal(counts[i], 1);
	assert_int_equal(off_loop, 0);
	dss_ctl_stats_get(ctl, &st);
	assert_int_equal(st.cs_execs, EXEC_THREADS * EXEC_PER_THREAD + EXEC_THREADS);

	/* timers */
	assert_int_equal(dss_ctl_exec_sync(ctl, timers_add, ctl), 0);
	start = d_now_ns();
	while (__atomic_load_n(&timer_fires, __ATOMIC_RELAXED) < 5 && ms_since(start) < 2000)
		usleep(1000);
	usleep(50000);
	assert_int_equal(__atomic_load_n(&timer_fires, __ATOMIC_RELAXED), 5);
	assert_int_equal(__atomic_load_n(&oneshot_fires, __ATOMIC_RELAXED), 1);

	/* functions queued before the stop run; after it, nothing is accepted */
	for (i = 0; i < 100; i++)
		assert_int_equal(dss_ctl_exec(ctl, exec_fn, &exec_items[i]), 0);
	dss_ctl_stop(ctl);
	for (i = 0; i < 100; i++)
		assert_int_equal(counts[i], 2);
	assert_int_equal(dss_ctl_exec(ctl, exec_barrier, NULL), -DER_SHUTDOWN);
	assert_int_equal(dss_ctl_exec_sync(ctl, exec_barrier, NULL), -DER_SHUTDOWN);
	assert_int_equal(dss_ctl_call(ctl, "127.0.0.1:1", M_ECHO, NULL, 0, 100, NULL, NULL),
			 -DER_SHUTDOWN);
	dss_ctl_stop(ctl);
	dss_ctl_destroy(ctl);
	D_FREE(counts);
}

/*
 * Anomalies.
 */

struct fault_arg {
	const char *fa_addr;
	int fa_ok;
	int fa_failed;
};

static void *
fault_thread(void *arg)
{
	struct fault_arg *fa = arg;
	int i;

	for (i = 0; i < 200; i++) {
		int rc = ping_addr(fa->fa_addr);

		if (rc == 0)
			fa->fa_ok++;
		else
			fa->fa_failed++;
	}
	return NULL;
}

static void
test_alloc_faults(void **state)
{
	struct d_fault_attr fa = {
	    .fa_id = D_FI_ALLOC, .fa_probability_x = 1, .fa_probability_y = 25};
	struct fault_arg args[4];
	pthread_t th[4];
	struct dss_ctl *srv;
	char addr[DSS_CTL_ADDR_LEN];
	int ok = 0;
	int failed = 0;
	int i;

	(void)state;
	srv = server_start(NULL, addr);
	assert_int_equal(d_fault_attr_set(&fa), 0);
	for (i = 0; i < 4; i++) {
		args[i] = (struct fault_arg){addr, 0, 0};
		assert_int_equal(pthread_create(&th[i], NULL, fault_thread, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok += args[i].fa_ok;
		failed += args[i].fa_failed;
	}
	d_fault_attr_clear(D_FI_ALLOC);
	printf("allocation failures (1 in 25): %d pings answered, %d failed cleanly\n", ok, failed);
	assert_true(failed > 0);
	assert_int_equal(ping_addr(addr), 0);
	assert_int_equal(wait_conns_closed(srv), 0);
	dss_ctl_destroy(srv);
}

/*
 * The tool.
 */

static int
run_tool(const char *args, char *out, size_t outlen)
{
	char cmd[512];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s", CTL_PING_BIN, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_ping_tool(void **state)
{
	struct dss_ctl_attr attr = {.ca_sys_name = "daos_tool"};
	struct dss_ctl *srv;
	char addr[DSS_CTL_ADDR_LEN];
	char args[128];
	char out[1024];
	uint64_t start;

	(void)state;
	srv = server_start(&attr, addr);
	snprintf(args, sizeof(args), "-j -c 20 -s 100 %s", addr);
	assert_int_equal(run_tool(args, out, sizeof(out)), 0);
	printf("daos_ctl_ping %s\n  %s", args, out);
	assert_non_null(strstr(out, "\"status\":0"));
	assert_non_null(strstr(out, "\"sys\":\"daos_tool\""));
	assert_non_null(strstr(out, "\"count\":20"));
	snprintf(args, sizeof(args), "%s", addr);
	assert_int_equal(run_tool(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "rtt"));
	dss_ctl_destroy(srv);

	/* nothing there: fails fast, or after waiting with -w */
	dead_addr(addr);
	snprintf(args, sizeof(args), "-j %s", addr);
	assert_int_equal(run_tool(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "DER_UNREACH"));
	start = d_now_ns();
	snprintf(args, sizeof(args), "-w 1 %s 2>/dev/null", addr);
	assert_int_equal(run_tool(args, out, sizeof(out)), 1);
	assert_true(ms_since(start) >= 900);
	assert_int_equal(run_tool("-x 2>/dev/null", out, sizeof(out)), 2);
}

/* Configuration errors. */
static void
test_config(void **state)
{
	struct dss_ctl_attr attr = {0};
	struct dss_ctl *a;
	struct dss_ctl *b;
	char addr[DSS_CTL_ADDR_LEN];

	(void)state;
	attr.ca_listen = "127.0.0.1";
	assert_int_equal(dss_ctl_create(&attr, &a), -DER_INVAL);
	attr.ca_listen = "127.0.0.1:0";
	/* TLS files that do not load (or only some of the three) */
	attr.ca_tls_cert = "/nonexistent/server.crt";
	assert_int_equal(dss_ctl_create(&attr, &a), -DER_INVAL);
	attr.ca_tls_key = "/nonexistent/server.key";
	attr.ca_tls_ca = "/nonexistent/daosCA.crt";
	assert_int_equal(dss_ctl_create(&attr, &a), -DER_INVAL);
	attr.ca_tls_cert = attr.ca_tls_key = attr.ca_tls_ca = NULL;
	attr.ca_max_frame = DSS_CTL_FRAME_MAX_LIMIT + 1;
	assert_int_equal(dss_ctl_create(&attr, &a), -DER_INVAL);

	/* the port is taken */
	a = server_start(NULL, addr);
	attr = (struct dss_ctl_attr){.ca_listen = addr};
	assert_int_equal(dss_ctl_create(&attr, &b), 0);
	assert_int_equal(dss_ctl_start(b), -DER_EXIST);
	assert_int_equal(dss_ctl_listen_addr(b, addr, sizeof(addr)), -DER_NONEXIST);
	dss_ctl_destroy(b);
	assert_int_equal(dss_ctl_listen_addr(a, addr, 4), -DER_TRUNC);
	dss_ctl_destroy(a);

	/* a name, IPv6 loopback (if the host has it) */
	attr = (struct dss_ctl_attr){.ca_listen = "localhost:0"};
	a = server_start(&attr, addr);
	assert_int_equal(ping_addr(addr), 0);
	dss_ctl_destroy(a);
	attr = (struct dss_ctl_attr){.ca_listen = "[::1]:0"};
	assert_int_equal(dss_ctl_create(&attr, &a), 0);
	if (dss_ctl_start(a) == 0) {
		assert_int_equal(dss_ctl_listen_addr(a, addr, sizeof(addr)), 0);
		assert_int_equal(strncmp(addr, "[::1]:", 6), 0);
		assert_int_equal(ping_addr(addr), 0);
	}
	dss_ctl_destroy(a);
}

/*
 * TLS (ctl_tls.h): certificates from scripts/gen_certificates.sh. Frames far larger than a
 * TLS record both ways, through the blocking client and through a control thread's loop;
 * the roles (admin and server may call a test method, agent may not but may ping); a
 * server presenting a non-server certificate; TLS against a plain port and plain against
 * a TLS port, each failing cleanly with the reason.
 */
struct tls_files {
	char tf_dir[64];
	char tf_ca[128];
	char tf_crt[3][128]; /* admin, server, agent */
	char tf_key[3][128];
	char tf_guest_crt[128]; /* "" until tls_guest_make */
	char tf_guest_key[128];
};

/* A certificate of the same CA for the name "guest" (no role). */
static bool
tls_guest_make(struct tls_files *tf)
{
	char cmd[1024];

	snprintf(tf->tf_guest_key, sizeof(tf->tf_guest_key), "%s/guest.key", tf->tf_dir);
	snprintf(cmd, sizeof(cmd),
		 "(cd %s && openssl genpkey -algorithm ed25519 -out guest.key && "
		 "openssl req -new -key guest.key -subj /CN=guest -out guest.csr && "
		 "openssl x509 -req -in guest.csr -CA c/daosCA.crt -CAkey c/daosCA.key "
		 "-set_serial 77 -days 1 -out guest.crt) >/dev/null 2>&1",
		 tf->tf_dir);
	if (system(cmd) != 0) {
		tf->tf_guest_crt[0] = '\0';
		return false;
	}
	snprintf(tf->tf_guest_crt, sizeof(tf->tf_guest_crt), "%s/guest.crt", tf->tf_dir);
	return true;
}

enum { TF_ADMIN, TF_SERVER, TF_AGENT };

static bool
tls_files_make(struct tls_files *tf)
{
	static const char *const names[] = {"admin", "server", "agent"};
	char cmd[384];
	int i;

	memset(tf, 0, sizeof(*tf));
	snprintf(tf->tf_dir, sizeof(tf->tf_dir), "/tmp/ctl_tls.XXXXXX");
	if (mkdtemp(tf->tf_dir) == NULL)
		return false;
	snprintf(cmd, sizeof(cmd), "%s %s/c >/dev/null 2>&1", CTL_GEN_CERTS, tf->tf_dir);
	if (system(cmd) != 0)
		return false;
	snprintf(tf->tf_ca, sizeof(tf->tf_ca), "%s/c/daosCA.crt", tf->tf_dir);
	for (i = 0; i < 3; i++) {
		snprintf(tf->tf_crt[i], sizeof(tf->tf_crt[i]), "%s/c/%s.crt", tf->tf_dir, names[i]);
		snprintf(tf->tf_key[i], sizeof(tf->tf_key[i]), "%s/c/%s.key", tf->tf_dir, names[i]);
	}
	return true;
}

static void
tls_files_remove(struct tls_files *tf)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tf->tf_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tf->tf_dir);
}

/* The blocking client of this process as @who (-1: plain). */
static void
tls_client_as(struct tls_files *tf, int who)
{
	char err[512] = "";
	int rc;

	if (who < 0)
		rc = dss_ctl_client_tls_set(NULL, NULL, NULL, err, sizeof(err));
	else
		rc = dss_ctl_client_tls_set(tf->tf_ca, tf->tf_crt[who], tf->tf_key[who], err,
					    sizeof(err));
	if (rc != 0)
		fail_msg("dss_ctl_client_tls_set: %s", err);
}

static void
tls_attr(struct tls_files *tf, int who, struct dss_ctl_attr *attr)
{
	attr->ca_tls_ca = tf->tf_ca;
	attr->ca_tls_cert = tf->tf_crt[who];
	attr->ca_tls_key = tf->tf_key[who];
}

/* Call @method at @addr with @len random bytes (through @via, or the blocking client). */
static int
tls_echo(struct dss_ctl *via, const char *addr, uint32_t method, size_t len)
{
	size_t want = method == M_BIG ? 2 * len : len;
	size_t rlen = 0;
	void *reply = NULL;
	char *buf;
	size_t i;
	int rc;

	D_ALLOC_NZ(buf, len + 1);
	assert_non_null(buf);
	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 7 + (i >> 9));
	rc = dss_ctl_call(via, addr, method, buf, len, 10000, &reply, &rlen);
	if (rc == 0) {
		assert_int_equal(rlen, want);
		assert_memory_equal(reply, buf, len);
		if (method == M_BIG)
			assert_memory_equal((char *)reply + len, buf, len);
	}
	D_FREE(reply);
	D_FREE(buf);
	return rc;
}

static void
test_tls(void **state)
{
	struct dss_ctl_attr attr = {0};
	struct dss_ctl_stats st;
	struct tls_files tf;
	struct dss_ctl *srv, *plain, *odd, *caller;
	char addr[DSS_CTL_ADDR_LEN], paddr[DSS_CTL_ADDR_LEN], oaddr[DSS_CTL_ADDR_LEN];

	(void)state;
	if (!tls_files_make(&tf))
		skip();
	tls_attr(&tf, TF_SERVER, &attr);
	srv = server_start(&attr, addr);
	plain = server_start(NULL, paddr);
	attr = (struct dss_ctl_attr){0};
	tls_attr(&tf, TF_ADMIN, &attr); /* a "server" whose certificate is not a server's */
	odd = server_start(&attr, oaddr);

	/* the admin: frames of many records both ways, small ones, ping */
	tls_client_as(&tf, TF_ADMIN);
	assert_int_equal(tls_echo(NULL, addr, M_ECHO, 1 << 20), 0);
	assert_int_equal(tls_echo(NULL, addr, M_BIG, 300000), 0);
	assert_int_equal(tls_echo(NULL, addr, M_ECHO, 1), 0);
	assert_int_equal(ping_addr(addr), 0);
	assert_string_equal(dss_ctl_client_tls_error(), "");
	/* TLS to a plain port: the server closes on the hello */
	assert_int_equal(tls_echo(NULL, paddr, M_ECHO, 10), -DER_UNREACH);
	assert_non_null(strstr(dss_ctl_client_tls_error(), "does it use TLS"));
	/* a peer whose certificate names an admin is no server */
	assert_int_equal(tls_echo(NULL, oaddr, M_ECHO, 10), -DER_NO_PERM);
	assert_non_null(strstr(dss_ctl_client_tls_error(), "not a server"));
	/* the agent may ping, not call the test method */
	tls_client_as(&tf, TF_AGENT);
	assert_int_equal(ping_addr(addr), 0);
	assert_int_equal(tls_echo(NULL, addr, M_ECHO, 10), -DER_NO_PERM);
	assert_string_equal(dss_ctl_client_tls_error(), "");
	/* plain frames to the TLS port */
	tls_client_as(&tf, -1);
	assert_int_equal(tls_echo(NULL, addr, M_ECHO, 10), -DER_NO_PERM);
	assert_non_null(strstr(dss_ctl_client_tls_error(), "speaks TLS"));

	/* a control thread's loop calling with the server certificate */
	attr = (struct dss_ctl_attr){0};
	tls_attr(&tf, TF_SERVER, &attr);
	assert_int_equal(dss_ctl_create(&attr, &caller), 0);
	assert_int_equal(dss_ctl_start(caller), 0);
	assert_int_equal(tls_echo(caller, addr, M_ECHO, 3 << 20), 0);
	assert_int_equal(tls_echo(caller, addr, M_BIG, 100000), 0);
	assert_int_equal(tls_echo(caller, addr, M_ECHO, 5), 0);
	assert_int_equal(tls_echo(caller, paddr, M_ECHO, 5), -DER_UNREACH);
	assert_int_equal(tls_echo(caller, oaddr, M_ECHO, 5), -DER_NO_PERM);
	dss_ctl_destroy(caller);

	/* a certificate of the CA under another name: Ping only */
	if (tls_guest_make(&tf)) {
		dss_ctl_client_tls_set(tf.tf_ca, tf.tf_guest_crt, tf.tf_guest_key, NULL, 0);
		assert_int_equal(ping_addr(addr), 0);
		assert_int_equal(tls_echo(NULL, addr, M_ECHO, 10), -DER_NO_PERM);
		assert_int_equal(tls_echo(NULL, addr, DSS_CTL_GET_ATTACH_INFO, 0), -DER_NO_PERM);
	}
	tls_client_as(&tf, -1);

	dss_ctl_stats_get(srv, &st);
	assert_true(st.cs_tls_failed >= 1);                                 /* the plain client */
	assert_int_equal(st.cs_denied, tf.tf_guest_crt[0] != '\0' ? 3 : 1); /* agent, guest */
	dss_ctl_stats_get(plain, &st);
	assert_true(st.cs_conns_bad >= 2); /* a TLS hello is no frame */
	dss_ctl_destroy(odd);
	dss_ctl_destroy(plain);
	dss_ctl_destroy(srv);

	/* half handshakes are dropped (here after the 300 ms idle timeout, else 10 s) */
	attr = (struct dss_ctl_attr){.ca_idle_timeout_ms = 300};
	tls_attr(&tf, TF_SERVER, &attr);
	srv = server_start(&attr, addr);
	{
		static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01};
		uint64_t t0 = d_now_ns();
		int fd = raw_connect(addr);
		int fd2 = raw_connect(addr);

		raw_send(fd, hello, sizeof(hello)); /* a record announcing 512 bytes, 3 sent */
		/* meanwhile an admin is served */
		tls_client_as(&tf, TF_ADMIN);
		assert_int_equal(tls_echo(NULL, addr, M_ECHO, 100), 0);
		tls_client_as(&tf, -1);
		assert_true(raw_closed_within(fd, 5000));
		assert_true(raw_closed_within(fd2, 5000)); /* nothing sent at all */
		assert_true(ms_since(t0) >= 250);
		close(fd);
		close(fd2);
	}
	dss_ctl_stats_get(srv, &st);
	assert_int_equal(st.cs_tls_failed, 2);
	dss_ctl_destroy(srv);
	tls_files_remove(&tf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping_rtt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_async_handlers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_telemetry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreach_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_reply_and_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_timers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_faults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping_tool, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("engine_ctl", tests, NULL, NULL);
}
