/*
 * daos_uns.h: the unified namespace. A directory (POSIX container) or file (HDF5 container)
 * of an ordinary file system can stand for a DAOS container: an extended attribute on it
 * names the pool and container. duns_resolve_path() also accepts direct paths
 * "daos://pool/cont[/path]", and "/pool/cont[/path]" when told the prefix is absent.
 *
 * As DFS: 0 or a positive errno.
 */
#ifndef D_DAOS_UNS_H
#define D_DAOS_UNS_H

#include <stdbool.h>
#include <uuid/uuid.h>

#include <daos_types.h>
#include <daos_prop.h>
#include <daos_obj_class.h>
#include <daos_cont.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Flags of duns_resolve_path() (attr->da_flags). */
enum {
	/** the path is direct ("/pool/cont[/path]") without the "daos://" prefix */
	DUNS_NO_PREFIX = (1 << 0),
	/** look for the extended attribute on the last entry of the path only */
	DUNS_NO_REVERSE_LOOKUP = (1 << 1),
	/** read no extended attribute: the path is direct ("/pool/cont[/path]") */
	DUNS_NO_CHECK_PATH = (1 << 2),
};

/** The extended attribute that links a directory or file to a container. */
#define DUNS_XATTR_NAME "user.daos"
/** Longest value of that attribute. */
#define DUNS_MAX_XATTR_LEN 170
/** Its value: "DAOS.<layout>://<pool uuid>/<container uuid>". */
#define DUNS_XATTR_FMT "DAOS.%s://%36s/%36s"

/** What links a path to a container, in and out of the duns_* calls. */
struct duns_attr_t {
	/** container layout (POSIX, HDF5...) */
	daos_cont_layout_t da_type;
	/** in, POSIX: default object class */
	daos_oclass_id_t da_oclass_id;
	/** in, POSIX: default chunk size of files */
	daos_size_t da_chunk_size;
	/** in: properties of the container to create */
	daos_prop_t *da_props;
	/** in: flags of duns_resolve_path() (no prefix, no reverse lookup, no path check) */
	uint32_t da_flags;
	/** out: pool UUID or label */
	char da_pool[DAOS_PROP_LABEL_MAX_LEN + 1];
	/** out: container UUID or label */
	char da_cont[DAOS_PROP_LABEL_MAX_LEN + 1];
	/** out: system name (allocated; freed by duns_destroy_attr()) */
	char *da_sys;
	/** out: for a direct path, the part after the container (allocated) */
	char *da_rel_path;
	/** out: the path is on Lustre */
	bool da_on_lustre;
	/** out: the path had no daos:// prefix */
	bool da_no_prefix;
	/** deprecated: pool UUID */
	uuid_t da_puuid;
	/** deprecated: UUID of the container to create */
	uuid_t da_cuuid;
	/** in, POSIX: default object class of directories */
	daos_oclass_id_t da_dir_oclass_id;
	/** in, POSIX: default object class of files */
	daos_oclass_id_t da_file_oclass_id;
	/** in, POSIX: container hints (see dfs_attr_t) */
	char da_hints[DAOS_CONT_HINT_MAX_LEN];
};

/**
 * Create a container in pool @poh with the attributes of *@attrp and link it at @path: a new
 * directory (POSIX) or file (HDF5). The container ID is returned in attrp->da_cont.
 */
int duns_create_path(daos_handle_t poh, const char *path, struct duns_attr_t *attrp);

/**
 * Find the pool and container that @path stands for: through its extended attribute, or by
 * parsing a direct path. Free what it allocates with duns_destroy_attr().
 */
int duns_resolve_path(const char *path, struct duns_attr_t *attr);

/** Destroy the container linked at @path and remove the path. */
int duns_destroy_path(daos_handle_t poh, const char *path);

/** Parse the @len bytes of an extended attribute value @str into *@attr. */
int duns_parse_attr(char *str, daos_size_t len, struct duns_attr_t *attr);

/** Set the system name of *@attrp (a copy of @sys). */
int duns_set_sys_name(struct duns_attr_t *attrp, const char *sys);

/** Free the strings duns_resolve_path() allocated in *@attrp. */
void duns_destroy_attr(struct duns_attr_t *attrp);

/** Link existing container @cont of pool @poh at @path. */
int duns_link_cont(daos_handle_t poh, const char *cont, const char *path);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_UNS_H */
