/*
 * vea.h: the versioned extent allocator (VEA) of a VOS pool shard's data file.
 *
 * Bulk values live in a data file written with O_DIRECT, in blocks (4 KiB by default)
 * handed out by this allocator. Its persistent state lives in the shard's umem heap, so the
 * WAL and the checkpoints make it durable together with the index that points at the data.
 * An allocation takes two phases, because data is written before the transaction that
 * references it commits:
 *
 *	rc = vea_reserve(vsi, nblks, &hint, &list);   (volatile only: a crash forgets it)
 *	... write the data to the reserved blocks ...
 *	rc = umem_tx_begin(umm);
 *	rc = vea_tx_publish(vsi, umm, &list);         (the reservation becomes persistent)
 *	... insert the extent into the index; maybe vea_free() what it replaces ...
 *	rc = umem_tx_end(umm, rc);                    (VEA settles itself through a umem
 *	                                                 transaction callback)
 *	...
 *	vea_flush(vsi, durable_lsn);                  (when the WAL reports durability)
 *
 * or vea_cancel(vsi, &hint, &list) when the update fails before publishing. Blocks freed by
 * a transaction are not handed out again until the WAL reports that transaction durable
 * (vea_flush with an LSN at or past it): a crash before that replays the index without the
 * free, and the data it still points at must be intact.
 *
 * Context: an instance belongs to one thread (a target xstream); nothing here locks, and
 * nothing here yields.
 */
#ifndef D_SRV_VEA_H
#define D_SRV_VEA_H

#include <stdint.h>

#include <gurt/list.h>
#include <daos_srv/umem.h>

/**
 * The persistent root of an allocator, embedded in a parent structure in the heap (the
 * pool shard's root). All zero before vea_format. Opaque to callers.
 */
struct vea_space_df {
	uint64_t vsd_magic;
	uint32_t vsd_version;
	uint32_t vsd_blk_sz;
	uint64_t vsd_hdr_blks; /* blocks [0, hdr) are never allocated (the file's header) */
	uint64_t vsd_tot_blks; /* blocks in the data file */
	uint64_t vsd_gen;      /* bumped by each transaction that publishes or frees */
	umem_off_t vsd_dir;    /* bitmap directory: one page offset per 32768 blocks */
	uint64_t vsd_reserved[2];
};

/**
 * One reserved extent, linked in the caller's reservation list by vea_reserve. The caller
 * reads vre_blk_off/vre_blk_cnt to know where to write and must not change anything; the
 * entry belongs to VEA and goes back to it through vea_tx_publish or vea_cancel.
 */
struct vea_resrvd_ext {
	d_list_t vre_link;
	uint64_t vre_blk_off;
	uint64_t vre_blk_cnt;
};

/**
 * Per I/O stream allocation hint, owned by the caller (zero-initialise it). It holds the
 * block after the stream's last reservation: the next reservation is taken there when a
 * free extent starts at it and is large enough, so a stream's data stays contiguous.
 */
struct vea_hint_context {
	uint64_t vhc_off;
};

/** Space accounting. Outside transactions: free + resrv + aging + used == tot - hdr. */
struct vea_stat {
	uint32_t vs_blk_sz;
	uint32_t vs_pad;
	uint64_t vs_hdr_blks;
	uint64_t vs_tot_blks;     /* blocks in the data file, header included */
	uint64_t vs_free_blks;    /* available to vea_reserve */
	uint64_t vs_resrv_blks;   /* reserved, not yet published by a committed transaction */
	uint64_t vs_aging_blks;   /* freed by committed transactions, waiting for durability */
	uint64_t vs_used_blks;    /* allocated by committed transactions */
	uint64_t vs_largest_blks; /* largest free extent: the largest possible reservation */
	uint64_t vs_frags;        /* free extents */
	uint64_t vs_aging_frags;  /* extents in the aging list */
	uint64_t vs_resrv_hint;   /* reservations served at the caller's hint (since load) */
	uint64_t vs_resrv_fit;    /* reservations served by address-ordered first fit */
};

/** Called for each free extent by vea_enumerate_free; non-zero stops the walk. */
typedef int (*vea_extent_cb_t)(void *arg, uint64_t blk_off, uint64_t blk_cnt);

/** The volatile allocator built by vea_load. */
struct vea_space_info;

/**
 * Format an allocator for a data file of @tot_blks blocks of @blk_sz bytes (a power of two,
 * 512 B .. 1 MiB), the first @hdr_blks of which are never allocated. @vsd (borrowed) must
 * lie in the heap of @umm and be all zero. Runs as a transaction of its own, or nested in
 * the caller's. Returns 0, -DER_INVAL (bad geometry, @vsd outside the heap), -DER_EXIST
 * (@vsd is already formatted), -DER_NOSPACE / -DER_NOMEM (heap or memory exhausted).
 *
 * Context: the heap's thread; does not yield.
 */
int vea_format(struct umem_instance *umm, struct vea_space_df *vsd, uint32_t blk_sz,
	       uint64_t hdr_blks, uint64_t tot_blks);

/**
 * Load a formatted allocator: validate @vsd and its bitmap (never trusting heap bytes) and
 * build the volatile free-extent index from it. Reservations and aging frees of an earlier
 * instance are gone: their blocks are free. @umm and @vsd are borrowed and must outlive the
 * instance; *@vsip is the caller's, released with vea_unload. Returns 0, -DER_NONEXIST (not
 * formatted), -DER_INVAL (damaged), -DER_NOMEM.
 *
 * Context: the heap's thread, outside any transaction; does not yield.
 */
