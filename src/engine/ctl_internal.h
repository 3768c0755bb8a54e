/*
 * ctl_internal.h: the control thread's structures, shared by ctl_srv.c (loop, connections,
 * requests, exec, timers), ctl_call.c (outgoing calls) and ctl_methods.c (built-in methods).
 *
 * Invariants:
 * 1. Loop ownership. Everything below marked "loop" is touched only on the loop thread:
 *    libuv handles, connections, calls, timers, counters of connections and requests.
 *    Other threads reach the loop through ctl_queue (under ctl_qlock) + uv_async_send;
 *    the async callback takes the whole queue at once (sends coalesce).
 * 2. Queue life. ctl_qstate goes UNINIT -> OPEN (dss_ctl_start) -> CLOSED (the loop, at
 *    the end of a stop, once no request is pending). A message is accepted only while
 *    OPEN, and every accepted message runs: the loop closes the queue and takes what is
 *    left in one critical section, then runs it. uv_async_send is called under the lock,
 *    so it is never called on a closed handle.
 * 3. A pending request keeps the queue open: ctl_pending counts requests handed to
 *    handlers and not delivered back to the loop; the stop waits for it to reach zero, so
 *    dss_ctl_reply from any thread always finds the queue OPEN.
 * 4. Connection life. A connection holds one reference for being open (dropped when both
 *    its handles have closed), one per request in flight and one while a name lookup runs;
 *    the last ctl_conn_put frees it. It is freed only after its handles' close callbacks,
 *    so libuv callbacks (read, write, connect) always find it.
 * 5. A connection carries frames both ways: requests are dispatched to handlers, replies
 *    matched to this side's calls by sequence. An accepted connection and a dialled one
 *    differ only in who connected and in counting against ca_max_conns.
 * 6. TLS (ctl_tls set). Socket bytes go into cc_ssl's read BIO (cc_cbuf is the socket's read
 *    buffer) and plaintext comes out of SSL_read into cc_rbuf/cc_big as socket bytes do
 *    without TLS; frames are SSL_written and the write BIO is drained into uv_write. An
 *    OPEN connection without cc_tls_done is handshaking: no frame is read or written (calls
 *    wait on cc_waiting) until the handshake finished and cc_role is known. A handshake
 *    error closes the connection (after a best-effort write of the alert), as does one not
 *    finished within CTL_TLS_HANDSHAKE_MS.
 */
#ifndef CTL_INTERNAL_H
#define CTL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>
#include <daos_srv/sched.h>

#include "ctl_frame.h"
#include "ctl_tls.h"

D_LOG_FAC_DECLARE(ctl);

/* Per-connection staging buffer; larger frames get a buffer of their own. */
#define CTL_RBUF_SIZE (16 * 1024)
/* Reply bytes queued on a connection beyond which it is no longer read. */
#define CTL_WQ_MAX (8U << 20)
/* While stopping, how often to say which requests are still missing a reply. */
#define CTL_STOP_WARN_MS 10000
/* After an allocation failure at accept, retry this much later. */
#define CTL_ACCEPT_RETRY_MS 10

/* A function queued to the loop thread. */
struct ctl_msg {
	d_list_t cm_link;
	dss_ctl_func_t cm_fn;
	void *cm_arg;
	bool cm_free; /* allocated by dss_ctl_exec: freed before cm_fn runs */
	bool cm_exec; /* counted as an exec */
};

/* What precedes every frame written: the libuv write request. */
struct ctl_wreq {
	uv_write_t wr_req;
};

enum ctl_conn_state {
	CTL_CONN_RESOLVING,  /* dialled: looking its name up */
	CTL_CONN_CONNECTING, /* dialled: connect() in progress */
	CTL_CONN_OPEN,
	CTL_CONN_CLOSING, /* handles closing; off ctl_conns */
};

