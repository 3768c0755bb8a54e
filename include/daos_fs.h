/*
 * daos_fs.h: DFS, a POSIX namespace (directories, files, symbolic links) kept in one DAOS
 * container of layout DAOS_PROP_CO_LAYOUT_POSIX.
 *
 * Conventions: every dfs_* function returns 0 or a positive errno (never a DER_*); an
 * asynchronous call (ev != NULL) puts a positive errno in ev->ev_error. A parent of NULL
 * means the root directory. Entry names are at most DFS_MAX_NAME bytes and never contain '/'.
 */
#ifndef D_DAOS_FS_H
#define D_DAOS_FS_H

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <daos_types.h>
#include <daos_event.h>
#include <daos_obj.h>
#include <daos_obj_class.h>
#include <daos_array.h>
#include <daos_prop.h>
#include <daos_cont.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Longest entry name. */
#define DFS_MAX_NAME NAME_MAX
/** Longest path. */
#define DFS_MAX_PATH PATH_MAX
/** Largest file size (also "to the end" for dfs_punch()). */
#define DFS_MAX_FSIZE (~0ULL)
/** Chunk size of files created with chunk size 0: 1 MiB. */
#define DFS_DEFAULT_CHUNK_SIZE 1048576
/** Longest extended attribute name. */
#define DFS_MAX_XATTR_NAME 255
/** Largest extended attribute value. */
#define DFS_MAX_XATTR_LEN 65536

/** f_type of a DFS file system (statfs). */
#define DAOS_SUPER_MAGIC 0xDA05AD10

/** An open file, directory or symbolic link. */
typedef struct dfs_obj dfs_obj_t;
/** A mounted DFS namespace. */
typedef struct dfs_ns dfs_t;

/*
 * Consistency modes, chosen when the container is created (dfs_attr_t.da_mode) and passed in
 * the mount flags. Balanced mode runs every namespace operation in a transaction; relaxed mode
 * (the default) does not. A balanced container can only be mounted balanced.
 */
#define DFS_BALANCED 4
#define DFS_RELAXED 0
/** mount read-only */
#define DFS_RDONLY O_RDONLY
/** mount read-write */
#define DFS_RDWR O_RDWR

/** Attributes of a DFS container, all optional (0 / NULL: the default). */
typedef struct {
	/** user ID of the container */
	uint64_t da_id;
	/** default chunk size of files */
	daos_size_t da_chunk_size;
	/** default object class of all objects */
	daos_oclass_id_t da_oclass_id;
	/** properties of the container created */
	daos_prop_t *da_props;
	/** DFS_RELAXED or DFS_BALANCED */
	uint32_t da_mode;
	/** default object class of directories */
	daos_oclass_id_t da_dir_oclass_id;
	/** default object class of files */
	daos_oclass_id_t da_file_oclass_id;
	/** hints, "type:hint" comma-separated, e.g. "file:single,dir:max" */
	char da_hints[DAOS_CONT_HINT_MAX_LEN];
} dfs_attr_t;

/** The byte ranges of a file accessed by dfs_readx() / dfs_writex(). */
typedef struct {
	/** number of ranges */
	daos_size_t iod_nr;
	/** ranges: offset (rg_idx) and length (rg_len) in bytes */
	daos_range_t *iod_rgs;
} dfs_iod_t;

/** Layout of a DFS object (dfs_obj_get_info()). */
typedef struct {
	daos_oclass_id_t doi_oclass_id;
	daos_size_t doi_chunk_size;
	/** directories: default class of the directories created in it */
	daos_oclass_id_t doi_dir_oclass_id;
	/** directories: default class of the files created in it */
	daos_oclass_id_t doi_file_oclass_id;
	daos_obj_id_t doi_oid;
} dfs_obj_info_t;

/**
 * Initialise DAOS and DFS. Needed before dfs_connect() (which caches the pool and container
 * handles it opens); harmless otherwise. Reference-counted like daos_init().
 */
int dfs_init(void);

/** Undo dfs_init(); the last call closes the cached handles. */
int dfs_fini(void);

/**
 * Mount container @cont (label or UUID) of pool @pool of system @sys (NULL: default),
 * connecting and opening as needed. @flags: O_RDONLY or O_RDWR, plus O_CREAT to create a POSIX
 * container with attributes @attr if it does not exist. Release with dfs_disconnect().
 * EACCES if dfs_init() was not called.
 */
int dfs_connect(const char *pool, const char *sys, const char *cont, int flags, dfs_attr_t *attr,
		dfs_t **dfs);

/** Unmount a namespace mounted by dfs_connect() and drop its handle references. */
int dfs_disconnect(dfs_t *dfs);

