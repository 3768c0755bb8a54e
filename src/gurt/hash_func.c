/*
 * hash_func.c: the hashing helpers of gurt/common.h. Their values are part of the DAOS
 * contract (placement and on-disk layouts are computed from them), so each follows the
 * published algorithm DAOS uses, bit for bit:
 *   d_hash_string_u32  djb2 (Bernstein): h = h * 33 + byte, from 5381, over unsigned bytes
 *   d_hash_murmur64    MurmurHash64A (Appleby, MurmurHash2 family), 8-byte blocks read in
 *                      host byte order, 64-bit seed formed by zero-extending @seed
 *   d_hash_jump        jump consistent hash (Lamping and Veach, 2014), double-precision step
 * Pure functions; no state, any thread.
 */
#include <string.h>

#include <gurt/common.h>

uint32_t
d_hash_string_u32(const char *string, unsigned int len)
{
	const unsigned char *p = (const unsigned char *)string;
	uint32_t h = 5381;
	unsigned int i;

	for (i = 0; i < len; i++)
		h = h * 33 + p[i];
	return h;
}

#define D_MURMUR_M 0xc6a4a7935bd1e995ULL
#define D_MURMUR_R 47

uint64_t
d_hash_murmur64(const unsigned char *key, unsigned int key_len, unsigned int seed)
{
	unsigned int nblocks = key_len / 8;
	unsigned int tail = key_len % 8;
	const unsigned char *rest = key + (size_t)nblocks * 8;
	uint64_t h = (uint64_t)seed ^ ((uint64_t)key_len * D_MURMUR_M);
	unsigned int i;

	for (i = 0; i < nblocks; i++) {
		uint64_t k;

		/* DAOS loads blocks as native uint64_t; memcpy does so without alignment UB */
		memcpy(&k, key + (size_t)i * 8, sizeof(k));
		k *= D_MURMUR_M;
		k ^= k >> D_MURMUR_R;
		k *= D_MURMUR_M;
		h ^= k;
		h *= D_MURMUR_M;
	}

	if (tail != 0) {
		/* trailing bytes, first byte lowest, as in the reference switch fall-through */
		for (i = tail; i > 0; i--)
			h ^= (uint64_t)rest[i - 1] << (8 * (i - 1));
		h *= D_MURMUR_M;
	}

	h ^= h >> D_MURMUR_R;
	h *= D_MURMUR_M;
	h ^= h >> D_MURMUR_R;
	return h;
}

uint32_t
d_hash_jump(uint64_t key, uint32_t num_buckets)
{
	int64_t b = -1;
	int64_t j = 0;

	/* num_buckets == 0 gives (uint32_t)-1, as in DAOS */
	while (j < (int64_t)num_buckets) {
		b = j;
		key = key * 2862933555777941757ULL + 1;
		j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
	}
	return (uint32_t)b;
}
