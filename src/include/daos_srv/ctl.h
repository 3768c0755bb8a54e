/*
 * daos_srv/ctl.h: the engine's control thread and the management-port protocol.
 *
 * The control thread runs a libuv loop that serves the management TCP port: `dmg`, the
 * agent and the other servers send it requests; later the management service's Raft
 * (libraft on this same loop) and the heartbeats live here too (DESIGN.md §5, §8).
 *
 * Wire format. A connection carries frames in both directions; each frame is an 8-byte
 * header (magic 0xDA 0xC7, version 1, flags 0, big-endian 32-bit length) followed by that
 * many bytes of a protobuf ctl.Envelope (src/proto/ctl/envelope.proto): kind (request or
 * reply), method, sequence, status (a -DER_* code) and the method's message as bytes. Frames
 * longer than the configured maximum (16 MiB by default) are refused before anything is
 * allocated. Garbage (bad magic, version or length, an envelope that does not decode) closes
 * that connection only; an unknown method is answered with -DER_UNREG.
 *
 * Threads. Every libuv call happens on the loop thread. Other threads reach it through a
 * locked queue and uv_async_send: dss_ctl_exec() runs a function there, dss_ctl_reply()
 * sends an answer from wherever a request was finished (an xstream ULT, a helper thread),
 * dss_ctl_call() makes a call and waits for it from a ULT (it yields) or a plain thread.
 *
 *   any thread:        dss_ctl_register/unregister, dss_ctl_reply(_msg), dss_ctl_exec,
 *                      dss_ctl_stats_get, dss_ctl_on_loop, dss_ctl_req_* accessors
 *   not the loop:      dss_ctl_start/stop/destroy, dss_ctl_exec_sync and dss_ctl_call (they
 *                      wait; on the loop thread dss_ctl_exec_sync just runs the function)
 *   the loop only:     request handlers (called there), dss_ctl_call_async, timers
 *   no dss_ctl at all: dss_ctl_client_* and dss_ctl_call(NULL, ...): blocking sockets, for
 *                      tools (dmg, daos_ctl_ping) and scripts
 *
 * Security. Plain TCP unless TLS is configured (DAOS's transport_config with allow_insecure
 * false): then every connection, accepted or dialled, is TLS 1.3 with certificates on both
 * sides signed by one CA (OpenSSL; ca_tls_* below, dss_ctl_client_tls_set for tools). The
 * subject common name of a peer's certificate is its role: "admin" (dmg) and "server" may
 * call every method, "agent" the read-only ones and the credential-checked client methods
 * (220-247), any other name only Ping; a method refused by role is answered -DER_NO_PERM
 * without reaching its handler. A client accepts only a "server" certificate. A failed
 * handshake (no certificate, another CA, plain frames, garbage) closes that connection only.
 */
#ifndef DAOS_SRV_CTL_H
#define DAOS_SRV_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dss_ctl;
struct dss_ctl_req;
struct dss_ctl_timer;
struct dss_ctl_client;
/* From <protobuf-c/protobuf-c.h>; only dss_ctl_reply_msg takes one. */
struct ProtobufCMessage;

/** Method ids: the registry is enum ctl.Method in src/proto/ctl/envelope.proto. */
enum dss_ctl_method {
	DSS_CTL_PING = 1,              /* ctl.PingReq -> ctl.PingResp (built in) */
	DSS_CTL_TELEMETRY = 2,         /* ctl.TelemetryReq -> ctl.TelemetryResp (built in) */
	DSS_CTL_GET_ATTACH_INFO = 100, /* mgmt.GetAttachInfoReq -> Resp (built-in placeholder) */
	DSS_CTL_SYSTEM_QUERY = 101,    /* mgmt.SystemQueryReq -> Resp (registered by mgmt) */

