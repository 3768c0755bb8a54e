/*
 * daos/net.h: RPC over libfabric, shared by the client library and the engine.
 *
 * A net_context is one libfabric RDM endpoint with its completion queue, address vector and
 * memory-registration domain, owned by one thread at a time (an engine xstream, or whichever
 * thread libdaos lets drive an event queue). A context is both a client (it sends requests
 * and matches replies to them by request id) and a server (it receives requests and hands
 * them to the handler registered for their opcode). Payloads above the inline threshold go
 * by RMA: the client registers its buffers (net_bulk_create) and sends their keys with the
 * request; the server reads or writes them directly (net_bulk_get/put).
 *
 * Every callback (RPC completion, bulk completion, request handler) runs inside
 * net_progress on the context's thread, never inside the call that started the operation.
 * Messages are a fixed header plus a body encoded by a per-opcode codec; codecs are
 * generated from field lists (NET_STRUCT / NET_CODEC_DEFINE) and described once per module
 * in an opcode table (NET_PROTO_DEFINE). src/net/README.md has the wire format, the
 * invariants and how to add an opcode.
 */
#ifndef DAOS_NET_H
#define DAOS_NET_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <daos_errno.h>
#include <gurt/types.h>

/* Defaults and limits. */
#define NET_PROVIDER_DEFAULT "tcp;ofi_rxm"
/** Payloads above this many bytes should travel by bulk (RMA) rather than inline. */
#define NET_INLINE_MAX_DEFAULT (16 * 1024)
/** Headroom of a message above the inline threshold, for the header and other fields. */
#define NET_MSG_OVERHEAD (4 * 1024)
/** Receive buffers a context keeps posted, by default. */
#define NET_RX_NR_DEFAULT 64
/** Busy-polling time of net_progress before it sleeps, by default (us). */
#define NET_SPIN_US_DEFAULT 50
/**
 * Longest busy-poll of net_progress while RPCs of the context wait for replies (us). By
 * default the same as NET_SPIN_US_DEFAULT, i.e. no extra spin: measured on two shared
 * cores it did not lower the round trip when client and server had a core each, and raised
 * its median when they did not (docs/PERFORMANCE.md). Clients with a core of their own may
 * set ca_spin_rpc_us (e.g. 1000).
 */
#define NET_SPIN_RPC_US_DEFAULT NET_SPIN_US_DEFAULT
/** Longest raw endpoint address carried in a request. */
#define NET_ADDR_RAW_MAX 128
/** Longest string address, NUL included. */
#define NET_ADDR_STR_MAX 160
/** Most remote buffers (segments) one request may carry. */
#define NET_BULK_SEG_MAX 64
/** Timeout of an RPC sent with timeout 0 (ms). */
#define NET_TIMEOUT_DEFAULT_MS 30000

/* Fault-injection points of this module (ids 300..399; see gurt/fault_inject.h). */
#define NET_FI_SEND_DROP 300     /* a request is not sent, as if the network lost it */
#define NET_FI_REPLY_DROP 301    /* a server drops a reply instead of sending it */
#define NET_FI_RECV_DROP 302     /* a received message is ignored */
#define NET_FI_BULK_ERR 303      /* a bulk transfer fails (fa_err_code, default -DER_IO) */
#define NET_FI_SEND_ERR 304      /* posting a request fails as if the peer were unreachable */
#define NET_FI_REPLY_CORRUPT 305 /* a reply body gets one corrupted byte before it is sent */

struct net_context;
struct net_req;
struct net_msg;
struct net_bulk;

/** A peer in a context's address vector (from net_peer_lookup); valid in that context only. */
typedef uint64_t net_peer_t;

/*
 * Codecs. A body is a sequence of fields, fixed-width little-endian; variable-length fields
 * (bytes, strings) are a u32 length then the bytes (a string is followed by a NUL). Decoding
 * is zero-copy: a decoded d_iov_t or string points into the received message. A decoder
 * checks every length against the bytes left and the field's maximum; on malformed input it
 * returns -DER_PROTO (truncated, trailing bytes, an unterminated string) or -DER_INVAL (a
 * field above its maximum).
 */
struct net_wbuf {
	uint8_t *wb_cur;
	uint8_t *wb_end;
};

struct net_rbuf {
	const uint8_t *rb_cur;
	const uint8_t *rb_end;
};

#define NET_CODEC_FIXED(kind, ctype, bits)                                                         \
	static inline size_t net_len_##kind(const ctype *v, uint32_t max)                          \
	{                                                                                          \
		(void)v;                                                                           \
		(void)max;                                                                         \
		return sizeof(ctype);                                                              \
	}                                                                                          \
	static inline int net_enc_##kind(struct net_wbuf *w, const ctype *v, uint32_t max)         \
	{                                                                                          \
		uint##bits##_t x = htole##bits((uint##bits##_t)(*v));                              \
		(void)max;                                                                         \
		if ((size_t)(w->wb_end - w->wb_cur) < sizeof(x))                                   \
			return -DER_OVERFLOW;                                                      \
		memcpy(w->wb_cur, &x, sizeof(x));                                                  \
		w->wb_cur += sizeof(x);                                                            \
		return 0;                                                                          \
	}                                                                                          \
	static inline int net_dec_##kind(struct net_rbuf *r, ctype *v, uint32_t max)               \
	{                                                                                          \
		uint##bits##_t x;                                                                  \
		(void)max;                                                                         \
		if ((size_t)(r->rb_end - r->rb_cur) < sizeof(x))                                   \
			return -DER_PROTO;                                                         \
		memcpy(&x, r->rb_cur, sizeof(x));                                                  \
		r->rb_cur += sizeof(x);                                                            \
		*v = (ctype)le##bits##toh(x);                                                      \
		return 0;                                                                          \
	}

