/*
 * dfs_internal.h: private to libdfs. The on-storage records of the namespace and the structs
 * behind dfs_t and dfs_obj_t.
 */
#ifndef DFS_INTERNAL_H
#define DFS_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <daos_fs.h>

/* Superblock: object (lo 0, hi 0), dkey DFS_SB_DKEY, one single value per akey below. */
#define DFS_SB_DKEY "DFS_SB_METADATA"
#define DFS_SB_MAGIC_AKEY "DFS_MAGIC"
#define DFS_SB_VERSION_AKEY "DFS_SB_VERSION"
#define DFS_SB_LAYOUT_AKEY "DFS_LAYOUT_VERSION"
#define DFS_SB_CHUNK_AKEY "DFS_CHUNK_SIZE"
#define DFS_SB_OCLASS_AKEY "DFS_OBJ_CLASS"
#define DFS_SB_MAGIC 0xda05df50da05df50ULL
#define DFS_SB_VERSION 2
#define DFS_LAYOUT_VERSION 3
/* The root's entry lives in the superblock object under this dkey. */
#define DFS_ROOT_NAME "/"
/* An entry: dkey = its name, akey DFS_INODE_AKEY = struct dfs_inode_df (+ symlink target). */
#define DFS_INODE_AKEY "DFS_INODE"
/* Extended attributes: extra akeys of the entry's dkey, "x:" + name. */
#define DFS_XATTR_PREFIX "x:"
#define DFS_XATTR_PREFIX_LEN 2

/* The inode record of a directory entry, followed by di_value_len bytes of symlink target. */
struct dfs_inode_df {
	uint32_t di_mode;
	uint32_t di_uid;
	uint32_t di_gid;
	uint32_t di_oclass;
	uint64_t di_oid_lo;
	uint64_t di_oid_hi;
	uint64_t di_chunk;
	uint64_t di_atime; /* ns since the epoch */
	uint64_t di_mtime;
	uint64_t di_ctime;
	uint64_t di_value_len;
};
_Static_assert(sizeof(struct dfs_inode_df) == 72, "dfs_inode_df is on storage");

struct dfs_ns {
	daos_handle_t dn_poh;
	daos_handle_t dn_coh;
	daos_handle_t dn_sb_oh;
	int dn_flags; /* O_RDONLY / O_RDWR (| DFS_BALANCED) */
	bool dn_rdonly;
	uint64_t dn_chunk;
	daos_oclass_id_t dn_oclass;
	pthread_mutex_t dn_oid_lock;
	uint64_t dn_oid_next; /* low 32 bits of oid.hi we hand out next, with dn_oid_lo */
	uint64_t dn_oid_lo;
	struct dfs_obj *dn_root;
	char *dn_prefix;
	/* the lookup cache (dfs_ns.c): guesses only, every answer is checked */
	pthread_mutex_t dn_lc_lock;
	struct dfs_lc_slot *dn_lc;
};

/*
 * An open object. For a file, do_oh is its byte array (daos_array, cell 1, chunk do_chunk) and
 * do_oclass its own class; for a directory, do_oh is its object and do_chunk / do_oclass are
 * the defaults (0: the mount's) of the files and directories created in it, as kept in its
 * entry (di_chunk, di_oclass) and inherited by its subdirectories.
 */
struct dfs_obj {
	daos_obj_id_t do_oid;
	mode_t do_mode;
	int do_flags;
	daos_handle_t do_oh; /* directories and files; none for symlinks */
	daos_obj_id_t do_parent_oid;
	char do_name[DFS_MAX_NAME + 1];
	daos_size_t do_chunk;
	daos_oclass_id_t do_oclass;
	char *do_value; /* symlink target */
};

/*
 * dfs_ns.c: fetch the entry of @obj through its parent, let @set change it and store it back
 * (DAOS_COND_DKEY_UPDATE). Positive errno; ENOENT if the name now holds another object.
 */
int dfs__ent_update(dfs_t *dfs, dfs_obj_t *obj, void (*set)(struct dfs_inode_df *di, void *arg),
		    void *arg);

/*
 * dfs_file.c, the byte array of a regular file. Each returns 0 or a positive errno.
 * Context: any thread; blocking.
 */
/* Open the array of @obj (do_oid, do_chunk; 0 takes the mount's) into obj->do_oh. */
int dfs__file_open(dfs_t *dfs, dfs_obj_t *obj, int flags);
/* Close what dfs__file_open opened. */
void dfs__file_close(dfs_obj_t *obj);
/* Size of the file whose array is @oid with chunk size @chunk, without an open object. */
int dfs__file_size(dfs_t *dfs, daos_obj_id_t oid, daos_size_t chunk, daos_size_t *size);
/* Truncate or extend @obj to @size bytes (also through a read-only handle). */
int dfs__file_truncate(dfs_t *dfs, dfs_obj_t *obj, daos_size_t size);

#endif /* DFS_INTERNAL_H */
