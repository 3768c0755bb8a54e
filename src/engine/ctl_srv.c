/*
 * ctl_srv.c: the engine's control thread: a libuv loop on its own pthread serving the
 * management port. Listener and connections (frame input, writes, idle and flood
 * handling), dispatch of requests to registered handlers and their replies from any thread,
 * the cross-thread queue (dss_ctl_exec), timers, start and stop. Outgoing calls are in
 * ctl_call.c, the wire format in ctl_frame.c, the invariants in ctl_internal.h.
 *
 * TLS (ctl_internal.h invariant 6): every byte received goes through ctl_read_cb, which
 * feeds an OpenSSL read BIO and takes the plaintext out into the staging buffer
 * (ctl_tls_pump), and every frame sent through ctl_conn_write, which encrypts it and
 * writes the write BIO's bytes; the handshake runs in the same pump before any frame.
 */
#define D_LOGFAC ctl

#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "ctl_internal.h"

/* The control thread the calling thread runs, if any. */
static __thread struct dss_ctl *ctl_self;

static void ctl_stop_check(struct dss_ctl *ctl);

bool
dss_ctl_on_loop(const struct dss_ctl *ctl)
{
	return ctl != NULL && ctl_self == ctl;
}

struct uv_loop_s *
dss_ctl_uv_loop(struct dss_ctl *ctl)
{
	return &ctl->ctl_loop;
}

