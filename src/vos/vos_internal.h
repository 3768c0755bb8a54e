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
#define D_FI_UMEM_ALLOC 100    /* umem_alloc fails with -DER_NOSPACE */
#define D_FI_UMEM_GEO_SLOW 101 /* the first umem call of the process sleeps 20 ms mid-setup */
#define D_FI_META_WRITE 110    /* a meta file write or sync fails with -DER_IO */
#define D_FI_META_CRASH 111    /* a checkpoint stops before its header, as in a crash */
#define D_FI_META_KILL 112     /* the process kills itself (SIGKILL) at a checkpoint step */
#define D_FI_GC_KILL 113       /* the process kills itself after a GC step that freed something */

#define VOS_POOL_MAGIC 0x4c4f4f50534f5644ULL /* "DVOSPOOL" */
#define VOS_POOL_VERSION 1

/* The root object of a pool shard's heap. */
struct vos_pool_df {
	uint64_t pd_magic;
	uint32_t pd_version;
	uint32_t pd_blk_size;
	uuid_t pd_uuid;
	uint64_t pd_data_size;
	uint64_t pd_gc_bin; /* destroyed containers, linked by cd_gc_next (vos_gc.c); 0: none */
	uint64_t pd_reserved[5];
	struct vea_space_df pd_vea;       /* blocks of the data file */
	struct btr_root_df pd_cont_table; /* containers by uuid */
};

/* An open pool shard. */
struct vos_pool {
	uuid_t vp_uuid;
	char *vp_path;      /* the meta file (named in messages) */
	char *vp_data_path; /* the data file */
	struct umem_instance *vp_umm;
	struct vos_pool_df *vp_df;
	struct vos_meta *vp_meta;
	struct bio_wal *vp_wal;
	struct vea_space_info *vp_vea;
	struct bio_data *vp_data; /* O_DIRECT writes of updates, reads of fetches */
	d_list_t vp_reads;        /* data-file reads in flight (vos_read_ref), oldest first */
	struct vos_pool_attr vp_attr;
	d_list_t vp_cont_handles; /* open containers (destroy refuses an open one) */
	uint64_t vp_base_lsn;     /* newest LSN known at open (checkpoint or replay) */
	uint64_t vp_ckpt_lsn;
	uint64_t vp_nckpt;
	uint64_t vp_ck_lsn;    /* start LSN of the background checkpoint */
	bool vp_ck_busy;       /* a background checkpoint is in progress */
	uint64_t vp_nwal_full; /* commits that found the WAL full (a blocking checkpoint) */
	bool vp_gc_idle;       /* no GC bin holds anything (a hint: false is always safe) */
	bool vp_nowal;         /* opened with VOS_POF_NO_WAL: index only, nothing logged */
	/* merge transactions of aggregation that used the plan of their prepare, or made
	 * their own because a transaction committed in between (vos_aggregate.c) */
	uint64_t vp_agg_reused;
	uint64_t vp_agg_replans;
	/* bumped whenever an object or key record may leave its tree (freed, detached):
	 * lookup-cache entries filled before are stale (vos_obj.c) */
	uint64_t vp_rm_gen;
};

static inline struct vos_pool *
vos_hdl2pool(daos_handle_t poh)
{
	return (struct vos_pool *)(uintptr_t)poh.cookie;
}

static inline daos_handle_t
vos_pool2hdl(struct vos_pool *pool)
{
	return (daos_handle_t){.cookie = (uint64_t)(uintptr_t)pool};
}

/*
 * Data-file reads in flight hold back the reuse of blocks freed after they looked the
 * blocks up: vos_pool_read_begin records the last committed LSN (the reader's tree walk
 * saw every free up to it, so none of those blocks is among the ones it reads), and VEA's
 * aging list releases frees only up to the oldest such LSN of the reads in flight (and
 * the durable LSN). Begin before the walk, or right after it with no yield in between;
 * end once the reads completed.
 */
struct vos_read_ref {
	d_list_t rr_link;
	uint64_t rr_lsn;
};

void vos_pool_read_begin(struct vos_pool *pool, struct vos_read_ref *ref);
void vos_pool_read_end(struct vos_pool *pool, struct vos_read_ref *ref);

/* Move VEA's aged frees to the free space: durable, and older than every read in flight. */
void vos_pool_vea_flush(struct vos_pool *pool);

/*
 * An update's transaction failed with @rc at commit: if the WAL is full (-DER_AGAIN) or its
 * staging buffer busy (-DER_BUSY), make room (checkpoint both slots and trim, or wait for
 * the flush in flight) and return 0 so the caller retries; other errors come back as is.
 */
int vos_pool_make_room(daos_handle_t poh, int rc);

