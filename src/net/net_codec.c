/*
 * net_codec.c: the wire format of the net module: message headers (encode, and a decoder
 * that trusts no length), the process-wide table of opcode codecs, and body decoding. Pure
 * functions over byte buffers, on top of libgurt only, so that they can be fuzzed without a
 * fabric.
 */
#define D_LOGFAC net

#include <pthread.h>

#include "net_internal.h"

/* Registered tables by module number; written once under the lock, read without it. */
static const struct net_proto *net_protos[NET_MODULE_MAX];
static pthread_mutex_t net_proto_lock = PTHREAD_MUTEX_INITIALIZER;

int
net_proto_register(const struct net_proto *proto)
{
	const struct net_proto *cur;
	uint32_t i;
	int rc = 0;

	if (proto == NULL || proto->np_module >= NET_MODULE_MAX || proto->np_count == 0 ||
	    proto->np_count > 256)
		return -DER_INVAL;
	for (i = 0; i < proto->np_count; i++) {
		const struct net_opc_info *oi = &proto->np_opcs[i];

		if (oi->oi_opc != NET_OPC(proto->np_module, i) || oi->oi_req_dec == NULL ||
		    oi->oi_rep_dec == NULL || oi->oi_req_enc == NULL || oi->oi_rep_enc == NULL ||
		    oi->oi_req_len == NULL || oi->oi_rep_len == NULL) {
			D_ERROR("protocol %s: opcode %u (%#x) is not NET_OPC(%u, %u)\n",
				proto->np_name, i, oi->oi_opc, proto->np_module, i);
			return -DER_INVAL;
		}
	}
	pthread_mutex_lock(&net_proto_lock);
	cur = __atomic_load_n(&net_protos[proto->np_module], __ATOMIC_ACQUIRE);
	if (cur == NULL)
		__atomic_store_n(&net_protos[proto->np_module], proto, __ATOMIC_RELEASE);
	else if (cur != proto)
		rc = -DER_EXIST;
	pthread_mutex_unlock(&net_proto_lock);
	if (rc != 0)
		D_ERROR("protocol %s: module %u is taken by %s\n", proto->np_name, proto->np_module,
			cur->np_name);
	return rc;
}

const struct net_opc_info *
net_opc_info(uint16_t opc)
{
	const struct net_proto *proto;
	uint32_t module = NET_OPC_MODULE(opc);

	if (module >= NET_MODULE_MAX)
		return NULL;
	proto = __atomic_load_n(&net_protos[module], __ATOMIC_ACQUIRE);
	if (proto == NULL || NET_OPC_INDEX(opc) >= proto->np_count)
		return NULL;
	return &proto->np_opcs[NET_OPC_INDEX(opc)];
}

uint8_t *
net_hdr_encode(uint8_t *buf, uint8_t flags, uint16_t opc, uint64_t id, int32_t status,
	       uint32_t body_len, uint32_t timeout_ms, const void *addr, uint16_t addr_len,
	       uint32_t dst_tag, const struct net_bulk_seg *segs, uint16_t bulk_nr)
{
	struct net_tag_df td = {.td_dst_tag = htole32(dst_tag), .td_rsvd = 0};
	struct net_hdr_df hd;
	uint8_t *p = buf;
	uint16_t i;

	hd.hd_magic = htole32(NET_MAGIC);
	hd.hd_version = NET_VERSION;
	hd.hd_flags = flags;
	hd.hd_opc = htole16(opc);
	hd.hd_id = htole64(id);
	hd.hd_status = (int32_t)htole32((uint32_t)status);
	hd.hd_body_len = htole32(body_len);
	hd.hd_timeout_ms = htole32(timeout_ms);
	hd.hd_addr_len = htole16(addr_len);
	hd.hd_bulk_nr = htole16(bulk_nr);
	memcpy(p, &hd, sizeof(hd));
	p += sizeof(hd);
	if (addr_len > 0) {
		memcpy(p, addr, addr_len);
		memset(p + addr_len, 0, NET_ALIGN8(addr_len) - addr_len);
		p += NET_ALIGN8(addr_len);
	}
	memcpy(p, &td, sizeof(td));
	p += sizeof(td);
	for (i = 0; i < bulk_nr; i++) {
		struct net_bulk_seg_df sd;

		sd.bd_addr = htole64(segs[i].bs_addr);
		sd.bd_len = htole64(segs[i].bs_len);
		sd.bd_key = htole64(segs[i].bs_key);
		memcpy(p, &sd, sizeof(sd));
		p += sizeof(sd);
	}
	return p;
}

/* Remote buffers of one request add up to at most this (2^48 bytes). */
#define NET_BULK_LEN_MAX (1ULL << 48)