void
dss_ctl_stats_get(const struct dss_ctl *ctl, struct dss_ctl_stats *st)
{
	const uint64_t *src = (const uint64_t *)&ctl->ctl_stats;
	uint64_t *dst = (uint64_t *)st;
	size_t i;

	_Static_assert(sizeof(*st) % sizeof(uint64_t) == 0, "counters only");
	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/*
 * The queue to the loop.
 */

int
ctl_msg_push(struct dss_ctl *ctl, struct ctl_msg *msg)
{
	int rc = 0;

	pthread_mutex_lock(&ctl->ctl_qlock);
	if (ctl->ctl_qstate == CTL_Q_OPEN) {
		d_list_add_tail(&msg->cm_link, &ctl->ctl_queue);
		/* under the lock: the loop closes the handle only after closing the queue */
		uv_async_send(&ctl->ctl_async);
	} else {
		rc = ctl->ctl_qstate == CTL_Q_UNINIT ? -DER_UNINIT : -DER_SHUTDOWN;
	}
	pthread_mutex_unlock(&ctl->ctl_qlock);
	return rc;
}

/* Run the messages on @list in order. Loop. */
static void
ctl_msgs_run(struct dss_ctl *ctl, d_list_t *list)
{
	struct ctl_msg *msg;

	while ((msg = d_list_pop_entry(list, struct ctl_msg, cm_link)) != NULL) {
		dss_ctl_func_t fn = msg->cm_fn;
		void *arg = msg->cm_arg;

		if (msg->cm_exec)
			CTL_STAT_ADD(ctl, cs_execs, 1);
		/* an embedded message may be freed by its own function: read it first */
		if (msg->cm_free)
			D_FREE(msg);
		fn(arg);
	}
}

static void
ctl_async_cb(uv_async_t *async)
{
	struct dss_ctl *ctl = async->data;
	d_list_t todo;

	D_INIT_LIST_HEAD(&todo);
	pthread_mutex_lock(&ctl->ctl_qlock);
	d_list_splice_init(&ctl->ctl_queue, &todo);
	pthread_mutex_unlock(&ctl->ctl_qlock);
	ctl_msgs_run(ctl, &todo);
}

int
dss_ctl_exec(struct dss_ctl *ctl, dss_ctl_func_t fn, void *arg)
{
	struct ctl_msg *msg;
	int rc;

	D_ALLOC_PTR(msg);
	if (msg == NULL)
		return -DER_NOMEM;
	msg->cm_fn = fn;
	msg->cm_arg = arg;
	msg->cm_free = true;
	msg->cm_exec = true;
	rc = ctl_msg_push(ctl, msg);
	if (rc != 0)
		D_FREE(msg);
	return rc;
}

struct ctl_sync {
	struct ctl_msg cs_msg;
	dss_ctl_func_t cs_fn;
	void *cs_arg;
	struct dss_eventual *cs_ev;
};

static void
ctl_sync_run(void *arg)
{
	struct ctl_sync *s = arg;

	s->cs_fn(s->cs_arg);
	/* the last touch of *s: the waiter may return and free it at once */
	dss_eventual_set(s->cs_ev, NULL);
}

int
dss_ctl_exec_sync(struct dss_ctl *ctl, dss_ctl_func_t fn, void *arg)
{
	struct ctl_sync s = {0};
	int rc;

	if (dss_ctl_on_loop(ctl)) {
		CTL_STAT_ADD(ctl, cs_execs, 1);
		fn(arg);
		return 0;
	}
	rc = dss_eventual_create(&s.cs_ev);
	if (rc != 0)
		return rc;
	s.cs_fn = fn;
	s.cs_arg = arg;
	s.cs_msg.cm_fn = ctl_sync_run;
	s.cs_msg.cm_arg = &s;
	s.cs_msg.cm_exec = true;
	rc = ctl_msg_push(ctl, &s.cs_msg);
	if (rc == 0)
		dss_eventual_wait(s.cs_ev, NULL);
	dss_eventual_destroy(s.cs_ev);
	return rc;
}

/*
 * Timers.
 */

static void
ctl_timer_free_cb(uv_handle_t *h)
{
	struct dss_ctl_timer *t = h->data;

	D_FREE(t);
}

void
dss_ctl_timer_del(struct dss_ctl_timer *t)
{
	if (t == NULL || t->t_dead)
		return;
	D_ASSERT(dss_ctl_on_loop(t->t_ctl));
	t->t_dead = true;
	d_list_del_init(&t->t_link);
	uv_close((uv_handle_t *)&t->t_uv, ctl_timer_free_cb);
}

static void
ctl_timer_cb(uv_timer_t *h)
{
	struct dss_ctl_timer *t = h->data;

	t->t_cb(t, t->t_arg);
	if (t->t_auto)
		dss_ctl_timer_del(t);
}

int
dss_ctl_timer_add(struct dss_ctl *ctl, uint64_t timeout_ms, uint64_t repeat_ms,
		  dss_ctl_timer_cb_t cb, void *arg, struct dss_ctl_timer **timer)
{
	struct dss_ctl_timer *t;
	int rc;

	if (!dss_ctl_on_loop(ctl) || cb == NULL || (timer == NULL && repeat_ms != 0)) {
		D_ERROR("ctl: timer_add off the loop thread or with bad arguments\n");
		return -DER_INVAL;
	}
	if (ctl->ctl_stopping)
		return -DER_SHUTDOWN;
	D_ALLOC_PTR(t);
	if (t == NULL)
		return -DER_NOMEM;
	rc = uv_timer_init(&ctl->ctl_loop, &t->t_uv);
	if (rc != 0) {
		D_FREE(t);
		return ctl_uv2der(rc);
	}
	t->t_uv.data = t;
	t->t_ctl = ctl;
	t->t_cb = cb;
	t->t_arg = arg;
	t->t_auto = timer == NULL;
	d_list_add_tail(&t->t_link, &ctl->ctl_timers);
	uv_timer_start(&t->t_uv, ctl_timer_cb, timeout_ms, repeat_ms);
	if (timer != NULL)
		*timer = t;
	return 0;
}

/*
 * Handlers.
 */

int
dss_ctl_register(struct dss_ctl *ctl, uint32_t method, dss_ctl_handler_t handler, void *arg)
{
	struct ctl_handler *h;
	int rc = 0;

	if (method == 0 || method >= DSS_CTL_METHOD_MAX || handler == NULL)
		return -DER_INVAL;
	h = &ctl->ctl_handlers[method];
	pthread_mutex_lock(&ctl->ctl_hlock);
	if (h->ch_fn != NULL) {
		rc = -DER_EXIST;
	} else {
		h->ch_fn = handler;
		h->ch_arg = arg;
	}
	pthread_mutex_unlock(&ctl->ctl_hlock);
	return rc;
}

int
dss_ctl_unregister(struct dss_ctl *ctl, uint32_t method)
{
	struct ctl_handler *h;
	int rc = 0;

	if (method == 0 || method >= DSS_CTL_METHOD_MAX)
		return -DER_NONEXIST;
	h = &ctl->ctl_handlers[method];
	pthread_mutex_lock(&ctl->ctl_hlock);
	if (h->ch_fn == NULL)
		rc = -DER_NONEXIST;
	h->ch_fn = NULL;
	h->ch_arg = NULL;
	pthread_mutex_unlock(&ctl->ctl_hlock);
	return rc;
}

uint32_t
dss_ctl_req_method(const struct dss_ctl_req *req)
{
	return req->r_method;
}

const void *
dss_ctl_req_body(const struct dss_ctl_req *req, size_t *len)
{
	*len = req->r_env->body.len;
	return req->r_env->body.len > 0 ? req->r_env->body.data : NULL;
}

const char *
dss_ctl_req_peer(const struct dss_ctl_req *req)
{
	/* immutable once the connection is open; the request holds a reference on it */
	return req->r_conn->cc_peer;
}

struct dss_ctl *
dss_ctl_req_ctl(const struct dss_ctl_req *req)
{
	return req->r_ctl;
}

/*
 * Connections.
 */

static void
ctl_conn_free(struct ctl_conn *conn)
{
	D_ASSERT(conn->cc_inflight == 0 && d_list_empty(&conn->cc_calls) &&
		 d_list_empty(&conn->cc_waiting));
	D_FREE(conn->cc_rbuf);
	D_FREE(conn->cc_big);
	D_FREE(conn->cc_cbuf);
	if (conn->cc_ssl != NULL)
		SSL_free(conn->cc_ssl); /* and its BIOs */
	D_FREE(conn);
}

void
ctl_conn_put(struct ctl_conn *conn)
{
	D_ASSERT(conn->cc_ref > 0);
	if (--conn->cc_ref == 0)
		ctl_conn_free(conn);
}

static void
ctl_conn_handle_closed(uv_handle_t *h)
{
	struct ctl_conn *conn = h->data;

	D_ASSERT(conn->cc_handles > 0);
	if (--conn->cc_handles == 0)
		ctl_conn_put(conn); /* the reference for being open */
}

static void ctl_conn_timer_cb(uv_timer_t *h);

struct ctl_conn *
ctl_conn_new(struct dss_ctl *ctl, bool outgoing)
{
	struct ctl_conn *conn;

	D_ALLOC_PTR(conn);
	if (conn == NULL)
		return NULL;
	conn->cc_ctl = ctl;
	conn->cc_ref = 1;
	conn->cc_outgoing = outgoing;
	D_INIT_LIST_HEAD(&conn->cc_calls);
	D_INIT_LIST_HEAD(&conn->cc_waiting);
	/* neither allocates nor fails for a TCP handle without a socket, or a timer */
	uv_tcp_init(&ctl->ctl_loop, &conn->cc_tcp);
	uv_timer_init(&ctl->ctl_loop, &conn->cc_timer);
	conn->cc_tcp.data = conn;
	conn->cc_timer.data = conn;
	conn->cc_handles = 2;
	conn->cc_state = outgoing ? CTL_CONN_CONNECTING : CTL_CONN_OPEN;
	d_list_add_tail(&conn->cc_link, &ctl->ctl_conns);
	if (outgoing) /* the connect timeout; ctl_conn_start turns it into the idle check */
		uv_timer_start(&conn->cc_timer, ctl_conn_timer_cb, ctl->ctl_idle_ms, 0);
	CTL_STAT_ADD(ctl, cs_conns_open, 1);
	return conn;
}

void
ctl_conn_close(struct ctl_conn *conn, int rc)
{
	struct dss_ctl *ctl = conn->cc_ctl;
	enum ctl_conn_state was = conn->cc_state;

	if (was == CTL_CONN_CLOSING)
		return;
	D_DEBUG("ctl: closing connection %s: " DF_RC "\n", conn->cc_peer, DP_RC(rc));
	conn->cc_state = CTL_CONN_CLOSING;
	d_list_del_init(&conn->cc_link);
	CTL_STAT_SUB(ctl, cs_conns_open, 1);
	if (conn->cc_counted) {
		ctl->ctl_nconns_in--;
		conn->cc_counted = false;
	}
	ctl_calls_fail(conn, ctl->ctl_stopping ? -DER_SHUTDOWN : rc);
	if (was == CTL_CONN_RESOLVING)
		uv_cancel((uv_req_t *)&conn->cc_gai); /* its callback runs either way */
	/* pending writes and a pending connect complete with UV_ECANCELED before these */
	uv_close((uv_handle_t *)&conn->cc_tcp, ctl_conn_handle_closed);
	uv_close((uv_handle_t *)&conn->cc_timer, ctl_conn_handle_closed);
}

static bool
ctl_conn_busy(const struct ctl_conn *conn)
{
	return conn->cc_inflight > 0 || !d_list_empty(&conn->cc_calls);
}

static void
ctl_conn_timer_cb(uv_timer_t *h)
{
	struct ctl_conn *conn = h->data;
	struct dss_ctl *ctl = conn->cc_ctl;
	uint64_t idle_ns = ctl->ctl_idle_ms * D_NSEC_PER_MSEC;
	uint64_t now = d_now_ns();
	uint64_t next_ns = idle_ns;
	size_t wq;

	if (conn->cc_state == CTL_CONN_RESOLVING || conn->cc_state == CTL_CONN_CONNECTING) {
		D_DEBUG("ctl: connecting to %s timed out\n", conn->cc_peer);
		ctl_conn_close(conn, -DER_UNREACH);
		return;
	}
	if (conn->cc_ssl != NULL && !conn->cc_tls_done) {
		uint64_t hs_ns = (uint64_t)CTL_TLS_HANDSHAKE_MS * D_NSEC_PER_MSEC;

		if (hs_ns > idle_ns)
			hs_ns = idle_ns;
		if (now - conn->cc_open_ns >= hs_ns) {
			D_WARN_RL("ctl: %s did not finish its TLS handshake in %" PRIu64
				  " ms: closing\n",
				  conn->cc_peer, (uint64_t)(hs_ns / D_NSEC_PER_MSEC));
			CTL_STAT_ADD(ctl, cs_tls_failed, 1);
			ctl_conn_close(conn, -DER_TIMEDOUT);
			return;
		}
		next_ns = hs_ns - (now - conn->cc_open_ns);
		uv_timer_start(&conn->cc_timer, ctl_conn_timer_cb,
			       (next_ns + D_NSEC_PER_MSEC - 1) / D_NSEC_PER_MSEC, 0);
		return;
	}
	wq = uv_stream_get_write_queue_size((uv_stream_t *)&conn->cc_tcp);
	if (wq > 0 && now - conn->cc_wprogress_ns >= idle_ns) {
		D_WARN_RL("ctl: %s has not read its replies for %" PRIu64 " ms (%zu bytes queued): "
			  "closing\n",
			  conn->cc_peer, ctl->ctl_idle_ms, wq);
		CTL_STAT_ADD(ctl, cs_conns_idle, 1);
		ctl_conn_close(conn, -DER_TIMEDOUT);
		return;
	}
	if (!ctl_conn_busy(conn)) {
		if (now - conn->cc_active_ns >= idle_ns) {
			D_DEBUG("ctl: %s idle for %" PRIu64 " ms: closing\n", conn->cc_peer,
				ctl->ctl_idle_ms);
			CTL_STAT_ADD(ctl, cs_conns_idle, 1);
			ctl_conn_close(conn, -DER_TIMEDOUT);
			return;
		}
		next_ns = idle_ns - (now - conn->cc_active_ns);
	}
	if (wq > 0 && conn->cc_wprogress_ns + idle_ns - now < next_ns)
		next_ns = conn->cc_wprogress_ns + idle_ns - now;
	uv_timer_start(&conn->cc_timer, ctl_conn_timer_cb,
		       (next_ns + D_NSEC_PER_MSEC - 1) / D_NSEC_PER_MSEC, 0);
}

static void ctl_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void ctl_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void ctl_conn_parse(struct ctl_conn *conn);
static void ctl_tls_pump(struct ctl_conn *conn);

static void
ctl_conn_pause(struct ctl_conn *conn)
{
	if (conn->cc_reading) {
		uv_read_stop((uv_stream_t *)&conn->cc_tcp);
		conn->cc_reading = false;
	}
}

/*
 * Read again if @conn was paused and the reasons are gone, starting with the frames that
 * wait in the staging buffer (unless this runs from within ctl_conn_parse, whose loop
 * picks them up itself).
 */
static void
ctl_conn_resume(struct ctl_conn *conn)
{
	struct dss_ctl *ctl = conn->cc_ctl;
	int rc;

	if (conn->cc_reading || conn->cc_state != CTL_CONN_OPEN ||
	    conn->cc_inflight >= ctl->ctl_inflight_max ||
	    uv_stream_get_write_queue_size((uv_stream_t *)&conn->cc_tcp) > CTL_WQ_MAX / 2)
		return;
	rc = uv_read_start((uv_stream_t *)&conn->cc_tcp, ctl_alloc_cb, ctl_read_cb);
	if (rc != 0) {
		ctl_conn_close(conn, ctl_uv2der(rc));
		return;
	}
	conn->cc_reading = true;
	if (!conn->cc_parsing)
		ctl_conn_parse(conn);
	/* plaintext may wait inside the TLS layer too */
	if (conn->cc_ssl != NULL && conn->cc_state == CTL_CONN_OPEN)
		ctl_tls_pump(conn);
}

/* The TLS state of @conn: an SSL between two memory BIOs. 0 or -DER_NOMEM. */
static int
ctl_tls_conn_init(struct ctl_conn *conn)
{
	struct dss_ctl *ctl = conn->cc_ctl;

	D_ALLOC_NZ(conn->cc_cbuf, CTL_RBUF_SIZE);
	conn->cc_ssl = SSL_new(ctl->ctl_tls);
	conn->cc_rbio = BIO_new(BIO_s_mem());
	conn->cc_wbio = BIO_new(BIO_s_mem());
	if (conn->cc_cbuf == NULL || conn->cc_ssl == NULL || conn->cc_rbio == NULL ||
	    conn->cc_wbio == NULL) {
		if (conn->cc_ssl == NULL) {
			BIO_free(conn->cc_rbio);
			BIO_free(conn->cc_wbio);
		} else {
			SSL_set_bio(conn->cc_ssl, conn->cc_rbio, conn->cc_wbio);
		}
		ERR_clear_error();
		return -DER_NOMEM;
	}
	/* an empty read BIO means "wait for more", not end of file */
	BIO_set_mem_eof_return(conn->cc_rbio, -1);
	SSL_set_bio(conn->cc_ssl, conn->cc_rbio, conn->cc_wbio);
	if (conn->cc_outgoing)
		SSL_set_connect_state(conn->cc_ssl);
	else
		SSL_set_accept_state(conn->cc_ssl);
	return 0;
}

void
ctl_conn_start(struct ctl_conn *conn)
{
	struct dss_ctl *ctl = conn->cc_ctl;
	uint64_t first_ms = ctl->ctl_idle_ms;

	conn->cc_state = CTL_CONN_OPEN;
	conn->cc_active_ns = d_now_ns();
	conn->cc_open_ns = conn->cc_active_ns;
	conn->cc_wprogress_ns = conn->cc_active_ns;
	uv_tcp_nodelay(&conn->cc_tcp, 1);
	D_ALLOC_NZ(conn->cc_rbuf, CTL_RBUF_SIZE);
	if (conn->cc_rbuf == NULL || (ctl->ctl_tls != NULL && ctl_tls_conn_init(conn) != 0)) {
		D_ERROR("ctl: no memory for connection %s\n", conn->cc_peer);
		ctl_conn_close(conn, -DER_NOMEM);
		return;
	}
	if (conn->cc_ssl != NULL && first_ms > CTL_TLS_HANDSHAKE_MS)
		first_ms = CTL_TLS_HANDSHAKE_MS;
	uv_timer_start(&conn->cc_timer, ctl_conn_timer_cb, first_ms, 0);
	/* with TLS this also starts the handshake (a dialled connection says hello first) */
	ctl_conn_resume(conn);
}

static void
ctl_write_cb(uv_write_t *w, int status)
{
	struct ctl_wreq *wr = container_of(w, struct ctl_wreq, wr_req);
	struct ctl_conn *conn = w->handle->data;

	D_FREE(wr);
	if (status == UV_ECANCELED) /* the connection is closing */
		return;
	if (status < 0) {
		D_DEBUG("ctl: write to %s failed: %s\n", conn->cc_peer, uv_strerror(status));
		ctl_conn_close(conn, -DER_UNREACH);
		return;
	}
	conn->cc_wprogress_ns = d_now_ns();
	ctl_conn_resume(conn);
}

/* Write @len bytes that follow the struct ctl_wreq at @wbuf to the socket (owned here). */
static int
ctl_conn_send(struct ctl_conn *conn, char *wbuf, size_t frame_len)
{
	struct ctl_wreq *wr = (struct ctl_wreq *)wbuf;
	uv_stream_t *s = (uv_stream_t *)&conn->cc_tcp;
	uv_buf_t b = uv_buf_init(wbuf + sizeof(*wr), (unsigned int)frame_len);
	int rc;

	if (conn->cc_state != CTL_CONN_OPEN) {
		D_FREE(wbuf);
		return -DER_UNREACH;
	}
	if (uv_stream_get_write_queue_size(s) == 0)
		conn->cc_wprogress_ns = d_now_ns();
	rc = uv_write(&wr->wr_req, s, &b, 1, ctl_write_cb);
	if (rc != 0) {
		D_FREE(wbuf);
		D_DEBUG("ctl: write to %s failed: %s\n", conn->cc_peer, uv_strerror(rc));
		ctl_conn_close(conn, -DER_UNREACH);
		return -DER_UNREACH;
	}
	if (uv_stream_get_write_queue_size(s) > CTL_WQ_MAX)
		ctl_conn_pause(conn);
	return 0;
}

/* Send what TLS has written into @conn's write BIO. 0 or -DER_UNREACH (closed). */
static int
ctl_tls_flush(struct ctl_conn *conn)
{
	size_t n = BIO_ctrl_pending(conn->cc_wbio);
	char *wbuf;

	if (n == 0)
		return 0;
	D_ALLOC_NZ(wbuf, sizeof(struct ctl_wreq) + n);
	if (wbuf == NULL) {
		ctl_conn_close(conn, -DER_NOMEM);
		return -DER_UNREACH;
	}
	if (BIO_read(conn->cc_wbio, wbuf + sizeof(struct ctl_wreq), (int)n) != (int)n) {
		D_FREE(wbuf);
		ctl_conn_close(conn, -DER_UNREACH);
		return -DER_UNREACH;
	}
	return ctl_conn_send(conn, wbuf, n);
}

int
ctl_conn_write(struct ctl_conn *conn, char *wbuf, size_t frame_len)
{
	char why[256];
	int n;

	if (!ctl_conn_ready(conn)) {
		D_FREE(wbuf);
		return -DER_UNREACH;
	}
	if (conn->cc_ssl == NULL)
		return ctl_conn_send(conn, wbuf, frame_len);
	/* a memory BIO takes the whole record at once */
	ERR_clear_error();
	n = SSL_write(conn->cc_ssl, wbuf + sizeof(struct ctl_wreq), (int)frame_len);
	D_FREE(wbuf);
	if (n != (int)frame_len) {
		D_ERROR("ctl: TLS write to %s failed: %s\n", conn->cc_peer,
			ctl_tls_reason(NULL, why, sizeof(why)));
		ctl_conn_close(conn, -DER_UNREACH);
		return -DER_UNREACH;
	}
	return ctl_tls_flush(conn);
}

/* Answer a request with @status and no body, without a handler. */
static void
ctl_conn_reply_status(struct ctl_conn *conn, const struct ctl_env *req, int status)
{
	struct ctl_env env = {CTL__KIND__KIND_REPLY, req->ce_method, req->ce_seq, status};
	char *wbuf;
	size_t len;
	int rc;

	rc = ctl_frame_encode(&env, NULL, 0, NULL, sizeof(struct ctl_wreq),
			      conn->cc_ctl->ctl_max_frame, &wbuf, &len);
	if (rc != 0) {
		/* the peer would wait for nothing: tell it by closing */
		ctl_conn_close(conn, rc);
		return;
	}
	CTL_STAT_ADD(conn->cc_ctl, cs_replies, 1);
	ctl_conn_write(conn, wbuf, len);
}

/* Hand request @msg (ownership passes) to its handler. */
static void
ctl_dispatch(struct ctl_conn *conn, const struct ctl_env *env, Ctl__Envelope *msg)
{
	struct dss_ctl *ctl = conn->cc_ctl;
	struct ctl_handler h = {0};
	struct dss_ctl_req *req;

	CTL_STAT_ADD(ctl, cs_requests, 1);
	if (!ctl_role_allows(conn->cc_role, env->ce_method)) {
		D_WARN_RL("ctl: %s (certificate role %s) may not call method %u: refused\n",
			  conn->cc_peer, ctl_role_name(conn->cc_role), env->ce_method);
		CTL_STAT_ADD(ctl, cs_denied, 1);
		ctl_env_free(msg);
		ctl_conn_reply_status(conn, env, -DER_NO_PERM);
		return;
	}
	if (env->ce_method < DSS_CTL_METHOD_MAX) {
		pthread_mutex_lock(&ctl->ctl_hlock);
		h = ctl->ctl_handlers[env->ce_method];
		pthread_mutex_unlock(&ctl->ctl_hlock);
	}
	if (h.ch_fn == NULL) {
		D_DEBUG("ctl: %s called method %u, which has no handler\n", conn->cc_peer,
			env->ce_method);
		ctl_env_free(msg);
		ctl_conn_reply_status(conn, env, -DER_UNREG);
		return;
	}
	D_ALLOC_PTR(req);
	if (req == NULL) {
		ctl_env_free(msg);
		ctl_conn_reply_status(conn, env, -DER_NOMEM);
		return;
	}
	req->r_conn = conn;
	req->r_ctl = ctl;
	req->r_env = msg;
	req->r_method = env->ce_method;
	req->r_seq = env->ce_seq;
	conn->cc_ref++;
	conn->cc_inflight++;
	ctl->ctl_pending++;
	CTL_STAT_ADD(ctl, cs_pending, 1);
	if (conn->cc_inflight >= ctl->ctl_inflight_max)
		ctl_conn_pause(conn);
	h.ch_fn(req, h.ch_arg);
}

/* A complete frame of @len bytes at @data arrived on @conn. */
static void
ctl_conn_frame(struct ctl_conn *conn, const void *data, uint32_t len)
{
	Ctl__Envelope *msg;
	struct ctl_env env;
	int rc;

	rc = ctl_env_decode(data, len, &env, &msg);
	if (rc != 0) {
		if (rc == -DER_NOMEM) {
			D_ERROR("ctl: no memory to decode a frame from %s\n", conn->cc_peer);
		} else {
			D_WARN_RL("ctl: undecodable frame (%u bytes) from %s: closing\n", len,
				  conn->cc_peer);
			CTL_STAT_ADD(conn->cc_ctl, cs_conns_bad, 1);
		}
		ctl_conn_close(conn, rc);
		return;
	}
	conn->cc_active_ns = d_now_ns();
	if (env.ce_kind == CTL__KIND__KIND_REPLY) {
		ctl_call_reply(conn, &env, msg->body.data, msg->body.len);
		ctl_env_free(msg);
		return;
	}
	ctl_dispatch(conn, &env, msg);
}

/*
 * Take the complete frames out of the staging buffer, as long as @conn is read: a paused
 * connection (too many requests in handlers, too many reply bytes queued) keeps the rest
 * there until ctl_conn_resume.
 */
static void
ctl_conn_parse(struct ctl_conn *conn)
{
	struct dss_ctl *ctl = conn->cc_ctl;
	uint32_t off = 0;
	uint32_t len;
	int rc;

	conn->cc_parsing = true;
	while (conn->cc_state == CTL_CONN_OPEN && conn->cc_reading &&
	       conn->cc_rlen - off >= CTL_HDR_SIZE) {
		rc = ctl_hdr_decode(conn->cc_rbuf + off, ctl->ctl_max_frame, &len);
		if (rc != 0) {
			D_WARN_RL("ctl: %s from %s: closing\n",
				  rc == -DER_REC2BIG ? "frame over the size limit"
						     : "bad frame header",
				  conn->cc_peer);
			CTL_STAT_ADD(ctl, cs_conns_bad, 1);
			ctl_conn_close(conn, rc);
			break;
		}
		if ((uint64_t)CTL_HDR_SIZE + len <= conn->cc_rlen - off) {
			ctl_conn_frame(conn, conn->cc_rbuf + off + CTL_HDR_SIZE, len);
			off += CTL_HDR_SIZE + len;
			continue;
		}
		if ((uint64_t)CTL_HDR_SIZE + len > CTL_RBUF_SIZE) {
			/* a large frame: read its remainder straight into a buffer of its own */
			uint32_t have = conn->cc_rlen - off - CTL_HDR_SIZE;

			D_ALLOC_NZ(conn->cc_big, len);
			if (conn->cc_big == NULL) {
				D_ERROR("ctl: no memory for a %u-byte frame from %s: closing\n",
					len, conn->cc_peer);
				ctl_conn_close(conn, -DER_NOMEM);
				break;
			}
			memcpy(conn->cc_big, conn->cc_rbuf + off + CTL_HDR_SIZE, have);
			conn->cc_big_len = len;
			conn->cc_big_got = have;
			off = conn->cc_rlen;
		}
		break;
	}
	conn->cc_parsing = false;
	if (conn->cc_state != CTL_CONN_OPEN)
		return;
	if (off > 0) {
		memmove(conn->cc_rbuf, conn->cc_rbuf + off, conn->cc_rlen - off);
		conn->cc_rlen -= off;
	}
}

static void
ctl_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ctl_conn *conn = h->data;

	(void)suggested;
	if (conn->cc_ssl != NULL) {
		buf->base = conn->cc_cbuf;
		buf->len = CTL_RBUF_SIZE;
		return;
	}
	/* never empty: ctl_conn_parse leaves room or switches to cc_big (see there) */
	if (conn->cc_big != NULL) {
		buf->base = conn->cc_big + conn->cc_big_got;
		buf->len = conn->cc_big_len - conn->cc_big_got;
	} else {
		buf->base = conn->cc_rbuf + conn->cc_rlen;
		buf->len = CTL_RBUF_SIZE - conn->cc_rlen;
	}
}

