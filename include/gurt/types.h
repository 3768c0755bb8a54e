/*
 * gurt/types.h: the basic types shared by every DAOS interface: I/O vectors, scatter-gather
 * lists, ranks and rank lists. Included by daos.h, so it defines only d_/D_ names.
 */
#ifndef D_GURT_TYPES_H
#define D_GURT_TYPES_H

#include <stdbool.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** A memory buffer: iov_buf_len bytes at iov_buf, of which the first iov_len hold data. */
typedef struct {
	void *iov_buf;
	size_t iov_buf_len;
	size_t iov_len;
} d_iov_t;

/** A server engine's identifier inside a system. */
typedef uint32_t d_rank_t;

/** An array of ranks; rl_ranks is owned by whoever owns the list. */
typedef struct {
	d_rank_t *rl_ranks;
	uint32_t rl_nr;
} d_rank_list_t;

typedef d_rank_list_t *d_rank_list_ptr_t;

/** An inclusive range of ranks, lo..hi. */
typedef struct {
	d_rank_t lo;
	d_rank_t hi;
} d_rank_range_t;

typedef struct {
	d_rank_range_t *rrl_ranges;
	uint32_t rrl_nr;
} d_rank_range_list_t;

typedef char *d_string_t;
typedef const char *d_const_string_t;

/** A scatter-gather list: sg_nr vectors, of which an operation used sg_nr_out. */
typedef struct {
	uint32_t sg_nr;
	uint32_t sg_nr_out;
	d_iov_t *sg_iovs;
} d_sg_list_t;

/** uuid_t is an array; this wraps it so it can be assigned and returned. */
struct d_uuid {
	uuid_t uuid;
};

/** Point @iov at @size bytes of data at @buf (buffer length = data length = size). */
static inline void
d_iov_set(d_iov_t *iov, void *buf, size_t size)
{
	iov->iov_buf = buf;
	iov->iov_len = iov->iov_buf_len = size;
}

#if defined(__cplusplus)
}
#endif
#endif /* D_GURT_TYPES_H */
