/*
 * fuzz_ctl.c: fuzz entries of the management-port decoders (ctl_frame.c), the bytes a peer
 * of the control thread controls:
 *
 *	stream   a connection's byte stream: frame headers and envelopes, one after another,
 *	         as the control thread reads them (a bad header ends the stream)
 *	env      one envelope
 *	addr     an address string ("host:port", "[v6]:port"), as access points and peers give
 *
 * A decoder must return an error, or a result that survives a round trip: a decoded
 * envelope encodes (ctl_frame_encode) to a frame that decodes to the same fields and body;
 * a parsed address formats back to the same port and family. Anything else aborts.
 *
 * With clang and -DCTL_FUZZ_TARGET=n this is the libFuzzer program fuzz_ctl_<name>;
 * otherwise it is engine_fuzz_ctl_replay, which replays tests/corpus/ctl_<name>/ plus seeded
 * mutations of every file as an ordinary test. `engine_fuzz_ctl_replay --gen DIR` writes
 * the seeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <d_fuzz_replay.h>
#include <gurt/common.h>

#include "ctl_frame.h"

enum {
	CTL_FUZZ_STREAM,
	CTL_FUZZ_ENV,
	CTL_FUZZ_ADDR,
	CTL_FUZZ_NR,
};

/* Largest frame the fuzzed receiver accepts (the real default is 16 MiB). */
#define CTL_FUZZ_FRAME_MAX (1U << 16)

/* Decode one envelope; if it decodes, its re-encoded frame must decode to the same. */
static int
ctl_fuzz_env(const uint8_t *data, size_t size)
{
	struct ctl_env env, env2;
	Ctl__Envelope *msg, *msg2;
	char *buf;
	size_t flen;
	uint32_t len;
	int rc;

	rc = ctl_env_decode(data, size, &env, &msg);
	if (rc != 0) {
		if (rc != -DER_PROTO && rc != -DER_NOMEM)
			abort();
		return rc;
	}
	if (env.ce_kind != CTL__KIND__KIND_REQUEST && env.ce_kind != CTL__KIND__KIND_REPLY)
		abort();
	if (ctl_frame_encode(&env, msg->body.data, msg->body.len, NULL, 0, UINT32_MAX, &buf,
			     &flen) != 0)
		abort();
	if (ctl_hdr_decode(buf, UINT32_MAX, &len) != 0 || len != flen - CTL_HDR_SIZE)
		abort();
	if (ctl_env_decode(buf + CTL_HDR_SIZE, len, &env2, &msg2) != 0)
		abort();
	if (env2.ce_kind != env.ce_kind || env2.ce_method != env.ce_method ||
	    env2.ce_seq != env.ce_seq || env2.ce_status != env.ce_status ||
	    msg2->body.len != msg->body.len ||
	    (msg->body.len > 0 && memcmp(msg2->body.data, msg->body.data, msg->body.len) != 0))
		abort();
	ctl_env_free(msg2);
	D_FREE(buf);
	ctl_env_free(msg);
	return 0;
}

static int
ctl_fuzz_stream(const uint8_t *data, size_t size)
{
	uint32_t len;
	int rc = 0;

	while (size >= CTL_HDR_SIZE) {
		rc = ctl_hdr_decode(data, CTL_FUZZ_FRAME_MAX, &len);
		if (rc != 0) {
			if (rc != -DER_PROTO && rc != -DER_REC2BIG)
				abort();
			return rc; /* the connection is closed */
		}
		if (len > CTL_FUZZ_FRAME_MAX)
			abort();
		data += CTL_HDR_SIZE;
		size -= CTL_HDR_SIZE;
		if (len > size)
			return -DER_PROTO; /* the rest never arrives */
		rc = ctl_fuzz_env(data, len);
		if (rc != 0)
			return rc; /* the connection is closed */
		data += len;
		size -= len;
	}
	return rc;
}