/* Where the next plaintext bytes go (as ctl_alloc_cb without TLS). */
static void
ctl_conn_space(struct ctl_conn *conn, char **base, size_t *len)
{
	if (conn->cc_big != NULL) {
		*base = conn->cc_big + conn->cc_big_got;
		*len = conn->cc_big_len - conn->cc_big_got;
	} else {
		*base = conn->cc_rbuf + conn->cc_rlen;
		*len = CTL_RBUF_SIZE - conn->cc_rlen;
	}
}

/* @nread plaintext bytes arrived where ctl_conn_space said. */
static void
ctl_conn_input(struct ctl_conn *conn, size_t nread)
{
	char *big;

	if (conn->cc_big == NULL) {
		conn->cc_rlen += (uint32_t)nread;
		ctl_conn_parse(conn);
		return;
	}
	conn->cc_big_got += (uint32_t)nread;
	if (conn->cc_big_got < conn->cc_big_len)
		return;
	big = conn->cc_big;
	conn->cc_big = NULL;
	ctl_conn_frame(conn, big, conn->cc_big_len);
	D_FREE(big);
}

/* A TLS failure on @conn (@e from SSL_get_error): say why, send the alert if any, close. */
static void
ctl_tls_fail(struct ctl_conn *conn, int e)
{
	struct dss_ctl *ctl = conn->cc_ctl;
	char why[256];
	char alert[64];
	uv_buf_t b;
	int n;

	ctl_tls_reason(conn->cc_tls_done ? NULL : conn->cc_ssl, why, sizeof(why));
	if (e == SSL_ERROR_ZERO_RETURN) {
		D_DEBUG("ctl: %s ended its TLS session\n", conn->cc_peer);
		ctl_conn_close(conn, -DER_UNREACH);
		return;
	}
	if (!conn->cc_tls_done) {
		D_WARN_RL("ctl: TLS handshake with %s failed: %s\n", conn->cc_peer, why);
		CTL_STAT_ADD(ctl, cs_tls_failed, 1);
	} else {
		D_WARN_RL("ctl: TLS error from %s: %s: closing\n", conn->cc_peer, why);
		CTL_STAT_ADD(ctl, cs_conns_bad, 1);
	}
	/* best effort, never blocking: the peer learns why (a closing handle drops writes) */
	n = BIO_read(conn->cc_wbio, alert, sizeof(alert));
	if (n > 0) {
		b = uv_buf_init(alert, (unsigned int)n);
		uv_try_write((uv_stream_t *)&conn->cc_tcp, &b, 1);
	}
	ctl_conn_close(conn, -DER_NO_PERM);
}