/* Close @poh without a checkpoint, as a crash would leave it (for tests). */
void vos_pool_abandon(daos_handle_t poh);

/*
 * Zero every free slot and free chunk of a heap image (for tests that compare images:
 * bytes in free space are not part of the heap's state). 0, -DER_INVAL or -DER_CSUM.
 */
int umem_image_zero_free(void *image, size_t size);

/*
 * Containers, objects, keys and values (vos_tree.c, vos_cont.c, vos_obj.c, vos_io.c).
 * On-heap layout:
 *
 *	pd_cont_table    btree (VOS_BTR_CONT, direct 16-byte uuid keys) -> vos_cont_df
 *	cd_obj_root      btree (VOS_BTR_OBJ, direct 24-byte unit OID keys) -> vos_obj_df
 *	vo_tree          btree (VOS_BTR_KEY, hashed / uint64 / lexical dkeys) -> vos_krec_df
 *	kr_btr of a dkey btree (VOS_BTR_KEY, akeys) -> vos_krec_df
 *	kr_btr of an akey btree (VOS_BTR_SINGV, (epoch, minor) keys) -> vos_irec_df
 *	kr_evt of an akey evtree of array extents; payload in the heap or the data file
 */
#include <daos/object.h>
#include <daos_srv/evtree.h>
#include "ilog.h"

/* Tree classes of this module (DBTREE_VOS_BEGIN..END). */
enum {
	VOS_BTR_CONT = DBTREE_VOS_BEGIN,
	VOS_BTR_OBJ = DBTREE_VOS_BEGIN + 1,
	VOS_BTR_KEY = DBTREE_VOS_BEGIN + 2,
	VOS_BTR_SINGV = DBTREE_VOS_BEGIN + 3,
};

/* Where a value's bytes are (vos_irec_df::ir_media, evt_payload_df::pd_type). */
enum {
	VOS_MEDIA_SCM = 0,  /* in the heap */
	VOS_MEDIA_DATA = 1, /* in the data file, at a byte address that is a block multiple */
};

/* Minor epoch of operations outside a distributed transaction (DAOS's VOS_SUB_OP_MAX). */
#define VOS_MINOR_EPC ILOG_MINOR_MAX

#define VOS_CONT_MAGIC 0x544e4f43534f5644ULL /* "DVOSCONT" */
/* vos_cont_df::cd_flags */
#define VOS_CONT_DESTROYING (1U << 0)

/* A container: the body of a VOS_BTR_CONT record. */
struct vos_cont_df {
	uuid_t cd_id;
	uint64_t cd_magic;
	uint64_t cd_nobjs;
	uint64_t cd_used_scm;  /* value bytes in the heap */
	uint64_t cd_used_data; /* data-file bytes (whole blocks) held by values */
	uint32_t cd_flags;
	uint32_t cd_pad;
	uint64_t cd_gc_next; /* destroyed: the next container in the pool's GC bin */
	uint64_t cd_gc_objs; /* GC bin of objects aggregation removed (linked by vo_gc_next) */
	uint64_t cd_gc_keys; /* GC bin of dkeys and akeys (struct vos_gc_link_df) */
	struct btr_root_df cd_obj_root; /* the object index */
};
D_CASSERT(sizeof(struct vos_cont_df) == 112);
D_CASSERT(offsetof(struct vos_cont_df, cd_obj_root) == 80);

/* An object: the body of a VOS_BTR_OBJ record. */
struct vos_obj_df {
	daos_unit_oid_t vo_id;
	uint64_t vo_gc_next; /* detached: the next object in its container's GC bin */
	struct ilog_df vo_ilog;
	struct btr_root_df vo_tree; /* dkeys */
};
D_CASSERT(sizeof(struct vos_obj_df) == 80);
D_CASSERT(offsetof(struct vos_obj_df, vo_ilog) == 32);

/* vos_krec_df::kr_bmap: what hangs under the key */
enum {
	VOS_KREC_DKEY = (1 << 0),   /* a dkey: kr_btr is its akey tree */
	VOS_KREC_SINGLE = (1 << 1), /* an akey of single values: kr_btr is a VOS_BTR_SINGV tree */
	VOS_KREC_ARRAY = (1 << 2),  /* an akey of array records: kr_evt */
};

/* A dkey or an akey: the body of a VOS_BTR_KEY record, followed by kr_size key bytes. */
struct vos_krec_df {
	uint8_t kr_bmap; /* VOS_KREC_*; an akey with neither type bit was only punched */
	uint8_t kr_pad[3];
	uint32_t kr_size;
	struct ilog_df kr_ilog;
	union {
		struct btr_root_df kr_btr;
		struct evt_root_df kr_evt;
	};
};
D_CASSERT(sizeof(struct vos_krec_df) == 56);
D_CASSERT(sizeof(struct evt_root_df) == sizeof(struct btr_root_df));

