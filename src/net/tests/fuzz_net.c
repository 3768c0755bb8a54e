/*
 * fuzz_net.c: one fuzz entry per decoder of the net wire format (the header, each request
 * and reply codec, a whole received message). Built as a libFuzzer target per decoder with
 * clang (-DNET_FUZZ_TARGET=n) and, without it, linked into net_fuzz_replay, which replays
 * the stored corpus and mutations of it as an ordinary test. A decoder must return an error
 * or a result that encodes back to the same bytes; anything else aborts.
 */
#include <stdio.h>
#include <stdlib.h>

#include "net_internal.h"
#include "net_test_common.h"
#include "fuzz_net.h"

const char *const net_fuzz_names[NET_FUZZ_NR] = {"hdr",      "ping_in", "ping_out", "bulk_in",
						 "bulk_out", "name_in", "msg"};

static const struct {
	uint16_t opc;
	bool reply;
} net_fuzz_bodies[] = {
    [NET_FUZZ_PING_IN] = {NET_OPC_PING, false}, [NET_FUZZ_PING_OUT] = {NET_OPC_PING, true},
    [NET_FUZZ_BULK_IN] = {NET_OPC_BULK, false}, [NET_FUZZ_BULK_OUT] = {NET_OPC_BULK, true},
    [NET_FUZZ_NAME_IN] = {NT_OPC_NAME, false},
};

static void
net_fuzz_init(void)
{
	static int done;

	if (!done) {
		if (net_proto_register(&net_selftest_proto) != 0 ||
		    net_proto_register(&nt_proto) != 0)
			abort();
		done = 1;
	}
}

/* Decode @size bytes as @opc's body; if that succeeds, encoding it again must give them back. */
static int
net_fuzz_body(uint16_t opc, bool reply, const uint8_t *data, size_t size)
{
	const struct net_opc_info *oi = net_opc_info(opc);
	uint64_t out[64];
	uint8_t *again;
	struct net_wbuf w;
	size_t len;
	int rc;

	if (oi == NULL)
		return net_body_decode(opc, reply, data, size, out);
	if ((reply ? oi->oi_rep_size : oi->oi_req_size) > sizeof(out))
		abort();
	rc = net_body_decode(opc, reply, data, size, out);
	if (rc != 0) {
		if (rc != -DER_PROTO && rc != -DER_INVAL)
			abort();
		return rc;
	}
	len = reply ? oi->oi_rep_len(out) : oi->oi_req_len(out);
	if (len != size)
		abort();
	again = malloc(len + 1);
	if (again == NULL)
		abort();
	w.wb_cur = again;
	w.wb_end = again + len;
	if ((reply ? oi->oi_rep_enc(out, &w) : oi->oi_req_enc(out, &w)) != 0 ||
	    w.wb_cur != w.wb_end || memcmp(again, data, len) != 0)
		abort();
	free(again);
	return 0;
}

int
net_fuzz_one(int target, const uint8_t *data, size_t size)
{
	struct net_hdr hdr;
	struct net_bulk_seg seg;
	uint64_t total = 0;
	uint32_t i;
	int rc;

	net_fuzz_init();
	switch (target) {
	case NET_FUZZ_HDR:
	case NET_FUZZ_MSG:
		rc = net_hdr_decode(data, size, &hdr);
		if (rc != 0) {
			if (rc != -DER_PROTO && rc != -DER_MISMATCH)
				abort();
			return rc;
		}
		if (hdr.nh_body + hdr.nh_body_len != data + size)
			abort();
		for (i = 0; i < hdr.nh_bulk_nr; i++) {
			net_hdr_bulk_seg(&hdr, i, &seg);
			total += seg.bs_len;
		}
		if (total != hdr.nh_bulk_len)
			abort();
		if (target == NET_FUZZ_HDR)
			return 0;
		if (hdr.nh_flags & NET_HF_BATCH) {
			/* entries stay inside the body; each is a message for the decoder */
			const uint8_t *ent;
			size_t off = 0;
			size_t len;
			struct net_hdr eh;

			while ((rc = net_batch_next(&hdr, &off, &ent, &len)) == 0) {
				if (ent < hdr.nh_body || ent + len > hdr.nh_body + hdr.nh_body_len)
					abort();
				(void)net_hdr_decode(ent, len, &eh);
			}
			if (rc != 1 && rc != -DER_PROTO)
				abort();
			return rc == 1 ? 0 : rc;
		}
		return net_fuzz_body(hdr.nh_opc, hdr.nh_flags & NET_HF_REPLY, hdr.nh_body,
				     hdr.nh_body_len);
	case NET_FUZZ_PING_IN:
	case NET_FUZZ_PING_OUT:
	case NET_FUZZ_BULK_IN:
	case NET_FUZZ_BULK_OUT:
	case NET_FUZZ_NAME_IN:
		return net_fuzz_body(net_fuzz_bodies[target].opc, net_fuzz_bodies[target].reply,
				     data, size);
	default:
		abort();
	}
}

#ifdef NET_FUZZ_TARGET
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	net_fuzz_one(NET_FUZZ_TARGET, data, size);
	return 0;
}
#endif