	/* system and membership (MS), then pools (MS), then storage (each server) */
	DSS_CTL_SYSTEM_STOP = 102,         /* mgmt.SystemStopReq -> Resp */
	DSS_CTL_SYSTEM_START = 103,        /* mgmt.SystemStartReq -> Resp */
	DSS_CTL_SYSTEM_EXCLUDE = 104,      /* mgmt.SystemExcludeReq -> Resp */
	DSS_CTL_LEADER_QUERY = 105,        /* mgmt.LeaderQueryReq -> Resp */
	DSS_CTL_JOIN = 106,                /* mgmt.JoinReq -> Resp (engine to MS leader) */
	DSS_CTL_HEARTBEAT = 107,           /* mgmt.HeartbeatReq -> Resp (engine to MS leader) */
	DSS_CTL_ENGINE_STOP = 108,         /* mgmt.EngineCtlReq -> Resp (MS leader to a server) */
	DSS_CTL_ENGINE_START = 109,        /* mgmt.EngineCtlReq -> Resp (MS leader to a server) */
	DSS_CTL_POOL_CREATE = 150,         /* mgmt.PoolCreateReq -> Resp */
	DSS_CTL_POOL_DESTROY = 151,        /* mgmt.PoolDestroyReq -> Resp */
	DSS_CTL_POOL_LIST = 152,           /* mgmt.ListPoolsReq -> Resp */
	DSS_CTL_POOL_QUERY = 153,          /* mgmt.PoolQueryReq -> Resp */
	DSS_CTL_POOL_GET_PROP = 154,       /* mgmt.PoolGetPropReq -> Resp */
	DSS_CTL_POOL_SET_PROP = 155,       /* mgmt.PoolSetPropReq -> Resp */
	DSS_CTL_POOL_GET_ACL = 156,        /* mgmt.GetACLReq -> mgmt.ACLResp */
	DSS_CTL_POOL_UPDATE_ACL = 157,     /* mgmt.ModifyACLReq -> mgmt.ACLResp */
	DSS_CTL_POOL_DELETE_ACL = 158,     /* mgmt.DeleteACLReq -> mgmt.ACLResp */
	DSS_CTL_POOL_OVERWRITE_ACL = 159,  /* mgmt.ModifyACLReq -> mgmt.ACLResp */
	DSS_CTL_POOL_LIST_CONT = 160,      /* mgmt.ListContReq -> Resp */
	DSS_CTL_POOL_EVICT = 161,          /* mgmt.PoolEvictReq -> Resp */
	DSS_CTL_POOL_EXCLUDE = 162,        /* mgmt.PoolRanksReq -> Resp */
	DSS_CTL_POOL_DRAIN = 163,          /* mgmt.PoolRanksReq -> Resp */
	DSS_CTL_POOL_REINT = 164,          /* mgmt.PoolRanksReq -> Resp */
	DSS_CTL_STORAGE_FORMAT = 200,      /* mgmt.StorageFormatReq -> Resp */
	DSS_CTL_STORAGE_QUERY_USAGE = 201, /* mgmt.StorageUsageReq -> Resp */

