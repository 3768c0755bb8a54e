/*
 * ctl_call.c: outgoing calls from the control thread to other servers' management ports:
 * connections opened on demand (name lookup, connect) and shared by the calls in flight to
 * one address, replies matched by sequence, per-call timeouts; and dss_ctl_call, which
 * makes such a call from a ULT or a plain thread and waits for it. Connections themselves
 * (input, writes, idle close) are ctl_srv.c's; ctl_internal.h has the invariants.
 */
#define D_LOGFAC ctl

#include <inttypes.h>
#include <netdb.h>
#include <string.h>

#include <daos_srv/sched.h>

#include "ctl_internal.h"

/* A call in flight. Loop only. */
struct ctl_call {
	d_list_t cl_link; /* on its connection's cc_waiting or cc_calls */
	uv_timer_t cl_timer;
	struct ctl_conn *cl_conn; /* borrowed while linked to it */
	uint64_t cl_sent_ns;      /* when its frame was queued, 0 before */
	uint64_t cl_seq;
	char *cl_wbuf; /* the request frame until it is written */
	size_t cl_wlen;
	dss_ctl_call_cb_t cl_cb;
	void *cl_arg;
};

static void
ctl_call_free_cb(uv_handle_t *h)
{
	struct ctl_call *call = h->data;

	D_FREE(call);
}

static void
ctl_call_complete(struct ctl_call *call, int rc, const void *body, size_t len)
{
	d_list_del_init(&call->cl_link);
	uv_timer_stop(&call->cl_timer);
	D_FREE(call->cl_wbuf);
	call->cl_cb(rc, body, len, call->cl_arg);
	uv_close((uv_handle_t *)&call->cl_timer, ctl_call_free_cb);
}

static void
ctl_call_timeout_cb(uv_timer_t *h)
{
	struct ctl_call *call = h->data;
	struct ctl_conn *conn = call->cl_conn;
	bool silent = call->cl_sent_ns != 0 && conn->cc_active_ns < call->cl_sent_ns;

	D_DEBUG("ctl: call %" PRIu64 " to %s timed out%s\n", call->cl_seq, conn->cc_peer,
		silent ? ", nothing heard since it was sent" : "");
	/*
	 * A late reply finds no call and is dropped. But a peer that sent nothing at all while
	 * we waited may be gone without a FIN (half-open): close the connection (before the
	 * callback, which may call again), so that the next call connects afresh and fails
	 * fast if the peer is really gone.
	 */
	if (silent) {
		d_list_del_init(&call->cl_link);
		ctl_conn_close(conn, -DER_UNREACH);
	}
	ctl_call_complete(call, -DER_TIMEDOUT, NULL, 0);
}

/* Write @call's frame on @conn and wait there for the reply. */
static void
ctl_call_send(struct ctl_conn *conn, struct ctl_call *call)
{
	char *wbuf = call->cl_wbuf;

	d_list_del_init(&call->cl_link);
	d_list_add_tail(&call->cl_link, &conn->cc_calls);
	call->cl_wbuf = NULL;
	call->cl_sent_ns = d_now_ns();
	/* on failure the connection closes and fails the call, this one included */
	ctl_conn_write(conn, wbuf, call->cl_wlen);
}

void
ctl_calls_connected(struct ctl_conn *conn)
{
	struct ctl_call *call;

	while (ctl_conn_ready(conn) && (call = d_list_first_entry_or_null(
					    &conn->cc_waiting, struct ctl_call, cl_link)) != NULL)
		ctl_call_send(conn, call);
}

void
ctl_calls_fail(struct ctl_conn *conn, int rc)
{
	struct ctl_call *call;

	while ((call = d_list_pop_entry(&conn->cc_waiting, struct ctl_call, cl_link)) != NULL)
		ctl_call_complete(call, rc, NULL, 0);
	while ((call = d_list_pop_entry(&conn->cc_calls, struct ctl_call, cl_link)) != NULL)
		ctl_call_complete(call, rc, NULL, 0);
}

void
ctl_call_reply(struct ctl_conn *conn, const struct ctl_env *env, const void *body, size_t len)
{
	struct ctl_call *call;

	/* calls are usually answered in order: the match is near the front */
	d_list_for_each_entry (call, &conn->cc_calls, cl_link) {
		if (call->cl_seq == env->ce_seq) {
			ctl_call_complete(call, env->ce_status, body, len);
			return;
		}
	}
	D_DEBUG("ctl: reply %" PRIu64 " from %s matches no call (timed out?)\n", env->ce_seq,
		conn->cc_peer);
}

