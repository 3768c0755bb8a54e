/*
 * vos_meta.h: the metadata file of a VOS pool shard: two alternating checkpoint images of
 * the umem heap, each with a CRC32C per 4 KiB page. Private to src/vos.
 */
#ifndef D_VOS_META_H
#define D_VOS_META_H

#include <stdbool.h>
#include <stdint.h>

#include <daos_srv/umem.h>

struct vos_meta;

/**
 * Create the meta file @path for a heap of @img_size bytes (a multiple of UMEM_PAGE_SIZE)
 * and write @image as both checkpoints, covering the WAL up to @lsn. The file must not
 * exist. Returns 0, -DER_EXIST, -DER_INVAL, -DER_NOSPACE, -DER_IO, -DER_NOMEM.
 * Context: any thread; blocks on disk I/O (pool creation).
 */
int vos_meta_create(const char *path, const void *image, size_t img_size, uint64_t lsn);

/**
 * Open @path and load the newest intact checkpoint into a fresh anonymous mapping returned
 * in *@image (the caller hands it to umem_open, which takes ownership, or munmaps it);
 * *@lsn is the WAL position it covers: replay the WAL after it. If the newest image fails
 * its CRCs the older one is used (the WAL keeps records back to it); if both fail,
 * -DER_CSUM. The file is locked first (bio_file_lock on the descriptor checkpoints write
 * through): a previous owner's writes in flight land before anything is read, and a live
 * owner makes it fail with -DER_BUSY after 10 s. Returns 0, -DER_NONEXIST, -DER_CSUM,
 * -DER_INVAL, -DER_IO, -DER_NOMEM, -DER_BUSY.
 * Context: any thread; blocks on disk I/O (pool open).
 */
int vos_meta_open(const char *path, struct vos_meta **meta, void **image, size_t *img_size,
		  uint64_t *lsn);

/**
 * Load the newest intact checkpoint of @path as vos_meta_open does (a "no WAL" mark aside), without
 * a handle and without the lock, while an owner may have it open (tests that check what reached the
 * file). *@image and *@lsn as for vos_meta_open.
 * Context: any thread; blocks on disk I/O.
 */
int vos_meta_peek(const char *path, void **image, size_t *img_size, uint64_t *lsn);

/** Counters of the checkpoints of one meta file (vos_meta_ckpt_query). */
struct vos_meta_ckpt_stats {
	uint64_t cs_started;
	uint64_t cs_done;
	uint64_t cs_failed;
	uint64_t cs_pages; /* pages copied and written */
	uint64_t cs_bytes; /* bytes submitted (pages, CRC tables, headers) */
	uint64_t cs_syncs;
	uint64_t cs_fuzzy;  /* completed with transactions between their copies */
	bool cs_last_fuzzy; /* the last one completed was */
	bool cs_busy;       /* a checkpoint is in progress */
};

/**
 * Start a background checkpoint of @umm into the older slot; @lsn is the LSN of the last
 * committed transaction (the replay of this image starts after it). The slot's header is
 * invalidated at once. No transaction may be open. Drive it with vos_meta_ckpt_step.
 * Returns 0.
 * Context: the heap's thread; never blocks (submits to the meta file's io_uring).
 */
int vos_meta_ckpt_begin(struct vos_meta *meta, struct umem_instance *umm, uint64_t lsn);

/**
 * Advance the checkpoint in progress: reap completed writes; copy at most one slice
 * (2 MiB) of the pages it must write -- every free slice with @hurry -- and submit their
 * writes; then the CRC table and a sync; then, once @durable_lsn (the WAL's) reaches the
 * last LSN any copy holds (*@need_lsn says which LSN the caller must get durable, 0 when
 * nothing waits for the WAL), the header and a sync. @last_lsn is the LSN of the last
 * committed transaction. Call only between transactions.
 * Returns 1 while in progress, 0 once the checkpoint is complete (or none was running),
 * or -DER_IO / -DER_NOSPACE when it failed (the slot stays invalid, its pages pending;
 * the other slot is untouched).
 * Context: the heap's thread; never blocks.
 */
int vos_meta_ckpt_step(struct vos_meta *meta, struct umem_instance *umm, uint64_t last_lsn,
		       uint64_t durable_lsn, bool hurry, uint64_t *need_lsn);

/**
 * Have completions of the checkpoint I/O signal eventfd @fd (borrowed: the pool's
 * vos_pool_fd, so that an xstream sleeping on it wakes up to advance the checkpoint).
 * Returns 0 or the error of io_uring_register_eventfd.
 */
int vos_meta_set_eventfd(struct vos_meta *meta, int fd);

/**
 * Could vos_meta_ckpt_step make progress now, without waiting for an event: completions
 * to reap, a slice to copy, a phase whose I/O is done (and the WAL durable to its end
 * LSN, @durable_lsn)? False when idle or when only I/O in flight can move it. For the
 * pool's arm callback: a completion reaped from the ring no longer signals the eventfd.
 * Context: the heap's thread; never blocks.
 */
bool vos_meta_ckpt_ready(struct vos_meta *meta, uint64_t durable_lsn);

/** Is a checkpoint in progress? */
bool vos_meta_ckpt_busy(struct vos_meta *meta);

/**
 * Block until a request of the checkpoint in progress completes (returns at once if none
 * is in flight). 0 or the error of io_uring_wait_cqe. Context: a thread that may block.
 */
int vos_meta_ckpt_wait_io(struct vos_meta *meta);

/** Copy the checkpoint counters of @meta into *@st. */
void vos_meta_ckpt_query(struct vos_meta *meta, struct vos_meta_ckpt_stats *st);

/**
 * Write a checkpoint of @umm covering the WAL up to @lsn, to completion: vos_meta_ckpt_begin
 * and vos_meta_ckpt_step until done, blocking on the I/O. All transactions up to @lsn must
 * be durable in the WAL. Returns 0 or -DER_IO / -DER_NOSPACE / -DER_NOMEM (the previous
 * checkpoints stay valid: a failed or interrupted checkpoint is never loaded).
 * Context: the heap's thread; blocks on disk I/O.
 */
int vos_meta_checkpoint(struct vos_meta *meta, struct umem_instance *umm, uint64_t lsn);

/**
 * Mark both headers "open without WAL" (@on) or clear the mark, and sync: while it is
 * there, vos_meta_open fails with -DER_DATA_LOSS (the pool shard was open with
 * VOS_POF_NO_WAL when its process died). Every header written meanwhile (checkpoints)
 * carries it too. Returns 0, -DER_BUSY (a checkpoint is in progress), -DER_IO.
 * Context: the heap's thread; blocks on disk I/O (pool open and close).
 */
int vos_meta_mark_nowal(struct vos_meta *vm, bool on);

/**
 * The WAL may be trimmed up to this LSN: the older checkpoint's, so that either image can
 * be loaded with the WAL that remains.
 */
uint64_t vos_meta_trim_lsn(struct vos_meta *meta);

/** After a WAL replay changed the image: both slots must be rewritten in full. */
void vos_meta_invalidate(struct vos_meta *meta);

void vos_meta_close(struct vos_meta *meta);

#endif /* D_VOS_META_H */