	/* clients: pool handles and containers (MS; cont.proto), relayed by the engines */
	DSS_CTL_POOL_CONNECT = 220,       /* mgmt.PoolConnectReq -> mgmt.PoolConnectResp */
	DSS_CTL_POOL_DISCONNECT = 221,    /* mgmt.PoolDisconnectReq -> mgmt.PoolDisconnectResp */
	DSS_CTL_POOL_MAP_GET = 222,       /* mgmt.PoolHdlReq -> mgmt.PoolConnectResp */
	DSS_CTL_POOL_ATTR_LIST = 223,     /* mgmt.AttrListReq -> mgmt.AttrListResp */
	DSS_CTL_POOL_ATTR_GET = 224,      /* mgmt.AttrGetReq -> mgmt.AttrGetResp */
	DSS_CTL_POOL_ATTR_SET = 225,      /* mgmt.AttrSetReq -> mgmt.AttrResp */
	DSS_CTL_POOL_ATTR_DEL = 226,      /* mgmt.AttrDelReq -> mgmt.AttrResp */
	DSS_CTL_POOL_HDL_QUERY = 227,     /* mgmt.PoolHdlReq -> mgmt.PoolQueryResp */
	DSS_CTL_POOL_HDL_LIST_CONT = 228, /* mgmt.PoolHdlReq -> mgmt.ListContResp */
	DSS_CTL_CONT_CREATE = 230,        /* mgmt.ContCreateReq -> mgmt.ContCreateResp */
	DSS_CTL_CONT_DESTROY = 231,       /* mgmt.ContDestroyReq -> mgmt.ContDestroyResp */
	DSS_CTL_CONT_OPEN = 232,          /* mgmt.ContOpenReq -> mgmt.ContOpenResp */
	DSS_CTL_CONT_CLOSE = 233,         /* mgmt.ContCloseReq -> mgmt.ContCloseResp */
	DSS_CTL_CONT_QUERY = 234,         /* mgmt.ContQueryReq -> mgmt.ContQueryResp */
	DSS_CTL_CONT_GET_PROP = 235,      /* mgmt.ContQueryReq -> mgmt.ContQueryResp */
	DSS_CTL_CONT_SET_PROP = 236,      /* mgmt.ContSetPropReq -> mgmt.ContSetPropResp */
	DSS_CTL_CONT_SNAP_CREATE = 237,   /* mgmt.ContSnapReq -> mgmt.ContSnapResp */
	DSS_CTL_CONT_SNAP_LIST = 238,     /* mgmt.ContSnapReq -> mgmt.ContSnapResp */
	DSS_CTL_CONT_SNAP_DESTROY = 239,  /* mgmt.ContSnapReq -> mgmt.ContSnapResp */
	DSS_CTL_CONT_ATTR_LIST = 240,     /* mgmt.AttrListReq -> mgmt.AttrListResp */
	DSS_CTL_CONT_ATTR_GET = 241,      /* mgmt.AttrGetReq -> mgmt.AttrGetResp */
	DSS_CTL_CONT_ATTR_SET = 242,      /* mgmt.AttrSetReq -> mgmt.AttrResp */
	DSS_CTL_CONT_ATTR_DEL = 243,      /* mgmt.AttrDelReq -> mgmt.AttrResp */
	DSS_CTL_CONT_UPDATE_ACL = 244,    /* mgmt.ContAclReq -> mgmt.ContAclResp */
	DSS_CTL_CONT_OVERWRITE_ACL = 245, /* mgmt.ContAclReq -> mgmt.ContAclResp */
	DSS_CTL_CONT_DELETE_ACL = 246,    /* mgmt.ContAclReq -> mgmt.ContAclResp */
	DSS_CTL_CONT_ALLOC_OIDS = 247,    /* mgmt.ContAllocOidsReq -> mgmt.ContAllocOidsResp */

	/* server to server: one engine's pool shards (asked by the MS) */
	DSS_CTL_TGT_CREATE = 300,       /* mgmt.TgtCreateReq -> Resp (the engine's pool shards) */
	DSS_CTL_TGT_DESTROY = 301,      /* mgmt.TgtDestroyReq -> Resp */
	DSS_CTL_TGT_QUERY = 302,        /* mgmt.TgtQueryReq -> Resp */
	DSS_CTL_TGT_CONT_DESTROY = 303, /* mgmt.TgtContDestroyReq -> mgmt.TgtDestroyResp */
	DSS_CTL_TGT_HDL = 304,          /* mgmt.TgtHdlReq -> mgmt.TgtHdlResp (container handles) */
};

/** Method ids are 1 .. DSS_CTL_METHOD_MAX - 1. */
#define DSS_CTL_METHOD_MAX 1024

