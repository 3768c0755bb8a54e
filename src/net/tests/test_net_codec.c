/*
 * test_net_codec.c: the wire format without a fabric: field codecs round-trip; every decoder
 * rejects truncated input, trailing bytes, over-long fields, unterminated strings and random
 * bytes with an error; the header decoder checks magic, version, flags, lengths and
 * descriptor sums; opcode tables register once per module; reply batches (NET_HF_BATCH)
 * give back their entries and reject malformed ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <d_test.h>
#include "net_internal.h"
#include "net_test_common.h"

static uint64_t t_rand;

static size_t
t_encode(uint16_t opc, bool reply, const void *in, uint8_t *buf, size_t cap)
{
	const struct net_opc_info *oi = net_opc_info(opc);
	struct net_wbuf w = {buf, buf + cap};

	assert_non_null(oi);
	assert_int_equal(reply ? oi->oi_rep_enc(in, &w) : oi->oi_req_enc(in, &w), 0);
	assert_int_equal((size_t)(w.wb_cur - buf), reply ? oi->oi_rep_len(in) : oi->oi_req_len(in));
	return (size_t)(w.wb_cur - buf);
}

static void
t_roundtrip(void **state)
{
	static uint8_t buf[1 << 16];
	static uint8_t data[4096];
	struct nt_name_in ni = {.ni_name = "sixteen-chars-ok",
				.ni_val = 0xdeadbeef,
				.ni_neg = INT64_MIN,
				.ni_small = 65535,
				.ni_tiny = 255};
	struct nt_name_in no;
	struct net_ping_in pi = {.pi_seq = UINT64_MAX, .pi_flags = 3, .pi_status = -DER_IO};
	struct net_ping_in po;
	size_t len;
	int i;

	(void)state;
	uuid_generate(ni.ni_uuid);
	len = t_encode(NT_OPC_NAME, false, &ni, buf, sizeof(buf));
	assert_int_equal(net_body_decode(NT_OPC_NAME, false, buf, len, &no), 0);
	assert_string_equal(no.ni_name, ni.ni_name);
	assert_int_equal(no.ni_val, ni.ni_val);
	assert_true(no.ni_neg == INT64_MIN);
	assert_int_equal(no.ni_small, 65535);
	assert_int_equal(no.ni_tiny, 255);
	assert_memory_equal(no.ni_uuid, ni.ni_uuid, sizeof(uuid_t));
	/* Zero-copy: the string points into the buffer. */
	assert_true((const uint8_t *)no.ni_name > buf && (const uint8_t *)no.ni_name < buf + len);
	/* NULL encodes as "". */
	ni.ni_name = NULL;
	len = t_encode(NT_OPC_NAME, false, &ni, buf, sizeof(buf));
	assert_int_equal(net_body_decode(NT_OPC_NAME, false, buf, len, &no), 0);
	assert_string_equal(no.ni_name, "");

	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)d_test_rand(&t_rand);
	for (i = 0; i < 50; i++) {
		size_t n = d_test_rand(&t_rand) % sizeof(data);

		d_iov_set(&pi.pi_data, data, n);
		len = t_encode(NET_OPC_PING, false, &pi, buf, sizeof(buf));
		assert_int_equal(net_body_decode(NET_OPC_PING, false, buf, len, &po), 0);
		assert_int_equal(po.pi_seq, UINT64_MAX);
		assert_int_equal(po.pi_status, -DER_IO);
		assert_int_equal(po.pi_data.iov_len, n);
		if (n > 0)
			assert_memory_equal(po.pi_data.iov_buf, data, n);
		else
			assert_null(po.pi_data.iov_buf);
	}
}