/* The handshake finished: check the peer's role. false: @conn was closed. */
static bool
ctl_tls_established(struct ctl_conn *conn)
{
	char cn[128];

	conn->cc_role = ctl_tls_peer_role(conn->cc_ssl, cn, sizeof(cn));
	if (conn->cc_outgoing && conn->cc_role != CTL_ROLE_SERVER) {
		D_ERROR("ctl: %s presented a certificate for '%s', not a server: closing\n",
			conn->cc_peer, cn);
		CTL_STAT_ADD(conn->cc_ctl, cs_tls_failed, 1);
		ctl_conn_close(conn, -DER_NO_PERM);
		return false;
	}
	conn->cc_tls_done = true;
	conn->cc_active_ns = d_now_ns();
	D_DEBUG("ctl: TLS with %s: %s (%s)\n", conn->cc_peer, cn, ctl_role_name(conn->cc_role));
	/* back from the handshake deadline to the idle check */
	uv_timer_start(&conn->cc_timer, ctl_conn_timer_cb, conn->cc_ctl->ctl_idle_ms, 0);
	return true;
}

/*
 * Run @conn's TLS: the handshake, then plaintext out of SSL_read into the staging buffer
 * for as long as the connection is read, then whatever TLS has to write. Not reentrant
 * (a reply written from a handler called from here comes back through ctl_conn_resume).
 */
