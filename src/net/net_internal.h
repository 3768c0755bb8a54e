/*
 * net_internal.h: structures shared by the files of the net module (private to src/net).
 * See README.md for the invariants they keep.
 */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#include <sys/un.h>

#include <gurt/common.h>
#include <daos/net.h>

D_LOG_FAC_DECLARE(net);

/* Wire header (little-endian). The address, descriptors and body follow it. */
#define NET_MAGIC 0x54454e44U /* "DNET" */
#define NET_VERSION 3

struct net_hdr_df {
	uint32_t hd_magic;
	uint8_t hd_version;
	uint8_t hd_flags;
	uint16_t hd_opc;
	uint64_t hd_id;
	int32_t hd_status;
	uint32_t hd_body_len;
	uint32_t hd_timeout_ms;
	uint16_t hd_addr_len;
	uint16_t hd_bulk_nr;
};

_Static_assert(sizeof(struct net_hdr_df) == 32, "net_hdr_df size");
_Static_assert(offsetof(struct net_hdr_df, hd_id) == 8, "net_hdr_df hd_id");
_Static_assert(offsetof(struct net_hdr_df, hd_status) == 16, "net_hdr_df hd_status");
_Static_assert(offsetof(struct net_hdr_df, hd_addr_len) == 28, "net_hdr_df hd_addr_len");

/*
 * After the address (version 2): the context a request is for. It follows the address so
 * that the address stays right after the fixed header in every version (a request of
 * another version can still be answered).
 */
struct net_tag_df {
	uint32_t td_dst_tag; /* NET_TAG_ANY: any context; always NET_TAG_ANY in replies */
	uint32_t td_rsvd;    /* 0 */
};

_Static_assert(sizeof(struct net_tag_df) == 8, "net_tag_df size");

struct net_bulk_seg_df {
	uint64_t bd_addr;
	uint64_t bd_len;
	uint64_t bd_key;
};

_Static_assert(sizeof(struct net_bulk_seg_df) == 24, "net_bulk_seg_df size");

#define NET_ALIGN8(x) (((x) + 7) & ~(size_t)7)

/** Bytes of a message with an address of @addr_len, @bulk_nr descriptors, a @body_len body. */
static inline size_t
net_msg_size(size_t addr_len, size_t bulk_nr, size_t body_len)
{
	return sizeof(struct net_hdr_df) + NET_ALIGN8(addr_len) + sizeof(struct net_tag_df) +
	       bulk_nr * sizeof(struct net_bulk_seg_df) + body_len;
}

/* Write a header, the address and the descriptors at @buf (large enough: net_msg_size);
 * returns where the body goes. Context: any thread. */
uint8_t *net_hdr_encode(uint8_t *buf, uint8_t flags, uint16_t opc, uint64_t id, int32_t status,
			uint32_t body_len, uint32_t timeout_ms, const void *addr, uint16_t addr_len,
			uint32_t dst_tag, const struct net_bulk_seg *segs, uint16_t bulk_nr);

/*
 * Entries of a reply batch (NET_HF_BATCH): {le32 length, le32 0} then the message, padded
 * with zeros to 8. net_batch_ent_size: the bytes one entry takes; net_batch_ent_encode
 * writes one at @p (room checked by the caller) and returns its end; net_batch_next reads
 * the entry at *@off of a decoded batch header's body: 0 (*@msg, *@msg_len set, *@off
 * advanced), 1 at the end, -DER_PROTO for a malformed entry (the rest is unusable). The
 * entries themselves are checked by net_hdr_decode like any message. Pure functions.
 */
#define NET_BATCH_ENT_HDR 8
/* Most messages one batch carries (a bound on the scan of the send queue). */
#define NET_BATCH_MAX 64
/*
 * Most bytes of a batch: under ofi_rxm's eager limit (16 KiB with its header, the
 * FI_OFI_RXM_BUFFER_SIZE default), above which a message goes by rendezvous, a round trip
 * more: batches of 4 KiB requests as large as a message (20 KiB) made 4 KiB updates and
 * fetches at 64 in flight 2-3x slower. A message that is larger alone is sent alone.
 */