static void
t_malformed_bodies(void **state)
{
	static uint8_t buf[1 << 16];
	struct nt_name_in ni = {.ni_name = "abc"};
	struct net_ping_in pi = {.pi_seq = 1};
	uint64_t out[32];
	size_t len;
	size_t cut;
	uint32_t big;

	(void)state;
	d_iov_set(&pi.pi_data, "0123456789", 10);
	len = t_encode(NET_OPC_PING, false, &pi, buf, sizeof(buf));
	/* Every truncation, and a trailing byte. */
	for (cut = 0; cut < len; cut++)
		assert_int_equal(net_body_decode(NET_OPC_PING, false, buf, cut, out), -DER_PROTO);
	assert_int_equal(net_body_decode(NET_OPC_PING, false, buf, len + 1, out), -DER_PROTO);
	/* A bytes length above the field's maximum, and one past the end. */
	big = htole32(NET_PING_DATA_MAX + 1);
	memcpy(buf + 16, &big, 4);
	assert_int_equal(net_body_decode(NET_OPC_PING, false, buf, len, out), -DER_INVAL);
	big = htole32(11);
	memcpy(buf + 16, &big, 4);
	assert_int_equal(net_body_decode(NET_OPC_PING, false, buf, len, out), -DER_PROTO);
	big = htole32(UINT32_MAX);
	memcpy(buf + 16, &big, 4);
	assert_int_equal(net_body_decode(NET_OPC_PING, false, buf, len, out), -DER_INVAL);

	/* Strings: over the maximum, no NUL, a NUL inside, truncated. */
	len = t_encode(NT_OPC_NAME, false, &ni, buf, sizeof(buf));
	for (cut = 0; cut < len; cut++)
		assert_int_equal(net_body_decode(NT_OPC_NAME, false, buf, cut, out), -DER_PROTO);
	buf[4 + 3] = 'x';
	assert_int_equal(net_body_decode(NT_OPC_NAME, false, buf, len, out), -DER_PROTO);
	buf[4 + 3] = '\0';
	buf[4 + 1] = '\0';
	assert_int_equal(net_body_decode(NT_OPC_NAME, false, buf, len, out), -DER_PROTO);
	big = htole32(NT_NAME_MAX + 1);
	memcpy(buf, &big, 4);
	assert_int_equal(net_body_decode(NT_OPC_NAME, false, buf, len, out), -DER_INVAL);
	big = htole32(UINT32_MAX);
	memcpy(buf, &big, 4);
	assert_int_equal(net_body_decode(NT_OPC_NAME, false, buf, len, out), -DER_INVAL);
	big = htole32(NT_NAME_MAX);
	memcpy(buf, &big, 4);
	assert_int_equal(net_body_decode(NT_OPC_NAME, false, buf, len, out), -DER_PROTO);

	/* Unknown opcodes. */
	assert_int_equal(net_body_decode(NET_OPC(5, 0), false, buf, len, out), -DER_UNREG);
	assert_int_equal(net_body_decode(NET_OPC(NT_MODULE, 99), true, buf, len, out), -DER_UNREG);
	assert_int_equal(net_body_decode(0xffff, true, buf, len, out), -DER_UNREG);
}

static void
t_encoder_limits(void **state)
{
	static uint8_t buf[64];
	struct nt_name_in ni = {.ni_name = "seventeen-chars!!"};
	const struct net_opc_info *oi = net_opc_info(NT_OPC_NAME);
	struct net_wbuf w = {buf, buf + sizeof(buf)};
	struct net_ping_in pi = {0};

	(void)state;
	assert_int_equal(oi->oi_req_enc(&ni, &w), -DER_OVERFLOW);
	ni.ni_name = "ok";
	w.wb_cur = buf;
	w.wb_end = buf + 10; /* too small */
	assert_int_equal(oi->oi_req_enc(&ni, &w), -DER_OVERFLOW);
	oi = net_opc_info(NET_OPC_PING);
	d_iov_set(&pi.pi_data, buf, sizeof(buf));
	w.wb_cur = buf;
	w.wb_end = buf + sizeof(buf);
	assert_int_equal(oi->oi_req_enc(&pi, &w), -DER_OVERFLOW);
}

static void
t_random_bodies(void **state)
{
	uint16_t opcs[] = {NET_OPC_PING, NET_OPC_BULK, NT_OPC_NAME, NT_OPC_DEFER};
	static uint8_t buf[512];
	uint64_t out[32];
	int i;
	int ok = 0;

	(void)state;
	for (i = 0; i < 200000; i++) {
		size_t len = d_test_rand(&t_rand) % sizeof(buf);
		int rc;

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)d_test_rand(&t_rand);
		rc = net_body_decode(opcs[i % 4], i & 4, buf, len, out);
		assert_true(rc == 0 || rc == -DER_PROTO || rc == -DER_INVAL);
		ok += rc == 0;
	}
	printf("random bodies: %d of 200000 decoded\n", ok);
}