/* A TCP connection, accepted or dialled. Loop only. */
struct ctl_conn {
	uv_tcp_t cc_tcp;
	uv_timer_t cc_timer; /* connect timeout, then idle / stalled-writes check */
	uv_connect_t cc_connect;
	uv_getaddrinfo_t cc_gai;
	d_list_t cc_link; /* in ctl_conns while not CLOSING */
	struct dss_ctl *cc_ctl;
	int cc_ref;
	int cc_handles; /* initialised handles whose close callback has not run */
	enum ctl_conn_state cc_state;
	bool cc_outgoing;
	bool cc_counted; /* counts against ca_max_conns */
	bool cc_reading;
	bool cc_parsing;  /* in ctl_conn_parse: frames are being taken out of cc_rbuf */
	uint16_t cc_port; /* dialled: port to connect to after the lookup */
	char cc_peer[DSS_CTL_ADDR_LEN]; /* accepted: the peer; dialled: the address called */
	/* input: a staging buffer, or a frame-sized buffer while a large frame arrives */
	char *cc_rbuf;
	uint32_t cc_rlen;
	char *cc_big;
	uint32_t cc_big_len;
	uint32_t cc_big_got;
	uint32_t cc_inflight;     /* requests of this connection in handlers */
	d_list_t cc_calls;        /* struct ctl_call sent here, waiting for a reply */
	d_list_t cc_waiting;      /* struct ctl_call waiting for the connection */
	uint64_t cc_active_ns;    /* last complete frame received (or open) */
	uint64_t cc_wprogress_ns; /* last write completed (or queued on an empty queue) */
	/* TLS (invariant 6); cc_ssl NULL: plain */
	SSL *cc_ssl;
	BIO *cc_rbio; /* owned by cc_ssl */
	BIO *cc_wbio; /* owned by cc_ssl */
	char *cc_cbuf;
	uint64_t cc_open_ns;
	enum ctl_role cc_role; /* CTL_ROLE_PLAIN without TLS */
	bool cc_tls_done;
	bool cc_pumping; /* in ctl_tls_pump */
};

/* May frames be written on @conn (open, and its TLS handshake done)? */
static inline bool
ctl_conn_ready(const struct ctl_conn *conn)
{
	return conn->cc_state == CTL_CONN_OPEN && (conn->cc_ssl == NULL || conn->cc_tls_done);
}

struct dss_ctl_req {
	struct ctl_msg r_msg;    /* carries the reply to the loop */
	struct ctl_conn *r_conn; /* referenced */
	struct dss_ctl *r_ctl;
	Ctl__Envelope *r_env; /* the request; r_env->body is the request message */
	uint32_t r_method;
	uint64_t r_seq;
	char *r_wbuf; /* the encoded reply (struct ctl_wreq + frame), NULL: none */
	size_t r_wlen;
	int r_replied;
};

struct dss_ctl_timer {
	uv_timer_t t_uv;
	d_list_t t_link; /* in ctl_timers */
	struct dss_ctl *t_ctl;
	dss_ctl_timer_cb_t t_cb;
	void *t_arg;
	bool t_auto; /* frees itself after firing once */
	bool t_dead; /* deleted, close pending */
};

struct ctl_handler {
	dss_ctl_handler_t ch_fn;
	void *ch_arg;
};

enum ctl_run_state {
	CTL_RUN_NEW,
	CTL_RUN_RUNNING,
	CTL_RUN_STOPPING,
	CTL_RUN_STOPPED,
};

enum ctl_qstate {
	CTL_Q_UNINIT,
	CTL_Q_OPEN,
	CTL_Q_CLOSED,
};

struct dss_ctl {
	/* configuration, set by dss_ctl_create (ctl_addr by dss_ctl_start) */
	char *ctl_listen; /* NULL: no listener */
	char *ctl_sys;
	uint32_t ctl_max_frame;
	uint32_t ctl_max_conns;
	uint32_t ctl_inflight_max;
	uint64_t ctl_idle_ms;
	char ctl_addr[DSS_CTL_ADDR_LEN];
	bool ctl_has_addr;
	SSL_CTX *ctl_tls; /* NULL: plain TCP */