#define htole8(x) (x)
#define le8toh(x) (x)
NET_CODEC_FIXED(u8, uint8_t, 8)
NET_CODEC_FIXED(u16, uint16_t, 16)
NET_CODEC_FIXED(u32, uint32_t, 32)
NET_CODEC_FIXED(u64, uint64_t, 64)
NET_CODEC_FIXED(i32, int32_t, 32)
NET_CODEC_FIXED(i64, int64_t, 64)
#undef htole8
#undef le8toh

static inline size_t
net_len_uuid(const uuid_t *v, uint32_t max)
{
	(void)v;
	(void)max;
	return sizeof(uuid_t);
}

static inline int
net_enc_uuid(struct net_wbuf *w, const uuid_t *v, uint32_t max)
{
	(void)max;
	if ((size_t)(w->wb_end - w->wb_cur) < sizeof(uuid_t))
		return -DER_OVERFLOW;
	memcpy(w->wb_cur, *v, sizeof(uuid_t));
	w->wb_cur += sizeof(uuid_t);
	return 0;
}

static inline int
net_dec_uuid(struct net_rbuf *r, uuid_t *v, uint32_t max)
{
	(void)max;
	if ((size_t)(r->rb_end - r->rb_cur) < sizeof(uuid_t))
		return -DER_PROTO;
	memcpy(*v, r->rb_cur, sizeof(uuid_t));
	r->rb_cur += sizeof(uuid_t);
	return 0;
}

/* bytes: u32 length, then the bytes (iov_len of them; at most max). */
static inline size_t
net_len_bytes(const d_iov_t *v, uint32_t max)
{
	(void)max;
	return sizeof(uint32_t) + v->iov_len;
}

static inline int
net_enc_bytes(struct net_wbuf *w, const d_iov_t *v, uint32_t max)
{
	uint32_t n = htole32((uint32_t)v->iov_len);

	if (v->iov_len > max)
		return -DER_OVERFLOW;
	if ((size_t)(w->wb_end - w->wb_cur) < sizeof(n) + v->iov_len)
		return -DER_OVERFLOW;
	memcpy(w->wb_cur, &n, sizeof(n));
	w->wb_cur += sizeof(n);
	if (v->iov_len > 0)
		memcpy(w->wb_cur, v->iov_buf, v->iov_len);
	w->wb_cur += v->iov_len;
	return 0;
}

static inline int
net_dec_bytes(struct net_rbuf *r, d_iov_t *v, uint32_t max)
{
	uint32_t n;

	if ((size_t)(r->rb_end - r->rb_cur) < sizeof(n))
		return -DER_PROTO;
	memcpy(&n, r->rb_cur, sizeof(n));
	n = le32toh(n);
	if (n > max)
		return -DER_INVAL;
	if ((size_t)(r->rb_end - r->rb_cur) - sizeof(n) < n)
		return -DER_PROTO;
	r->rb_cur += sizeof(n);
	v->iov_buf = n == 0 ? NULL : (void *)r->rb_cur;
	v->iov_len = v->iov_buf_len = n;
	r->rb_cur += n;
	return 0;
}

/* str: u32 length (NUL excluded; at most max), the bytes, a NUL. NULL encodes as "". */
static inline size_t
net_len_str(const char *const *v, uint32_t max)
{
	(void)max;
	return sizeof(uint32_t) + (*v == NULL ? 0 : strlen(*v)) + 1;
}

static inline int
net_enc_str(struct net_wbuf *w, const char *const *v, uint32_t max)
{
	size_t len = *v == NULL ? 0 : strlen(*v);
	uint32_t n = htole32((uint32_t)len);

	if (len > max)
		return -DER_OVERFLOW;
	if ((size_t)(w->wb_end - w->wb_cur) < sizeof(n) + len + 1)
		return -DER_OVERFLOW;
	memcpy(w->wb_cur, &n, sizeof(n));
	w->wb_cur += sizeof(n);
	if (len > 0)
		memcpy(w->wb_cur, *v, len);
	w->wb_cur[len] = '\0';
	w->wb_cur += len + 1;
	return 0;
}

static inline int
net_dec_str(struct net_rbuf *r, const char **v, uint32_t max)
{
	uint32_t n;

	if ((size_t)(r->rb_end - r->rb_cur) < sizeof(n))
		return -DER_PROTO;
	memcpy(&n, r->rb_cur, sizeof(n));
	n = le32toh(n);
	if (n > max)
		return -DER_INVAL;
	if ((size_t)(r->rb_end - r->rb_cur) - sizeof(n) <= n)
		return -DER_PROTO;
	r->rb_cur += sizeof(n);
	if (r->rb_cur[n] != '\0' || memchr(r->rb_cur, '\0', n) != NULL)
		return -DER_PROTO;
	*v = (const char *)r->rb_cur;
	r->rb_cur += n + 1;
	return 0;
}

/*
 * Field lists. A message struct is described once as a list of fields,
 *
 *	#define MY_IN_FIELDS(F) F(u64, mi_seq, 0) F(bytes, mi_data, 4096) F(str, mi_name, 255)
 *	NET_STRUCT(my_in, MY_IN_FIELDS);                  (in a header: struct my_in)
 *	NET_CODEC_DEFINE(my_in, MY_IN_FIELDS)             (in one .c: my_in_len/_enc/_dec)
 *
 * Kinds: u8 u16 u32 u64 i32 i64 uuid (the third argument is ignored), bytes (d_iov_t) and
 * str (const char *) whose third argument is their largest length. A struct needs at least
 * one field. A hand-written codec provides the same three functions.
 */