static inline void *
vos_krec2key(struct vos_krec_df *krec)
{
	return (char *)krec + sizeof(*krec);
}

/* The key of a single-value record: (epoch, minor epoch), ordered numerically. */
struct vos_singv_key {
	uint64_t sk_epoch;
	uint16_t sk_minor;
	uint16_t sk_pad[3];
};
D_CASSERT(sizeof(struct vos_singv_key) == 16);

/* One version of a single value: the body of a VOS_BTR_SINGV record. */
struct vos_irec_df {
	struct vos_singv_key ir_key;
	uint64_t ir_size; /* value bytes; 0: the value was punched */
	uint64_t ir_addr; /* VOS_MEDIA_DATA: byte address in the data file */
	uint32_t ir_media;
	uint32_t ir_ver; /* pool map version of the update */
			 /* VOS_MEDIA_SCM: ir_size bytes follow */
};
D_CASSERT(sizeof(struct vos_irec_df) == 40);

/* An open container handle. */
/*
 * One entry of a container handle's lookup cache (vos_obj.c): an object's record and the
 * record of the dkey last used in it, both committed, valid while the pool's vp_rm_gen is
 * still oc_gen. A hit is checked by comparing the OID and the dkey's bytes with the records.
 */
struct vos_obj_cache {
	uint64_t oc_gen;
	umem_off_t oc_obj;  /* UMOFF_NULL: empty */
	umem_off_t oc_dkey; /* UMOFF_NULL: no dkey */
};

#define VOS_OBJ_CACHE_NR 8 /* entries, direct-mapped by OID */

struct vos_container {
	d_list_t vc_link; /* in the list of open handles */
	uuid_t vc_id;
	struct vos_pool *vc_pool;
	struct vos_cont_df *vc_df;
	struct btr_instance *vc_oi; /* the object index, open with the handle */
	struct vea_hint_context vc_hint;
	struct vos_obj_cache vc_oc[VOS_OBJ_CACHE_NR];
};

static inline struct vos_container *
vos_hdl2cont(daos_handle_t coh)
{
	return (struct vos_container *)(uintptr_t)coh.cookie;
}

/* Register the tree classes of this module (idempotent). 0 or -DER_*. Context: any thread. */
int vos_tree_init(void);

/* The key feature bits (hashed, uint, lexical) of @oid's dkey or akey trees. Context: any. */
uint64_t vos_key_feats(daos_unit_oid_t oid, bool dkey);

/*
 * Free the payload of evtree entry @ent (heap or data blocks) inside the open transaction.
 * @pool: the pool (as an evt_ent_cb_t arg). Context: the pool's thread, in a transaction.
 */
int vos_ent_payload_free(struct umem_instance *umm, const struct evt_entry *ent, void *pool);

/*
 * Free the body at @off of a container, object or key record and everything under it
 * (vos_tree.c), inside the open transaction: cheap once garbage collection has emptied it.
 * Returns 0 or a tree / heap error. Context: the pool's thread, in a transaction.
 */
int vos_cont_body_free(struct umem_instance *umm, struct vos_pool *pool, umem_off_t off);
int vos_obj_body_free(struct umem_instance *umm, struct vos_pool *pool, umem_off_t off);
int vos_krec_body_free(struct umem_instance *umm, struct vos_pool *pool, umem_off_t off);

/*
 * Garbage collection (vos_gc.c). A detached subtree -- a container, an object, a dkey or
 * an akey record body taken out of its tree with dbtree_detach -- goes into a GC bin in
 * the same transaction; vos_pool_poll then frees it in bounded steps. Bins are lists
 * linked through the detached bodies themselves, so that putting something in a bin never
 * allocates (destroy and aggregation must work in a full pool).
 */
#define VOS_GC_MAGIC 0x4e4942434753f0d5ULL

/* A detached key's link: it overlays the key's incarnation log (emptied when detached). */
struct vos_gc_link_df {
	uint64_t gl_next; /* the next key in the bin; 0: the last */
	uint64_t gl_magic;
};
D_CASSERT(sizeof(struct vos_gc_link_df) == sizeof(struct ilog_df));

/*
 * Put the body at @body, just detached from its tree, into a bin inside the caller's
 * transaction: a container into the pool's bin; an object or a key (its ilog is freed)
 * into the bin of container @cd. Returns 0 or a heap error.
 * Context: the pool's thread, in a transaction.
 */
int vos_gc_add_cont(struct vos_pool *pool, umem_off_t body);
int vos_gc_add_obj(struct vos_pool *pool, struct vos_cont_df *cd, umem_off_t body);
int vos_gc_add_key(struct vos_pool *pool, struct vos_cont_df *cd, umem_off_t body);

