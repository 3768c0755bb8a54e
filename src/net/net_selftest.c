/*
 * net_selftest.c: the self-test protocol (module 0 of the opcode space): its codecs, and the
 * one server side of it, used by self_test, the tests and the engine: ping echoes (or holds,
 * or fails) and bulk reads or writes the client's registered buffer into a cached local one,
 * optionally checksummed. A plain server registers the handlers (the bulk transfer then
 * completes in net_progress); the engine runs the ping handler and the bulk start/end pieces
 * in its ULTs, waiting for the transfer in between. Built on the net API only.
 */
#define D_LOGFAC net

#include <isa-l/crc.h>

#include "net_internal.h"

NET_CODEC_DEFINE(net_ping_in, NET_PING_IN_FIELDS)
NET_CODEC_DEFINE(net_ping_out, NET_PING_OUT_FIELDS)
NET_CODEC_DEFINE(net_bulk_in, NET_BULK_IN_FIELDS)
NET_CODEC_DEFINE(net_bulk_out, NET_BULK_OUT_FIELDS)

NET_PROTO_DEFINE(net_selftest_proto, "selftest", NET_MODULE_SELFTEST, NET_SELFTEST_RPCS);

struct net_st_buf {
	struct net_st_buf *sb_next;
	size_t sb_size;
	uint64_t sb_data[];
};

struct net_selftest {
	struct net_st_buf *st_free;
	size_t st_cached;
	size_t st_cache_max;
};

/* An asynchronous bulk request of net_st_bulk_handler, from its start to its completion. */
struct net_st_op {
	struct net_req *so_req;
	struct net_selftest *so_st;
	struct net_st_bulk so_bulk;
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
	if (st->st_cached + sb->sb_size > st->st_cache_max) {
		D_FREE(sb);
		return;
	}
	sb->sb_next = st->st_free;
	st->st_free = sb;
	st->st_cached += sb->sb_size;
}

void
net_selftest_ping_handler(struct net_req *req, void *body, void *arg)
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

int
net_selftest_bulk_start(struct net_selftest *st, struct net_req *req, const struct net_bulk_in *in,
			struct net_st_bulk *b)
{
	struct net_st_buf *sb;

	memset(b, 0, sizeof(*b));
	if ((in->bi_op != NET_BULK_OP_GET && in->bi_op != NET_BULK_OP_PUT) ||
	    in->bi_len > net_req_bulk_len(req) || in->bi_len > NET_SELFTEST_BULK_MAX) {
		net_reply_send(req, -DER_INVAL, NULL);
		return -DER_INVAL;
	}
	sb = net_st_buf_get(st, in->bi_len);
	if (sb == NULL) {
		net_reply_send(req, -DER_NOMEM, NULL);
		return -DER_NOMEM;
	}
	if (in->bi_op == NET_BULK_OP_PUT && (in->bi_flags & NET_BULK_F_CRC))
		net_selftest_pattern(sb->sb_data, in->bi_len, in->bi_seed);
	b->sb_in = *in;
	b->sb_buf = sb;
	d_iov_set(&b->sb_iov, sb->sb_data, in->bi_len);
	b->sb_sgl.sg_nr = 1;
	b->sb_sgl.sg_nr_out = 0;
	b->sb_sgl.sg_iovs = &b->sb_iov;
	return 0;
}

void
net_selftest_bulk_end(struct net_selftest *st, struct net_req *req, struct net_st_bulk *b, int rc)
{
	struct net_bulk_out out = {.bo_len = b->sb_in.bi_len};
	struct net_st_buf *sb = b->sb_buf;

	if (rc == 0 && (b->sb_in.bi_flags & NET_BULK_F_CRC))
		out.bo_crc = net_crc32c(sb->sb_data, b->sb_in.bi_len);
	net_reply_send(req, rc, rc == 0 ? &out : NULL);
	net_st_buf_put(st, sb);
	b->sb_buf = NULL;
}

static void
net_st_bulk_done(int rc, void *arg)
{
	struct net_st_op *op = arg;

	net_selftest_bulk_end(op->so_st, op->so_req, &op->so_bulk, rc);
	D_FREE(op);
}

/* The bulk handler of a plain net server: the transfer completes in net_progress. */
static void
net_st_bulk_handler(struct net_req *req, void *body, void *arg)
{
	struct net_selftest *st = arg;
	struct net_st_op *op;
	int rc;

	D_ALLOC_PTR(op);
	if (op == NULL) {
		net_reply_send(req, -DER_NOMEM, NULL);
		return;
	}
	op->so_req = req;
	op->so_st = st;
	if (net_selftest_bulk_start(st, req, body, &op->so_bulk) != 0) {
		D_FREE(op);
		return;
	}
	if (op->so_bulk.sb_in.bi_op == NET_BULK_OP_GET)
		rc = net_bulk_get(req, 0, &op->so_bulk.sb_sgl, op->so_bulk.sb_in.bi_len,
				  net_st_bulk_done, op);
	else
		rc = net_bulk_put(req, 0, &op->so_bulk.sb_sgl, op->so_bulk.sb_in.bi_len,
				  net_st_bulk_done, op);
	if (rc != 0) {
		net_selftest_bulk_end(st, req, &op->so_bulk, rc);
		D_FREE(op);
	}
}

NET_HANDLERS_DEFINE(net_st_handlers, NET_SELFTEST_RPCS);

int
net_selftest_create(size_t cache_max, struct net_selftest **stp)
{
	struct net_selftest *st;

	D_ALLOC_PTR(st);
	if (st == NULL)
		return -DER_NOMEM;
	st->st_cache_max = cache_max == 0 ? NET_SELFTEST_CACHE_DEFAULT : cache_max;
	*stp = st;
	return 0;
}

int
net_selftest_register(struct net_context *ctx, struct net_selftest **stp)
{
	struct net_selftest *st;
	int rc;

	rc = net_selftest_create(0, &st);
	if (rc != 0)
		return rc;
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