static size_t
t_msg(uint8_t *buf, uint8_t flags, const void *addr, uint16_t addr_len,
      const struct net_bulk_seg *segs, uint16_t nseg, uint32_t body_len)
{
	uint8_t *p = net_hdr_encode(buf, flags, NET_OPC_PING, 5, 0, body_len, 100, addr, addr_len,
				    flags & NET_HF_REPLY ? NET_TAG_ANY : 7, segs, nseg);

	memset(p, 0, body_len);
	return (size_t)(p - buf) + body_len;
}

static void
t_header(void **state)
{
	static uint8_t buf[8192];
	static const uint8_t addr[19] = "fi_shm://1234:0:0";
	struct net_bulk_seg segs[3] = {{1, 100, 7}, {2, 0, 0}, {3, 1ULL << 40, 9}};
	struct net_bulk_seg seg;
	struct net_hdr_df *hd = (struct net_hdr_df *)buf;
	struct net_hdr hdr;
	size_t len;
	size_t cut;

	(void)state;
	len = t_msg(buf, 0, addr, sizeof(addr), segs, 3, 17);
	assert_int_equal(len, 32 + 24 + 8 + 3 * 24 + 17);
	assert_int_equal(net_hdr_decode(buf, len, &hdr), 0);
	assert_int_equal(hdr.nh_dst_tag, 7);
	assert_int_equal(hdr.nh_opc, NET_OPC_PING);
	assert_int_equal(hdr.nh_id, 5);
	assert_int_equal(hdr.nh_timeout_ms, 100);
	assert_int_equal(hdr.nh_addr_len, sizeof(addr));
	assert_memory_equal(hdr.nh_addr, addr, sizeof(addr));
	assert_int_equal(hdr.nh_bulk_nr, 3);
	assert_int_equal(hdr.nh_bulk_len, 100 + (1ULL << 40));
	net_hdr_bulk_seg(&hdr, 2, &seg);
	assert_int_equal(seg.bs_addr, 3);
	assert_int_equal(seg.bs_key, 9);
	assert_int_equal(hdr.nh_body_len, 17);
	assert_ptr_equal(hdr.nh_body, buf + len - 17);

	for (cut = 0; cut < len; cut++)
		assert_int_equal(net_hdr_decode(buf, cut, &hdr), -DER_PROTO);
	assert_int_equal(net_hdr_decode(buf, len + 1, &hdr), -DER_PROTO);
	hd->hd_magic ^= 1;
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);
	hd->hd_magic ^= 1;
	hd->hd_version = 9;
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_MISMATCH);
	assert_int_equal(hdr.nh_addr_len, sizeof(addr)); /* enough to reply */
	hd->hd_version = NET_VERSION;
	hd->hd_flags = 0x80;
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);
	hd->hd_flags = NET_HF_REPLY; /* a reply with an address */
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);
	hd->hd_flags = 0;
	hd->hd_status = (int32_t)htole32((uint32_t)-DER_IO); /* a request with a status */
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);
	hd->hd_status = 0;
	hd->hd_body_len = htole32(UINT32_MAX);
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);
	hd->hd_body_len = htole32(17);
	hd->hd_addr_len = htole16(NET_ADDR_RAW_MAX + 1);
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);
	hd->hd_addr_len = htole16(sizeof(addr));
	assert_int_equal(net_hdr_decode(buf, len, &hdr), 0);
	{
		/* the tag block after the address: reserved bits, and replies are untagged */
		struct net_tag_df *td = (struct net_tag_df *)(buf + 32 + 24);

		td->td_rsvd = 1;
		assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);
		td->td_rsvd = 0;
		td->td_dst_tag = htole32(NET_TAG_ANY);
		assert_int_equal(net_hdr_decode(buf, len, &hdr), 0);
		assert_int_equal(hdr.nh_dst_tag, NET_TAG_ANY);
		td->td_dst_tag = htole32(7);
	}

	/* No address on a request; too many descriptors; descriptor lengths overflowing. */
	len = t_msg(buf, 0, NULL, 0, NULL, 0, 8);
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);
	len = t_msg(buf, NET_HF_REPLY, NULL, 0, NULL, 0, 8);
	assert_int_equal(net_hdr_decode(buf, len, &hdr), 0);
	len = t_msg(buf, 0, addr, sizeof(addr), NULL, 0, 0);
	hd->hd_bulk_nr = htole16(NET_BULK_SEG_MAX + 1);
	memset(buf + len, 0, (NET_BULK_SEG_MAX + 1) * 24);
	assert_int_equal(net_hdr_decode(buf, len + (NET_BULK_SEG_MAX + 1) * 24, &hdr), -DER_PROTO);
	segs[0].bs_len = UINT64_MAX;
	segs[1].bs_len = 2;
	len = t_msg(buf, 0, addr, sizeof(addr), segs, 2, 0);
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);
	segs[0].bs_len = 1ULL << 47;
	segs[1].bs_len = 1ULL << 47;
	segs[2].bs_len = 1ULL << 47;
	len = t_msg(buf, 0, addr, sizeof(addr), segs, 3, 0);
	assert_int_equal(net_hdr_decode(buf, len, &hdr), -DER_PROTO);

	/* Random bytes, and random bytes behind a valid magic. */
	for (int i = 0; i < 100000; i++) {
		size_t n = d_test_rand(&t_rand) % 512;
		int rc;

		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)d_test_rand(&t_rand);
		if (i % 2 == 0 && n >= 6) {
			hd->hd_magic = htole32(NET_MAGIC);
			hd->hd_version = NET_VERSION;
		}
		rc = net_hdr_decode(buf, n, &hdr);
		assert_true(rc == 0 || rc == -DER_PROTO || rc == -DER_MISMATCH);
	}
}