/*
 * One transaction of garbage collection freeing up to @credits records; retried after
 * vos_tx_make_room only with @wait. Returns the number of records freed (0: nothing
 * left, vp_gc_idle is then set) or -DER_*. Context: the pool's thread; with @wait it may
 * wait for the WAL.
 */
int vos_gc_step(struct vos_pool *pool, int credits, bool wait);

/* Records a step of vos_pool_poll frees. */
#define VOS_GC_CREDITS 256

/* Bytes of data-file blocks a value of @size bytes takes. */
static inline uint64_t
vos_data_bytes(uint64_t size)
{
	return (size + VOS_BLK_SIZE - 1) / VOS_BLK_SIZE * VOS_BLK_SIZE;
}

/*
 * A transaction failed with @rc: if the WAL was full (-DER_AGAIN) or its staging buffer
 * (-DER_BUSY), make room (checkpoint, flush, wait) and return 0 so that the caller retries;
 * otherwise return @rc. Context: the pool's thread, outside any transaction; waits through
 * the pool's wait hook.
 */
int vos_tx_make_room(struct vos_pool *pool, int rc);

/* Retries of a transaction that found the WAL full before giving up with its error. */
#define VOS_TX_RETRY_MAX 16

/* Object index and keys (vos_obj.c). */

/*
 * The lookup cache of a container handle. vos_oc_obj: object @oid if its entry holds it,
 * else NULL. vos_oc_dkey: the record of @dkey in @obj if it is the entry's last dkey, else
 * NULL. vos_oc_fill: remember @obj and @dkrec (NULL: none), both committed records (the
 * caller is outside any transaction). vos_oc_invalidate: forget every entry of every handle
 * of the pool (a record may leave its tree). Context: the pool's thread.
 */
struct vos_obj_df *vos_oc_obj(struct vos_container *cont, daos_unit_oid_t oid);
struct vos_krec_df *vos_oc_dkey(struct vos_container *cont, struct vos_obj_df *obj,
				const daos_key_t *dkey);
void vos_oc_fill(struct vos_container *cont, struct vos_obj_df *obj, struct vos_krec_df *dkrec);

static inline void
vos_oc_invalidate(struct vos_pool *pool)
{
	pool->vp_rm_gen++;
}

/*
 * Find object @oid of @cont; with @create, insert it if missing (inside the caller's
 * transaction). *@obj: borrowed, in the heap. Returns 0, -DER_NONEXIST, or a tree error.
 * Context: the pool's thread; with @create, inside a transaction.
 */
int vos_obj_find(struct vos_container *cont, daos_unit_oid_t oid, bool create,
		 struct vos_obj_df **obj);

/*
 * Find key @key in the key tree at @root (features @feats, created on demand with
 * @create); with @create, insert a record of kind @bmap if missing (inside the caller's
 * transaction). *@krec: borrowed. Returns 0, -DER_NONEXIST, -DER_INVAL, -DER_KEY2BIG, or
 * a tree error. Context: the pool's thread; with @create, inside a transaction.
 */
int vos_key_find(struct vos_pool *pool, struct btr_root_df *root, uint64_t feats, daos_key_t *key,
		 bool create, uint8_t bmap, struct vos_krec_df **krec);
/*
 * vos_key_find with @create, in one tree open and descent for a missing key: *@created
 * says whether the record was inserted now (kind @bmap) or found.
 */
int vos_key_find_add(struct vos_pool *pool, struct btr_root_df *root, uint64_t feats,
		     daos_key_t *key, uint8_t bmap, struct vos_krec_df **krec, bool *created);

/*
 * What a reader at @epoch sees of a key with log @ilog under a parent whose punch bound is
 * @parent (NULL: none): *@visible, and in *@punch the punch bound for what is under the
 * key (the newer of the parent's and the key's own). Returns 0 or -DER_DF_INVAL.
 * Context: the pool's thread; reads only.
 */
int vos_ilog_visible(struct umem_instance *umm, const struct ilog_df *ilog, daos_epoch_t epoch,
		     const struct ilog_epc *parent, bool *visible, struct ilog_epc *punch);

/* Validate a key given by a caller: 0, -DER_INVAL or -DER_KEY2BIG. Context: any. */
int vos_key_check(const daos_key_t *key, uint64_t feats);

/*
 * Read @len bytes at byte address @addr of the pool's data file into @buf (vos_io.c).
 * Returns 0 or -DER_IO. Context: the pool's thread; blocks on the read.
 */
int vos_data_read(struct vos_pool *pool, void *buf, size_t len, uint64_t addr);

/* Largest dkey or akey of a hashed tree (lexical ones: DBTREE_DIRECT_KEY_MAX). */
#define VOS_KEY_MAX 4096

#endif /* D_VOS_INTERNAL_H */
