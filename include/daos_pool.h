/*
 * daos_pool.h: pools. A pool is a reservation of storage on a set of engines (targets), named
 * by a label or a UUID; clients connect to it, then open containers in it.
 */
#ifndef D_DAOS_POOL_H
#define D_DAOS_POOL_H

#include <inttypes.h>
#include <sys/types.h>
#include <uuid/uuid.h>

#include <daos_types.h>
#include <daos_event.h>
#include <daos_prop.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** State of a storage target in the pool map. */
typedef enum {
	DAOS_TS_UNKNOWN,
	/* unavailable, its data rebuilt elsewhere */
	DAOS_TS_DOWN_OUT,
	/* unavailable, rebuild pending or running */
	DAOS_TS_DOWN,
	/* being reintegrated or added */
	DAOS_TS_UP,
	/* up and serving */
	DAOS_TS_UP_IN,
	/* being added by a pool map change */
	DAOS_TS_NEW,
	/* being drained */
	DAOS_TS_DRAIN,
} daos_target_state_t;

/** Target performance (reserved). */
typedef struct {
	int foo;
} daos_target_perf_t;

/** Storage tiers, the index of the space arrays. */
enum daos_media_type_t { DAOS_MEDIA_SCM = 0, DAOS_MEDIA_NVME, DAOS_MEDIA_MAX };

/** Space of a target or pool, in bytes, per tier. */
struct daos_space {
	uint64_t s_total[DAOS_MEDIA_MAX];
	uint64_t s_free[DAOS_MEDIA_MAX];
};

/** Information about one target (daos_pool_query_target()). */
typedef struct {
	uint32_t ta_padding;
	daos_target_state_t ta_state;
	daos_target_perf_t ta_perf;
	struct daos_space ta_space;
} daos_target_info_t;

/** Space of a pool. */
struct daos_pool_space {
	/** sums over the targets in service */
	struct daos_space ps_space;
	/** least free space of a target */
	uint64_t ps_free_min[DAOS_MEDIA_MAX];
	/** most free space of a target */
	uint64_t ps_free_max[DAOS_MEDIA_MAX];
	/** mean free space of a target */
	uint64_t ps_free_mean[DAOS_MEDIA_MAX];
	/** number of targets counted */
	uint32_t ps_ntargets;
	uint32_t ps_padding;
};

/** Flags of struct daos_rebuild_status. */
enum daos_rebuild_status_flag {
	/** some data has fewer copies than its redundancy asks for */
	DAOS_RSF_DEGRADED = (1 << 0),
};

/** Rebuild status of a pool. */
struct daos_rebuild_status {
	/** pool map version of the running or last rebuild (0: none yet) */
	uint32_t rs_version;
	/** duration in seconds */
	uint32_t rs_seconds;
	/** error that failed the rebuild, 0 if none */
	int32_t rs_errno;
	/** in progress (0), not started (1), completed (2); rs_done is the old name */
	union {
		int32_t rs_state;
		int32_t rs_done;
	};
	/** enum daos_rebuild_status_flag bits */
	uint8_t rs_flags;
	uint8_t rs_padding8[3];
	/** rank whose failure started the rebuild */
	int32_t rs_fail_rank;
	/** objects to rebuild (grows while scanning) */
	uint64_t rs_toberb_obj_nr;
	/** objects rebuilt */
	uint64_t rs_obj_nr;
	/** records rebuilt */
	uint64_t rs_rec_nr;
	/** bytes rebuilt */
	uint64_t rs_size;
};

/**
 * What daos_pool_query() fills in (pi_bits, set by the caller). The fields pi_uuid to
 * pi_leader are always filled in. By default the ranks returned are those of engines with
 * some target disabled; with DPI_ENGINES_ENABLED, those with all targets enabled.
 */
enum daos_pool_info_bit {
	/** query pi_space */
	DPI_SPACE = 1ULL << 0,
	/** query pi_rebuild_st */
	DPI_REBUILD_STATUS = 1ULL << 1,
	/** return the ranks of enabled engines instead of disabled ones */
	DPI_ENGINES_ENABLED = 1ULL << 2,
	/** everything */
	DPI_ALL = -1,
};

/** Pool information. */
typedef struct {
	uuid_t pi_uuid;
	/** number of targets */
	uint32_t pi_ntargets;
	/** number of engines */
	uint32_t pi_nnodes;
	/** number of disabled targets */
	uint32_t pi_ndisabled;
	/** pool map version */
	uint32_t pi_map_ver;
	/** rank of the pool service leader */
	uint32_t pi_leader;
	/** enum daos_pool_info_bit: what to query */
	uint64_t pi_bits;
	struct daos_pool_space pi_space;
	struct daos_rebuild_status pi_rebuild_st;
} daos_pool_info_t;

/** A container of a pool (daos_pool_list_cont()). */
struct daos_pool_cont_info {
	uuid_t pci_uuid;
	char pci_label[DAOS_PROP_LABEL_MAX_LEN + 1];
};

/** A container with its information (daos_pool_filter_cont()). */
struct daos_pool_cont_info2 {
	struct daos_pool_cont_info pci_id;
	/** as daos_cont_query() returns it */
	daos_cont_info_t pci_cinfo;
	/** reserved */
	void *pci_reserved[2];
};

/** Longest system name accepted by the connect calls. */
#define DAOS_SYS_NAME_MAX_LEN 127