static int
ctl_fuzz_addr(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	char str[256], host[64], host2[64], out[128];
	uint16_t port, port2;
	int rc;

	if (size >= sizeof(str))
		size = sizeof(str) - 1;
	memcpy(str, data, size);
	str[size] = '\0';
	rc = ctl_addr_split(str, host, sizeof(host), &port);
	if (rc != 0) {
		if (rc != -DER_INVAL)
			abort();
		return rc;
	}
	if (strlen(host) >= sizeof(host))
		abort();
	rc = ctl_addr_numeric(host, port, &ss);
	if (rc != 0) {
		if (rc != -DER_NONEXIST)
			abort();
		return rc;
	}
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
		abort();
	if (ctl_addr_format((struct sockaddr *)&ss, out, sizeof(out)) != 0)
		abort();
	if (ctl_addr_split(out, host2, sizeof(host2), &port2) != 0 || port2 != port)
		abort();
	return 0;
}

static int
ctl_fuzz_one(int target, const uint8_t *data, size_t size)
{
	switch (target) {
	case CTL_FUZZ_STREAM:
		return ctl_fuzz_stream(data, size);
	case CTL_FUZZ_ENV:
		return ctl_fuzz_env(data, size);
	case CTL_FUZZ_ADDR:
		return ctl_fuzz_addr(data, size);
	default:
		abort();
	}
}

#ifdef CTL_FUZZ_TARGET
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctl_fuzz_one(CTL_FUZZ_TARGET, data, size);
	return 0;
}

#else /* the corpus replay */

#ifndef CTL_FUZZ_CORPUS
#define CTL_FUZZ_CORPUS "corpus"
#endif

static const char *const ctl_fuzz_dirs[CTL_FUZZ_NR] = {"ctl_stream", "ctl_env", "ctl_addr"};

static int
write_seed(const char *dir, int target, int n, const void *buf, size_t len)
{
	return d_fuzz_seed_write(dir, ctl_fuzz_dirs[target], n, buf, len);
}

/* Valid frames: a request with a body, a reply without one, an error reply. */
static int
gen(const char *dir)
{
	static const char *const addrs[] = {"127.0.0.1:10001", "[::1]:31416", "localhost:1", ":0",
					    "10.0.0.7:65535"};
	struct ctl_env envs[3] = {
	    {CTL__KIND__KIND_REQUEST, 150, 7, 0},
	    {CTL__KIND__KIND_REPLY, 1, 8, 0},
	    {CTL__KIND__KIND_REPLY, 101, 1ULL << 40, -DER_NONEXIST},
	};
	static uint8_t stream[4096];
	size_t slen = 0;
	int rc = 0;
	int i;

	for (i = 0; i < 3; i++) {
		char *buf;
		size_t flen;

		if (ctl_frame_encode(&envs[i], "0123456789abcdef", i == 0 ? 16 : 0, NULL, 0,
				     CTL_FUZZ_FRAME_MAX, &buf, &flen) != 0)
			return 1;
		rc |= write_seed(dir, CTL_FUZZ_ENV, i, buf + CTL_HDR_SIZE, flen - CTL_HDR_SIZE);
		rc |= write_seed(dir, CTL_FUZZ_STREAM, i, buf, flen);
		memcpy(stream + slen, buf, flen);
		slen += flen;
		D_FREE(buf);
	}
	rc |= write_seed(dir, CTL_FUZZ_STREAM, 3, stream, slen);
	for (i = 0; i < (int)D_ARRAY_SIZE(addrs); i++)
		rc |= write_seed(dir, CTL_FUZZ_ADDR, i, addrs[i], strlen(addrs[i]));
	return rc == 0 ? 0 : 1;
}

static void
replay_one(int e, const uint8_t *buf, size_t len)
{
	ctl_fuzz_one(e, buf, len);
}

int
main(int argc, char **argv)
{
	static const struct d_fuzz_replay fr = {
	    .fr_name = "engine_fuzz_ctl_replay",
	    .fr_corpus = CTL_FUZZ_CORPUS,
	    .fr_mutations = 3000,
	    .fr_nr = CTL_FUZZ_NR,
	    .fr_dirs = ctl_fuzz_dirs,
	    .fr_one = replay_one,
	    .fr_gen = gen,
	};
	int rc;

	if (d_log_init() != 0)
		return 1;
	rc = d_fuzz_replay_main(&fr, argc, argv);
	d_log_fini();
	return rc;
}
#endif
