/*
 * net_test_common.h: helpers shared by the net tests (header-only, tests only): a test
 * protocol with a string codec and a deferred-reply opcode, a server thread owning a
 * context, and waiting for callbacks.
 */
#ifndef NET_TEST_COMMON_H
#define NET_TEST_COMMON_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>
#include <daos/net.h>

/* Module 63 is the tests'. */
#define NT_MODULE 63
enum {
	NT_OPC_NAME = NET_OPC(NT_MODULE, 0),   /* echo a string and a number */
	NT_OPC_DEFER = NET_OPC(NT_MODULE, 1),  /* reply later, from the server loop */
	NT_OPC_NOHDLR = NET_OPC(NT_MODULE, 2), /* no handler registered anywhere */
};

#define NT_NAME_MAX 16
#define NT_NAME_IN_FIELDS(F)                                                                       \
	F(str, ni_name, NT_NAME_MAX)                                                               \
	F(u32, ni_val, 0)                                                                          \
	F(uuid, ni_uuid, 0)                                                                        \
	F(i64, ni_neg, 0)                                                                          \
	F(u16, ni_small, 0)                                                                        \
	F(u8, ni_tiny, 0)
#define NT_NAME_OUT_FIELDS(F)                                                                      \
	F(str, no_name, NT_NAME_MAX)                                                               \
	F(u32, no_val, 0)

NET_STRUCT(nt_name_in, NT_NAME_IN_FIELDS);
NET_STRUCT(nt_name_out, NT_NAME_OUT_FIELDS);

#define NT_RPCS(X)                                                                                 \
	X(NT_OPC_NAME, name, nt_name_in, nt_name_out, nt_name_handler)                             \
	X(NT_OPC_DEFER, defer, nt_name_in, nt_name_out, nt_defer_handler)                          \
	X(NT_OPC_NOHDLR, nohdlr, nt_name_in, nt_name_out, NULL)

/* One file of a program defines the table; others define NT_PROTO_EXTERN first. */
#ifdef NT_PROTO_EXTERN
extern const struct net_proto nt_proto;
#else
NET_CODEC_DEFINE(nt_name_in, NT_NAME_IN_FIELDS)
NET_CODEC_DEFINE(nt_name_out, NT_NAME_OUT_FIELDS)
NET_PROTO_DEFINE(nt_proto, "test", NT_MODULE, NT_RPCS);
#endif

/* A server context run by its own thread. */
/* The in-process test server's context tag (requests tagged for another get -DER_BAD_TARGET). */
#define NT_SERVER_TAG 5

struct nt_server {
	const char *ns_provider;
	pthread_t ns_thread;
	struct net_context *ns_ctx;
	struct net_selftest *ns_st;
	int ns_rc; /* creation result */
	int ns_ready;
	int ns_stop;
	char ns_addr[NET_ADDR_STR_MAX];
	struct net_stats ns_stats; /* at the end */
	struct net_req *ns_deferred[64];
	int ns_deferred_nr;
	uint64_t ns_defer_until;
};

static inline void
nt_name_handler(struct net_req *req, void *body, void *arg)
{
	struct nt_name_in *in = body;
	struct nt_name_out out = {.no_name = in->ni_name, .no_val = in->ni_val + 1};

	(void)arg;
	net_reply_send(req, 0, &out);
}

static inline void
nt_defer_handler(struct net_req *req, void *body, void *arg)
{
	struct nt_server *srv = arg;

	(void)body;
	if (srv->ns_deferred_nr == (int)D_ARRAY_SIZE(srv->ns_deferred)) {
		net_reply_send(req, -DER_BUSY, NULL);
		return;
	}
	srv->ns_deferred[srv->ns_deferred_nr++] = req;
	srv->ns_defer_until = d_now_ns() + 5 * D_NSEC_PER_MSEC;
}