/** Defaults of struct dss_ctl_attr and of calls. */
#define DSS_CTL_FRAME_MAX_DEFAULT (16U << 20)
#define DSS_CTL_FRAME_MAX_LIMIT (256U << 20)
#define DSS_CTL_CONNS_MAX_DEFAULT 1024
#define DSS_CTL_IDLE_TIMEOUT_DEFAULT_MS 60000
#define DSS_CTL_CONN_INFLIGHT_DEFAULT 128
#define DSS_CTL_CALL_TIMEOUT_DEFAULT_MS 30000
/** Room for an address string "[v6]:port" (with the NUL). */
#define DSS_CTL_ADDR_LEN 64

/** Configuration of a control thread; a zero field takes its default. */
struct dss_ctl_attr {
	/*
	 * Where to listen: "host:port", "[v6addr]:port" or "localhost:port"; port 0 picks a
	 * free one (dss_ctl_listen_addr tells which). NULL: no listener (calls only).
	 */
	const char *ca_listen;
	/** System name, answered by Ping and GetAttachInfo (NULL: "daos_server"). */
	const char *ca_sys_name;
	/** Largest frame accepted or sent, bytes (at most DSS_CTL_FRAME_MAX_LIMIT). */
	uint32_t ca_max_frame;
	/** Accepted connections open at once; more are closed at once (a flood). */
	uint32_t ca_max_conns;
	/**
	 * A connection with no request of its own in flight that completes no frame for this
	 * long is closed, as is one whose replies have not drained for this long (ms).
	 */
	uint64_t ca_idle_timeout_ms;
	/** Requests of one connection in handlers before it stops being read. */
	uint32_t ca_conn_inflight;
	/**
	 * TLS: this server's certificate and key and the CA (PEM paths), for accepted and
	 * dialled connections alike. All NULL: plain TCP; all three or none.
	 */
	const char *ca_tls_cert;
	const char *ca_tls_key;
	const char *ca_tls_ca;
};

/** Counters of a control thread; read from another thread they are a loose snapshot. */
struct dss_ctl_stats {
	uint64_t cs_conns_open;     /* connections open now (accepted and dialled) */
	uint64_t cs_conns_accepted; /* accepted ever */
	uint64_t cs_conns_refused;  /* closed at accept: too many open */
	uint64_t cs_conns_bad;      /* closed for a protocol error (garbage, oversize frame) */
	uint64_t cs_conns_idle;     /* closed by the idle timeout */
	uint64_t cs_requests;       /* requests received */
	uint64_t cs_replies;        /* replies sent (or dropped: connection gone) */
	uint64_t cs_pending;        /* requests handed to handlers and not replied yet */
	uint64_t cs_calls;          /* outgoing calls made */
	uint64_t cs_execs;          /* functions run by dss_ctl_exec(_sync) */
	uint64_t cs_tls_failed;     /* TLS handshakes failed or timed out (closed) */
	uint64_t cs_denied;         /* requests refused for the peer's role (-DER_NO_PERM) */
};

/**
 * Create a control thread configured by @attr (borrowed; strings are copied). It neither
 * listens nor runs until dss_ctl_start; Ping, Telemetry and GetAttachInfo handlers are
 * registered already. On success *@ctl is owned by the caller, freed by dss_ctl_destroy.
 * Returns 0, -DER_INVAL (bad address or limits, TLS files that do not load: the reason is
 * logged) or -DER_NOMEM.
 *
 * Context: any thread.
 */
int dss_ctl_create(const struct dss_ctl_attr *attr, struct dss_ctl **ctl);

/**
 * Bind and listen (if configured), then run the loop on a new thread named "daos_ctl".
 * Sets SIGPIPE to be ignored in the process (a peer that vanished must not kill us).
 * Returns 0, -DER_ALREADY, or the bind/listen error converted (-DER_EXIST: address in use).
 *
 * Context: any thread but the loop's; once per @ctl.
 */
int dss_ctl_start(struct dss_ctl *ctl);