NET_PROTO_DEFINE(t_proto_bad, "bad", 7, NT_RPCS);

/* A batch of replies of random lengths: entries come back in order, garbage is refused. */
static void
t_batch(void **state)
{
	uint8_t ents[5][300];
	size_t lens[5];
	uint8_t buf[4096];
	struct net_hdr hdr;
	const uint8_t *msg;
	size_t msg_len;
	size_t off = 0;
	size_t body = 0;
	size_t len;
	uint8_t *p;
	int i;
	int j;

	(void)state;
	for (i = 0; i < 5; i++) {
		lens[i] = 1 + d_test_rand(&t_rand) % sizeof(ents[i]);
		for (j = 0; j < (int)lens[i]; j++)
			ents[i][j] = (uint8_t)d_test_rand(&t_rand);
		body += net_batch_ent_size(lens[i]);
		assert_int_equal(net_batch_ent_size(lens[i]) % 8, 0);
	}
	p = net_hdr_encode(buf, NET_HF_REPLY | NET_HF_BATCH, 0, 0, 0, (uint32_t)body, 0, NULL, 0,
			   NET_TAG_ANY, NULL, 0);
	for (i = 0; i < 5; i++)
		p = net_batch_ent_encode(p, ents[i], lens[i]);
	len = (size_t)(p - buf);
	assert_int_equal(len, net_msg_size(0, 0, body));
	assert_int_equal(net_hdr_decode(buf, len, &hdr), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(net_batch_next(&hdr, &off, &msg, &msg_len), 0);
		assert_int_equal(msg_len, lens[i]);
		assert_memory_equal(msg, ents[i], lens[i]);
	}
	assert_int_equal(net_batch_next(&hdr, &off, &msg, &msg_len), 1);

	/* an entry longer than what is left, a zero length, a nonzero reserved word */
	for (i = 0; i < 3; i++) {
		uint8_t bad[64];
		uint32_t le[2] = {htole32(i == 0 ? 200 : 0), 0};

		if (i == 2) {
			le[0] = htole32(8);
			le[1] = htole32(1);
		}
		p = net_hdr_encode(bad, NET_HF_REPLY | NET_HF_BATCH, 0, 0, 0, 16, 0, NULL, 0,
				   NET_TAG_ANY, NULL, 0);
		memcpy(p, le, sizeof(le));
		memset(p + 8, 0, 8);
		assert_int_equal(net_hdr_decode(bad, net_msg_size(0, 0, 16), &hdr), 0);
		off = 0;
		assert_int_equal(net_batch_next(&hdr, &off, &msg, &msg_len), -DER_PROTO);
	}
	/* a body too short for an entry header */
	p = net_hdr_encode(buf, NET_HF_REPLY | NET_HF_BATCH, 0, 0, 0, 4, 0, NULL, 0, NET_TAG_ANY,
			   NULL, 0);
	memset(p, 0, 4);
	assert_int_equal(net_hdr_decode(buf, net_msg_size(0, 0, 4), &hdr), 0);
	off = 0;
	assert_int_equal(net_batch_next(&hdr, &off, &msg, &msg_len), -DER_PROTO);
	/* a batch of requests decodes; one that names an opcode, id, status, timeout, sender
	 * address or buffers (its entries do) does not */
	net_hdr_encode(buf, NET_HF_BATCH, 0, 0, 0, 0, 0, NULL, 0, NET_TAG_ANY, NULL, 0);
	assert_int_equal(net_hdr_decode(buf, net_msg_size(0, 0, 0), &hdr), 0);
	net_hdr_encode(buf, NET_HF_BATCH, 0, 0, 0, 0, 100, NULL, 0, NET_TAG_ANY, NULL, 0);
	assert_int_equal(net_hdr_decode(buf, net_msg_size(0, 0, 0), &hdr), -DER_PROTO);
	net_hdr_encode(buf, NET_HF_BATCH, 0, 0, 0, 0, 0, "addr", 4, NET_TAG_ANY, NULL, 0);
	assert_int_equal(net_hdr_decode(buf, net_msg_size(4, 0, 0), &hdr), -DER_PROTO);
	net_hdr_encode(buf, NET_HF_REPLY | NET_HF_BATCH, NT_OPC_DEFER, 0, 0, 0, 0, NULL, 0,
		       NET_TAG_ANY, NULL, 0);
	assert_int_equal(net_hdr_decode(buf, net_msg_size(0, 0, 0), &hdr), -DER_PROTO);
	net_hdr_encode(buf, NET_HF_REPLY | NET_HF_BATCH, 0, 5, 0, 0, 0, NULL, 0, NET_TAG_ANY, NULL,
		       0);
	assert_int_equal(net_hdr_decode(buf, net_msg_size(0, 0, 0), &hdr), -DER_PROTO);
	net_hdr_encode(buf, NET_HF_REPLY | NET_HF_BATCH, 0, 0, -DER_INVAL, 0, 0, NULL, 0,
		       NET_TAG_ANY, NULL, 0);
	assert_int_equal(net_hdr_decode(buf, net_msg_size(0, 0, 0), &hdr), -DER_PROTO);
	/* an empty batch decodes and has no entry */
	net_hdr_encode(buf, NET_HF_REPLY | NET_HF_BATCH, 0, 0, 0, 0, 0, NULL, 0, NET_TAG_ANY, NULL,
		       0);
	assert_int_equal(net_hdr_decode(buf, net_msg_size(0, 0, 0), &hdr), 0);
	off = 0;
	assert_int_equal(net_batch_next(&hdr, &off, &msg, &msg_len), 1);
}