#define NET_BATCH_BYTES_MAX (16 * 1024 - 256)
size_t net_batch_ent_size(size_t msg_len);
#define NET_BATCH_LIMIT(ctx)                                                                       \
	((ctx)->c_msg_max < NET_BATCH_BYTES_MAX ? (ctx)->c_msg_max : NET_BATCH_BYTES_MAX)
uint8_t *net_batch_ent_encode(uint8_t *p, const void *msg, size_t msg_len);
int net_batch_next(const struct net_hdr *hdr, size_t *off, const uint8_t **msg, size_t *msg_len);

/* The fabric objects of a context (also used raw by self_test's baseline). */
struct net_fab {
	struct fi_info *nf_info;
	struct fid_fabric *nf_fabric;
	struct fid_domain *nf_domain;
	struct fid_av *nf_av;
	struct fid_cq *nf_cq;
	struct fid_ep *nf_ep;
	int nf_fd;            /* the CQ's wait fd, or -1 */
	bool nf_virt_addr;    /* FI_MR_VIRT_ADDR: remote addresses are virtual addresses */
	bool nf_shm;          /* the shm provider: a timed-out engine name is remapped */
	bool nf_prov_key;     /* FI_MR_PROV_KEY: the provider picks MR keys */
	bool nf_mr_endpoint;  /* FI_MR_ENDPOINT: bind MRs to the endpoint */
	uint64_t nf_key_next; /* next caller-chosen MR key (unique in the domain) */
	size_t nf_rma_max;    /* largest single RMA transfer */
	uint8_t nf_name[NET_ADDR_RAW_MAX];
	size_t nf_name_len;
	char nf_straddr[NET_ADDR_STR_MAX];
};

/*
 * Open provider @prov bound to @addr ("ip" or "ip:port"), with a CQ wait fd if @want_fd and
 * the provider has one. Returns 0 or -DER_*; on failure nothing stays open. The caller owns
 * *@fab and closes it with net_fab_close. Context: any thread; then the owner's.
 */
int net_fab_open(const char *prov, const char *addr, bool want_fd, struct net_fab *fab);
void net_fab_close(struct net_fab *fab);
/* Convert a string address of @fab's format into raw bytes (@raw of NET_ADDR_RAW_MAX). */
int net_fab_str2raw(const struct net_fab *fab, const char *str, uint8_t *raw, size_t *len);
/* Register @len bytes at @buf for remote @access; *@key and *@raddr describe it to a peer. */
int net_fab_mr_reg(struct net_fab *fab, void *buf, size_t len, uint64_t access, struct fid_mr **mr,
		   uint64_t *key, uint64_t *raddr);
/* A libfabric error (positive or negative FI_* errno) as a -DER_* code. */
int net_fi2der(int fi_err);

/* What a posted operation is; the fi_context is the op context libfabric returns. */
enum net_op_type {
	NET_OP_RECV = 1,
	NET_OP_RPC_SEND,
	NET_OP_REPLY_SEND,
	NET_OP_RMA,
};

struct net_op {
	struct fi_context no_fictx; /* first: CQ entries give its address back */
	d_list_t no_link;           /* c_pending while it waits for a post (sends) */
	uint8_t no_type;            /* enum net_op_type */
};

/* A receive buffer, posted or holding a received message. */
struct net_msg {
	struct net_op m_op;
	struct net_context *m_ctx; /* NULL once detached (kept by a caller) */
	d_list_t m_link;           /* c_msg_posted while posted, c_msg_free while spare */
	uint32_t m_size;           /* capacity of m_data */
	uint32_t m_len;            /* bytes received */
	uint8_t m_data[];
};

/* Client RPC states (r_flags). */
#define NET_RPC_QUEUED 0x1    /* waiting in c_pending for a post (after -FI_EAGAIN) */
#define NET_RPC_POSTED 0x2    /* fi_send posted, its completion not yet read */
#define NET_RPC_FINISHED 0x4  /* outcome decided: in c_done or callback run */
#define NET_RPC_CB_DONE 0x8   /* callback has run */
#define NET_RPC_IN_TABLE 0x10 /* findable by id (c_rpc_hash) */

#define NET_HEAP_NONE UINT32_MAX

