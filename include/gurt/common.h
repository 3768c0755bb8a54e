/*
 * gurt/common.h: the runtime every module uses: allocation macros (with failure injection),
 * iov / scatter-gather / rank-list helpers, the hybrid logical clock, hashing helpers and
 * miscellany. Not included by daos.h: applications define their own container_of/min/max.
 */
#ifndef D_GURT_COMMON_H
#define D_GURT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <daos_errno.h>
#include <gurt/types.h>
#include <gurt/list.h>
#include <gurt/debug.h>
#include <gurt/fault_inject.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

#define D_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define D_LIKELY(x) __builtin_expect(!!(x), 1)
#define D_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define D_NSEC_PER_SEC 1000000000ULL
#define D_NSEC_PER_MSEC 1000000ULL
#define D_NSEC_PER_USEC 1000ULL

/*
 * Allocation. Every allocation goes through d_malloc/d_calloc/d_realloc so that tests can
 * make the Nth one fail (fault id D_FI_ALLOC, see gurt/fault_inject.h). On failure the
 * pointer is NULL; callers return -DER_NOMEM. Memory from these is freed with D_FREE.
 */
void *d_malloc(size_t size);
void *d_calloc(size_t nmemb, size_t size);
void *d_realloc(void *ptr, size_t size);
char *d_strndup(const char *s, size_t n);
int d_asprintf(char **strp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void d_free(void *ptr);

/** Zeroed allocation of @size bytes. */
#define D_ALLOC(ptr, size) ((ptr) = (__typeof__(ptr))d_calloc(1, (size)))
/** Uninitialised allocation of @size bytes. */
#define D_ALLOC_NZ(ptr, size) ((ptr) = (__typeof__(ptr))d_malloc(size))
/** Zeroed allocation of one *ptr. */
#define D_ALLOC_PTR(ptr) D_ALLOC(ptr, sizeof(*(ptr)))
#define D_ALLOC_PTR_NZ(ptr) D_ALLOC_NZ(ptr, sizeof(*(ptr)))
/** Zeroed array of @count elements of *ptr (NULL if the size overflows). */
#define D_ALLOC_ARRAY(ptr, count) ((ptr) = (__typeof__(ptr))d_calloc((count), sizeof(*(ptr))))
/** Resize @oldptr to @size bytes into @newptr; on failure @newptr is NULL, @oldptr intact. */
#define D_REALLOC(newptr, oldptr, size) ((newptr) = (__typeof__(newptr))d_realloc((oldptr), (size)))
/** Resize an array to @count elements (NULL, @oldptr intact, if the size overflows). */
#define D_REALLOC_ARRAY(newptr, oldptr, count)                                                     \
	((newptr) = (__typeof__(newptr))d_realloc_array((oldptr), (count), sizeof(*(oldptr))))
/** Copy at most @n bytes of string @s (NUL-terminated). */
#define D_STRNDUP(ptr, s, n) ((ptr) = d_strndup((s), (n)))
/** Copy a string literal or char array. */
#define D_STRNDUP_S(ptr, s) D_STRNDUP(ptr, s, sizeof(s))
#define D_ASPRINTF(ptr, ...) (d_asprintf(&(ptr), __VA_ARGS__) < 0 ? ((ptr) = NULL) : (ptr))
/** Free and clear the pointer; NULL is fine. */
#define D_FREE(ptr)                                                                                \
	do {                                                                                       \
		d_free(ptr);                                                                       \
		(ptr) = NULL;                                                                      \
	} while (0)

void *d_realloc_array(void *ptr, size_t count, size_t elem_size);

/* iov and scatter-gather helpers */

/**
 * Allocate @nr zeroed vectors for @sgl (the buffers they point at are not allocated).
 * Returns 0 or -DER_NOMEM. Free with d_sgl_fini.
 */
int d_sgl_init(d_sg_list_t *sgl, uint32_t nr);

/** Free the vector array of @sgl and, if @free_iovs, every iov_buf too (with D_FREE). */
void d_sgl_fini(d_sg_list_t *sgl, bool free_iovs);

/** Sum of iov_len over the first sg_nr vectors. */
size_t d_sgl_buf_size(const d_sg_list_t *sgl);

/** Sum of iov_buf_len over the first sg_nr vectors. */
size_t d_sgl_buf_capacity(const d_sg_list_t *sgl);

/** Copy @len bytes of @src from offset @off into a flat buffer @dst. Returns bytes copied. */
size_t d_sgl_copy_out(const d_sg_list_t *sgl, size_t off, void *dst, size_t len);

/** Copy a flat buffer into @sgl at offset @off, up to each iov_buf_len. Returns bytes copied. */
size_t d_sgl_copy_in(d_sg_list_t *sgl, size_t off, const void *src, size_t len);

/** Allocate a copy of @src's data into @dst (iov_buf_len = iov_len). 0 or -DER_NOMEM. */
int d_iov_dup(d_iov_t *dst, const d_iov_t *src);

/* rank lists */

/** A list of @nr zeroed ranks (nr may be 0). Free with d_rank_list_free. NULL on ENOMEM. */
d_rank_list_t *d_rank_list_alloc(uint32_t nr);

/** Free @list and its array. NULL is fine. */
void d_rank_list_free(d_rank_list_t *list);

/** Allocate a copy of @src into *@dst (NULL src gives NULL dst). 0 or -DER_NOMEM. */
int d_rank_list_dup(d_rank_list_t **dst, const d_rank_list_t *src);

/** Copy @src's ranks into the existing list @dst, resizing it. 0 or -DER_NOMEM. */
int d_rank_list_copy(d_rank_list_t *dst, const d_rank_list_t *src);

/** Sort ascending. */
void d_rank_list_sort(d_rank_list_t *list);

/** Sort and remove duplicates. */
void d_rank_list_dedup(d_rank_list_t *list);

/** Is @rank in @list? If so and @idx != NULL, *idx is its position. */
bool d_rank_list_find(const d_rank_list_t *list, d_rank_t rank, int *idx);

/** Append @rank (duplicates allowed). 0 or -DER_NOMEM. */
int d_rank_list_append(d_rank_list_t *list, d_rank_t rank);

/** Remove the first occurrence of @rank if present. */
void d_rank_list_del(d_rank_list_t *list, d_rank_t rank);

/** Same ranks in the same order? (Two NULL lists are identical.) */
bool d_rank_list_identical(const d_rank_list_t *a, const d_rank_list_t *b);

/**
 * Parse "0-3,7,9-10" into a new rank list (sorted, deduplicated). Returns 0, -DER_INVAL for
 * bad syntax, -DER_NOMEM.
 */
int d_rank_list_parse(const char *str, d_rank_list_t **list);

/**
 * Write @list as ranges ("0-3,7") into @buf of @len bytes. Returns the length it needs
 * (excluding NUL), like snprintf.
 */
int d_rank_list_to_str(const d_rank_list_t *list, char *buf, size_t len);

/* hashing (algorithms as in DAOS, so values match) */

/** MurmurHash64A of @key with @seed. */
uint64_t d_hash_murmur64(const unsigned char *key, unsigned int key_len, unsigned int seed);

/** The default string hash of the hash table (when hop_key_hash is NULL). */
uint32_t d_hash_string_u32(const char *string, unsigned int len);

/** Jump consistent hash: bucket in [0, num_buckets) for @key. */
uint32_t d_hash_jump(uint64_t key, uint32_t num_buckets);

/*
 * Hybrid logical clock. An HLC timestamp counts 1/16 ns since 2021-01-01 00:00:00 UTC; its
 * low 18 bits are a logical counter, so values are unique and strictly increasing within a
 * process even when the wall clock stalls or steps back. DAOS epochs are HLC timestamps.
 */
#define D_HLC_NSEC 16ULL
#define D_HLC_START_SEC 1609459200ULL
#define D_HLC_MASK 0x3FFFFULL

/** A new timestamp, greater than any this process returned before. Thread-safe. */
uint64_t d_hlc_get(void);

/**
 * Advance the clock past a timestamp @msg received from a peer. Returns 0 and the new
 * timestamp in *@hlc_out (may be NULL), or -DER_HLC_SYNC if @msg is further ahead of the
 * local clock than the tolerated offset (d_hlc_epsilon_get). *@offset (may be NULL) is how
 * far ahead it was.
 */
int d_hlc_get_msg(uint64_t msg, uint64_t *hlc_out, uint64_t *offset);

/** Set the largest tolerated clock offset between peers, in HLC units (default 1 s). */
void d_hlc_epsilon_set(uint64_t epsilon);
uint64_t d_hlc_epsilon_get(void);
/** The highest timestamp a peer could have issued when this process read @hlc. */
uint64_t d_hlc_epsilon_get_bound(uint64_t hlc);

uint64_t d_hlc2nsec(uint64_t hlc);
uint64_t d_nsec2hlc(uint64_t nsec);
/** Nanoseconds since the Unix epoch. */
uint64_t d_hlc2unixnsec(uint64_t hlc);
/** 0 if @unixnsec is outside the HLC range. */
uint64_t d_unixnsec2hlc(uint64_t unixnsec);
int d_hlc2timespec(uint64_t hlc, struct timespec *ts);
int d_timespec2hlc(struct timespec ts, uint64_t *hlc);
/** Seconds between @hlc and now (0 if @hlc is in the future). */
uint64_t d_hlc_age2sec(uint64_t hlc);

static inline uint64_t
d_hlc2sec(uint64_t hlc)
{
	return hlc / D_HLC_NSEC / D_NSEC_PER_SEC;
}

static inline uint64_t
d_sec2hlc(uint64_t sec)
{
	return sec * D_NSEC_PER_SEC * D_HLC_NSEC;
}

/* uuids in log lines: D_ERROR("pool " DF_UUID "\n", DP_UUID(uuid)); DF_UUIDF prints it whole */
#define DF_UUID "%.8s"
#define DF_UUIDF "%s"
#define DP_UUID(u) d_uuid_str((u), (char[37]){0})
#define DP_UUIDF(u) DP_UUID(u)

/** Write @uuid's 36-character lower-case form into @buf (37 bytes) and return @buf. */
const char *d_uuid_str(const unsigned char *uuid, char *buf);

/* environment */

/** Read @name as a boolean (1/0, true/false, yes/no, on/off); *@val unchanged if unset. */
int d_getenv_bool(const char *name, bool *val);
/** Read @name as an unsigned integer; -DER_NONEXIST if unset, -DER_INVAL if malformed. */
int d_getenv_uint(const char *name, unsigned int *val);
int d_getenv_uint64_t(const char *name, uint64_t *val);
/**
 * Is @name set to exactly @value? Read at the first call for @cache (a static int of the
 * caller's, initialised to -1) and remembered there: later calls, from any thread, answer
 * from it without reading the environment. For A/B switches read on hot paths.
 */
bool d_getenv_is_once(int *cache, const char *name, const char *value);

/** Monotonic clock in nanoseconds. */
static inline uint64_t
d_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * D_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_GURT_COMMON_H */