static void
t_registry(void **state)
{
	struct net_proto p;

	(void)state;
	assert_int_equal(net_proto_register(&nt_proto), 0); /* again: a no-op */
	p = nt_proto;
	p.np_module = NET_MODULE_MAX;
	assert_int_equal(net_proto_register(&p), -DER_INVAL);
	p.np_module = NT_MODULE;
	assert_int_equal(net_proto_register(&p), -DER_EXIST); /* another table, same module */
	/* Opcodes that are not NET_OPC(module, index). */
	assert_int_equal(net_proto_register(&t_proto_bad), -DER_INVAL);
	assert_null(net_opc_info(NET_OPC(7, 0)));
	assert_non_null(net_opc_info(NT_OPC_DEFER));
	assert_string_equal(net_opc_info(NT_OPC_DEFER)->oi_name, "defer");
	assert_string_equal(net_opc_info(NET_OPC_BULK)->oi_name, "bulk");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_roundtrip),      cmocka_unit_test(t_malformed_bodies),
	    cmocka_unit_test(t_encoder_limits), cmocka_unit_test(t_random_bodies),
	    cmocka_unit_test(t_header),         cmocka_unit_test(t_registry),
	    cmocka_unit_test(t_batch),
	};

	t_rand = d_test_rand_seed(d_test_seed("test_net_codec"));
	if (net_proto_register(&net_selftest_proto) != 0 || net_proto_register(&nt_proto) != 0)
		return 1;
	return cmocka_run_group_tests_name("net_codec", tests, NULL, NULL);
}