struct net_rpc {
	struct net_op r_op;
	d_list_t r_hlink; /* c_rpc_hash bucket while NET_RPC_IN_TABLE */
	d_list_t r_link;  /* c_done while FINISHED until the callback runs */
	d_list_t r_all;   /* c_rpcs: every RPC not yet freed */
	uint64_t r_id;
	uint64_t r_deadline;
	uint64_t r_start; /* d_now_ns() at send, for the round-trip average */
	uint32_t r_heap_idx;
	uint32_t r_flags;
	int r_rc;
	const struct net_opc_info *r_info;
	net_rpc_cb_t r_cb;
	void *r_arg;
	fi_addr_t r_dest;
	size_t r_len;
	uint8_t *r_buf;
	uint8_t *r_batch; /* while its send is posted: a batch carrying r_buf and others' */
	size_t r_batch_len;
};

/* A server request: from its arrival until its reply has been sent. */
struct net_req {
	struct net_op q_op;
	d_list_t q_all; /* c_reqs */
	struct net_context *q_ctx;
	struct net_msg *q_msg; /* the received request (may be NULL for an error reply) */
	struct net_hdr q_hdr;
	fi_addr_t q_src;
	uint32_t q_bulk_inflight;
	bool q_replied;
	bool q_queued;
	uint8_t *q_reply_buf;
	size_t q_reply_len;
	uint32_t q_batch_nr; /* replies in q_reply_buf: 1, or a batch's entries (NET_HF_BATCH) */
	uint64_t q_body[];   /* the decoded request struct */
};

struct net_bulk {
	struct net_context *b_ctx;
	d_list_t b_link; /* c_bulks */
	uint32_t b_nr;
	uint64_t b_len;
	struct fid_mr **b_mrs;
	struct net_bulk_seg *b_segs;
	uint32_t b_perm;           /* NET_BULK_READ / NET_BULK_WRITE */
	struct net_bulk *b_alt;    /* its copy registered on the context's c_alt, or NULL */
	struct net_bulk *b_parent; /* of a copy: the bulk it copies (net_alt.c) */
};

/* A bulk transfer of a server request, cut into pieces of at most NET_RMA_CHUNK, at most
 * NET_BULK_WINDOW of them in flight. */
#define NET_BULK_WINDOW 16
#define NET_RMA_CHUNK (512 * 1024)

struct net_bulk_op;

/* net_buf size classes: 64 KiB << i up to NET_BUF_CACHED_SIZE_MAX */
#define NET_BUF_MIN (64UL << 10)
#define NET_BUF_CLASSES 8

struct net_rma_piece {
	struct net_op p_op;
	struct net_bulk_op *p_bop;
	struct net_rma_piece *p_next_free;
};

struct net_bulk_op {
	struct net_context *bo_ctx;
	struct net_req *bo_req;
	d_list_t bo_link; /* c_bulk_pending (more to post) or c_bulk_done (callback due) */
	d_list_t bo_all;  /* c_bulk_ops */
	bool bo_put;
	int bo_rc;
	net_bulk_cb_t bo_cb;
	void *bo_arg;
	uint64_t bo_left; /* bytes not yet posted */
	uint32_t bo_inflight;
	uint32_t bo_seg;
	uint64_t bo_seg_off;
	uint32_t bo_iov;
	size_t bo_iov_off;
	uint32_t bo_seg_nr;
	uint32_t bo_iov_nr;
	struct net_bulk_seg *bo_segs;
	d_iov_t *bo_iovs;
	struct net_rma_piece *bo_free;
	struct net_rma_piece bo_pieces[NET_BULK_WINDOW];
};

/* Addresses known to the context (client lookups and request sources). */
struct net_peer_ent {
	d_list_t pe_link;
	fi_addr_t pe_fa;
	bool pe_stale;          /* an RPC to it timed out: remap at the next lookup (shm engines) */
	bool pe_alt;            /* the engine does not serve shm: reached by c_alt as pe_alt_peer */
	net_peer_t pe_alt_peer; /* with pe_alt: the peer in c_alt, NET_PEER_ALT set */
	uint64_t pe_check_ns;   /* with pe_alt: d_now_ns when the engine was last checked */
	uint16_t pe_len;
	uint8_t pe_raw[];
};

