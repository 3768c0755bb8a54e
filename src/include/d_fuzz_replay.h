/*
 * d_fuzz_replay.h: the driver of the modules' fuzz corpus replays (tests only).
 *
 * A module's libFuzzer entries each have a corpus folder (CORPUS/<entry>/). Its replay test
 * is an ordinary program, built with any compiler, that feeds every stored file and seeded
 * mutations of it to the entry, so that what the fuzzers found stays fixed. The module gives
 * its entries, folders and seed writer in a struct d_fuzz_replay; its main is one call:
 *
 *	return d_fuzz_replay_main(&my_replay, argc, argv);
 *
 * Command line of such a program: [CORPUS_DIR [MUTATIONS]] (default: fr_corpus and
 * fr_mutations), or --gen DIR (fr_gen writes the seeds under DIR). The seed of the mutations
 * comes from d_test_seed(fr_name), so D_TEST_SEED replays a failure. It exits 1 when an
 * entry has no corpus or no file in it, or fr_check says so; a broken invariant aborts.
 */
#ifndef D_FUZZ_REPLAY_H
#define D_FUZZ_REPLAY_H

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <d_test.h>

/* Largest input replayed (longer files are cut). */
#define D_FUZZ_INPUT_MAX (1 << 16)

struct d_fuzz_replay {
	/* the test's name: the seed's name and the last line's */
	const char *fr_name;
	/* default corpus folder and mutations per file */
	const char *fr_corpus;
	unsigned long fr_mutations;
	/* the entries: fr_nr of them, entry e's files in fr_corpus/fr_dirs[e] */
	int fr_nr;
	const char *const *fr_dirs;
	/* feed @len bytes to entry @e (aborts on a broken invariant) */
	void (*fr_one)(int e, const uint8_t *buf, size_t len);
	/* one random change to @buf; NULL: d_test_mutate */
	void (*fr_mutate)(uint8_t *buf, size_t *len, size_t cap, uint64_t *rnd);
	/* write the seeds under @dir (--gen); 0 or 1 (exit status) */
	int (*fr_gen)(const char *dir);
	/* optional, after entry @e's @files files were replayed: non-zero fails the test */
	int (*fr_check)(int e, int files);
};

/* Write @len bytes as @dir/@sub/seed-@n (creating @dir/@sub); 0 or -1. */
static inline int
d_fuzz_seed_write(const char *dir, const char *sub, int n, const void *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/seed-%d", dir, sub, n);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(buf, len, 1, f) != 1)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Replay every file of entry @e and @mutations mutations of each; returns the files, -1 if
 * the folder cannot be opened. */
static inline int
d_fuzz_replay_entry(const struct d_fuzz_replay *fr, const char *corpus, int e,
		    unsigned long mutations, uint64_t *rnd, unsigned long *runs)
{
	static uint8_t buf[D_FUZZ_INPUT_MAX];
	static uint8_t mut[D_FUZZ_INPUT_MAX];
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int files = 0;

	snprintf(path, sizeof(path), "%s/%s", corpus, fr->fr_dirs[e]);
	dir = opendir(path);
	if (dir == NULL)
		return -1;
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
		fr->fr_one(e, buf, len);
		(*runs)++;
		for (m = 0; m < mutations; m++) {
			size_t mlen = len;
			int k;

			memcpy(mut, buf, len);
			for (k = 0; k < 1 + (int)(d_test_rand(rnd) % 3); k++) {
				if (fr->fr_mutate != NULL)
					fr->fr_mutate(mut, &mlen, sizeof(mut), rnd);
				else
					d_test_mutate(mut, &mlen, sizeof(mut), rnd);
			}
			fr->fr_one(e, mut, mlen);
			(*runs)++;
		}
	}
	closedir(dir);
	return files;
}

static inline int
d_fuzz_replay_main(const struct d_fuzz_replay *fr, int argc, char **argv)
{
	uint64_t rnd = d_test_rand_seed(d_test_seed(fr->fr_name));
	unsigned long mutations = fr->fr_mutations;
	const char *corpus = fr->fr_corpus;
	unsigned long runs = 0;
	int files;
	int e;

	if (argc == 3 && strcmp(argv[1], "--gen") == 0)
		return fr->fr_gen(argv[2]);
	if (argc > 1)
		corpus = argv[1];
	if (argc > 2)
		mutations = strtoul(argv[2], NULL, 0);
	for (e = 0; e < fr->fr_nr; e++) {
		files = d_fuzz_replay_entry(fr, corpus, e, mutations, &rnd, &runs);
		if (files < 0) {
			fprintf(stderr, "no corpus for %s at %s/%s\n", fr->fr_dirs[e], corpus,
				fr->fr_dirs[e]);
			return 1;
		}
		if (files == 0) {
			fprintf(stderr, "empty corpus for %s\n", fr->fr_dirs[e]);
			return 1;
		}
		if (fr->fr_check != NULL && fr->fr_check(e, files) != 0)
			return 1;
	}
	printf("%s: %lu inputs, no failure\n", fr->fr_name, runs);
	return 0;
}

#endif /* D_FUZZ_REPLAY_H */
