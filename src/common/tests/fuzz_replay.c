/*
 * fuzz_replay.c: replays the stored corpus of each fuzz entry of src/common
 * (tests/corpus/pool_map/, tests/corpus/prop_str/) and seeded mutations of each file, as an
 * ordinary test, so that what the fuzzers found stays fixed without clang.
 * Usage: common_fuzz_replay [CORPUS_DIR [MUTATIONS]] (default: the source tree's corpus,
 * 1000 mutations per file), or common_fuzz_replay --gen CORPUS_DIR (writes the seeds).
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifndef COMMON_FUZZ_CORPUS
#define COMMON_FUZZ_CORPUS "corpus"
#endif

#include <d_test.h>
#include "common_internal.h"
#include <daos/pool_map.h>
#include "fuzz_common.h"

static int
seed_write(const char *dir, int n, const struct pool_map *map)
{
	char path[PATH_MAX];
	size_t size = pool_map_encoded_size(map);
	uint8_t *buf = malloc(size);
	FILE *f;
	int rc = -1;

	if (buf == NULL || pool_map_encode(map, buf, size) != (ssize_t)size)
		goto out;
	snprintf(path, sizeof(path), "%s/pool_map", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/pool_map/seed-%d", dir, n);
	f = fopen(path, "wb");
	if (f == NULL)
		goto out;
	if (fwrite(buf, size, 1, f) == 1)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
out:
	free(buf);
	return rc;
}

static int
seed_str(const char *dir, int n, const char *str)
{
	char path[PATH_MAX];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/prop_str", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/prop_str/seed-%d", dir, n);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	if (fwrite(str, strlen(str), 1, f) != 1)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
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
static const struct {
	const char *fe_name;
	int (*fe_fn)(const uint8_t *data, size_t size);
} fuzz_entries[] = {
    {"pool_map", common_fuzz_pool_map},
    {"prop_str", common_fuzz_prop_str},
};

/* Replay every file of @corpus/@name and @mutations mutations of each. Returns the files. */
static int
replay(const char *corpus, int e, unsigned long mutations, uint64_t *rnd, unsigned long *runs)
{
	static uint8_t buf[1 << 16];
	static uint8_t mut[1 << 16];
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int files = 0;

	snprintf(path, sizeof(path), "%s/%s", corpus, fuzz_entries[e].fe_name);
	dir = opendir(path);
	if (dir == NULL) {
		fprintf(stderr, "no corpus at %s\n", path);
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		char file[PATH_MAX + 256];
		unsigned long m;
		size_t len;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		f = fopen(file, "rb");
		if (f == NULL)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		files++;
		fuzz_entries[e].fe_fn(buf, len);
		(*runs)++;
		for (m = 0; m < mutations; m++) {
			size_t mlen = len;
			int k;

			memcpy(mut, buf, len);
			for (k = 0; k < 1 + (int)(d_test_rand(rnd) % 3); k++)
				mutate(mut, &mlen, sizeof(mut), rnd);
			fuzz_entries[e].fe_fn(mut, mlen);
			(*runs)++;
		}
	}
	closedir(dir);
	return files;
}

int
main(int argc, char **argv)
{
	uint64_t rnd = d_test_rand_seed(d_test_seed("common_fuzz_replay"));
	unsigned long mutations = 1000;
	unsigned long runs = 0;
	unsigned long before;
	const char *corpus = COMMON_FUZZ_CORPUS;
	unsigned int e;
	int files;

	if (argc == 3 && strcmp(argv[1], "--gen") == 0)
		return seed_gen(argv[2]);
	if (argc > 1)
		corpus = argv[1];
	if (argc > 2)
		mutations = strtoul(argv[2], NULL, 0);
	/* garbage is expected: keep the log quiet */
	setenv("D_LOG_MASK", "CRIT", 1);
	for (e = 0; e < sizeof(fuzz_entries) / sizeof(fuzz_entries[0]); e++) {
		before = common_fuzz_decoded;
		files = replay(corpus, (int)e, mutations, &rnd, &runs);
		printf("%s: %d files, %lu accepted\n", fuzz_entries[e].fe_name, files,
		       common_fuzz_decoded - before);
		/* the mutations must get past the first checks, or this tests nothing */
		if (files == 0 || common_fuzz_decoded - before <= (unsigned long)files)
			return 1;
	}
	printf("common_fuzz_replay: %lu inputs, no failure\n", runs);
	return 0;
}