/* The doorbell of a shm peer that listens under a name (net_bell.c). */
struct net_bell {
	uint64_t nb_last_ns; /* d_now_ns of the last request posted to it */
	uint64_t nb_ring_ns; /* d_now_ns of the last ring */
	uint32_t nb_len;     /* length of nb_addr, 0: no bell */
	struct sockaddr_un nb_addr;
};

/* A request to a peer the context has not sent to for this long rings its bell. The
 * engine sleeps past its short back-off only after a longer idle time (srv_net.c). */
#define NET_BELL_GAP_NS (500 * D_NSEC_PER_USEC)

#define NET_RPC_HASH_BITS 12
#define NET_PEER_HASH_BITS 8

struct net_handler_slot {
	net_handler_t hs_fn;
	void *hs_arg;
};

struct net_context {
	struct net_fab c_fab;
	uint32_t c_inline_max;
	uint32_t c_msg_max;
	uint32_t c_rx_nr;       /* receives wanted posted */
	uint32_t c_rx_posted;   /* receives posted */
	uint64_t c_spin_ns;     /* busy-poll time of net_progress before it sleeps */
	uint64_t c_spin_rpc_ns; /* bound of the busy-poll while RPCs wait for replies */
	uint64_t c_rtt_ns;      /* average round trip of the last replies (EWMA, 1/8) */
	uint64_t c_backoff_ns;  /* current sleep of a wait without fd */
	bool c_in_progress;
	bool c_stopping;
	bool c_batch;          /* sends wait for the next progress pass and go there in batches */
	uint32_t c_rpc_posted; /* RPC sends posted whose completion was not read yet */
	uint32_t c_tag;        /* ca_tag, or NET_TAG_ANY: serve requests of any tag */
	uint64_t c_next_id;
	d_list_t c_rpc_hash[1 << NET_RPC_HASH_BITS];
	d_list_t c_peer_hash[1 << NET_PEER_HASH_BITS];
	struct net_rpc **c_heap; /* timeouts: min-heap on r_deadline */
	uint32_t c_heap_nr;
	uint32_t c_heap_cap;
	d_list_t c_pending;      /* sends (RPCs and replies) waiting for a post, FIFO */
	d_list_t c_done;         /* RPCs whose callback is due */
	d_list_t c_bulk_pending; /* bulk ops with pieces to post */
	d_list_t c_bulk_done;    /* bulk ops whose callback is due */
	d_list_t c_msg_free;     /* spare receive buffers */
	d_list_t c_msg_posted;   /* posted receive buffers */
	uint32_t c_msg_free_nr;
	d_list_t c_rpcs;
	d_list_t c_reqs;
	d_list_t c_bulks;
	d_list_t c_bulk_ops;
	struct net_handler_slot *c_handlers[NET_MODULE_MAX]; /* 256 slots per module */
	struct net_stats c_stats;
	struct net_buf *c_buf_free[NET_BUF_CLASSES]; /* idle net_bufs, per size class */
	int c_bell_fd;            /* a named shm listener's doorbell socket, or -1 */
	int c_ring_fd;            /* the socket ringing peers' bells (opened at first use) */
	struct net_bell *c_bells; /* per shm peer (by fi_addr_t), c_bell_nr of them */
	uint32_t c_bell_nr;
	/* shm client with a fallback (ca_fallback, net_alt.c): engines that do not serve shm
	 * here are reached through c_alt, a context of provider c_alt_prov opened at need */
	struct net_context *c_alt;
	char *c_alt_prov;
	char *c_alt_addr;
};

/* In the low half of a net_peer_t: the peer is one of c_alt's (net_alt.c). */
#define NET_PEER_ALT 0x80000000ULL

/*
 * Functions shared between the files of the module. Unless noted, each runs on the thread
 * that owns the context (README invariant 1), never blocks, and borrows its arguments.
 */

/* net_rpc.c: a reply arrived (takes @msg); a send completed; post a queued RPC (0 or
 * -DER_AGAIN); fire due timeouts; run deferred callbacks; end every RPC at destroy. */
void net_rpc_recv_reply(struct net_context *ctx, struct net_msg *msg, const struct net_hdr *hdr);
void net_rpc_send_done(struct net_context *ctx, struct net_rpc *rpc, int rc);
int net_rpc_post(struct net_context *ctx, struct net_rpc *rpc);
int net_rpc_timers_fire(struct net_context *ctx, uint64_t now);
int net_rpc_done_run(struct net_context *ctx);
void net_rpc_fini_all(struct net_context *ctx);