/** Destroy container @cont of pool @pool (as daos_cont_destroy() with @force). */
int dfs_destroy(const char *pool, const char *sys, const char *cont, int force, daos_event_t *ev);

/**
 * Create a POSIX container in pool @poh with attributes @attr (optional), its UUID in *@uuid.
 * If @coh is not NULL the container is left open there; if @dfs is not NULL it is also
 * mounted there.
 */
int dfs_cont_create(daos_handle_t poh, uuid_t *uuid, dfs_attr_t *attr, daos_handle_t *coh,
		    dfs_t **dfs);

/** dfs_cont_create() with label @label; *@uuid (optional) returns the UUID. */
int dfs_cont_create_with_label(daos_handle_t poh, const char *label, dfs_attr_t *attr, uuid_t *uuid,
			       daos_handle_t *coh, dfs_t **dfs);

/**
 * Mount the namespace of container @coh in pool @poh, which must stay open until
 * dfs_umount(). @flags: O_RDONLY or O_RDWR, optionally DFS_BALANCED.
 */
int dfs_mount(daos_handle_t poh, daos_handle_t coh, int flags, dfs_t **dfs);

/** Unmount; @dfs is freed. */
int dfs_umount(dfs_t *dfs);

/** A reference to the pool handle of @dfs in *@poh, dropped with dfs_pool_put(). */
int dfs_pool_get(dfs_t *dfs, daos_handle_t *poh);

int dfs_pool_put(dfs_t *dfs, daos_handle_t poh);

/** A reference to the container handle of @dfs in *@coh, dropped with dfs_cont_put(). */
int dfs_cont_get(dfs_t *dfs, daos_handle_t *coh);

int dfs_cont_put(dfs_t *dfs, daos_handle_t coh);

/** The attributes of the mounted container. */
int dfs_query(dfs_t *dfs, dfs_attr_t *attr);

/**
 * Serialise mount @dfs for another process. With glob->iov_buf NULL, only the size needed is
 * returned in glob->iov_buf_len. Local; does not block.
 */
int dfs_local2global(dfs_t *dfs, d_iov_t *glob);

/** Rebuild a mount from @glob over handles @poh and @coh; @flags 0 keeps the original. */
int dfs_global2local(daos_handle_t poh, daos_handle_t coh, int flags, d_iov_t glob, dfs_t **dfs);

/** As dfs_local2global(), including the pool and container handles. */
int dfs_local2global_all(dfs_t *dfs, d_iov_t *glob);

/** As dfs_global2local() for a blob of dfs_local2global_all(); release with dfs_disconnect(). */
int dfs_global2local_all(int flags, d_iov_t glob, dfs_t **dfs);

/** Strip @prefix (absolute; NULL: none) from the paths given to dfs_lookup(). */
int dfs_set_prefix(dfs_t *dfs, const char *prefix);

/** The object ID of @obj. */
int dfs_obj2id(dfs_obj_t *obj, daos_obj_id_t *oid);

/**
 * Open the object at absolute @path ("/" is the root) with @flags O_RDONLY or O_RDWR (plus
 * O_NOFOLLOW). Its mode and stat (both optional) are returned. Release with dfs_release().
 */
int dfs_lookup(dfs_t *dfs, const char *path, int flags, dfs_obj_t **obj, mode_t *mode,
	       struct stat *stbuf);

/**
 * Open entry @name of directory @parent; a symbolic link is not followed. @stbuf (optional)
 * comes from the entry fetched for the open (plus the size query of a regular file).
 */
int dfs_lookup_rel(dfs_t *dfs, dfs_obj_t *parent, const char *name, int flags, dfs_obj_t **obj,
		   mode_t *mode, struct stat *stbuf);

/**
 * Open or create entry @name of @parent. The kind is given by @mode & S_IFMT (S_IFREG,
 * S_IFDIR, S_IFLNK, whose target is @value), also when O_CREAT is not set. @flags: O_RDONLY,
 * O_RDWR, O_CREAT, O_EXCL, O_TRUNC. On creation, @cid 0 and @chunk_size 0 take the defaults
 * (chunk DFS_DEFAULT_CHUNK_SIZE). Release with dfs_release().
 */
int dfs_open(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode, int flags,
	     daos_oclass_id_t cid, daos_size_t chunk_size, const char *value, dfs_obj_t **obj);

/**
 * dfs_open() that also returns the attributes of the entry created or found, so that a
 * create costs one round trip. @stbuf needs O_CREAT (ENOTSUP otherwise, as DAOS); its
 * st_uid and st_gid (input) own a newly created entry. Output: the new entry's attributes
 * (a new file has st_size 0), or, when an existing entry was opened (O_CREAT without
 * O_EXCL), its attributes with a regular file's st_size from the file (0 after O_TRUNC).
 */