static void
ctl_connect_cb(uv_connect_t *req, int status)
{
	struct ctl_conn *conn = req->handle->data;

	if (status == UV_ECANCELED || conn->cc_state == CTL_CONN_CLOSING)
		return;
	if (status < 0) {
		D_DEBUG("ctl: connect to %s failed: %s\n", conn->cc_peer, uv_strerror(status));
		ctl_conn_close(conn, -DER_UNREACH);
		return;
	}
	ctl_conn_start(conn);
	/* with TLS the calls wait for the handshake (ctl_tls_pump sends them) */
	if (conn->cc_ssl == NULL)
		ctl_calls_connected(conn);
}

static int
ctl_conn_connect(struct ctl_conn *conn, const struct sockaddr *sa)
{
	int rc;

	conn->cc_state = CTL_CONN_CONNECTING;
	rc = uv_tcp_connect(&conn->cc_connect, &conn->cc_tcp, sa, ctl_connect_cb);
	if (rc != 0) {
		D_DEBUG("ctl: connect to %s failed: %s\n", conn->cc_peer, uv_strerror(rc));
		return -DER_UNREACH;
	}
	return 0;
}

static void
ctl_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct ctl_conn *conn = container_of(req, struct ctl_conn, cc_gai);
	struct sockaddr_storage ss;
	int rc;

	if (conn->cc_state != CTL_CONN_CLOSING) {
		if (status < 0 || res == NULL) {
			D_ERROR("ctl: cannot resolve %s: %s\n", conn->cc_peer, uv_strerror(status));
			ctl_conn_close(conn, -DER_UNREACH);
		} else {
			memcpy(&ss, res->ai_addr, res->ai_addrlen);
			if (ss.ss_family == AF_INET)
				((struct sockaddr_in *)&ss)->sin_port = htons(conn->cc_port);
			else
				((struct sockaddr_in6 *)&ss)->sin6_port = htons(conn->cc_port);
			rc = ctl_conn_connect(conn, (struct sockaddr *)&ss);
			if (rc != 0)
				ctl_conn_close(conn, rc);
		}
	}
	uv_freeaddrinfo(res);
	ctl_conn_put(conn); /* the lookup's reference */
}

/* The open (or opening) connection to @addr, or a new one. */
static int
ctl_peer_get(struct dss_ctl *ctl, const char *addr, const char *host, uint16_t port,
	     struct ctl_conn **connp)
{
	struct addrinfo hints = {0};
	struct sockaddr_storage ss;
	struct ctl_conn *conn;
	int rc;

	d_list_for_each_entry (conn, &ctl->ctl_conns, cc_link) {
		if (conn->cc_outgoing && strcmp(conn->cc_peer, addr) == 0) {
			*connp = conn;
			return 0;
		}
	}
	conn = ctl_conn_new(ctl, true);
	if (conn == NULL)
		return -DER_NOMEM;
	strcpy(conn->cc_peer, addr); /* shorter than DSS_CTL_ADDR_LEN: the host fit */
	conn->cc_port = port;
	rc = ctl_addr_numeric(host, port, &ss);
	if (rc == 0) {
		rc = ctl_conn_connect(conn, (struct sockaddr *)&ss);
	} else {
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		conn->cc_state = CTL_CONN_RESOLVING;
		rc = uv_getaddrinfo(&ctl->ctl_loop, &conn->cc_gai, ctl_gai_cb, host, NULL, &hints);
		if (rc == 0)
			conn->cc_ref++;
		else
			rc = -DER_UNREACH;
	}
	if (rc != 0) {
		ctl_conn_close(conn, rc);
		return rc;
	}
	*connp = conn;
	return 0;
}

int
dss_ctl_call_async(struct dss_ctl *ctl, const char *addr, uint32_t method, const void *body,
		   size_t len, uint64_t timeout_ms, dss_ctl_call_cb_t cb, void *arg)
{
	struct ctl_env env = {CTL__KIND__KIND_REQUEST, method, 0, 0};
	char host[DSS_CTL_ADDR_LEN];
	struct ctl_conn *conn;
	struct ctl_call *call;
	uint16_t port;
	int rc;

	if (!dss_ctl_on_loop(ctl) || cb == NULL) {
		D_ERROR("ctl: dss_ctl_call_async off the loop thread or without a callback\n");
		return -DER_INVAL;
	}
	if (ctl->ctl_stopping)
		return -DER_SHUTDOWN;
	if (method == 0 || addr == NULL || strlen(addr) >= DSS_CTL_ADDR_LEN ||
	    ctl_addr_split(addr, host, sizeof(host), &port) != 0 || host[0] == '\0' || port == 0) {
		D_ERROR("ctl: bad call: method %u to '%s'\n", method, addr != NULL ? addr : "");
		return -DER_INVAL;
	}

	D_ALLOC_PTR(call);
	if (call == NULL)
		return -DER_NOMEM;
	D_INIT_LIST_HEAD(&call->cl_link);
	call->cl_seq = env.ce_seq = ++ctl->ctl_seq;
	call->cl_cb = cb;
	call->cl_arg = arg;
	rc = ctl_frame_encode(&env, body, len, NULL, sizeof(struct ctl_wreq), ctl->ctl_max_frame,
			      &call->cl_wbuf, &call->cl_wlen);
	if (rc != 0)
		goto out_call;
	rc = ctl_peer_get(ctl, addr, host, port, &conn);
	if (rc != 0)
		goto out_wbuf;

	uv_timer_init(&ctl->ctl_loop, &call->cl_timer);
	call->cl_timer.data = call;
	uv_timer_start(&call->cl_timer, ctl_call_timeout_cb,
		       timeout_ms ?: DSS_CTL_CALL_TIMEOUT_DEFAULT_MS, 0);
	CTL_STAT_ADD(ctl, cs_calls, 1);
	call->cl_conn = conn;
	d_list_add_tail(&call->cl_link, &conn->cc_waiting);
	if (ctl_conn_ready(conn))
		ctl_call_send(conn, call);
	return 0;

out_wbuf:
	D_FREE(call->cl_wbuf);
out_call:
	D_FREE(call);
	return rc;
}