/**
 * Stop @ctl and join its thread: the listener and every connection close, outgoing calls
 * fail with -DER_SHUTDOWN, timers are deleted (handles invalid), then the loop keeps
 * running until every request handed to a handler has been replied (replies are dropped;
 * a warning is logged every 10 s while some are missing), runs the functions already queued
 * by dss_ctl_exec, and returns. Later dss_ctl_exec/call fail with -DER_SHUTDOWN.
 * Idempotent; a no-op on a @ctl that never started.
 *
 * Context: any thread but the loop's (it joins the loop); may block.
 */
void dss_ctl_stop(struct dss_ctl *ctl);

/** Stop (if needed) and free @ctl (NULL is fine). Context: as dss_ctl_stop. */
void dss_ctl_destroy(struct dss_ctl *ctl);

/**
 * Copy the address @ctl listens on, with the port resolved ("127.0.0.1:40123"), into @buf
 * of @len bytes (DSS_CTL_ADDR_LEN is enough). Returns 0, -DER_NONEXIST if it does not
 * listen (yet), -DER_TRUNC if @buf is too small.
 *
 * Context: any thread, after dss_ctl_start.
 */
int dss_ctl_listen_addr(struct dss_ctl *ctl, char *buf, size_t len);

/** Is the calling thread @ctl's loop thread? Context: any thread. */
bool dss_ctl_on_loop(const struct dss_ctl *ctl);

/* From <uv.h>. */
struct uv_loop_s;

/**
 * The uv loop of @ctl's control thread, for components that live on it (rdb: raft). The
 * loop is borrowed: valid until dss_ctl_destroy; only the loop thread may use it (others
 * reach it through dss_ctl_exec). The control thread exits only when its loop has no
 * handles left, so stop such a component (e.g. rdb_stop from a dss_ctl_exec function)
 * before dss_ctl_stop, or dss_ctl_stop does not return.
 *
 * Context: any thread (the pointer); the loop thread (using it).
 */
struct uv_loop_s *dss_ctl_uv_loop(struct dss_ctl *ctl);

/** Copy @ctl's counters into *@st. Context: any thread. */
void dss_ctl_stats_get(const struct dss_ctl *ctl, struct dss_ctl_stats *st);

/*
 * Serving requests.
 */

/**
 * A request handler, called on the loop thread with a request @req that it now owns: it
 * must call dss_ctl_reply (or _msg) on it exactly once, at once or later from any thread
 * (typically after handing the work to an xstream with dss_ult_create). It must not block
 * the loop. @arg is the registration's.
 */
typedef void (*dss_ctl_handler_t)(struct dss_ctl_req *req, void *arg);

/**
 * Serve @method (1 .. DSS_CTL_METHOD_MAX - 1) with @handler(req, @arg) (@arg borrowed, it
 * must outlive the registration and the requests it serves). Returns 0, -DER_INVAL, or
 * -DER_EXIST if @method has a handler (unregister a built-in one first to replace it).
 *
 * Context: any thread (takes the handler table's lock).
 */
int dss_ctl_register(struct dss_ctl *ctl, uint32_t method, dss_ctl_handler_t handler, void *arg);

/**
 * Stop serving @method; later requests get -DER_UNREG. Requests already handed to the
 * handler stay valid. Returns 0 or -DER_NONEXIST. Context: any thread.
 */
int dss_ctl_unregister(struct dss_ctl *ctl, uint32_t method);

/** The method of @req. Context: any thread, until @req is replied. */
uint32_t dss_ctl_req_method(const struct dss_ctl_req *req);

/**
 * The request message (the envelope's body) of @req: *@len bytes (may be 0), borrowed
 * until @req is replied. Context: any thread, until @req is replied.
 */
const void *dss_ctl_req_body(const struct dss_ctl_req *req, size_t *len);

/** The peer's address ("127.0.0.1:53412"), borrowed until @req is replied. Context: any. */
const char *dss_ctl_req_peer(const struct dss_ctl_req *req);

/** The control thread that received @req. Context: any thread, until @req is replied. */
struct dss_ctl *dss_ctl_req_ctl(const struct dss_ctl_req *req);