int dfs_open_stat(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode, int flags,
		  daos_oclass_id_t cid, daos_size_t chunk_size, const char *value, dfs_obj_t **obj,
		  struct stat *stbuf);

/** A second handle to @obj, without any round trip. */
int dfs_dup(dfs_t *dfs, dfs_obj_t *obj, int flags, dfs_obj_t **new_obj);

/** Serialise open object @obj; with glob->iov_buf NULL only the size is returned. */
int dfs_obj_local2global(dfs_t *dfs, dfs_obj_t *obj, d_iov_t *glob);

/** Rebuild an open object from @glob; @flags 0 keeps the original. */
int dfs_obj_global2local(dfs_t *dfs, int flags, d_iov_t glob, dfs_obj_t **obj);

/** Close an object handle. */
int dfs_release(dfs_obj_t *obj);

/** Read file @obj at @off into @sgl; *@read_size returns the bytes read (short at EOF). */
int dfs_read(dfs_t *dfs, dfs_obj_t *obj, d_sg_list_t *sgl, daos_off_t off, daos_size_t *read_size,
	     daos_event_t *ev);

/** Read the byte ranges of @iod into @sgl. */
int dfs_readx(dfs_t *dfs, dfs_obj_t *obj, dfs_iod_t *iod, d_sg_list_t *sgl, daos_size_t *read_size,
	      daos_event_t *ev);

/** Write @sgl into file @obj at @off. */
int dfs_write(dfs_t *dfs, dfs_obj_t *obj, d_sg_list_t *sgl, daos_off_t off, daos_event_t *ev);

/** Write @sgl into the byte ranges of @iod. */
int dfs_writex(dfs_t *dfs, dfs_obj_t *obj, dfs_iod_t *iod, d_sg_list_t *sgl, daos_event_t *ev);

/** Size of file @obj. */
int dfs_get_size(dfs_t *dfs, dfs_obj_t *obj, daos_size_t *size);

/**
 * Punch @len bytes of file @obj from @offset. With @len DFS_MAX_FSIZE this truncates (or
 * extends) the file to @offset.
 */
int dfs_punch(dfs_t *dfs, dfs_obj_t *obj, daos_off_t offset, daos_size_t len);

/**
 * Read up to *@nr entries of directory @obj into @dirs (d_name filled); *@nr returns how many.
 * Continue while !daos_anchor_is_eof(@anchor).
 */
int dfs_readdir(dfs_t *dfs, dfs_obj_t *obj, daos_anchor_t *anchor, uint32_t *nr,
		struct dirent *dirs);

/** Callback of dfs_iterate(), called per entry with its name. */
typedef int (*dfs_filler_cb_t)(dfs_t *dfs, dfs_obj_t *obj, const char name[], void *arg);

/**
 * Enumerate up to *@nr entries of @obj, using at most @size bytes of buffer, calling @op
 * (optional) per entry; *@nr returns how many were enumerated.
 */
int dfs_iterate(dfs_t *dfs, dfs_obj_t *obj, daos_anchor_t *anchor, uint32_t *nr, size_t size,
		dfs_filler_cb_t op, void *arg);

/** Split the enumeration of directory @obj for parallel readdir (daos_obj_anchor_split()). */
int dfs_obj_anchor_split(dfs_obj_t *obj, uint32_t *nr, daos_anchor_t *anchors);

/** Set @anchor to part @index of a split. */
int dfs_obj_anchor_set(dfs_obj_t *obj, uint32_t index, daos_anchor_t *anchor);

/** Create directory @name in @parent with @mode and class @cid (0: default). */
int dfs_mkdir(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode, daos_oclass_id_t cid);

/**
 * Remove entry @name of @parent: a file, a symbolic link, or a directory (non-empty ones only
 * if @force). *@oid (optional) returns the removed object's ID.
 */
int dfs_remove(dfs_t *dfs, dfs_obj_t *parent, const char *name, bool force, daos_obj_id_t *oid);

/** Rename @parent/@name to @new_parent/@new_name; *@oid returns the ID of a replaced entry. */
int dfs_move(dfs_t *dfs, dfs_obj_t *parent, const char *name, dfs_obj_t *new_parent,
	     const char *new_name, daos_obj_id_t *oid);

/** Swap two entries atomically. */
int dfs_exchange(dfs_t *dfs, dfs_obj_t *parent1, const char *name1, dfs_obj_t *parent2,
		 const char *name2);

/** Mode (type and permissions) of @obj. */
int dfs_get_mode(dfs_obj_t *obj, mode_t *mode);

