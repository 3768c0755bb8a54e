/*
 * vos_internal.h: private to src/vos.
 */
#ifndef D_VOS_INTERNAL_H
#define D_VOS_INTERNAL_H

#include <gurt/common.h>
#include <daos_srv/vos.h>
#include <daos_srv/umem.h>
#include <daos_srv/btree.h>
#include <daos_srv/vea.h>

D_LOG_FAC_DECLARE(vos);

/* Fault ids of this module: 100..199. */
#define D_FI_UMEM_ALLOC 100 /* umem_alloc fails with -DER_NOSPACE */
#define D_FI_META_WRITE 110 /* a meta file write or sync fails with -DER_IO */
#define D_FI_META_CRASH 111 /* a checkpoint stops before its header, as in a crash */

#define VOS_POOL_MAGIC 0x4c4f4f50534f5644ULL /* "DVOSPOOL" */
#define VOS_POOL_VERSION 1

/* The root object of a pool shard's heap. */
struct vos_pool_df {
	uint64_t pd_magic;
	uint32_t pd_version;
	uint32_t pd_blk_size;
	uuid_t pd_uuid;
	uint64_t pd_data_size;
	uint64_t pd_reserved[6];
	struct vea_space_df pd_vea;       /* blocks of the data file */
	struct btr_root_df pd_cont_table; /* containers by uuid */
};

/* An open pool shard. */
struct vos_pool {
	uuid_t vp_uuid;
	char *vp_path;
	struct umem_instance *vp_umm;
	struct vos_pool_df *vp_df;
	struct vos_meta *vp_meta;
	struct bio_wal *vp_wal;
	struct vea_space_info *vp_vea;
	int vp_data_fd;
	struct vos_pool_attr vp_attr;
	uint64_t vp_base_lsn; /* newest LSN known at open (checkpoint or replay) */
	uint64_t vp_ckpt_lsn;
	uint64_t vp_nckpt;
};

static inline struct vos_pool *
vos_hdl2pool(daos_handle_t poh)
{
	return (struct vos_pool *)(uintptr_t)poh.cookie;
}

/* Close @poh without a checkpoint, as a crash would leave it (for tests). */
void vos_pool_abandon(daos_handle_t poh);

/*
 * Zero every free slot and free chunk of a heap image (for tests that compare images:
 * bytes in free space are not part of the heap's state). 0, -DER_INVAL or -DER_CSUM.
 */
int umem_image_zero_free(void *image, size_t size);

#endif /* D_VOS_INTERNAL_H */