static void
ctl_tls_pump(struct ctl_conn *conn)
{
	char *base;
	size_t len;
	int n;

	if (conn->cc_pumping)
		return;
	conn->cc_pumping = true;
	ERR_clear_error();
	if (!conn->cc_tls_done) {
		n = SSL_do_handshake(conn->cc_ssl);
		if (n != 1) {
			n = SSL_get_error(conn->cc_ssl, n);
			if (n == SSL_ERROR_WANT_READ)
				ctl_tls_flush(conn);
			else
				ctl_tls_fail(conn, n);
			goto out;
		}
		if (ctl_tls_flush(conn) != 0 || !ctl_tls_established(conn))
			goto out;
		if (conn->cc_outgoing)
			ctl_calls_connected(conn);
	}
	while (conn->cc_state == CTL_CONN_OPEN && conn->cc_reading) {
		ctl_conn_space(conn, &base, &len);
		D_ASSERT(len > 0);
		n = SSL_read(conn->cc_ssl, base, (int)(len > INT32_MAX ? INT32_MAX : len));
		if (n <= 0) {
			n = SSL_get_error(conn->cc_ssl, n);
			if (n != SSL_ERROR_WANT_READ)
				ctl_tls_fail(conn, n);
			break;
		}
		ctl_conn_input(conn, (size_t)n);
	}
	/* post-handshake messages (key updates) answered by the reads */
	if (conn->cc_state == CTL_CONN_OPEN)
		ctl_tls_flush(conn);
out:
	conn->cc_pumping = false;
}

