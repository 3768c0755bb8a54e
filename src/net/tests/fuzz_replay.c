/*
 * fuzz_replay.c: replays the stored corpus of every net decoder (tests/corpus/<decoder>/),
 * plus seeded mutations of each file (bit flips, truncations, extensions, huge lengths), as
 * an ordinary test, so that the fuzz targets' findings stay fixed without clang.
 * Usage: net_fuzz_replay [CORPUS_DIR [MUTATIONS]] (default: the source tree's corpus, 2000
 * mutations per file), or net_fuzz_replay --gen CORPUS_DIR (writes valid encodings as seeds).
 */
#ifndef NET_FUZZ_CORPUS
#define NET_FUZZ_CORPUS "corpus"
#endif

#include <d_fuzz_replay.h>
#include "net_internal.h"
#define NT_PROTO_EXTERN
#include "net_test_common.h"
#include "fuzz_net.h"

/* Encode @in as @opc's body (request or reply) into @buf; returns its length. */
static size_t
encode(uint16_t opc, bool reply, const void *in, uint8_t *buf, size_t cap)
{
	const struct net_opc_info *oi = net_opc_info(opc);
	struct net_wbuf w = {buf, buf + cap};
	int rc = reply ? oi->oi_rep_enc(in, &w) : oi->oi_req_enc(in, &w);

	if (rc != 0)
		abort();
	return (size_t)(w.wb_cur - buf);
}

static int
gen(const char *dir)
{
	static uint8_t body[8192];
	static uint8_t msg[16384];
	static const uint8_t addr[16] = {2, 0, 0x7a, 0x69, 127, 0, 0, 1};
	struct net_bulk_seg segs[2] = {{0, 4096, 1}, {0x1000, 1 << 20, 2}};
	struct net_ping_in pi = {.pi_seq = 1, .pi_flags = NET_PING_NOECHO};
	struct net_ping_out po = {.po_seq = 2};
	struct net_bulk_in bi = {.bi_op = NET_BULK_OP_GET, .bi_flags = 1, .bi_len = 4096};
	struct net_bulk_out bo = {.bo_len = 4096, .bo_crc = 0x12345678};
	struct nt_name_in ni = {.ni_name = "container", .ni_val = 3, .ni_neg = -1};
	size_t len;
	size_t blen;
	uint8_t *p;
	int rc = 0;

	net_fuzz_one(NET_FUZZ_HDR, NULL, 0); /* registers the tables */
	d_iov_set(&pi.pi_data, "hello", 5);
	d_iov_set(&po.po_data, "world!", 6);
	rc |= d_fuzz_seed_write(dir, "ping_in", 0, body,
				encode(NET_OPC_PING, false, &pi, body, 8192));
	rc |= d_fuzz_seed_write(dir, "ping_out", 0, body,
				encode(NET_OPC_PING, true, &po, body, 8192));
	rc |= d_fuzz_seed_write(dir, "bulk_in", 0, body,
				encode(NET_OPC_BULK, false, &bi, body, 8192));
	rc |= d_fuzz_seed_write(dir, "bulk_out", 0, body,
				encode(NET_OPC_BULK, true, &bo, body, 8192));
	rc |=
	    d_fuzz_seed_write(dir, "name_in", 0, body, encode(NT_OPC_NAME, false, &ni, body, 8192));
	ni.ni_name = "";
	rc |=
	    d_fuzz_seed_write(dir, "name_in", 1, body, encode(NT_OPC_NAME, false, &ni, body, 8192));

	/* Whole messages: a request with bulk, a reply, an error reply. */
	blen = encode(NET_OPC_BULK, false, &bi, body, 8192);
	p = net_hdr_encode(msg, 0, NET_OPC_BULK, 77, 0, (uint32_t)blen, 1000, addr, sizeof(addr), 3,
			   segs, 2);
	memcpy(p, body, blen);
	len = (size_t)(p - msg) + blen;
	rc |= d_fuzz_seed_write(dir, "msg", 0, msg, len);
	rc |= d_fuzz_seed_write(dir, "hdr", 0, msg, len);
	blen = encode(NET_OPC_PING, true, &po, body, 8192);
	p = net_hdr_encode(msg, NET_HF_REPLY, NET_OPC_PING, 78, 0, (uint32_t)blen, 0, NULL, 0,
			   NET_TAG_ANY, NULL, 0);
	memcpy(p, body, blen);
	len = (size_t)(p - msg) + blen;
	rc |= d_fuzz_seed_write(dir, "msg", 1, msg, len);
	rc |= d_fuzz_seed_write(dir, "hdr", 1, msg, len);
	p = net_hdr_encode(msg, NET_HF_REPLY, NET_OPC_PING, 79, -DER_NOSPACE, 0, 0, NULL, 0,
			   NET_TAG_ANY, NULL, 0);
	rc |= d_fuzz_seed_write(dir, "hdr", 2, msg, (size_t)(p - msg));
	return rc == 0 ? 0 : 1;
}

static void
replay_one(int e, const uint8_t *buf, size_t len)
{
	net_fuzz_one(e, buf, len);
}

int
main(int argc, char **argv)
{
	static const struct d_fuzz_replay fr = {
	    .fr_name = "net_fuzz_replay",
	    .fr_corpus = NET_FUZZ_CORPUS,
	    .fr_mutations = 2000,
	    .fr_nr = NET_FUZZ_NR,
	    .fr_dirs = net_fuzz_names,
	    .fr_one = replay_one,
	    .fr_gen = gen,
	};

	return d_fuzz_replay_main(&fr, argc, argv);
}
