/*
 * umem.h: the persistent-memory heap of one VOS pool shard, and its transactions.
 *
 * A heap is one contiguous memory region. Structures inside it refer to each other by
 * 64-bit offsets from its base (never raw pointers), so the region can be written to a file
 * and loaded back at any address. Every change to the heap happens inside a transaction:
 *
 *	rc = umem_tx_begin(umm);
 *	...
 *	rc = umem_tx_add(umm, off, size);   (before writing those bytes)
 *	off = umem_zalloc(umm, size);
 *	...
 *	rc = umem_tx_end(umm, rc);          (commit on 0, abort otherwise)
 *
 * Abort restores the before-images of every added range (and undoes allocations and frees).
 * Commit hands the after-images of the added ranges, as one redo record, to the store's
 * commit hook (the WAL), which returns a log sequence number; the caller waits for that LSN
 * to be durable separately, so many transactions can share one flush.
 *
 * The allocator's own state (chunk table, slot bitmaps) lives in the heap and changes
 * through the same transactions, so a replayed redo log restores it exactly; the free
 * lists that make allocation fast are volatile and rebuilt by umem_open().
 *
 * Context: an instance belongs to one thread (a target xstream); nothing here locks, and
 * nothing here yields: a transaction runs from begin to end without a context switch.
 */
#ifndef D_SRV_UMEM_H
#define D_SRV_UMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t umem_off_t;

#define UMOFF_NULL ((umem_off_t)0)
#define UMEM_PAGE_SIZE 4096UL
/* Largest allocation served from slabs; larger ones take whole chunks. */
#define UMEM_SLAB_MAX (64UL << 10)
#define UMEM_CHUNK_SIZE (256UL << 10)
/* Smallest heap: the header page, the chunk table and a few chunks. */
#define UMEM_HEAP_MIN (4 * UMEM_CHUNK_SIZE)

/** One after-image of a redo record. */
struct umem_redo_range {
	uint64_t rr_off;
	uint32_t rr_len;
	uint32_t rr_pad;
	/* borrowed: valid during the commit hook only. In a record replayed from the WAL,
	 * NULL means rr_len zero bytes (the WAL logs zero runs without their bytes). */
	const void *rr_data;
};

/** The redo record of one transaction: sorted, non-overlapping after-images. */
struct umem_redo {
	uint32_t ur_nr;
	uint32_t ur_pad;
	uint64_t ur_bytes; /* sum of rr_len */
	const struct umem_redo_range *ur_ranges;
};

/** Where committed transactions go (the WAL in a VOS pool; a capture buffer in tests). */
struct umem_store_ops {
	/**
	 * Take the redo record of a committing transaction. Returns 0 and the record's LSN
	 * in *lsn, or an error, which aborts the transaction. Must not yield.
	 */
	int (*so_commit)(void *arg, const struct umem_redo *redo, uint64_t *lsn);
};

struct umem_instance;

/** Space accounting of a heap. */
struct umem_stats {
	uint64_t us_heap_size;
	uint64_t us_used;   /* bytes in allocated slots and runs */
	uint64_t us_free;   /* bytes allocatable (free slots of existing slabs + free chunks) */
	uint64_t us_chunks; /* chunks in the heap */
	uint64_t us_chunks_free;
	uint64_t us_nr_allocs; /* live allocations */
};

/**
 * Format a new heap of @size bytes in memory owned by the instance (anonymous mmap), with
 * a zeroed root object of @root_size bytes. @ops/@arg (borrowed, may be NULL: commits then
 * get LSN 0) receive the redo records. Formatting is not a transaction: the caller persists
 * the initial image (a checkpoint) before relying on the WAL.
 * Returns 0, -DER_INVAL (size too small or too large), -DER_NOMEM.
 */
int umem_create(size_t size, size_t root_size, const struct umem_store_ops *ops, void *arg,
		struct umem_instance **umm);

/**
 * Open a heap from an image of @size bytes at @image (ownership passes to the instance; it
 * must come from mmap and is munmap'ed by umem_close). The header and chunk table are
 * validated; the volatile allocator state is rebuilt. Returns 0, -DER_INVAL or -DER_CSUM
 * for an image that is not a valid heap (never crashes on garbage), -DER_NOMEM.
 */
int umem_open(void *image, size_t size, const struct umem_store_ops *ops, void *arg,
	      struct umem_instance **umm);

/** Release the instance and its memory. No transaction may be open. */
void umem_close(struct umem_instance *umm);

/** Base address and size of the heap image. */
void *umem_base(struct umem_instance *umm);
size_t umem_size(struct umem_instance *umm);

/** The root object, allocated by umem_create. */
umem_off_t umem_root(struct umem_instance *umm);

static inline void *
umem_off2ptr(struct umem_instance *umm, umem_off_t off)
{
	return off == UMOFF_NULL ? NULL : (char *)umem_base(umm) + off;
}