static void
ctl_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ctl_conn *conn = s->data;

	(void)buf;
	if (nread < 0) {
		D_DEBUG("ctl: %s %s%s\n", conn->cc_peer,
			nread == UV_EOF ? "disconnected" : uv_strerror((int)nread),
			conn->cc_big != NULL || conn->cc_rlen > 0 ? " in the middle of a frame"
								  : "");
		if (conn->cc_ssl != NULL && !conn->cc_tls_done)
			D_WARN_RL("ctl: %s disconnected during the TLS handshake\n", conn->cc_peer);
		ctl_conn_close(conn, -DER_UNREACH);
		return;
	}
	if (nread == 0 || conn->cc_state != CTL_CONN_OPEN)
		return;
	if (conn->cc_ssl == NULL) {
		ctl_conn_input(conn, (size_t)nread);
		return;
	}
	/* a memory BIO grows as needed: one read at a time, taken out at once below */
	if (BIO_write(conn->cc_rbio, buf->base, (int)nread) != (int)nread) {
		ctl_conn_close(conn, -DER_NOMEM);
		return;
	}
	ctl_tls_pump(conn);
}

/*
 * Accepting.
 */

static void ctl_accept_retry_cb(uv_timer_t *h);

/* Accept the connection waiting in the listener. */
static void
ctl_accept_one(struct dss_ctl *ctl)
{
	struct sockaddr_storage ss;
	struct ctl_conn *conn;
	int len = sizeof(ss);
	int rc;

	conn = ctl_conn_new(ctl, false);
	if (conn == NULL) {
		/* libuv holds the socket until uv_accept and stops listening meanwhile */
		D_ERROR("ctl: no memory to accept a connection; retrying\n");
		ctl->ctl_accept_blocked = true;
		uv_timer_start(&ctl->ctl_accept_timer, ctl_accept_retry_cb, CTL_ACCEPT_RETRY_MS, 0);
		return;
	}
	ctl->ctl_accept_blocked = false;
	rc = uv_accept((uv_stream_t *)&ctl->ctl_listener, (uv_stream_t *)&conn->cc_tcp);
	if (rc != 0) {
		D_WARN_RL("ctl: accept failed: %s\n", uv_strerror(rc));
		ctl_conn_close(conn, ctl_uv2der(rc));
		return;
	}
	if (uv_tcp_getpeername(&conn->cc_tcp, (struct sockaddr *)&ss, &len) != 0 ||
	    ctl_addr_format((struct sockaddr *)&ss, conn->cc_peer, sizeof(conn->cc_peer)) != 0)
		snprintf(conn->cc_peer, sizeof(conn->cc_peer), "?");
	CTL_STAT_ADD(ctl, cs_conns_accepted, 1);
	if (ctl->ctl_nconns_in >= ctl->ctl_max_conns) {
		D_WARN_RL("ctl: %u connections open: refusing %s\n", ctl->ctl_nconns_in,
			  conn->cc_peer);
		CTL_STAT_ADD(ctl, cs_conns_refused, 1);
		ctl_conn_close(conn, -DER_DOS);
		return;
	}
	conn->cc_counted = true;
	ctl->ctl_nconns_in++;
	ctl_conn_start(conn);
}

static void
ctl_accept_cb(uv_stream_t *server, int status)
{
	struct dss_ctl *ctl = server->data;

	if (ctl->ctl_stopping)
		return;
	if (status < 0) {
		D_WARN_RL("ctl: listener error: %s\n", uv_strerror(status));
		return;
	}
	ctl_accept_one(ctl);
}

static void
ctl_accept_retry_cb(uv_timer_t *h)
{
	struct dss_ctl *ctl = h->data;

	if (!ctl->ctl_stopping && ctl->ctl_accept_blocked)
		ctl_accept_one(ctl);
}

/*
 * Replies.
 */

/* On the loop: send the reply of @req (or drop it) and free @req. */
static void
ctl_req_deliver(void *arg)
{
	struct dss_ctl_req *req = arg;
	struct ctl_conn *conn = req->r_conn;
	struct dss_ctl *ctl = req->r_ctl;

	CTL_STAT_ADD(ctl, cs_replies, 1);
	CTL_STAT_SUB(ctl, cs_pending, 1);
	ctl->ctl_pending--;
	conn->cc_inflight--;
	if (req->r_wbuf == NULL)
		/* not even an error reply could be encoded: the peer learns by the close */
		ctl_conn_close(conn, -DER_NOMEM);
	else if (conn->cc_state == CTL_CONN_OPEN)
		ctl_conn_write(conn, req->r_wbuf, req->r_wlen);
	else
		D_FREE(req->r_wbuf);
	ctl_conn_resume(conn);
	ctl_conn_put(conn);
	D_FREE(req);
	if (ctl->ctl_stopping)
		ctl_stop_check(ctl);
}

static void
ctl_req_finish(struct dss_ctl_req *req, int status, const void *body, size_t len,
	       const ProtobufCMessage *msg)
{
	struct dss_ctl *ctl = req->r_ctl;
	struct ctl_env env;
	int rc;

	rc = __atomic_exchange_n(&req->r_replied, 1, __ATOMIC_RELAXED);
	D_ASSERTF(rc == 0, "request %" PRIu64 " (method %u) replied twice\n", req->r_seq,
		  req->r_method);
	if (status > 0) {
		D_ERROR("ctl: method %u replied with positive status %d\n", req->r_method, status);
		status = -DER_MISC;
	}
	env.ce_kind = CTL__KIND__KIND_REPLY;
	env.ce_method = req->r_method;
	env.ce_seq = req->r_seq;
	env.ce_status = status;
	rc = ctl_frame_encode(&env, body, len, msg, sizeof(struct ctl_wreq), ctl->ctl_max_frame,
			      &req->r_wbuf, &req->r_wlen);
	if (rc != 0) {
		D_ERROR("ctl: reply to method %u from %s: " DF_RC "\n", req->r_method,
			req->r_conn->cc_peer, DP_RC(rc));
		env.ce_status = rc;
		rc = ctl_frame_encode(&env, NULL, 0, NULL, sizeof(struct ctl_wreq),
				      ctl->ctl_max_frame, &req->r_wbuf, &req->r_wlen);
		if (rc != 0)
			req->r_wbuf = NULL;
	}
	ctl_env_free(req->r_env);
	req->r_env = NULL;
	if (dss_ctl_on_loop(ctl)) {
		ctl_req_deliver(req);
		return;
	}
	req->r_msg.cm_fn = ctl_req_deliver;
	req->r_msg.cm_arg = req;
	rc = ctl_msg_push(ctl, &req->r_msg);
	D_ASSERTF(rc == 0, "a pending request keeps the queue open: " DF_RC "\n", DP_RC(rc));
}