/**
 * Answer @req with @status (0 or -DER_*) and the reply message @body of @len bytes
 * (borrowed: copied before this returns; NULL when @len is 0), then free @req. A body that
 * does not fit the frame limit is replaced by status -DER_REC2BIG; if memory runs out the
 * reply is -DER_NOMEM without a body. If the connection is gone the reply is dropped.
 *
 * Context: any thread, exactly once per request; does not block (from another thread the
 * frame is encoded there and queued to the loop).
 */
void dss_ctl_reply(struct dss_ctl_req *req, int status, const void *body, size_t len);

/**
 * dss_ctl_reply with the protobuf-c message @msg (borrowed; NULL: no body) packed straight
 * into the frame, without an intermediate buffer.
 *
 * Context: as dss_ctl_reply.
 */
void dss_ctl_reply_msg(struct dss_ctl_req *req, int status, const struct ProtobufCMessage *msg);

/*
 * Running code on the loop.
 */

typedef void (*dss_ctl_func_t)(void *arg);

/**
 * Run @fn(@arg) on @ctl's loop thread, soon, after the work already queued (FIFO per
 * calling thread). Returns 0, after which @fn runs exactly once (even if @ctl stops in the
 * meantime), -DER_UNINIT before dss_ctl_start, -DER_SHUTDOWN once the loop has finished
 * draining at stop, or -DER_NOMEM; on error @fn never runs.
 *
 * Context: any thread, including the loop's own (@fn then runs on a later turn).
 */
int dss_ctl_exec(struct dss_ctl *ctl, dss_ctl_func_t fn, void *arg);

/**
 * Run @fn(@arg) on the loop thread and wait until it returned. On the loop thread it
 * runs at once. Returns as dss_ctl_exec (-DER_NOMEM: no eventual to wait on).
 *
 * Context: a ULT (it yields), any thread that is not an xstream (it blocks), or the loop.
 */
int dss_ctl_exec_sync(struct dss_ctl *ctl, dss_ctl_func_t fn, void *arg);

/** A timer callback, on the loop thread. The callback may delete its own timer. */
typedef void (*dss_ctl_timer_cb_t)(struct dss_ctl_timer *timer, void *arg);

/**
 * Call @cb(timer, @arg) on the loop after @timeout_ms, then every @repeat_ms (0: once).
 * With @timer non-NULL, *@timer is a handle valid until dss_ctl_timer_del (a one-shot
 * timer stays allocated after firing until then); with @timer NULL the timer frees itself
 * after firing once (@repeat_ms must be 0). Timers left at stop are deleted by it.
 * Returns 0, -DER_INVAL, -DER_NOMEM or -DER_SHUTDOWN (stopping).
 *
 * Context: the loop thread (other threads go through dss_ctl_exec).
 */
int dss_ctl_timer_add(struct dss_ctl *ctl, uint64_t timeout_ms, uint64_t repeat_ms,
		      dss_ctl_timer_cb_t cb, void *arg, struct dss_ctl_timer **timer);

/** Stop and free @timer (NULL is fine); its callback is not called again. Context: loop. */
void dss_ctl_timer_del(struct dss_ctl_timer *timer);

/*
 * Calling other servers.
 */

/**
 * The outcome of a call: @rc is the remote status (0 or -DER_*) when a reply came, else
 * -DER_UNREACH (could not connect, or the connection broke before the reply), -DER_TIMEDOUT
 * (no reply in time), -DER_PROTO (the peer sent garbage), -DER_SHUTDOWN or -DER_NOMEM. The
 * reply message @body (@len bytes, may be NULL/0) is borrowed for the callback's duration.
 */
typedef void (*dss_ctl_call_cb_t)(int rc, const void *body, size_t len, void *arg);