#define NET_CTYPE_u8 uint8_t
#define NET_CTYPE_u16 uint16_t
#define NET_CTYPE_u32 uint32_t
#define NET_CTYPE_u64 uint64_t
#define NET_CTYPE_i32 int32_t
#define NET_CTYPE_i64 int64_t
#define NET_CTYPE_uuid uuid_t
#define NET_CTYPE_bytes d_iov_t
#define NET_CTYPE_str const char *

#define NET_FIELD_DECL(kind, name, max) NET_CTYPE_##kind name;
#define NET_FIELD_LEN(kind, name, max) len += net_len_##kind(&p->name, max);
#define NET_FIELD_ENC(kind, name, max)                                                             \
	if (rc == 0)                                                                               \
		rc = net_enc_##kind(w, &p->name, max);
#define NET_FIELD_DEC(kind, name, max)                                                             \
	if (rc == 0)                                                                               \
		rc = net_dec_##kind(r, &p->name, max);

/** Declare struct @sname with the fields of @FIELDS. */
#define NET_STRUCT(sname, FIELDS)                                                                  \
	struct sname {                                                                             \
		FIELDS(NET_FIELD_DECL)                                                             \
	}

/** Define the codec of struct @sname: @sname_len, @sname_enc and @sname_dec (static). */
#define NET_CODEC_DEFINE(sname, FIELDS)                                                            \
	static size_t sname##_len(const void *arg)                                                 \
	{                                                                                          \
		const struct sname *p = arg;                                                       \
		size_t len = 0;                                                                    \
		FIELDS(NET_FIELD_LEN)                                                              \
		return len;                                                                        \
	}                                                                                          \
	static int sname##_enc(const void *arg, struct net_wbuf *w)                                \
	{                                                                                          \
		const struct sname *p = arg;                                                       \
		int rc = 0;                                                                        \
		FIELDS(NET_FIELD_ENC)                                                              \
		return rc;                                                                         \
	}                                                                                          \
	static int sname##_dec(void *arg, struct net_rbuf *r)                                      \
	{                                                                                          \
		struct sname *p = arg;                                                             \
		int rc = 0;                                                                        \
		memset(p, 0, sizeof(*p));                                                          \
		FIELDS(NET_FIELD_DEC)                                                              \
		return rc;                                                                         \
	}

/** The codec and name of one opcode. */
struct net_opc_info {
	uint16_t oi_opc;
	const char *oi_name;
	uint32_t oi_req_size; /* sizeof the request struct */
	uint32_t oi_rep_size; /* sizeof the reply struct */
	size_t (*oi_req_len)(const void *req);
	int (*oi_req_enc)(const void *req, struct net_wbuf *w);
	int (*oi_req_dec)(void *req, struct net_rbuf *r);
	size_t (*oi_rep_len)(const void *rep);
	int (*oi_rep_enc)(const void *rep, struct net_wbuf *w);
	int (*oi_rep_dec)(void *rep, struct net_rbuf *r);
};

/** A module's opcodes: np_opcs[i].oi_opc must be NET_OPC(np_module, i). */
struct net_proto {
	const char *np_name;
	uint32_t np_module;
	uint32_t np_count;
	const struct net_opc_info *np_opcs;
};

/** Opcodes are a module number (0..NET_MODULE_MAX-1) and an index in the module's table. */
#define NET_MODULE_MAX 64
#define NET_OPC(module, index) ((uint16_t)((module) << 8 | (index)))
#define NET_OPC_MODULE(opc) ((uint32_t)(opc) >> 8)
#define NET_OPC_INDEX(opc) ((uint32_t)(opc)&0xff)

/*
 * An opcode table is an X-macro of rows X(opcode, name, request struct, reply struct,
 * handler). NET_PROTO_DEFINE turns it into a struct net_proto (codecs and names, for client
 * and server); NET_HANDLERS_DEFINE into the handler array a server registers with
 * net_handlers_register. The handler column is expanded only by servers.
 */