void
dss_ctl_reply(struct dss_ctl_req *req, int status, const void *body, size_t len)
{
	ctl_req_finish(req, status, body, len, NULL);
}

void
dss_ctl_reply_msg(struct dss_ctl_req *req, int status, const struct ProtobufCMessage *msg)
{
	ctl_req_finish(req, status, NULL, 0, msg);
}

/*
 * Life cycle.
 */

int
dss_ctl_create(const struct dss_ctl_attr *attr, struct dss_ctl **ctlp)
{
	struct dss_ctl_attr none = {0};
	struct dss_ctl *ctl;
	char host[DSS_CTL_ADDR_LEN];
	uint16_t port;
	int rc;

	if (attr == NULL)
		attr = &none;
	if (attr->ca_max_frame > DSS_CTL_FRAME_MAX_LIMIT ||
	    (attr->ca_max_frame != 0 && attr->ca_max_frame < 64)) {
		D_ERROR("ctl: frame limit %u out of range\n", attr->ca_max_frame);
		return -DER_INVAL;
	}
	if (attr->ca_listen != NULL &&
	    ctl_addr_split(attr->ca_listen, host, sizeof(host), &port) != 0) {
		D_ERROR("ctl: bad listen address '%s' (want host:port or [v6]:port)\n",
			attr->ca_listen);
		return -DER_INVAL;
	}

	D_ALLOC_PTR(ctl);
	if (ctl == NULL)
		return -DER_NOMEM;
	if (attr->ca_listen != NULL) {
		D_STRNDUP(ctl->ctl_listen, attr->ca_listen, DSS_CTL_ADDR_LEN);
		if (ctl->ctl_listen == NULL)
			goto out_nomem;
	}
	D_STRNDUP(ctl->ctl_sys, attr->ca_sys_name != NULL ? attr->ca_sys_name : "daos_server", 256);
	if (ctl->ctl_sys == NULL)
		goto out_nomem;
	ctl->ctl_max_frame = attr->ca_max_frame ?: DSS_CTL_FRAME_MAX_DEFAULT;
	ctl->ctl_max_conns = attr->ca_max_conns ?: DSS_CTL_CONNS_MAX_DEFAULT;
	ctl->ctl_idle_ms = attr->ca_idle_timeout_ms ?: DSS_CTL_IDLE_TIMEOUT_DEFAULT_MS;
	ctl->ctl_inflight_max = attr->ca_conn_inflight ?: DSS_CTL_CONN_INFLIGHT_DEFAULT;
	if (attr->ca_tls_cert != NULL || attr->ca_tls_key != NULL || attr->ca_tls_ca != NULL) {
		char err[320];

		ctl->ctl_tls = ctl_tls_ctx_create(attr->ca_tls_ca, attr->ca_tls_cert,
						  attr->ca_tls_key, err, sizeof(err));
		if (ctl->ctl_tls == NULL) {
			D_ERROR("ctl: TLS on the management port: %s\n", err);
			D_FREE(ctl->ctl_sys);
			D_FREE(ctl->ctl_listen);
			D_FREE(ctl);
			return -DER_INVAL;
		}
	}
	pthread_mutex_init(&ctl->ctl_qlock, NULL);
	pthread_mutex_init(&ctl->ctl_hlock, NULL);
	D_INIT_LIST_HEAD(&ctl->ctl_queue);
	D_INIT_LIST_HEAD(&ctl->ctl_conns);
	D_INIT_LIST_HEAD(&ctl->ctl_timers);
	ctl->ctl_qstate = CTL_Q_UNINIT;
	ctl->ctl_run = CTL_RUN_NEW;
	rc = ctl_methods_register(ctl);
	if (rc != 0) {
		dss_ctl_destroy(ctl);
		return rc;
	}
	*ctlp = ctl;
	return 0;

out_nomem:
	D_FREE(ctl->ctl_listen);
	D_FREE(ctl);
	return -DER_NOMEM;
}