/*
 * Blocking calls through the loop.
 */

struct ctl_sync_call {
	struct ctl_msg sc_msg;
	struct dss_ctl *sc_ctl;
	const char *sc_addr;
	uint32_t sc_method;
	const void *sc_body;
	size_t sc_len;
	uint64_t sc_timeout_ms;
	struct dss_eventual *sc_ev;
	int sc_rc;
	void *sc_reply;
	size_t sc_reply_len;
};

static void
ctl_sync_call_done(int rc, const void *body, size_t len, void *arg)
{
	struct ctl_sync_call *sc = arg;

	sc->sc_rc = rc;
	if (len > 0) {
		D_ALLOC_NZ(sc->sc_reply, len);
		if (sc->sc_reply != NULL) {
			memcpy(sc->sc_reply, body, len);
			sc->sc_reply_len = len;
		} else if (rc == 0) {
			sc->sc_rc = -DER_NOMEM;
		}
	}
	/* the last touch of *sc: the waiter returns and frees it */
	dss_eventual_set(sc->sc_ev, NULL);
}

static void
ctl_sync_call_start(void *arg)
{
	struct ctl_sync_call *sc = arg;
	int rc;

	rc = dss_ctl_call_async(sc->sc_ctl, sc->sc_addr, sc->sc_method, sc->sc_body, sc->sc_len,
				sc->sc_timeout_ms, ctl_sync_call_done, sc);
	if (rc != 0) {
		sc->sc_rc = rc;
		dss_eventual_set(sc->sc_ev, NULL);
	}
}

int
dss_ctl_call(struct dss_ctl *ctl, const char *addr, uint32_t method, const void *body, size_t len,
	     uint64_t timeout_ms, void **reply, size_t *reply_len)
{
	struct ctl_sync_call sc = {0};
	struct dss_ctl_client *cli;
	int rc;

	if (reply != NULL)
		*reply = NULL;
	if (reply_len != NULL)
		*reply_len = 0;
	if (ctl == NULL) {
		uint64_t start = d_now_ns();
		uint64_t used_ms;

		timeout_ms = timeout_ms ?: DSS_CTL_CALL_TIMEOUT_DEFAULT_MS;
		rc = dss_ctl_client_open(addr, timeout_ms, &cli);
		if (rc != 0)
			return rc;
		used_ms = (d_now_ns() - start) / D_NSEC_PER_MSEC;
		rc = used_ms >= timeout_ms
			 ? -DER_TIMEDOUT
			 : dss_ctl_client_call(cli, method, body, len, timeout_ms - used_ms, reply,
					       reply_len);
		dss_ctl_client_close(cli);
		return rc;
	}
	if (dss_ctl_on_loop(ctl)) {
		D_ERROR("ctl: dss_ctl_call on the loop thread would wait for itself\n");
		return -DER_INVAL;
	}
	rc = dss_eventual_create(&sc.sc_ev);
	if (rc != 0)
		return rc;
	sc.sc_ctl = ctl;
	sc.sc_addr = addr;
	sc.sc_method = method;
	sc.sc_body = body;
	sc.sc_len = len;
	sc.sc_timeout_ms = timeout_ms;
	sc.sc_msg.cm_fn = ctl_sync_call_start;
	sc.sc_msg.cm_arg = &sc;
	rc = ctl_msg_push(ctl, &sc.sc_msg);
	if (rc == 0) {
		dss_eventual_wait(sc.sc_ev, NULL);
		rc = sc.sc_rc;
		if (reply != NULL) {
			*reply = sc.sc_reply;
			sc.sc_reply = NULL;
		}
		if (reply_len != NULL)
			*reply_len = sc.sc_reply_len;
		D_FREE(sc.sc_reply);
	}
	dss_eventual_destroy(sc.sc_ev);
	return rc;
}
