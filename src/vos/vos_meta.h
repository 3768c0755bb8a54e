/*
 * vos_meta.h: the metadata file of a VOS pool shard: two alternating checkpoint images of
 * the umem heap, each with a CRC32C per 4 KiB page. Private to src/vos.
 */
#ifndef D_VOS_META_H
#define D_VOS_META_H

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
 * -DER_CSUM. Returns 0, -DER_NONEXIST, -DER_CSUM, -DER_INVAL, -DER_IO, -DER_NOMEM.
 * Context: any thread; blocks on disk I/O (pool open).
 */
int vos_meta_open(const char *path, struct vos_meta **meta, void **image, size_t *img_size,
		  uint64_t *lsn);

/**
 * Write a checkpoint of @umm covering the WAL up to @lsn into the older slot: every page
 * dirty since that slot was last written, its CRCs, then its header. All transactions up to
 * @lsn must be durable in the WAL. Returns 0 or -DER_IO / -DER_NOMEM (the previous
 * checkpoints stay valid: a failed or interrupted checkpoint is never loaded).
 * Context: the heap's thread; blocks on disk I/O.
 */
int vos_meta_checkpoint(struct vos_meta *meta, struct umem_instance *umm, uint64_t lsn);

/**
 * The WAL may be trimmed up to this LSN: the older checkpoint's, so that either image can
 * be loaded with the WAL that remains.
 */
uint64_t vos_meta_trim_lsn(struct vos_meta *meta);

/** After a WAL replay changed the image: both slots must be rewritten in full. */
void vos_meta_invalidate(struct vos_meta *meta);

void vos_meta_close(struct vos_meta *meta);

#endif /* D_VOS_META_H */