/* Resolve ctl_listen, bind and listen. Before the loop runs. */
static int
ctl_listen(struct dss_ctl *ctl)
{
	struct sockaddr_storage ss;
	struct addrinfo hints = {0};
	struct addrinfo *res = NULL;
	char host[DSS_CTL_ADDR_LEN];
	char portstr[8];
	int len = sizeof(ss);
	uint16_t port;
	int rc;

	rc = ctl_addr_split(ctl->ctl_listen, host, sizeof(host), &port);
	D_ASSERT(rc == 0); /* checked by dss_ctl_create */
	rc = ctl_addr_numeric(host, port, &ss);
	if (rc == -DER_NONEXIST) {
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		snprintf(portstr, sizeof(portstr), "%u", port);
		rc = getaddrinfo(host, portstr, &hints, &res);
		if (rc != 0) {
			D_ERROR("ctl: cannot resolve listen address %s: %s\n", ctl->ctl_listen,
				gai_strerror(rc));
			return -DER_INVAL;
		}
		memcpy(&ss, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
	}
	uv_tcp_init(&ctl->ctl_loop, &ctl->ctl_listener);
	ctl->ctl_listener.data = ctl;
	ctl->ctl_listening = true;
	rc = uv_tcp_bind(&ctl->ctl_listener, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&ctl->ctl_listener, SOMAXCONN, ctl_accept_cb);
	if (rc != 0) {
		D_ERROR("ctl: cannot listen on %s: %s\n", ctl->ctl_listen, uv_strerror(rc));
		return ctl_uv2der(rc);
	}
	rc = uv_tcp_getsockname(&ctl->ctl_listener, (struct sockaddr *)&ss, &len);
	if (rc != 0)
		return ctl_uv2der(rc);
	rc = ctl_addr_format((struct sockaddr *)&ss, ctl->ctl_addr, sizeof(ctl->ctl_addr));
	if (rc != 0)
		return rc;
	ctl->ctl_has_addr = true;
	D_INFO("ctl: listening on %s\n", ctl->ctl_addr);
	return 0;
}

static void
ctl_close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Close whatever handles a failed start left, run their callbacks, close the loop. */
static void
ctl_loop_teardown(struct dss_ctl *ctl)
{
	int rc;

	uv_walk(&ctl->ctl_loop, ctl_close_walk_cb, NULL);
	uv_run(&ctl->ctl_loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&ctl->ctl_loop);
	if (rc != 0)
		D_ERROR("ctl: loop still busy at close: %s\n", uv_strerror(rc));
}

static void *
ctl_thread_main(void *arg)
{
	struct dss_ctl *ctl = arg;

	ctl_self = ctl;
	uv_run(&ctl->ctl_loop, UV_RUN_DEFAULT);
	ctl_self = NULL;
	return NULL;
}

int
dss_ctl_start(struct dss_ctl *ctl)
{
	struct sigaction sa = {0};
	int rc;

	pthread_mutex_lock(&ctl->ctl_qlock);
	rc = ctl->ctl_run == CTL_RUN_NEW ? 0 : -DER_ALREADY;
	pthread_mutex_unlock(&ctl->ctl_qlock);
	if (rc != 0)
		return rc;

	/* A peer that vanished makes write(2) raise SIGPIPE: take EPIPE instead. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	rc = uv_loop_init(&ctl->ctl_loop);
	if (rc != 0) {
		D_ERROR("ctl: uv_loop_init: %s\n", uv_strerror(rc));
		return ctl_uv2der(rc);
	}
	rc = uv_async_init(&ctl->ctl_loop, &ctl->ctl_async, ctl_async_cb);
	if (rc != 0) {
		rc = ctl_uv2der(rc);
		goto out_loop;
	}
	ctl->ctl_async.data = ctl;
	uv_timer_init(&ctl->ctl_loop, &ctl->ctl_stop_timer);
	ctl->ctl_stop_timer.data = ctl;
	uv_timer_init(&ctl->ctl_loop, &ctl->ctl_accept_timer);
	ctl->ctl_accept_timer.data = ctl;
	if (ctl->ctl_listen != NULL) {
		rc = ctl_listen(ctl);
		if (rc != 0)
			goto out_loop;
	}

	rc = pthread_create(&ctl->ctl_thread, NULL, ctl_thread_main, ctl);
	if (rc != 0) {
		D_ERROR("ctl: cannot start the control thread: %s\n", strerror(rc));
		rc = d_errno2der(rc);
		goto out_loop;
	}
	pthread_setname_np(ctl->ctl_thread, "daos_ctl");
	/* nobody could queue anything before: the loop sleeps until this opens */
	pthread_mutex_lock(&ctl->ctl_qlock);
	ctl->ctl_qstate = CTL_Q_OPEN;
	ctl->ctl_run = CTL_RUN_RUNNING;
	pthread_mutex_unlock(&ctl->ctl_qlock);
	return 0;

out_loop:
	ctl->ctl_listening = false;
	ctl->ctl_has_addr = false;
	ctl_loop_teardown(ctl);
	return rc;
}

static void
ctl_stop_warn_cb(uv_timer_t *h)
{
	struct dss_ctl *ctl = h->data;

	D_WARN("ctl: stopping, still waiting for %" PRIu64 " requests to be replied\n",
	       ctl->ctl_pending);
}

/* When stopping and no request is pending: run what is queued, close the last handles. */
static void
ctl_stop_check(struct dss_ctl *ctl)
{
	d_list_t todo;

	if (!ctl->ctl_stopping || ctl->ctl_drained || ctl->ctl_pending > 0)
		return;
	ctl->ctl_drained = true;
	D_INIT_LIST_HEAD(&todo);
	pthread_mutex_lock(&ctl->ctl_qlock);
	ctl->ctl_qstate = CTL_Q_CLOSED;
	d_list_splice_init(&ctl->ctl_queue, &todo);
	pthread_mutex_unlock(&ctl->ctl_qlock);
	ctl_msgs_run(ctl, &todo);
	uv_close((uv_handle_t *)&ctl->ctl_async, NULL);
	uv_close((uv_handle_t *)&ctl->ctl_stop_timer, NULL);
	uv_close((uv_handle_t *)&ctl->ctl_accept_timer, NULL);
}

/* On the loop: close the listener, connections and timers, then wait for the requests. */
static void
ctl_stop_begin(void *arg)
{
	struct dss_ctl *ctl = arg;
	struct dss_ctl_timer *t;
	struct ctl_conn *conn;

	ctl->ctl_stopping = true;
	if (ctl->ctl_listening) {
		ctl->ctl_listening = false;
		uv_close((uv_handle_t *)&ctl->ctl_listener, NULL);
	}
	uv_timer_stop(&ctl->ctl_accept_timer);
	/* each close takes the connection off the list (and runs its calls' callbacks) */
	while ((conn = d_list_first_entry_or_null(&ctl->ctl_conns, struct ctl_conn, cc_link)) !=
	       NULL)
		ctl_conn_close(conn, -DER_SHUTDOWN);
	while ((t = d_list_first_entry_or_null(&ctl->ctl_timers, struct dss_ctl_timer, t_link)) !=
	       NULL)
		dss_ctl_timer_del(t);
	if (ctl->ctl_pending > 0)
		uv_timer_start(&ctl->ctl_stop_timer, ctl_stop_warn_cb, CTL_STOP_WARN_MS,
			       CTL_STOP_WARN_MS);
	ctl_stop_check(ctl);
}

void
dss_ctl_stop(struct dss_ctl *ctl)
{
	int rc;

	D_ASSERTF(!dss_ctl_on_loop(ctl), "dss_ctl_stop on the loop thread would join itself\n");
	pthread_mutex_lock(&ctl->ctl_qlock);
	if (ctl->ctl_run != CTL_RUN_RUNNING) {
		pthread_mutex_unlock(&ctl->ctl_qlock);
		return;
	}
	ctl->ctl_run = CTL_RUN_STOPPING;
	pthread_mutex_unlock(&ctl->ctl_qlock);

	ctl->ctl_stop_msg.cm_fn = ctl_stop_begin;
	ctl->ctl_stop_msg.cm_arg = ctl;
	rc = ctl_msg_push(ctl, &ctl->ctl_stop_msg);
	D_ASSERTF(rc == 0, "only the stop closes the queue: " DF_RC "\n", DP_RC(rc));
	pthread_join(ctl->ctl_thread, NULL);
	rc = uv_loop_close(&ctl->ctl_loop);
	if (rc != 0)
		D_ERROR("ctl: loop still busy after stop: %s\n", uv_strerror(rc));
	pthread_mutex_lock(&ctl->ctl_qlock);
	ctl->ctl_run = CTL_RUN_STOPPED;
	pthread_mutex_unlock(&ctl->ctl_qlock);
	D_INFO("ctl: stopped\n");
}

void
dss_ctl_destroy(struct dss_ctl *ctl)
{
	if (ctl == NULL)
		return;
	dss_ctl_stop(ctl);
	pthread_mutex_destroy(&ctl->ctl_qlock);
	pthread_mutex_destroy(&ctl->ctl_hlock);
	D_FREE(ctl->ctl_listen);
	D_FREE(ctl->ctl_sys);
	if (ctl->ctl_tls != NULL)
		SSL_CTX_free(ctl->ctl_tls);
	D_FREE(ctl);
}

int
dss_ctl_listen_addr(struct dss_ctl *ctl, char *buf, size_t len)
{
	if (!ctl->ctl_has_addr)
		return -DER_NONEXIST;
	if (strlen(ctl->ctl_addr) >= len)
		return -DER_TRUNC;
	strcpy(buf, ctl->ctl_addr);
	return 0;
}