#define NET_OPC_INFO_ENT(opc, name, req, rep, handler)                                             \
	{opc,       #name,     sizeof(struct req), sizeof(struct rep), req##_len,                  \
	 req##_enc, req##_dec, rep##_len,          rep##_enc,          rep##_dec},
#define NET_PROTO_DEFINE(var, pname, module, TABLE)                                                \
	static const struct net_opc_info var##_opcs[] = {TABLE(NET_OPC_INFO_ENT)};                 \
	const struct net_proto var = {pname, module, sizeof(var##_opcs) / sizeof(var##_opcs[0]),   \
				      var##_opcs}

/**
 * Handle a request. @body is the decoded request (borrowed, valid until the reply is sent;
 * its iovs and strings point into the received message). The handler, or code it hands
 * @req to on the same thread, must call net_reply_send exactly once, now or later.
 */
typedef void (*net_handler_t)(struct net_req *req, void *body, void *arg);

struct net_handler_ent {
	uint16_t he_opc;
	net_handler_t he_handler;
};

#define NET_HANDLER_ENT(opc, name, req, rep, handler) {opc, handler},
#define NET_HANDLERS_DEFINE(var, TABLE)                                                            \
	static const struct net_handler_ent var[] = {TABLE(NET_HANDLER_ENT)}

/**
 * Make @proto's opcodes known to every context of the process. @proto is borrowed for the
 * life of the process (a static table). Registering the same table again is a no-op.
 * Returns 0, -DER_INVAL (module out of range, opcodes not dense), or -DER_EXIST (another
 * table has that module number).
 *
 * Context: any thread; usually at start-up.
 */
int net_proto_register(const struct net_proto *proto);

/** The codec of @opc, or NULL if no registered table has it. Context: any thread. */
const struct net_opc_info *net_opc_info(uint16_t opc);

/*
 * The self-test protocol (module 0): ping (echo) and bulk (the server reads or writes the
 * client's registered buffer). Registered by every context; net_selftest_register installs
 * its handlers on a server context.
 */
#define NET_MODULE_SELFTEST 0
enum {
	NET_OPC_PING = NET_OPC(NET_MODULE_SELFTEST, 0),
	NET_OPC_BULK = NET_OPC(NET_MODULE_SELFTEST, 1),
};

/** Largest ping payload (the message size limit of the context applies too). */
#define NET_PING_DATA_MAX (1U << 20)
/* pi_flags */
#define NET_PING_NOECHO 1U /* reply without data */
#define NET_PING_HOLD 2U   /* never reply (the request is freed with the context) */
#define NET_PING_FAIL 4U   /* reply with status pi_status and no body */

#define NET_PING_IN_FIELDS(F)                                                                      \
	F(u64, pi_seq, 0)                                                                          \
	F(u32, pi_flags, 0)                                                                        \
	F(i32, pi_status, 0)                                                                       \
	F(bytes, pi_data, NET_PING_DATA_MAX)
#define NET_PING_OUT_FIELDS(F)                                                                     \
	F(u64, po_seq, 0)                                                                          \
	F(bytes, po_data, NET_PING_DATA_MAX)

/* bi_op */
#define NET_BULK_OP_GET 1 /* the server reads bi_len bytes of the client's buffer */
#define NET_BULK_OP_PUT 2 /* the server writes bi_len bytes into the client's buffer */
/* bi_flags */
#define NET_BULK_F_CRC 1U /* reply with the CRC32C of the data; PUT: write a pattern first */

#define NET_BULK_IN_FIELDS(F)                                                                      \
	F(u32, bi_op, 0)                                                                           \
	F(u32, bi_flags, 0)                                                                        \
	F(u64, bi_len, 0)                                                                          \
	F(u64, bi_seed, 0)
#define NET_BULK_OUT_FIELDS(F)                                                                     \
	F(u64, bo_len, 0)                                                                          \
	F(u32, bo_crc, 0)

NET_STRUCT(net_ping_in, NET_PING_IN_FIELDS);
NET_STRUCT(net_ping_out, NET_PING_OUT_FIELDS);
NET_STRUCT(net_bulk_in, NET_BULK_IN_FIELDS);
NET_STRUCT(net_bulk_out, NET_BULK_OUT_FIELDS);

#define NET_SELFTEST_RPCS(X)                                                                       \
	X(NET_OPC_PING, ping, net_ping_in, net_ping_out, net_selftest_ping_handler)                \
	X(NET_OPC_BULK, bulk, net_bulk_in, net_bulk_out, net_st_bulk_handler)

/** The self-test table (defined in src/net/net_selftest.c). */
extern const struct net_proto net_selftest_proto;

/** Fill @buf (borrowed) with @len bytes of the pattern NET_BULK_F_CRC writes for @seed.
 *  Context: any thread. */
void net_selftest_pattern(void *buf, size_t len, uint64_t seed);

/** CRC32C (iSCSI) of @len bytes at @buf, as the bulk self-test reports it. Context: any. */
uint32_t net_crc32c(const void *buf, size_t len);

struct net_selftest;

/** Largest bulk transfer the self-test server serves. */
#define NET_SELFTEST_BULK_MAX (1ULL << 30)
/** Bytes of bulk buffers a self-test server keeps for reuse, by default (first touch is
 *  slow). */
#define NET_SELFTEST_CACHE_DEFAULT (256ULL << 20)

/**
 * Make the state of a self-test server (its cache of bulk buffers, keeping up to
 * @cache_max bytes; 0: NET_SELFTEST_CACHE_DEFAULT) without registering handlers, for a
 * server that runs them its own way (the engine's ULTs). Free with net_selftest_destroy.
 * Returns 0 or -DER_NOMEM. Context: any thread; the state then belongs to one thread.
 */
int net_selftest_create(size_t cache_max, struct net_selftest **st);

/** The ping handler (a net_handler_t; @arg unused): echo, hold or fail as pi_flags say. */
void net_selftest_ping_handler(struct net_req *req, void *body, void *arg);

/** A bulk self-test request between net_selftest_bulk_start and _end. */
struct net_st_bulk {
	struct net_bulk_in sb_in;
	d_sg_list_t sb_sgl; /* the local buffer to transfer (one iov of bi_len bytes) */
	d_iov_t sb_iov;
	struct net_st_buf *sb_buf;
};

/**
 * Start bulk request @req (@in its decoded body, copied): check it and take a local buffer
 * from @st's cache into @b->sb_sgl (with the pattern already in it for a checked PUT). The
 * caller then moves sb_in.bi_len bytes with net_bulk_get (bi_op GET) or net_bulk_put (PUT)
 * and calls net_selftest_bulk_end. Returns 0, or -DER_INVAL / -DER_NOMEM after replying
 * to @req itself (nothing more to do). Context: @req's context's thread.
 */
int net_selftest_bulk_start(struct net_selftest *st, struct net_req *req,
			    const struct net_bulk_in *in, struct net_st_bulk *b);

/**
 * End a bulk request whose transfer finished with @rc: reply (with the CRC32C of the local
 * buffer when NET_BULK_F_CRC is set: the data read, or the pattern written) and give the
 * buffer back to @st. Context: as net_selftest_bulk_start.
 */
void net_selftest_bulk_end(struct net_selftest *st, struct net_req *req, struct net_st_bulk *b,
			   int rc);

/**
 * Install the self-test handlers on @ctx. *@st (owned by the caller) caches the server's
 * bulk buffers; free it with net_selftest_destroy after @ctx has been destroyed or has
 * finished every self-test request. Returns 0 or -DER_NOMEM.
 *
 * Context: @ctx's thread.
 */
int net_selftest_register(struct net_context *ctx, struct net_selftest **st);

/** Free @st (NULL is fine) and its cached buffers. Context: any thread, once no request
 *  uses it. */
void net_selftest_destroy(struct net_selftest *st);

/* Contexts */

struct net_context_attr {
	/** libfabric provider: "tcp;ofi_rxm" (NULL: the default) or "shm". */
	const char *ca_provider;
	/**
	 * Address to listen on: "127.0.0.2" or "127.0.0.2:31416" (no port or port 0: any free
	 * port). With shm a port names the endpoint ("/dev/shm/127.0.0.2:31416"); without one
	 * the provider picks a name from the process id. NULL: "127.0.0.1".
	 */
	const char *ca_addr;
	/** Inline threshold (0: NET_INLINE_MAX_DEFAULT); messages carry up to this plus
	 *  NET_MSG_OVERHEAD bytes. Peers must agree on it. */
	uint32_t ca_inline_max;
	/** Receive buffers kept posted (0: NET_RX_NR_DEFAULT). */
	uint32_t ca_rx_nr;
	/** Busy-polling time of net_progress before it sleeps, in us (0: the default; use
	 *  UINT32_MAX for pure polling). */
	uint32_t ca_spin_us;
	/** Do not open a wait fd even if the provider has one (pure polling). */
	bool ca_no_wait_fd;
	/**
	 * While RPCs of the context wait for replies, net_progress busy-polls for four times
	 * the recent round trip (an average over the last replies), at least ca_spin_us, if
	 * that fits in this bound (us; 0: NET_SPIN_RPC_US_DEFAULT, which is no extra spin): a
	 * client waiting for its own small RPC then does not pay a wake-up, as DAOS clients
	 * busy-poll; RPCs that take longer than the bound are waited for by sleeping after
	 * ca_spin_us. Replies slower than the bound count as the bound in the average.
	 */
	uint32_t ca_spin_rpc_us;
	/** This context's tag (with ca_tag_set): requests tagged for another context get
	 *  -DER_BAD_TARGET; untagged ones are served. */
	uint32_t ca_tag;
	bool ca_tag_set;
	/**
	 * Send each message at once on its own. By default a reply waits for the next pass of
	 * net_progress, and so does a request while another request's send is in flight; that
	 * pass sends what is queued for one peer as one batch message (NET_HF_BATCH, up to the
	 * message size): one send instead of many when a group of requests completes together
	 * (updates acknowledged by one WAL flush) or a client issues many at once. Environment
	 * D_NET_BATCH=0 has the same effect (for measurements).
	 */
	bool ca_no_batch;
	/**
	 * shm clients only: the provider ("tcp;ofi_rxm") of a second context, opened at the
	 * first lookup of an engine ("fi_sockaddr_in://IP:PORT") that does not serve shm on
	 * this host (no live doorbell "@daos-bell:IP:PORT" bound by its shm listener). Such
	 * peers are reached through it, per peer (checked again every second); requests, bulk
	 * handles, progress, deadlines and counters of the two are one context to the caller.
	 * NULL: none, a lookup always gives the shm name (RPCs to an engine without shm time
	 * out). Ignored by other providers.
	 */
	const char *ca_fallback;
};

/**
 * Create a context: open the provider, bind an endpoint to @attr->ca_addr, post receive
 * buffers. @attr is borrowed. On success *@ctx is owned by the caller, freed by
 * net_context_destroy. Returns 0, -DER_INVAL (bad address or attributes), -DER_NOMEM,
 * -DER_NONEXIST (no such provider here), or -DER_HG (libfabric failed; logged).
 *
 * Context: any thread; the context then belongs to the thread that uses it.
 */
int net_context_create(const struct net_context_attr *attr, struct net_context **ctx);

/**
 * Destroy @ctx (NULL is fine). RPCs still in flight complete with -DER_CANCELED (their
 * callbacks run here); requests the server side has not replied to are freed (a handler
 * still holding one is a bug); bulk handles still registered are closed (and logged: the
 * owner should have destroyed them).
 *
 * Context: the context's thread; not from inside a callback.
 */
void net_context_destroy(struct net_context *ctx);

/** The string address of @ctx, to publish in the system map (borrowed, lives with @ctx).
 *  Context: any thread. */
const char *net_context_addr(const struct net_context *ctx);

/** The provider @ctx runs on (borrowed, lives with @ctx). Context: any thread. */
const char *net_context_provider(const struct net_context *ctx);

/** The inline threshold of @ctx: payloads above it should use bulk. Context: any thread. */
uint32_t net_context_inline_max(const struct net_context *ctx);

/**
 * Resolve a string address (from net_context_addr of a peer, possibly in another process)
 * into *@peer, inserting it in @ctx's address vector once: looking the same address up
 * again gives the same peer. Returns 0, -DER_INVAL (malformed or of another provider),
 * -DER_NOMEM, or -DER_HG.
 *
 * Context: the context's thread.
 */
int net_peer_lookup(struct net_context *ctx, const char *addr, net_peer_t *peer);

/** A request to a peer without a tag may reach whichever context listens there. */
#define NET_TAG_ANY UINT32_MAX

/**
 * @peer addressed as context @tag (below NET_TAG_ANY): requests sent to the result carry
 * the tag, and a server context created with another ca_tag answers them -DER_BAD_TARGET
 * (the engine's contexts have tag 0 for the system xstream, 1 + i for target i, as
 * GetAttachInfo lists them). Context: any thread.
 */
static inline net_peer_t
net_peer_tag(net_peer_t peer, uint32_t tag)
{
	return (peer & 0xffffffffULL) | ((uint64_t)tag + 1) << 32;
}

/**
 * Make progress: post pending sends, read completions and run their callbacks, fire RPC
 * timeouts. Returns as soon as something was handled, or after @timeout_us (0: one pass,
 * never sleeps). It busy-polls for the context's spin time, then sleeps on the wait fd
 * (tcp) or with a back-off (shm), never past the next RPC deadline. Returns the number of
 * events handled (0 if none) or a negative -DER_* on a libfabric failure.
 *
 * Context: the context's thread; not reentrant (not from a callback).
 */
int net_progress(struct net_context *ctx, uint64_t timeout_us);

/**
 * For an xstream poller: the fd that becomes readable when @ctx has completions to read,
 * or -1 if the provider has none (shm): then poll without sleeping on it.
 *
 * Context: any thread.
 */
int net_context_fd(const struct net_context *ctx);

/**
 * For an xstream poller's arm callback: 0 if the caller may sleep on net_context_fd
 * (fi_trywait succeeded and nothing is pending in @ctx), non-zero to keep polling.
 * The caller must still wake for net_context_deadline.
 *
 * Context: the context's thread.
 */
int net_context_arm(struct net_context *ctx);

/**
 * Whether @ctx has work queued in software for its next net_progress (sends waiting for a
 * batch or a retry, finished RPCs or bulk transfers whose callbacks have not run). A poller
 * of a context without wait fd (shm), woken by a timer rather than by its CQ, must not let
 * its thread sleep while this is true.
 *
 * Context: the context's thread.
 */
bool net_context_pending(const struct net_context *ctx);

/**
 * The doorbell of a shm listener named "IP:PORT" (an abstract Unix datagram socket), or
 * -1: readable when a client posted a request after not sending to it for a while (500 us).
 * For an xstream poller's fd. The owner may sleep past a short polling back-off only once
 * it has seen no completion for longer than that. Context: any.
 */
int net_context_bell_fd(const struct net_context *ctx);

/**
 * Drain the doorbell just before sleeping on it: the number of rings read (> 0: a request
 * may have come since the last net_progress, poll again), 0 to sleep. Context: its thread.
 */
int net_context_bell_arm(struct net_context *ctx);

/** The earliest RPC deadline of @ctx (d_now_ns clock), or 0 if none. Context: its thread. */
uint64_t net_context_deadline(const struct net_context *ctx);

/** Counters of a context; the first six are live objects, which tests check return to 0. */
struct net_stats {
	uint64_t ns_rpcs;      /* client RPCs not yet freed (incl. waiting for a send to end) */
	uint64_t ns_reqs;      /* server requests not yet freed */
	uint64_t ns_bulk_ops;  /* bulk transfers in flight */
	uint64_t ns_bulks;     /* registered bulk handles */
	uint64_t ns_msgs_kept; /* received messages kept by callers (net_rpc_done_keep) */
	uint64_t ns_peers;     /* addresses in the address vector */
	uint64_t ns_peers_forgotten; /* shm engine names remapped after a timeout */
	uint64_t ns_sent;            /* requests sent */
	uint64_t ns_replied;         /* replies sent */
	uint64_t ns_timeouts;        /* RPCs that timed out */
	uint64_t ns_bad_msgs;        /* received messages rejected (dropped or error-replied) */
	uint64_t ns_late;            /* replies for RPCs that had already completed */
	uint64_t ns_eagain;          /* posts retried after -FI_EAGAIN */
	uint64_t ns_bufs;            /* net_buf buffers handed out and not put back */
	uint64_t ns_buf_maps;        /* net_buf buffers mapped so far (cache misses) */
	uint64_t ns_buf_idle;        /* bytes of idle buffers kept for reuse */
	uint64_t ns_buf_bytes;       /* bytes of the net_buf buffers handed out (ns_bufs) */
	uint64_t ns_batches;         /* reply batches sent (NET_HF_BATCH) */
	uint64_t ns_batched;         /* replies sent inside a batch (also in ns_replied) */
	uint64_t ns_bulk_bytes;      /* bytes of the registered bulk handles (0 when ns_bulks is) */
	uint64_t ns_bells;           /* shm: doorbells of idle peers rung (net_bell.c) */
};

/** Copy @ctx's counters into *@st. Context: the context's thread. */
void net_context_stats(const struct net_context *ctx, struct net_stats *st);

/* Client side */

/** The outcome of an RPC, passed to its callback. */
struct net_rpc_done {
	uint64_t rd_id;  /* from net_rpc_send */
	uint16_t rd_opc; /* opcode */
	/**
	 * 0 or the server's status; or a transport error: -DER_TIMEDOUT, -DER_UNREACH,
	 * -DER_CANCELED, -DER_PROTO (undecodable reply), -DER_UNREG (no such opcode there).
	 */
	int rd_rc;
	/**
	 * The decoded reply, or NULL if the reply had no body (an error, or a transport
	 * failure). Borrowed: valid during the callback only, unless net_rpc_done_keep.
	 */
	void *rd_reply;
	struct net_msg *rd_msg; /* private */
};

typedef void (*net_rpc_cb_t)(struct net_rpc_done *done, void *arg);

/**
 * Send request @req (borrowed: encoded before returning) of opcode @opc to @peer, with the
 * buffers of @bulk (may be NULL; borrowed: must stay registered until the callback) for the
 * server to read or write. @cb(@arg) runs exactly once from net_progress when the reply
 * arrives, the RPC fails, or @timeout_ms (0: NET_TIMEOUT_DEFAULT_MS) passes. *@id (may be
 * NULL) receives the request id for net_rpc_cancel. Returns 0 (the callback will run), or
 * without calling it: -DER_INVAL, -DER_UNREG (unknown opcode), -DER_OVERFLOW (message
 * larger than the context allows: use bulk), -DER_NOMEM, -DER_UNREACH, -DER_SHUTDOWN.
 *
 * Context: the context's thread (callbacks included).
 */
int net_rpc_send(struct net_context *ctx, net_peer_t peer, uint16_t opc, const void *req,
		 const struct net_bulk *bulk, uint32_t timeout_ms, net_rpc_cb_t cb, void *arg,
		 uint64_t *id);

/**
 * Cancel RPC @id of @ctx: its callback runs with -DER_CANCELED at the next net_progress; a
 * reply arriving later is dropped. The server may still execute it. Returns 0, or
 * -DER_NONEXIST if @id has completed already (or never existed).
 *
 * Context: the context's thread (callbacks included).
 */
int net_rpc_cancel(struct net_context *ctx, uint64_t id);

/**
 * From inside an RPC callback: keep the received reply message, so that @done->rd_reply's
 * iovs and strings stay valid after the callback (copy the struct itself). Returns the
 * message, owned by the caller and freed with net_msg_free, or NULL if there is none.
 *
 * Context: inside the callback.
 */
struct net_msg *net_rpc_done_keep(struct net_rpc_done *done);

/** Free a message kept by net_rpc_done_keep (NULL is fine). Context: any thread. */
void net_msg_free(struct net_msg *msg);

/**
 * Send @req and wait for the outcome, progressing @ctx meanwhile (other callbacks may run).
 * On return 0 or a server status with a body, *@reply (sized for @opc's reply struct; may
 * be NULL) holds the decoded reply, whose iovs and strings point into *@msg: free it with
 * net_msg_free (NULL is stored when there is no body). Returns the RPC's outcome as
 * net_rpc_done.rd_rc, or an error of net_rpc_send.
 *
 * Context: the context's thread, outside callbacks (tools and tests).
 */
int net_rpc_call(struct net_context *ctx, net_peer_t peer, uint16_t opc, const void *req,
		 const struct net_bulk *bulk, uint32_t timeout_ms, void *reply,
		 struct net_msg **msg);

/* Bulk (client side: registered buffers) */

#define NET_BULK_READ 1U  /* the server may read the buffers (an update) */
#define NET_BULK_WRITE 2U /* the server may write the buffers (a fetch) */

/**
 * Register the first sg_nr buffers of @sgl (iov_buf, iov_buf_len bytes each; borrowed:
 * they must stay allocated until net_bulk_destroy) for remote access @perm. At most
 * NET_BULK_SEG_MAX buffers. On success *@bulk is owned by the caller, freed by
 * net_bulk_destroy. Returns 0, -DER_INVAL, -DER_NOMEM, or -DER_HG.
 *
 * Context: the context's thread.
 */
int net_bulk_create(struct net_context *ctx, const d_sg_list_t *sgl, uint32_t perm,
		    struct net_bulk **bulk);

/**
 * Deregister and free @bulk (NULL is fine). After an RPC that carried it timed out or was
 * cancelled, destroy it before reusing the memory: the server may still access it until
 * then.
 *
 * Context: the context's thread.
 */
void net_bulk_destroy(struct net_bulk *bulk);

/** Total bytes @bulk covers. Context: any thread. */
uint64_t net_bulk_len(const struct net_bulk *bulk);

/* Server side */

/**
 * A page-aligned buffer for bulk data on the server (net_buf_get): nb_addr holds at least
 * the bytes asked for (nb_size were mapped). Cached per context and reused, so a transfer
 * into it pays no page fault and an O_DIRECT data-file read or write goes straight to it.
 */
struct net_buf {
	void *nb_addr;
	size_t nb_size;
	struct net_buf *nb_next; /* private: the context's free list */
};

/** Idle buffers a context keeps for reuse, in bytes (net_buf_put beyond it unmaps). */
#define NET_BUF_CACHE_MAX (64UL << 20)
/** Buffers above this size are never cached (mapped and unmapped each time). */
#define NET_BUF_CACHED_SIZE_MAX (8UL << 20)

/**
 * A page-aligned buffer of at least @len bytes (0 < @len), from @ctx's cache or newly
 * mapped (then populated: its first use does not fault). Buffers up to
 * NET_BUF_CACHED_SIZE_MAX come in power-of-two sizes from 64 KiB. The contents are
 * undefined. On success *@bufp is owned by the caller, given back with net_buf_put on the
 * same context before the context is destroyed. Returns 0, -DER_INVAL or -DER_NOMEM.
 *
 * Context: the context's thread (e.g. a ULT of the xstream that owns it).
 */
int net_buf_get(struct net_context *ctx, size_t len, struct net_buf **bufp);

/**
 * Give @buf (NULL is fine) back to @ctx: kept for reuse while the context's idle buffers
 * stay within NET_BUF_CACHE_MAX, unmapped otherwise. No transfer may still use it.
 *
 * Context: the context's thread.
 */
void net_buf_put(struct net_context *ctx, struct net_buf *buf);

/**
 * Bytes of the net_buf buffers of @ctx handed out and not given back: the server's large
 * transfers in progress (what an xstream's idle policy keys on). Context: the context's
 * thread.
 */
uint64_t net_buf_bytes(const struct net_context *ctx);

/**
 * Register @handler(@arg) (@arg borrowed) for requests of opcode @opc on @ctx, replacing
 * any previous one (NULL removes it: such requests get -DER_UNREG). Returns 0 or
 * -DER_UNREG if no registered table has @opc.
 *
 * Context: the context's thread.
 */
int net_handler_register(struct net_context *ctx, uint16_t opc, net_handler_t handler, void *arg);

/** net_handler_register for each of @nr entries, all with @arg. Context: as above. */
int net_handlers_register(struct net_context *ctx, const struct net_handler_ent *ents, uint32_t nr,
			  void *arg);

/** The opcode of @req. Context: the context's thread. */
uint16_t net_req_opc(const struct net_req *req);

/** The context @req arrived on. Context: the context's thread. */
struct net_context *net_req_context(const struct net_req *req);

/** The number of remote buffers @req carries, and their total length. Context: its thread. */
uint32_t net_req_bulk_nr(const struct net_req *req);
uint64_t net_req_bulk_len(const struct net_req *req);

/**
 * Reply to @req with @status (0 or -DER_*) and @reply (borrowed: encoded before returning;
 * NULL for no body, allowed only with a non-zero status). Consumes @req in every case: it
 * must not be used afterwards, and its bulk transfers must have completed. Returns 0, or
 * the error that made the reply fail (it is logged; the client will time out or get an
 * error reply).
 *
 * Context: the context's thread.
 */
int net_reply_send(struct net_req *req, int status, const void *reply);

/** Completion of a bulk transfer: 0, -DER_UNREACH, -DER_IO, ... */
typedef void (*net_bulk_cb_t)(int rc, void *arg);

/**
 * Read @len bytes at offset @remote_off of @req's remote buffers (taken as one contiguous
 * space) into @local (iov_buf / iov_len of its first sg_nr vectors; @local is copied, the
 * memory it points to is borrowed until @cb). @cb(@arg) runs from net_progress once every
 * byte has arrived or the transfer failed. Returns 0 (the callback will run) or, without
 * calling it, -DER_INVAL (range outside the remote buffers or @local too small) or
 * -DER_NOMEM.
 *
 * Context: the context's thread, before @req is replied to.
 */
int net_bulk_get(struct net_req *req, uint64_t remote_off, const d_sg_list_t *local, uint64_t len,
		 net_bulk_cb_t cb, void *arg);

/** As net_bulk_get, writing @local into the client's buffers. Context: as net_bulk_get. */
int net_bulk_put(struct net_req *req, uint64_t remote_off, const d_sg_list_t *local, uint64_t len,
		 net_bulk_cb_t cb, void *arg);

/*
 * Wire helpers, public so that tests and fuzzers can reach the decoders without a fabric.
 */

/** A parsed message header (pointers into the message). */
struct net_hdr {
	uint8_t nh_version;
	uint8_t nh_flags;
	uint16_t nh_opc;
	uint64_t nh_id;
	int32_t nh_status;
	uint32_t nh_body_len;
	uint32_t nh_timeout_ms;
	uint32_t nh_dst_tag; /* the context a request is for, NET_TAG_ANY if untagged */
	uint16_t nh_addr_len;
	uint16_t nh_bulk_nr;
	const uint8_t *nh_addr;
	const uint8_t *nh_bulk; /* nh_bulk_nr descriptors, see net_hdr_bulk_seg */
	const uint8_t *nh_body;
	uint64_t nh_bulk_len; /* total of the descriptors' lengths */
};

#define NET_HF_REPLY 1U
/**
 * A batch (opcode, id, status, timeout 0, no address, no buffers): the body is a sequence
 * of whole messages, each as {le32 length, le32 0, the message, zeros to a multiple of 8},
 * all replies (with NET_HF_REPLY) or all requests (without). A context sends what it has
 * queued for one peer this way, one send for many (net_context_attr.ca_no_batch).
 */
#define NET_HF_BATCH 2U

/** One remote buffer: where it is in the client's registration, how long, its key. */
struct net_bulk_seg {
	uint64_t bs_addr;
	uint64_t bs_len;
	uint64_t bs_key;
};

/**
 * Parse and check the header of a received message of @len bytes at @buf (borrowed). Returns
 * 0, or -DER_PROTO (short, bad magic, inconsistent lengths, limits exceeded), or
 * -DER_MISMATCH (another protocol version: *@hdr is filled enough to reply).
 *
 * Context: any thread.
 */
int net_hdr_decode(const void *buf, size_t len, struct net_hdr *hdr);

/** Descriptor @i (< nh_bulk_nr) of a parsed header into *@seg. Context: any thread. */
void net_hdr_bulk_seg(const struct net_hdr *hdr, uint32_t i, struct net_bulk_seg *seg);

/**
 * Decode a body of @len bytes at @buf as @opc's request (@reply false) or reply into
 * @out (sized for that struct). Returns 0, -DER_UNREG (unknown opcode), -DER_PROTO or
 * -DER_INVAL; every byte must be consumed.
 *
 * Context: any thread.
 */
int net_body_decode(uint16_t opc, bool reply, const void *buf, size_t len, void *out);

#endif /* DAOS_NET_H */