/**
 * Call @method at @addr ("host:port") with the request message @body (@len bytes,
 * borrowed: copied before this returns) and @timeout_ms (0: the default, 30 s) for the
 * whole call, connection included. Connections to a peer are opened on demand, shared by
 * the calls in flight to it (requests are matched to replies by sequence) and closed when
 * idle. @cb(rc, reply, len, @arg) runs on the loop thread, never from within this call.
 * Returns 0 (then @cb runs exactly once), or -DER_INVAL, -DER_REC2BIG, -DER_NOMEM,
 * -DER_SHUTDOWN or -DER_UNREACH (a connect that failed at once); then it never runs.
 *
 * Context: the loop thread.
 */
int dss_ctl_call_async(struct dss_ctl *ctl, const char *addr, uint32_t method, const void *body,
		       size_t len, uint64_t timeout_ms, dss_ctl_call_cb_t cb, void *arg);

/**
 * Call @method at @addr and wait for the outcome (see dss_ctl_call_cb_t for the return
 * value). With @ctl, the call goes through its loop (dss_ctl_call_async) and the caller
 * waits: a ULT yields, a plain thread blocks. With @ctl NULL, the calling thread opens its
 * own connection with blocking sockets (dss_ctl_client_*), for tools. On a reply, *@reply
 * receives the reply message (the caller frees it with D_FREE; NULL when empty) and
 * *@reply_len its length, also when the reply's status is an error (-DER_NOTLEADER comes
 * with a leader hint); both may be NULL if the caller does not want it.
 *
 * Context: with @ctl a ULT or a thread that is not an xstream, never the loop thread
 * (-DER_INVAL); with NULL any thread that may block.
 */
int dss_ctl_call(struct dss_ctl *ctl, const char *addr, uint32_t method, const void *body,
		 size_t len, uint64_t timeout_ms, void **reply, size_t *reply_len);

/*
 * A blocking client connection, for tools (dmg, daos_ctl_ping) that have no control thread.
 * One thread at a time per connection.
 */

/**
 * Connect to @addr ("host:port", hostnames resolved) within @timeout_ms (0: the default).
 * On success *@cli is owned by the caller, freed by dss_ctl_client_close. Returns 0,
 * -DER_INVAL (bad address), -DER_UNREACH (refused, unreachable or no answer in time) or
 * -DER_NOMEM.
 *
 * Context: any thread that may block.
 */
int dss_ctl_client_open(const char *addr, uint64_t timeout_ms, struct dss_ctl_client **cli);

/**
 * Call @method on @cli as dss_ctl_call does. After a timeout or a broken connection the
 * next call reconnects first (its timeout covers that too).
 *
 * Context: the thread using @cli; blocks up to @timeout_ms.
 */
int dss_ctl_client_call(struct dss_ctl_client *cli, uint32_t method, const void *body, size_t len,
			uint64_t timeout_ms, void **reply, size_t *reply_len);

/** Close and free @cli (NULL is fine). Context: the thread using @cli. */
void dss_ctl_client_close(struct dss_ctl_client *cli);

/**
 * Make this process's blocking clients (dss_ctl_client_*, dss_ctl_call(NULL, ...)) use TLS
 * with certificate @cert, key @key and CA @ca (PEM paths; all NULL: plain TCP). Without a
 * call, the environment variables DAOS_CTL_CA_CERT, DAOS_CTL_CERT and DAOS_CTL_KEY are
 * read at the first connection (for test tools). Returns 0 or -DER_INVAL with the reason
 * (file and OpenSSL's message) in @err.
 *
 * Context: any thread, before the clients it affects are opened.
 */
int dss_ctl_client_tls_set(const char *ca, const char *cert, const char *key, char *err,
			   size_t errlen);

/**
 * Why the last dss_ctl_client_open/call of the calling thread failed in TLS ("" when it did
 * not): a refused certificate, a server without TLS, or a TLS server for a plain client.
 * Such failures return -DER_NO_PERM (or -DER_UNREACH when the peer just closed).
 * The string is the calling thread's, valid until its next call. Context: any thread.
 */
const char *dss_ctl_client_tls_error(void);

#endif /* DAOS_SRV_CTL_H */