/**
 * Connect to pool @pool (label or UUID string) of system @sys (NULL: the default system) with
 * mode DAOS_PC_RO/RW/EX in @flags. The connection handle is returned in *@poh and, if @info
 * is not NULL, the pool information (as selected by info->pi_bits) in *@info.
 * Returns 0, -DER_NONEXIST, -DER_NO_PERM, -DER_INVAL, -DER_UNREACH...
 */
int daos_pool_connect2(const char *pool, const char *sys, unsigned int flags, daos_handle_t *poh,
		       daos_pool_info_t *info, daos_event_t *ev);

/*
 * DAOS 2.x applications call daos_pool_connect() and link daos_pool_connect2 through the macro
 * below; libdaos exports both names for the same function.
 */
int daos_pool_connect(const char *pool, const char *sys, unsigned int flags, daos_handle_t *poh,
		      daos_pool_info_t *info, daos_event_t *ev);
#define daos_pool_connect daos_pool_connect2

/** Disconnect; the container handles opened through @poh become invalid. */
int daos_pool_disconnect(daos_handle_t poh, daos_event_t *ev);

/**
 * Serialise connection @poh for another process, usually on another node. With
 * glob->iov_buf NULL, only the size needed is returned in glob->iov_buf_len; -DER_TRUNC if
 * the buffer is too small. Local; does not block.
 */
int daos_pool_local2global(daos_handle_t poh, d_iov_t *glob);

/** Rebuild a connection handle from @glob (no round trip to the pool service). */
int daos_pool_global2local(d_iov_t glob, daos_handle_t *poh);

/**
 * Query the pool. @ranks (optional) receives a new rank list (free with d_rank_list_free();
 * it may be empty), see enum daos_pool_info_bit; @info (optional) the information selected by
 * info->pi_bits; @pool_prop (optional) properties as for daos_cont_query().
 */
int daos_pool_query(daos_handle_t poh, d_rank_list_t **ranks, daos_pool_info_t *info,
		    daos_prop_t *pool_prop, daos_event_t *ev);

/** Information about target @tgt of engine @rank. */
int daos_pool_query_target(daos_handle_t poh, uint32_t tgt, d_rank_t rank, daos_target_info_t *info,
			   daos_event_t *ev);

/** List user attribute names, as daos_cont_list_attr(). */
int daos_pool_list_attr(daos_handle_t poh, char *buffer, size_t *size, daos_event_t *ev);

/** Read user attributes, as daos_cont_get_attr(). */
int daos_pool_get_attr(daos_handle_t poh, int n, char const *const names[], void *const buffers[],
		       size_t sizes[], daos_event_t *ev);

/** Create or replace user attributes, as daos_cont_set_attr(). */
int daos_pool_set_attr(daos_handle_t poh, int n, char const *const names[],
		       void const *const values[], size_t const sizes[], daos_event_t *ev);

/** Delete user attributes, as daos_cont_del_attr(). */
int daos_pool_del_attr(daos_handle_t poh, int n, char const *const names[], daos_event_t *ev);

/**
 * List the containers of the pool: *@ncont holds the capacity of @cbuf on entry and the number
 * of containers on return (@cbuf NULL: count only). -DER_TRUNC if @cbuf is too small.
 */
int daos_pool_list_cont(daos_handle_t poh, daos_size_t *ncont, struct daos_pool_cont_info *cbuf,
			daos_event_t *ev);

/** One condition of a container filter: compare metadata key pcfp_key with a value. */
typedef struct daos_pool_cont_filter_part {
	/** comparison: ==, !=, <, <=, >, >= as 0..5 */
	uint32_t pcfp_func;
	/** key: open time, modification time, number of snapshots, of handles as 0..3 */
	uint32_t pcfp_key;
	union {
		uint64_t pcfp_val64;
		d_string_t pcfp_valstr;
	};
} daos_pool_cont_filter_part_t;

/** A container filter: parts combined with AND (0) or OR (1). */
typedef struct daos_pool_cont_filter {
	uint32_t pcf_combine_func;
	uint32_t pcf_nparts;
	struct daos_pool_cont_filter_part **pcf_parts;
} daos_pool_cont_filter_t;

/** Most parts in a filter. */
#define DAOS_POOL_CONT_FILTER_MAX_NPARTS (8)

/** Initialise an empty filter combining its parts with @combine_func. */
int daos_pool_cont_filter_init(daos_pool_cont_filter_t *filt, uint32_t combine_func);

/** Add @part to @filt, which now owns it. */
int daos_pool_cont_filter_add(daos_pool_cont_filter_t *filt, daos_pool_cont_filter_part_t *part);

/** Free the parts of @filt. */
void daos_pool_cont_filter_fini(daos_pool_cont_filter_t *filt);

/** List the containers matching @filter, as daos_pool_list_cont(). */
int daos_pool_filter_cont(daos_handle_t poh, daos_pool_cont_filter_t *filter, daos_size_t *ncont,
			  struct daos_pool_cont_info2 *cbuf, daos_event_t *ev);

/**
 * The permissions (enum daos_acl_perm bits) of user @uid with groups @gids on a pool whose
 * ACL, owner and owner-group properties are in @pool_prop.
 */
int daos_pool_get_perms(daos_prop_t *pool_prop, uid_t uid, gid_t *gids, size_t nr_gids,
			uint64_t *perms);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_POOL_H */