/** Class, chunk size and object ID of @obj. */
int dfs_obj_get_info(dfs_t *dfs, dfs_obj_t *obj, dfs_obj_info_t *info);

/** Set the class of the entries created later in directory @obj. @flags is reserved. */
int dfs_obj_set_oclass(dfs_t *dfs, dfs_obj_t *obj, int flags, daos_oclass_id_t cid);

/** Set the chunk size of the files created later in directory @obj. @flags is reserved. */
int dfs_obj_set_chunk_size(dfs_t *dfs, dfs_obj_t *obj, int flags, daos_size_t csize);

/** The array handle of file @obj (borrowed: do not close it). */
int dfs_get_file_oh(dfs_obj_t *obj, daos_handle_t *oh);

/** Chunk size of file @obj. */
int dfs_get_chunk_size(dfs_obj_t *obj, daos_size_t *chunk_size);

/**
 * Target of symbolic link @obj into @buf (*@size bytes, truncated if short); *@size returns
 * the full size including the NUL.
 */
int dfs_get_symlink_value(dfs_obj_t *obj, char *buf, daos_size_t *size);

/** After a rename: make handle @obj refer to the parent of @src_obj and to @name (optional). */
int dfs_update_parent(dfs_obj_t *obj, dfs_obj_t *src_obj, const char *name);

/**
 * stat entry @name of @parent (a symbolic link itself, not its target). Filled: st_mode,
 * st_uid, st_gid, st_size, st_blocks, st_atim, st_mtim, st_ctim; the rest is 0.
 * ENOENT if there is no such entry.
 */
int dfs_stat(dfs_t *dfs, dfs_obj_t *parent, const char *name, struct stat *stbuf);

/** stat an open object. */
int dfs_ostat(dfs_t *dfs, dfs_obj_t *obj, struct stat *stbuf);

/** What dfs_osetattr() sets (bits of its @flags). */
#define DFS_SET_ATTR_MODE (1 << 0)
#define DFS_SET_ATTR_ATIME (1 << 1)
#define DFS_SET_ATTR_MTIME (1 << 2)
#define DFS_SET_ATTR_SIZE (1 << 3)
#define DFS_SET_ATTR_UID (1 << 4)
#define DFS_SET_ATTR_GID (1 << 5)

/** Set the attributes of @obj selected by @flags from *@stbuf, and return all of them. */
int dfs_osetattr(dfs_t *dfs, dfs_obj_t *obj, struct stat *stbuf, int flags);

/** access(2) on entry @name of @parent (symbolic links followed); @mask F_OK or R/W/X_OK. */
int dfs_access(dfs_t *dfs, dfs_obj_t *parent, const char *name, int mask);

/** chmod(2) on entry @name of @parent (symbolic links followed). */
int dfs_chmod(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode);

/**
 * chown(2) on entry @name of @parent; (uid_t)-1 / (gid_t)-1 leave a value unchanged; @flags
 * O_NOFOLLOW acts on a link itself.
 */
int dfs_chown(dfs_t *dfs, dfs_obj_t *parent, const char *name, uid_t uid, gid_t gid, int flags);

/** Make everything done so far in the namespace durable. */
int dfs_sync(dfs_t *dfs);

/** Set extended attribute @name of @obj; @flags 0, XATTR_CREATE or XATTR_REPLACE. */
int dfs_setxattr(dfs_t *dfs, dfs_obj_t *obj, const char *name, const void *value, daos_size_t size,
		 int flags);

/** Read extended attribute @name into @value (*@size bytes); *@size returns its size. */
int dfs_getxattr(dfs_t *dfs, dfs_obj_t *obj, const char *name, void *value, daos_size_t *size);

int dfs_removexattr(dfs_t *dfs, dfs_obj_t *obj, const char *name);

/** The names of the extended attributes, NUL-separated, into @list (*@size bytes). */
int dfs_listxattr(dfs_t *dfs, dfs_obj_t *obj, char *list, daos_size_t *size);

/** What dfs_cont_check() does (bits). */
enum {
	/** print what is found */
	DFS_CHECK_PRINT = (1 << 0),
	/** remove leaked objects */
	DFS_CHECK_REMOVE = (1 << 1),
	/** link leaked objects under lost+found */
	DFS_CHECK_RELINK = (1 << 2),
	/** verify the data of every object */
	DFS_CHECK_VERIFY = (1 << 3),
	/** evict every open handle of the container first */
	DFS_CHECK_EVICT_ALL = (1 << 4),
};

/**
 * Check the namespace of container @cont for objects no entry refers to; @name (optional)
 * names the lost+found directory for DFS_CHECK_RELINK.
 */
int dfs_cont_check(daos_handle_t poh, const char *cont, uint64_t flags, const char *name);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_FS_H */