static inline umem_off_t
umem_ptr2off(struct umem_instance *umm, const void *ptr)
{
	return ptr == NULL ? UMOFF_NULL : (umem_off_t)((const char *)ptr - (char *)umem_base(umm));
}

/** Start a transaction, or a nested one inside an open transaction. 0 or -DER_NOMEM. */
int umem_tx_begin(struct umem_instance *umm);

/**
 * Declare that [off, off + size) is about to change: its before-image is saved for abort
 * and its final contents go into the redo record. Adding a range twice is harmless.
 * Returns 0, -DER_INVAL (outside the heap / no transaction), -DER_NOMEM.
 */
int umem_tx_add(struct umem_instance *umm, umem_off_t off, size_t size);

/** umem_tx_add for a pointer into the heap. */
int umem_tx_add_ptr(struct umem_instance *umm, const void *ptr, size_t size);

/**
 * Allocate @size bytes inside the open transaction. Those @size bytes are already part of
 * the transaction (no umem_tx_add needed before filling them); the slack up to
 * umem_alloc_size() is not, and is never logged. Returns its offset, or UMOFF_NULL
 * with the transaction marked failed (-DER_NOSPACE when the heap is full, -DER_NOMEM).
 */
umem_off_t umem_alloc(struct umem_instance *umm, size_t size);

/** umem_alloc, zero-filled. */
umem_off_t umem_zalloc(struct umem_instance *umm, size_t size);

/**
 * Free @off when the transaction commits (nothing happens if it aborts). UMOFF_NULL is
 * ignored. Returns 0, or -DER_INVAL for an offset that is not a live allocation.
 */
int umem_free(struct umem_instance *umm, umem_off_t off);

/** Usable size of allocation @off (at least what was asked). 0 for an invalid offset. */
size_t umem_alloc_size(struct umem_instance *umm, umem_off_t off);

/**
 * End the current (nested) transaction. With @rc == 0 and no failure recorded, the
 * outermost end commits; otherwise the whole transaction aborts when the outermost end is
 * reached. Returns the transaction's outcome: 0, @rc, or the error recorded by a failed
 * allocation or by the commit hook.
 */
int umem_tx_end(struct umem_instance *umm, int rc);

/** Called once the outermost transaction has ended: @rc its outcome, @lsn its LSN (0 if
 * it aborted or the store gave none). */
typedef void (*umem_tx_cb_t)(void *arg, int rc, uint64_t lsn);

/**
 * Have @cb(@arg, ...) called when the open transaction ends, committed or aborted, after
 * the heap is in its final state (callbacks may start new transactions). Registering the
 * same (@cb, @arg) twice in one transaction calls it once. Callbacks run in registration
 * order. Returns 0, -DER_INVAL (no transaction), -DER_NOMEM (the transaction is doomed).
 */
int umem_tx_add_callback(struct umem_instance *umm, umem_tx_cb_t cb, void *arg);

/** Is a transaction open? */
bool umem_tx_inprogress(struct umem_instance *umm);

/** LSN the store gave the last committed transaction (0 before any). */
uint64_t umem_tx_last_lsn(struct umem_instance *umm);

/**
 * Redo records on (@on true, the default) or off. Off (a VOS pool in index-only mode,
 * VOS_POF_NO_WAL): a commit still keeps before-images for abort, marks the pages of its
 * ranges dirty (the checkpoint at close writes them) and gets an LSN from the store, but
 * builds no record: the store's so_commit receives an empty one (ur_nr 0). Between
 * transactions only.
 */
void umem_set_redo(struct umem_instance *umm, bool on);

/** Apply a redo record to an image (WAL replay). -DER_INVAL if a range falls outside. */
int umem_redo_apply(void *image, size_t size, const struct umem_redo *redo);

/** Space accounting. */
void umem_query(struct umem_instance *umm, struct umem_stats *stats);

/*
 * Dirty-page tracking for checkpoints: each committed range marks its pages dirty.
 * umem_dirty_next() walks them in order from *@page and clears each it returns.
 */

/** Number of dirty pages. */
uint64_t umem_dirty_count(struct umem_instance *umm);

/**
 * Slab chunks whose pages were faulted in at once when they became slabs (one madvise each
 * instead of a write fault per page), since create or open. For tests and measurements.
 */
uint64_t umem_populated_count(struct umem_instance *umm);

/**
 * Find the first dirty page at or after *@page, clear its mark and store its index in
 * *@page. Returns false when there is none.
 */
bool umem_dirty_next(struct umem_instance *umm, uint64_t *page);

/** Mark every page dirty (after format, so the first checkpoint writes the whole heap). */
void umem_dirty_all(struct umem_instance *umm);

#endif /* D_SRV_UMEM_H */