static inline void *
nt_server_main(void *arg)
{
	struct nt_server *srv = arg;
	struct net_context_attr attr = {
	    .ca_provider = srv->ns_provider, .ca_tag = NT_SERVER_TAG, .ca_tag_set = true};
	int i;

	srv->ns_rc = net_proto_register(&nt_proto);
	if (srv->ns_rc == 0)
		srv->ns_rc = net_context_create(&attr, &srv->ns_ctx);
	if (srv->ns_rc == 0)
		srv->ns_rc = net_selftest_register(srv->ns_ctx, &srv->ns_st);
	if (srv->ns_rc == 0)
		srv->ns_rc = net_handler_register(srv->ns_ctx, NT_OPC_NAME, nt_name_handler, srv);
	if (srv->ns_rc == 0)
		srv->ns_rc = net_handler_register(srv->ns_ctx, NT_OPC_DEFER, nt_defer_handler, srv);
	if (srv->ns_rc == 0)
		snprintf(srv->ns_addr, sizeof(srv->ns_addr), "%s", net_context_addr(srv->ns_ctx));
	__atomic_store_n(&srv->ns_ready, 1, __ATOMIC_RELEASE);
	if (srv->ns_rc != 0)
		return NULL;
	while (!__atomic_load_n(&srv->ns_stop, __ATOMIC_ACQUIRE)) {
		net_progress(srv->ns_ctx, 1000);
		if (srv->ns_deferred_nr > 0 && d_now_ns() >= srv->ns_defer_until) {
			struct nt_name_out out = {.no_name = "later", .no_val = 42};

			for (i = 0; i < srv->ns_deferred_nr; i++)
				net_reply_send(srv->ns_deferred[i], 0, &out);
			srv->ns_deferred_nr = 0;
		}
	}
	net_context_stats(srv->ns_ctx, &srv->ns_stats);
	net_context_destroy(srv->ns_ctx);
	net_selftest_destroy(srv->ns_st);
	return NULL;
}

/* Start a server thread; returns its creation result (-DER_NONEXIST: no such provider). */
static inline int
nt_server_start(struct nt_server *srv, const char *provider)
{
	memset(srv, 0, sizeof(*srv));
	srv->ns_provider = provider;
	if (pthread_create(&srv->ns_thread, NULL, nt_server_main, srv) != 0)
		return -DER_NOMEM;
	while (!__atomic_load_n(&srv->ns_ready, __ATOMIC_ACQUIRE))
		sched_yield();
	if (srv->ns_rc != 0)
		pthread_join(srv->ns_thread, NULL);
	return srv->ns_rc;
}

static inline void
nt_server_stop(struct nt_server *srv)
{
	__atomic_store_n(&srv->ns_stop, 1, __ATOMIC_RELEASE);
	pthread_join(srv->ns_thread, NULL);
}

/* An RPC outcome recorded by nt_cb. */
struct nt_result {
	int nr_done;
	int nr_rc;
	uint64_t nr_at; /* d_now_ns when it completed */
	union {
		struct net_ping_out ping;
		struct net_bulk_out bulk;
		struct nt_name_out name;
	} nr_out;
	bool nr_has_out;
	char nr_name[NT_NAME_MAX + 1];
	uint32_t nr_data_crc;
	size_t nr_data_len;
};

static inline void
nt_cb(struct net_rpc_done *done, void *arg)
{
	struct nt_result *res = arg;
	const struct net_opc_info *oi = net_opc_info(done->rd_opc);

	res->nr_rc = done->rd_rc;
	res->nr_at = d_now_ns();
	if (done->rd_reply != NULL) {
		memcpy(&res->nr_out, done->rd_reply, oi->oi_rep_size);
		res->nr_has_out = true;
		if (done->rd_opc == NET_OPC_PING) {
			res->nr_data_len = res->nr_out.ping.po_data.iov_len;
			res->nr_data_crc = net_crc32c(res->nr_out.ping.po_data.iov_buf,
						      res->nr_out.ping.po_data.iov_len);
		} else if (NET_OPC_MODULE(done->rd_opc) == NT_MODULE) {
			snprintf(res->nr_name, sizeof(res->nr_name), "%s",
				 res->nr_out.name.no_name);
		}
	}
	res->nr_done++;
}

/* Progress @ctx until @res completes or @ms pass; returns whether it completed. */
static inline bool
nt_wait(struct net_context *ctx, struct nt_result *res, uint64_t ms)
{
	uint64_t end = d_now_ns() + ms * D_NSEC_PER_MSEC;

	while (res->nr_done == 0 && d_now_ns() < end)
		net_progress(ctx, 1000);
	return res->nr_done != 0;
}

#endif /* NET_TEST_COMMON_H */
