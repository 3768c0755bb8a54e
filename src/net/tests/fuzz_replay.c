/*
 * fuzz_replay.c: replays the stored corpus of every net decoder (tests/corpus/<decoder>/),
 * plus seeded mutations of each file (bit flips, truncations, extensions, huge lengths), as
 * an ordinary test, so that the fuzz targets' findings stay fixed without clang.
 * Usage: net_fuzz_replay [CORPUS_DIR [MUTATIONS]] (default: the source tree's corpus, 2000
 * mutations per file), or net_fuzz_replay --gen CORPUS_DIR (writes valid encodings as seeds).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifndef NET_FUZZ_CORPUS
#define NET_FUZZ_CORPUS "corpus"
#endif

#include <d_test.h>
#include "net_internal.h"
#define NT_PROTO_EXTERN
#include "net_test_common.h"
#include "fuzz_net.h"

static int
write_file(const char *dir, const char *name, int n, const void *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/seed-%d", dir, name, n);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(buf, len, 1, f) != 1) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

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
	rc |= write_file(dir, "ping_in", 0, body, encode(NET_OPC_PING, false, &pi, body, 8192));
	rc |= write_file(dir, "ping_out", 0, body, encode(NET_OPC_PING, true, &po, body, 8192));
	rc |= write_file(dir, "bulk_in", 0, body, encode(NET_OPC_BULK, false, &bi, body, 8192));
	rc |= write_file(dir, "bulk_out", 0, body, encode(NET_OPC_BULK, true, &bo, body, 8192));
	rc |= write_file(dir, "name_in", 0, body, encode(NT_OPC_NAME, false, &ni, body, 8192));
	ni.ni_name = "";
	rc |= write_file(dir, "name_in", 1, body, encode(NT_OPC_NAME, false, &ni, body, 8192));

	/* Whole messages: a request with bulk, a reply, an error reply. */
	blen = encode(NET_OPC_BULK, false, &bi, body, 8192);
	p = net_hdr_encode(msg, 0, NET_OPC_BULK, 77, 0, (uint32_t)blen, 1000, addr, sizeof(addr), 3,
			   segs, 2);
	memcpy(p, body, blen);
	len = (size_t)(p - msg) + blen;
	rc |= write_file(dir, "msg", 0, msg, len);
	rc |= write_file(dir, "hdr", 0, msg, len);
	blen = encode(NET_OPC_PING, true, &po, body, 8192);
	p = net_hdr_encode(msg, NET_HF_REPLY, NET_OPC_PING, 78, 0, (uint32_t)blen, 0, NULL, 0,
			   NET_TAG_ANY, NULL, 0);
	memcpy(p, body, blen);
	len = (size_t)(p - msg) + blen;
	rc |= write_file(dir, "msg", 1, msg, len);
	rc |= write_file(dir, "hdr", 1, msg, len);
	p = net_hdr_encode(msg, NET_HF_REPLY, NET_OPC_PING, 79, -DER_NOSPACE, 0, 0, NULL, 0,
			   NET_TAG_ANY, NULL, 0);
	rc |= write_file(dir, "hdr", 2, msg, (size_t)(p - msg));
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static uint8_t buf[1 << 16];
	static uint8_t mut[1 << 16];
	uint64_t rnd = d_test_rand_seed(d_test_seed("net_fuzz_replay"));
	unsigned long mutations = 2000;
	unsigned long runs = 0;
	const char *corpus = NET_FUZZ_CORPUS;
	int t;

	if (argc == 3 && strcmp(argv[1], "--gen") == 0)
		return gen(argv[2]);
	if (argc > 1)
		corpus = argv[1];
	if (argc > 2)
		mutations = strtoul(argv[2], NULL, 0);
	for (t = 0; t < NET_FUZZ_NR; t++) {
		char path[PATH_MAX];
		struct dirent *de;
		DIR *dir;
		int files = 0;

		snprintf(path, sizeof(path), "%s/%s", corpus, net_fuzz_names[t]);
		dir = opendir(path);
		if (dir == NULL) {
			fprintf(stderr, "no corpus for %s at %s\n", net_fuzz_names[t], path);
			return 1;
		}
		while ((de = readdir(dir)) != NULL) {
			char file[PATH_MAX + 256];
			size_t len;
			FILE *f;
			unsigned long m;

			if (de->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
			f = fopen(file, "rb");
			if (f == NULL)
				continue;
			len = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			files++;
			net_fuzz_one(t, buf, len);
			runs++;
			for (m = 0; m < mutations; m++) {
				size_t mlen = len;
				int k;

				memcpy(mut, buf, len);
				for (k = 0; k < 1 + (int)(d_test_rand(&rnd) % 3); k++)
					d_test_mutate(mut, &mlen, sizeof(mut), &rnd);
				net_fuzz_one(t, mut, mlen);
				runs++;
			}
		}
		closedir(dir);
		if (files == 0) {
			fprintf(stderr, "empty corpus for %s\n", net_fuzz_names[t]);
			return 1;
		}
	}
	printf("net_fuzz_replay: %lu inputs, no failure\n", runs);
	return 0;
}