	/* the loop; run state under ctl_qlock */
	uv_loop_t ctl_loop;
	uv_async_t ctl_async;
	uv_tcp_t ctl_listener;
	uv_timer_t ctl_stop_timer;
	uv_timer_t ctl_accept_timer;
	pthread_t ctl_thread;
	enum ctl_run_state ctl_run;

	/* the queue to the loop (invariant 2) */
	pthread_mutex_t ctl_qlock;
	d_list_t ctl_queue;
	enum ctl_qstate ctl_qstate;
	struct ctl_msg ctl_stop_msg;

	/* handlers, under ctl_hlock */
	pthread_mutex_t ctl_hlock;
	struct ctl_handler ctl_handlers[DSS_CTL_METHOD_MAX];

	/* loop only */
	d_list_t ctl_conns;  /* struct ctl_conn, not CLOSING */
	d_list_t ctl_timers; /* struct dss_ctl_timer, live */
	uint32_t ctl_nconns_in;
	uint64_t ctl_pending; /* invariant 3 */
	uint64_t ctl_seq;     /* sequence of the last outgoing call */
	bool ctl_listening;
	bool ctl_accept_blocked; /* a connection waits for uv_accept (allocation failed) */
	bool ctl_stopping;
	bool ctl_drained;

	/* counters: written on the loop with relaxed atomics, read anywhere */
	struct dss_ctl_stats ctl_stats;
};

#define CTL_STAT_ADD(ctl, field, n)                                                                \
	__atomic_fetch_add(&(ctl)->ctl_stats.field, (uint64_t)(n), __ATOMIC_RELAXED)
#define CTL_STAT_SUB(ctl, field, n)                                                                \
	__atomic_fetch_sub(&(ctl)->ctl_stats.field, (uint64_t)(n), __ATOMIC_RELAXED)

/* Convert a libuv error (a negative errno on Unix) to -DER_*. */
static inline int
ctl_uv2der(int uverr)
{
	return uverr == UV_EADDRINUSE ? -DER_EXIST : d_errno2der(-uverr);
}

/* ctl_srv.c */

/*
 * Queue @msg (embedded in something that lives until it has run) for the loop. Returns 0,
 * -DER_UNINIT (not started) or -DER_SHUTDOWN (drained). Any thread.
 */
int ctl_msg_push(struct dss_ctl *ctl, struct ctl_msg *msg);

/* Create a connection (both handles initialised, on ctl_conns, one reference). Loop. */
struct ctl_conn *ctl_conn_new(struct dss_ctl *ctl, bool outgoing);
/* Start reading and the idle timer on a connected @conn; closes it on failure. Loop. */
void ctl_conn_start(struct ctl_conn *conn);
/*
 * Close @conn (idempotent): off ctl_conns, its calls fail with @rc, its handles close.
 * Loop; callbacks of its calls run from within.
 */
void ctl_conn_close(struct ctl_conn *conn, int rc);
/* Drop a reference on @conn; the last frees it. Loop. */
void ctl_conn_put(struct ctl_conn *conn);
/*
 * Write the frame of @frame_len bytes that follows the struct ctl_wreq at @wbuf (from
 * ctl_frame_encode with that headroom; ownership passes here, even on error). On a write
 * error @conn is closed. Returns 0 or -DER_UNREACH. Loop.
 */
int ctl_conn_write(struct ctl_conn *conn, char *wbuf, size_t frame_len);

/* ctl_call.c */

/* A reply arrived on @conn: complete the call it answers, if any. Loop. */
void ctl_call_reply(struct ctl_conn *conn, const struct ctl_env *env, const void *body, size_t len);
/* @conn connected: send the calls that waited for it. Loop. */
void ctl_calls_connected(struct ctl_conn *conn);
/* Complete every call of @conn with @rc (it is closing). Loop. */
void ctl_calls_fail(struct ctl_conn *conn, int rc);

/* ctl_methods.c */

/* Register the built-in methods (Ping, Telemetry, GetAttachInfo). Before start. */
int ctl_methods_register(struct dss_ctl *ctl);

#endif /* CTL_INTERNAL_H */