/* net_srv.c: a request arrived (takes @msg); a reply's send completed; post a queued reply;
 * free every request at destroy. */
void net_req_recv(struct net_context *ctx, struct net_msg *msg, const struct net_hdr *hdr);
void net_req_send_done(struct net_context *ctx, struct net_req *req, int rc);
int net_req_post(struct net_context *ctx, struct net_req *req);
void net_req_fini_all(struct net_context *ctx);

/* net_bulk.c: an RMA piece completed; post waiting pieces; run due bulk callbacks; end
 * every transfer and close leftover handles at destroy. */
void net_rma_done(struct net_context *ctx, struct net_rma_piece *piece, int rc);
int net_bulk_pending_run(struct net_context *ctx);
int net_bulk_done_run(struct net_context *ctx);
void net_bulk_fini_all(struct net_context *ctx);

/* net_bell.c: open a named shm listener's bell (no bell if it cannot: not an error);
 * close the bell, the ringing socket and the peer table; note peer @fa's bell (a name
 * "fi_ns://..."); ring one (net_bell_ring: only after a gap). */
void net_bell_open(struct net_context *ctx);
void net_bell_close(struct net_context *ctx);
void net_bell_peer(struct net_context *ctx, fi_addr_t fa, const uint8_t *raw, size_t len);
void net_bell_ring_slow(struct net_context *ctx, struct net_bell *nb);

/*
 * After posting a request to @fa (@posted), or failing to for lack of room (-FI_EAGAIN: also
 * a first send to a shm peer, which waits until the peer maps our region, work it only does
 * while awake): ring @fa's bell if the last post (or, for a retry, the last ring) is older
 * than NET_BELL_GAP_NS.
 */
static inline void
net_bell_ring(struct net_context *ctx, fi_addr_t fa, bool posted)
{
	struct net_bell *nb;
	uint64_t now;

	if (fa >= ctx->c_bell_nr || ctx->c_bells[fa].nb_len == 0)
		return;
	nb = &ctx->c_bells[fa];
	now = d_now_ns();
	if (now - (posted ? nb->nb_last_ns : nb->nb_ring_ns) > NET_BELL_GAP_NS) {
		net_bell_ring_slow(ctx, nb);
		nb->nb_ring_ns = now;
	}
	if (posted)
		nb->nb_last_ns = now;
}

/* net_ctx.c: resolve a raw address into the AV (once); spare receive buffers; keep
 * receives posted. */
/*
 * Mark the peer at @fa stale if it is an engine's shm name (fi_ns://): an RPC to it timed
 * out or could not be sent. shm maps a peer's region when the address is inserted; an
 * engine restarted under the same name has a new region, which only a new insert maps: the
 * next net_peer_insert of that name removes the old entry from the AV and inserts it again
 * (a new fi_addr), unless a send to it still waits in c_pending. Nothing is removed here,
 * so an fi_addr a caller still holds stays valid until it looks the name up again.
 */
void net_peer_forget(struct net_context *ctx, fi_addr_t fa);
/* net_alt.c: the fallback of a shm client context (ca_fallback). */
bool net_bell_live(const uint8_t *raw, size_t len);
int net_alt_open(struct net_context *ctx);
void net_alt_close(struct net_context *ctx);
int net_alt_lookup(struct net_context *ctx, const char *addr, net_peer_t *peer);
int net_alt_send(struct net_context *ctx, net_peer_t peer, uint16_t opc, const void *req,
		 const struct net_bulk *bulk, uint32_t timeout_ms, net_rpc_cb_t cb, void *arg,
		 uint64_t *id);
void net_alt_stats_add(const struct net_context *ctx, struct net_stats *st);
int net_peer_insert(struct net_context *ctx, const uint8_t *raw, size_t len, fi_addr_t *fa);
struct net_msg *net_msg_get(struct net_context *ctx);
void net_msg_put(struct net_context *ctx, struct net_msg *msg);
int net_rx_refill(struct net_context *ctx);

#endif /* NET_INTERNAL_H */
