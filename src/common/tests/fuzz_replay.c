/*
 * fuzz_replay.c: replays the stored corpus of each fuzz entry of src/common
 * (tests/corpus/pool_map/, tests/corpus/prop_str/) and seeded mutations of each file, as an
 * ordinary test, so that what the fuzzers found stays fixed without clang.
 * Usage: common_fuzz_replay [CORPUS_DIR [MUTATIONS]] (default: the source tree's corpus,
 * 1000 mutations per file), or common_fuzz_replay --gen CORPUS_DIR (writes the seeds).
 */
#include <stdio.h>
#include <stdlib.h>

#ifndef COMMON_FUZZ_CORPUS
#define COMMON_FUZZ_CORPUS "corpus"
#endif

#include <d_fuzz_replay.h>
#include "common_internal.h"
#include <daos/pool_map.h>
#include "fuzz_common.h"

static int
seed_write(const char *dir, int n, const struct pool_map *map)
{
	size_t size = pool_map_encoded_size(map);
	uint8_t *buf = malloc(size);
	int rc = -1;

	if (buf != NULL && pool_map_encode(map, buf, size) == (ssize_t)size)
		rc = d_fuzz_seed_write(dir, "pool_map", n, buf, size);
	free(buf);
	return rc;
}

static int
seed_str(const char *dir, int n, const char *str)
{
	return d_fuzz_seed_write(dir, "prop_str", n, str, strlen(str));
}

/* Seeds: the shapes and states a decoder meets; property strings of every key. */
static int
seed_gen(const char *dir)
{
	struct pool_map_rank_desc one = {0, 1, 1};
	struct pool_map_rank_desc d[6];
	struct pool_map_rank_desc add[2] = {{9, 7, 2}, {8, 1, 1}};
	struct pool_component doms[4] = {
	    {.co_type = PO_COMP_TP_ROOT, .co_status = PO_COMP_ST_UPIN, .co_nr = 3},
	    {.co_type = PO_COMP_TP_RANK, .co_status = PO_COMP_ST_UPIN, .co_rank = 0, .co_nr = 1},
	    {.co_type = PO_COMP_TP_RANK, .co_status = PO_COMP_ST_DOWN, .co_rank = 4, .co_nr = 1},
	    {.co_type = PO_COMP_TP_RANK, .co_status = PO_COMP_ST_UPIN, .co_rank = 2, .co_nr = 2},
	};
	struct pool_component tgts[4] = {
	    {.co_type = PO_COMP_TP_TARGET, .co_status = PO_COMP_ST_UPIN, .co_id = 3},
	    {.co_type = PO_COMP_TP_TARGET, .co_status = PO_COMP_ST_DOWN, .co_id = 0, .co_rank = 4},
	    {.co_type = PO_COMP_TP_TARGET, .co_status = PO_COMP_ST_UPIN, .co_id = 1, .co_rank = 2},
	    {.co_type = PO_COMP_TP_TARGET,
	     .co_status = PO_COMP_ST_DRAIN,
	     .co_index = 1,
	     .co_id = 2,
	     .co_rank = 2},
	};
	struct pool_map *map;
	uint32_t ids[3] = {1, 5, 6};
	int rc = 0;
	int i;

	if (pool_map_create(&one, 1, 1, &map) != 0)
		return 1;
	rc |= seed_write(dir, 0, map);
	pool_map_destroy(map);

	for (i = 0; i < 6; i++) {
		d[i].rd_rank = (uint32_t)i;
		d[i].rd_node = (uint32_t)i / 2;
		d[i].rd_tgt_nr = 4;
	}
	if (pool_map_create(d, 6, 3, &map) != 0)
		return 1;
	rc |= pool_map_update(map, ids, 3, POOL_MAP_EXCLUDE, NULL);
	rc |= pool_map_update(map, ids, 1, POOL_MAP_EXCLUDE_OUT, NULL);
	rc |= seed_write(dir, 1, map);
	rc |= pool_map_extend(map, add, 2);
	rc |= seed_write(dir, 2, map);
	pool_map_destroy(map);

	rc |= seed_str(dir, 0, "label:foo;rf:1");
	rc |= seed_str(dir, 1,
		       "cksum:crc64;cksum_size:16384;srv_cksum:on;dedup:hash;dedup_threshold:8192");
	rc |= seed_str(dir, 2, "compression:lz4;encryption:aes-gcm256;ec_cell_sz:65536");
	rc |= seed_str(dir, 3, "label:a.b_c-d:e;rf:4;cksum:adler32;compression:deflate4");

	/* root -> ranks, no node level */
	if (pm_build(doms, 4, tgts, 4, 12, &map) != 0)
		return 1;
	rc |= seed_write(dir, 3, map);
	pool_map_destroy(map);
	return rc == 0 ? 0 : 1;
}

/* One random change to @buf (@len bytes, room for @cap). */
static void
mutate(uint8_t *buf, size_t *len, size_t cap, uint64_t *rnd)
{
	uint64_t r = d_test_rand(rnd);
	size_t n = *len;
	size_t off = n > 0 ? (size_t)(d_test_rand(rnd) % n) : 0;

	switch (r % 7) {
	case 0:
		if (n > 0)
			buf[off] ^= (uint8_t)(1U << ((r >> 8) % 8));
		break;
	case 1:
		*len = n > 0 ? off : 0;
		break;
	case 2:
		while (*len < cap && *len < n + 1 + (r >> 8) % 96)
			buf[(*len)++] = (uint8_t)d_test_rand(rnd);
		break;
	case 3:
		if (n >= 4)
			memset(buf + ((off < n - 3 ? off : n - 4) & ~(size_t)3), 0xff, 4);
		break;
	case 4:
		if (n > 0)
			buf[off] = (uint8_t)(r >> 16);
		break;
	case 5:
		/* small numbers are what counts and indexes are made of */
		if (n >= 4)
			buf[(off < n - 3 ? off : n - 4) & ~(size_t)3] = (uint8_t)((r >> 16) % 8);
		break;
	default:
		if (n > 0)
			memset(buf + off, 0, (n - off) < 8 ? n - off : 8);
		break;
	}
}

/* The fuzz entries and their corpus folders. */
static int (*const fuzz_fns[])(const uint8_t *data, size_t size) = {
    common_fuzz_pool_map,
    common_fuzz_prop_str,
};
static const char *const fuzz_dirs[] = {"pool_map", "prop_str"};

static void
replay_one(int e, const uint8_t *buf, size_t len)
{
	fuzz_fns[e](buf, len);
}

/* After each entry: the mutations must get past the first checks, or this tests nothing. */
static int
replay_check(int e, int files)
{
	static unsigned long before;
	unsigned long accepted = common_fuzz_decoded - before;

	before = common_fuzz_decoded;
	printf("%s: %d files, %lu accepted\n", fuzz_dirs[e], files, accepted);
	return accepted <= (unsigned long)files;
}

int
main(int argc, char **argv)
{
	static const struct d_fuzz_replay fr = {
	    .fr_name = "common_fuzz_replay",
	    .fr_corpus = COMMON_FUZZ_CORPUS,
	    .fr_mutations = 1000,
	    .fr_nr = (int)(sizeof(fuzz_dirs) / sizeof(fuzz_dirs[0])),
	    .fr_dirs = fuzz_dirs,
	    .fr_one = replay_one,
	    .fr_mutate = mutate,
	    .fr_gen = seed_gen,
	    .fr_check = replay_check,
	};

	/* garbage is expected: keep the log quiet */
	setenv("D_LOG_MASK", "CRIT", 1);
	return d_fuzz_replay_main(&fr, argc, argv);
}