int
net_hdr_decode(const void *buf, size_t len, struct net_hdr *hdr)
{
	const uint8_t *p = buf;
	struct net_hdr_df hd;
	size_t need;
	uint32_t i;

	memset(hdr, 0, sizeof(*hdr));
	hdr->nh_dst_tag = NET_TAG_ANY;
	if (len < sizeof(hd))
		return -DER_PROTO;
	memcpy(&hd, p, sizeof(hd));
	if (le32toh(hd.hd_magic) != NET_MAGIC)
		return -DER_PROTO;
	hdr->nh_version = hd.hd_version;
	hdr->nh_flags = hd.hd_flags;
	hdr->nh_opc = le16toh(hd.hd_opc);
	hdr->nh_id = le64toh(hd.hd_id);
	hdr->nh_status = (int32_t)le32toh((uint32_t)hd.hd_status);
	hdr->nh_body_len = le32toh(hd.hd_body_len);
	hdr->nh_timeout_ms = le32toh(hd.hd_timeout_ms);
	hdr->nh_addr_len = le16toh(hd.hd_addr_len);
	hdr->nh_bulk_nr = le16toh(hd.hd_bulk_nr);

	/* The address comes right after the fixed header in every version: parse it first so
	 * that a request of another version can still get an error reply. */
	if (hdr->nh_addr_len > NET_ADDR_RAW_MAX ||
	    len - sizeof(hd) < NET_ALIGN8((size_t)hdr->nh_addr_len))
		return -DER_PROTO;
	hdr->nh_addr = hdr->nh_addr_len == 0 ? NULL : p + sizeof(hd);
	if (hdr->nh_version != NET_VERSION)
		return -DER_MISMATCH;
	if (hdr->nh_flags & ~(NET_HF_REPLY | NET_HF_BATCH))
		return -DER_PROTO;
	if (hdr->nh_flags & NET_HF_BATCH) {
		/* only its entries say who sends what: they carry the addresses and buffers */
		if (hdr->nh_opc != 0 || hdr->nh_id != 0 || hdr->nh_status != 0 ||
		    hdr->nh_timeout_ms != 0 || hdr->nh_addr_len != 0 || hdr->nh_bulk_nr != 0)
			return -DER_PROTO;
	} else if (hdr->nh_flags & NET_HF_REPLY) {
		/* A reply carries neither the sender's address nor buffers. */
		if (hdr->nh_addr_len != 0 || hdr->nh_bulk_nr != 0)
			return -DER_PROTO;
	} else {
		/* A request cannot be answered without the sender's address. */
		if (hdr->nh_addr_len == 0 || hdr->nh_status != 0)
			return -DER_PROTO;
		if (hdr->nh_bulk_nr > NET_BULK_SEG_MAX)
			return -DER_PROTO;
	}
	need = net_msg_size(hdr->nh_addr_len, hdr->nh_bulk_nr, hdr->nh_body_len);
	if (need != len)
		return -DER_PROTO;
	{
		struct net_tag_df td;

		memcpy(&td, p + sizeof(hd) + NET_ALIGN8((size_t)hdr->nh_addr_len), sizeof(td));
		hdr->nh_dst_tag = le32toh(td.td_dst_tag);
		if (td.td_rsvd != 0 ||
		    ((hdr->nh_flags & NET_HF_REPLY) && hdr->nh_dst_tag != NET_TAG_ANY))
			return -DER_PROTO;
	}
	hdr->nh_bulk =
	    p + sizeof(hd) + NET_ALIGN8((size_t)hdr->nh_addr_len) + sizeof(struct net_tag_df);
	hdr->nh_body = hdr->nh_bulk + (size_t)hdr->nh_bulk_nr * sizeof(struct net_bulk_seg_df);
	hdr->nh_bulk_len = 0;
	for (i = 0; i < hdr->nh_bulk_nr; i++) {
		struct net_bulk_seg seg;

		net_hdr_bulk_seg(hdr, i, &seg);
		if (seg.bs_len > NET_BULK_LEN_MAX - hdr->nh_bulk_len)
			return -DER_PROTO;
		hdr->nh_bulk_len += seg.bs_len;
	}
	return 0;
}

void
net_hdr_bulk_seg(const struct net_hdr *hdr, uint32_t i, struct net_bulk_seg *seg)
{
	struct net_bulk_seg_df sd;

	D_ASSERT(i < hdr->nh_bulk_nr);
	memcpy(&sd, hdr->nh_bulk + (size_t)i * sizeof(sd), sizeof(sd));
	seg->bs_addr = le64toh(sd.bd_addr);
	seg->bs_len = le64toh(sd.bd_len);
	seg->bs_key = le64toh(sd.bd_key);
}

int
net_body_decode(uint16_t opc, bool reply, const void *buf, size_t len, void *out)
{
	const struct net_opc_info *oi = net_opc_info(opc);
	struct net_rbuf r;
	int rc;

	if (oi == NULL)
		return -DER_UNREG;
	r.rb_cur = buf;
	r.rb_end = r.rb_cur + len;
	rc = reply ? oi->oi_rep_dec(out, &r) : oi->oi_req_dec(out, &r);
	if (rc == 0 && r.rb_cur != r.rb_end)
		rc = -DER_PROTO;
	return rc;
}

size_t
net_batch_ent_size(size_t msg_len)
{
	return NET_BATCH_ENT_HDR + NET_ALIGN8(msg_len);
}

uint8_t *
net_batch_ent_encode(uint8_t *p, const void *msg, size_t msg_len)
{
	uint32_t le[2] = {htole32((uint32_t)msg_len), 0};

	memcpy(p, le, sizeof(le));
	memcpy(p + NET_BATCH_ENT_HDR, msg, msg_len);
	memset(p + NET_BATCH_ENT_HDR + msg_len, 0, NET_ALIGN8(msg_len) - msg_len);
	return p + net_batch_ent_size(msg_len);
}

int
net_batch_next(const struct net_hdr *hdr, size_t *off, const uint8_t **msg, size_t *msg_len)
{
	size_t left;
	uint32_t le[2];
	size_t len;

	if (*off >= hdr->nh_body_len)
		return 1;
	left = hdr->nh_body_len - *off;
	if (left < NET_BATCH_ENT_HDR)
		return -DER_PROTO;
	memcpy(le, hdr->nh_body + *off, sizeof(le));
	len = le32toh(le[0]);
	if (le[1] != 0 || len == 0 || NET_ALIGN8(len) > left - NET_BATCH_ENT_HDR)
		return -DER_PROTO;
	*msg = hdr->nh_body + *off + NET_BATCH_ENT_HDR;
	*msg_len = len;
	*off += net_batch_ent_size(len);
	return 0;
}
