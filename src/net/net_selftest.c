/*
 * net_selftest.c: the self-test protocol (module 0 of the opcode space): its codecs, and the
 * server handlers that self_test, the tests and later the engine use: ping echoes (or holds,
 * or fails) and bulk reads or writes the client's registered buffer into a cached local one,
 * optionally checksummed. Built on the net API only.
 */
#define D_LOGFAC net

#include <isa-l/crc.h>

#include "net_internal.h"

NET_CODEC_DEFINE(net_ping_in, NET_PING_IN_FIELDS)
NET_CODEC_DEFINE(net_ping_out, NET_PING_OUT_FIELDS)
NET_CODEC_DEFINE(net_bulk_in, NET_BULK_IN_FIELDS)
NET_CODEC_DEFINE(net_bulk_out, NET_BULK_OUT_FIELDS)

NET_PROTO_DEFINE(net_selftest_proto, "selftest", NET_MODULE_SELFTEST, NET_SELFTEST_RPCS);

/* Local bulk buffers are kept for reuse up to this many bytes (first touch is slow). */
#define NET_ST_CACHE_MAX (256ULL << 20)

struct net_st_buf {
	struct net_st_buf *sb_next;
	size_t sb_size;
	uint64_t sb_data[];
};

struct net_selftest {
	struct net_st_buf *st_free;
	size_t st_cached;
};

struct net_st_op {
	struct net_req *so_req;
	struct net_selftest *so_st;
	struct net_st_buf *so_buf;
	struct net_bulk_in so_in;
};

void
net_selftest_pattern(void *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		memcpy(p + i, &x, 8);
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	if (i < len)
		memcpy(p + i, &x, len - i);
}

uint32_t
net_crc32c(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t crc = 0;

	while (len > 0) {
		int n = len > (1U << 30) ? (1 << 30) : (int)len;

		crc = crc32_iscsi((unsigned char *)p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return crc;
}

static struct net_st_buf *
net_st_buf_get(struct net_selftest *st, size_t len)
{
	struct net_st_buf **prev = &st->st_free;
	struct net_st_buf **best = NULL;
	struct net_st_buf *sb;
	size_t size = 4096;

	for (sb = st->st_free; sb != NULL; prev = &sb->sb_next, sb = sb->sb_next)
		if (sb->sb_size >= len && (best == NULL || sb->sb_size < (*best)->sb_size))
			best = prev;
	if (best != NULL) {
		sb = *best;
		*best = sb->sb_next;
		st->st_cached -= sb->sb_size;
		return sb;
	}
	while (size < len)
		size *= 2;
	D_ALLOC_NZ(sb, sizeof(*sb) + size);
	if (sb != NULL)
		sb->sb_size = size;
	return sb;
}

static void
net_st_buf_put(struct net_selftest *st, struct net_st_buf *sb)
{
	if (sb == NULL)
		return;
	if (st->st_cached + sb->sb_size > NET_ST_CACHE_MAX) {
		D_FREE(sb);
		return;
	}
	sb->sb_next = st->st_free;
	st->st_free = sb;
	st->st_cached += sb->sb_size;
}

static void
net_st_ping_handler(struct net_req *req, void *body, void *arg)
{
	struct net_ping_in *in = body;
	struct net_ping_out out = {.po_seq = in->pi_seq};

	(void)arg;
	if (in->pi_flags & NET_PING_HOLD)
		return; /* never replied: freed with the context */
	if (in->pi_flags & NET_PING_FAIL) {
		net_reply_send(req, in->pi_status < 0 ? in->pi_status : -DER_IO, NULL);
		return;
	}
	if (!(in->pi_flags & NET_PING_NOECHO))
		out.po_data = in->pi_data;
	net_reply_send(req, 0, &out);
}

static void
net_st_bulk_done(int rc, void *arg)
{
	struct net_st_op *op = arg;
	struct net_bulk_out out = {.bo_len = op->so_in.bi_len};

	if (rc == 0 && (op->so_in.bi_flags & NET_BULK_F_CRC))
		out.bo_crc = net_crc32c(op->so_buf->sb_data, op->so_in.bi_len);
	net_reply_send(op->so_req, rc, rc == 0 ? &out : NULL);
	net_st_buf_put(op->so_st, op->so_buf);
	D_FREE(op);
}

static void
net_st_bulk_handler(struct net_req *req, void *body, void *arg)
{
	struct net_bulk_in *in = body;
	struct net_selftest *st = arg;
	struct net_st_op *op;
	d_sg_list_t sgl;
	d_iov_t iov;
	int rc;

	if ((in->bi_op != NET_BULK_OP_GET && in->bi_op != NET_BULK_OP_PUT) ||
	    in->bi_len > net_req_bulk_len(req) || in->bi_len > (1ULL << 34)) {
		net_reply_send(req, -DER_INVAL, NULL);
		return;
	}
	D_ALLOC_PTR(op);
	if (op == NULL) {
		net_reply_send(req, -DER_NOMEM, NULL);
		return;
	}
	op->so_req = req;
	op->so_st = st;
	op->so_in = *in;
	op->so_buf = net_st_buf_get(st, in->bi_len);
	if (op->so_buf == NULL) {
		D_FREE(op);
		net_reply_send(req, -DER_NOMEM, NULL);
		return;
	}
	if (in->bi_op == NET_BULK_OP_PUT && (in->bi_flags & NET_BULK_F_CRC))
		net_selftest_pattern(op->so_buf->sb_data, in->bi_len, in->bi_seed);
	d_iov_set(&iov, op->so_buf->sb_data, in->bi_len);
	sgl.sg_nr = 1;
	sgl.sg_nr_out = 0;
	sgl.sg_iovs = &iov;
	if (in->bi_op == NET_BULK_OP_GET)
		rc = net_bulk_get(req, 0, &sgl, in->bi_len, net_st_bulk_done, op);
	else
		rc = net_bulk_put(req, 0, &sgl, in->bi_len, net_st_bulk_done, op);
	if (rc != 0) {
		net_st_buf_put(st, op->so_buf);
		D_FREE(op);
		net_reply_send(req, rc, NULL);
	}
}

NET_HANDLERS_DEFINE(net_st_handlers, NET_SELFTEST_RPCS);

int
net_selftest_register(struct net_context *ctx, struct net_selftest **stp)
{
	struct net_selftest *st;
	int rc;

	D_ALLOC_PTR(st);
	if (st == NULL)
		return -DER_NOMEM;
	rc = net_handlers_register(ctx, net_st_handlers, D_ARRAY_SIZE(net_st_handlers), st);
	if (rc != 0) {
		D_FREE(st);
		return rc;
	}
	*stp = st;
	return 0;
}

void
net_selftest_destroy(struct net_selftest *st)
{
	struct net_st_buf *sb;

	if (st == NULL)
		return;
	while ((sb = st->st_free) != NULL) {
		st->st_free = sb->sb_next;
		D_FREE(sb);
	}
	D_FREE(st);
}
