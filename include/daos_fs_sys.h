/*
 * daos_fs_sys.h: DFS "sys", a path-based layer over DFS closer to the POSIX calls (stat,
 * open, mkdir, opendir...). It can cache directory lookups and serialise calls with a lock;
 * dfs_sys2base() gives the underlying dfs_t for the DFS API itself.
 *
 * As DFS: 0 or a positive errno.
 */
#ifndef D_DAOS_FS_SYS_H
#define D_DAOS_FS_SYS_H

#include <dirent.h>
#include <time.h>

#include <daos.h>
#include <daos_fs.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Sys flags (the @sflags of mount/connect): no directory cache. */
#define DFS_SYS_NO_CACHE 1
/** Sys flags: no locking (single-threaded callers). */
#define DFS_SYS_NO_LOCK 2

/** A DFS sys mount. */
typedef struct dfs_sys dfs_sys_t;

/** dfs_connect() for the sys API; @mflags as dfs_connect(), @sflags DFS_SYS_*. */
int dfs_sys_connect(const char *pool, const char *sys, const char *cont, int mflags, int sflags,
		    dfs_attr_t *attr, dfs_sys_t **dfs_sys);

/** Release a mount made by dfs_sys_connect(). */
int dfs_sys_disconnect(dfs_sys_t *dfs_sys);

/** As dfs_local2global_all(). */
int dfs_sys_local2global_all(dfs_sys_t *dfs_sys, d_iov_t *glob);

/** As dfs_global2local_all(); @sflags is not inherited. Release with dfs_sys_disconnect(). */
int dfs_sys_global2local_all(int mflags, int sflags, d_iov_t glob, dfs_sys_t **dfs_sys);

/** dfs_mount() for the sys API. */
int dfs_sys_mount(daos_handle_t poh, daos_handle_t coh, int mflags, int sflags,
		  dfs_sys_t **dfs_sys);

int dfs_sys_umount(dfs_sys_t *dfs_sys);

/** As dfs_local2global(). */
int dfs_sys_local2global(dfs_sys_t *dfs_sys, d_iov_t *glob);

/** As dfs_global2local(); release with dfs_sys_umount(). */
int dfs_sys_global2local(daos_handle_t poh, daos_handle_t coh, int mflags, int sflags, d_iov_t glob,
			 dfs_sys_t **dfs_sys);

/** The underlying DFS mount (borrowed: do not unmount it). */
int dfs_sys2base(dfs_sys_t *dfs_sys, dfs_t **dfs);

/** access(2); @flags O_NOFOLLOW. */
int dfs_sys_access(dfs_sys_t *dfs_sys, const char *path, int mask, int flags);

/** chmod(2), following symbolic links. */
int dfs_sys_chmod(dfs_sys_t *dfs_sys, const char *path, mode_t mode);

/** chown(2); @flags O_NOFOLLOW. */
int dfs_sys_chown(dfs_sys_t *dfs_sys, const char *path, uid_t uid, gid_t gid, int flags);

/** As dfs_osetattr() on a path; @flags DFS_SET_ATTR_*, @sflags O_NOFOLLOW. */
int dfs_sys_setattr(dfs_sys_t *dfs_sys, const char *path, struct stat *stbuf, int flags,
		    int sflags);

/** Set atime (@times[0]) and mtime (@times[1]); @flags O_NOFOLLOW. */
int dfs_sys_utimens(dfs_sys_t *dfs_sys, const char *path, const struct timespec times[2],
		    int flags);

/** stat(2) (lstat with @flags O_NOFOLLOW); fields as dfs_stat(). */
int dfs_sys_stat(dfs_sys_t *dfs_sys, const char *path, int flags, struct stat *stbuf);

/** Create a file or directory (type in @mode). EEXIST if @path exists. */
int dfs_sys_mknod(dfs_sys_t *dfs_sys, const char *path, mode_t mode, daos_oclass_id_t cid,
		  daos_size_t chunk_size);

/** As dfs_listxattr(); @flags O_NOFOLLOW. ERANGE if *@size is too small. */
int dfs_sys_listxattr(dfs_sys_t *dfs_sys, const char *path, char *list, daos_size_t *size,
		      int flags);

/** As dfs_getxattr(); @flags O_NOFOLLOW. */
int dfs_sys_getxattr(dfs_sys_t *dfs_sys, const char *path, const char *name, void *value,
		     daos_size_t *size, int flags);

/** As dfs_setxattr() (@flags); @sflags O_NOFOLLOW. */
int dfs_sys_setxattr(dfs_sys_t *dfs_sys, const char *path, const char *name, const void *value,
		     daos_size_t size, int flags, int sflags);

/** As dfs_removexattr(); @flags O_NOFOLLOW. */
int dfs_sys_removexattr(dfs_sys_t *dfs_sys, const char *path, const char *name, int flags);

/** readlink(2); sizes as dfs_get_symlink_value(). */
int dfs_sys_readlink(dfs_sys_t *dfs_sys, const char *path, char *buf, daos_size_t *size);

/** symlink(2): create @path pointing to @target. */
int dfs_sys_symlink(dfs_sys_t *dfs_sys, const char *target, const char *path);

/** As dfs_open() on a path (plus O_NOFOLLOW); close with dfs_sys_close(). */
int dfs_sys_open(dfs_sys_t *dfs_sys, const char *path, mode_t mode, int flags, daos_oclass_id_t cid,
		 daos_size_t chunk_size, const char *value, dfs_obj_t **obj);

int dfs_sys_close(dfs_obj_t *obj);

/** Read *@size bytes at @off into @buf; *@size returns the bytes read. */
int dfs_sys_read(dfs_sys_t *dfs_sys, dfs_obj_t *obj, void *buf, daos_off_t off, daos_size_t *size,
		 daos_event_t *ev);

/** Write *@size bytes of @buf at @off; *@size returns the bytes written. */
int dfs_sys_write(dfs_sys_t *dfs_sys, dfs_obj_t *obj, const void *buf, daos_off_t off,
		  daos_size_t *size, daos_event_t *ev);

/** As dfs_punch() on a path (a file shorter than @offset is extended to it). */
int dfs_sys_punch(dfs_sys_t *dfs_sys, const char *path, daos_off_t offset, daos_off_t len);

/** As dfs_remove() on a path. */
int dfs_sys_remove(dfs_sys_t *dfs_sys, const char *path, bool force, daos_obj_id_t *oid);

/** As dfs_sys_remove(), checking the type first if @mode is not 0 (S_IFREG/S_IFDIR/S_IFLNK). */
int dfs_sys_remove_type(dfs_sys_t *dfs_sys, const char *path, bool force, mode_t mode,
			daos_obj_id_t *oid);

/** mkdir(2) with class @cid (0: default). */
int dfs_sys_mkdir(dfs_sys_t *dfs_sys, const char *dir, mode_t mode, daos_oclass_id_t cid);

/** opendir(3); @flags O_NOFOLLOW. Close with dfs_sys_closedir(). */
int dfs_sys_opendir(dfs_sys_t *dfs_sys, const char *dir, int flags, DIR **dirp);

int dfs_sys_closedir(DIR *dirp);

/** readdir(3): the next entry in *@dirent (borrowed), NULL at the end. */
int dfs_sys_readdir(dfs_sys_t *dfs_sys, DIR *dirp, struct dirent **dirent);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_FS_SYS_H */