int vea_load(struct umem_instance *umm, struct vea_space_df *vsd, struct vea_space_info **vsip);

/**
 * Release an instance. Every reservation must have been published or cancelled; aging
 * extents are simply forgotten (they are free in the heap). NULL is ignored.
 *
 * Context: the heap's thread, outside any transaction that published or freed.
 */
void vea_unload(struct vea_space_info *vsi);

/**
 * Reserve @blk_cnt contiguous blocks in volatile state only, and append the extent to
 * @resrvd_list (the caller's list head; the entry stays VEA's). Policy: the free extent
 * starting exactly at @hint->vhc_off if it is large enough, otherwise the lowest-addressed
 * free extent that is; the reservation is taken from the extent's front and @hint moves to
 * the block after it. @hint may be NULL. Returns 0, -DER_INVAL (@blk_cnt 0), -DER_NOSPACE
 * (no free extent of @blk_cnt blocks, even if fragmented space adds up), -DER_NOMEM.
 *
 * Context: the heap's thread, inside or outside a transaction; does not yield.
 */
int vea_reserve(struct vea_space_info *vsi, uint64_t blk_cnt, struct vea_hint_context *hint,
		d_list_t *resrvd_list);

/**
 * Return every reservation on @resrvd_list to the free space (merging it with its free
 * neighbours) and empty the list. A @hint (may be NULL) that points just past a cancelled
 * extent is moved back to its start. Cannot fail.
 *
 * Context: the heap's thread; does not yield.
 */
void vea_cancel(struct vea_space_info *vsi, struct vea_hint_context *hint, d_list_t *resrvd_list);

/**
 * Make the reservations on @resrvd_list persistent allocations inside the caller's open
 * transaction on @umm (the instance's heap), or in a transaction of its own when none is
 * open. The list is emptied whatever the outcome: VEA keeps the entries until vea_tx_end,
 * which turns them into allocations if the transaction committed and returns them to the
 * free space (as vea_cancel would) if it aborted. On error the caller's transaction is
 * doomed: its umem_tx_end returns an error. Returns 0, -DER_NOSPACE / -DER_NOMEM (heap or
 * memory exhausted), -DER_INVAL (the heap disagrees with the reservation: damage).
 *
 * Context: the heap's thread; does not yield.
 */
int vea_tx_publish(struct vea_space_info *vsi, struct umem_instance *umm, d_list_t *resrvd_list);

/**
 * Free [@blk_off, @blk_off + @blk_cnt), which must be allocated (published by a committed
 * transaction or earlier in this one), inside the caller's open transaction on @umm, or in
 * one of its own. The blocks are not reusable before vea_tx_end tags them with the
 * transaction's LSN and vea_flush reports that LSN durable. On error the caller's
 * transaction is doomed. Returns 0, -DER_INVAL (outside the data area, or some block is not
 * allocated: a double free), -DER_NOSPACE / -DER_NOMEM.
 *
 * Context: the heap's thread; does not yield.
 */
int vea_free(struct vea_space_info *vsi, struct umem_instance *umm, uint64_t blk_off,
	     uint64_t blk_cnt);

/**
 * Settle the transaction that called vea_tx_publish and/or vea_free: call it after the
 * outermost umem_tx_end, whatever its outcome, with the LSN the commit got (usually
 * umem_tx_last_lsn()). VEA tells commit from abort by a generation counter in the heap, so
 * the caller's return code is not needed. Committed: published extents become allocations,
 * freed ones enter the aging list tagged with @lsn. Aborted: published extents return to the
 * free space, frees are forgotten. Harmless after a transaction that did neither. Must run
 * before another transaction publishes or frees; a call of VEA made outside any transaction
 * settles a forgotten one itself with umem_tx_last_lsn() (an upper bound of its LSN).
 *
 * Context: the heap's thread, outside any transaction; does not yield.
 */
void vea_tx_end(struct vea_space_info *vsi, uint64_t lsn);

/**
 * The WAL is durable up to @durable_lsn: move every aging extent tagged at or below it to
 * the free space. Returns the number of blocks made free.
 *
 * Context: the heap's thread; does not yield.
 */
uint64_t vea_flush(struct vea_space_info *vsi, uint64_t durable_lsn);

/**
 * Would vea_flush(@vsi, @lsn) free anything (the oldest aging extent is tagged at or below
 * @lsn)? Context: the heap's thread.
 */
bool vea_aging_due(struct vea_space_info *vsi, uint64_t lsn);

/**
 * Geometry and space accounting into *@stat.
 *
 * Context: the heap's thread; does not yield.
 */
void vea_query(struct vea_space_info *vsi, struct vea_stat *stat);

/**
 * Call @cb for each free extent in address order (reserved and aging extents excluded)
 * until it returns non-zero. Returns 0 or what @cb returned.
 *
 * Context: the heap's thread; @cb must not call VEA.
 */
int vea_enumerate_free(struct vea_space_info *vsi, vea_extent_cb_t cb, void *arg);

/**
 * Check the volatile index against itself and against the heap (for tests and debugging;
 * costs a scan of the bitmap). Returns 0, or -DER_INVAL with the first mismatch logged.
 *
 * Context: the heap's thread, outside any transaction.
 */
int vea_check(struct vea_space_info *vsi);

#endif /* D_SRV_VEA_H */
