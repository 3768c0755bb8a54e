/*
 * daos_prop.h: pool and container properties. A property list (daos_prop_t) is an array of
 * entries, each a type (DAOS_PROP_PO_* or DAOS_PROP_CO_*) and a value: an integer, a string
 * or a pointer to a typed blob (an ACL, the container roots), depending on the type.
 *
 * The numbers of the property types are stored and sent on the wire: they never change.
 */
#ifndef D_DAOS_PROP_H
#define D_DAOS_PROP_H

#include <ctype.h>

#include <daos_types.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Pool property types, valid strictly between DAOS_PROP_PO_MIN and DAOS_PROP_PO_MAX. */
enum daos_pool_props {
	DAOS_PROP_PO_MIN = 0,
	/** string: the pool label */
	DAOS_PROP_PO_LABEL,
	/** struct daos_acl *: the pool ACL (owner, users, groups, everyone) */
	DAOS_PROP_PO_ACL,
	/** percentage of each target's space reserved for rebuild */
	DAOS_PROP_PO_SPACE_RB,
	/** DAOS_SELF_HEAL_* bits */
	DAOS_PROP_PO_SELF_HEAL,
	/** DAOS_RECLAIM_*: space reclaim strategy */
	DAOS_PROP_PO_RECLAIM,
	/** string "user@[domain]" */
	DAOS_PROP_PO_OWNER,
	/** string "group@[domain]" */
	DAOS_PROP_PO_OWNER_GROUP,
	/** d_rank_list_t *: the pool service replicas */
	DAOS_PROP_PO_SVC_LIST,
	/** default EC cell size in bytes */
	DAOS_PROP_PO_EC_CELL_SZ,
	/** values at or above this size (bytes) go to the data tier (MD-on-SSD) */
	DAOS_PROP_PO_DATA_THRESH,
	/** pool redundancy factor */
	DAOS_PROP_PO_REDUN_FAC,
	/** performance domain affinity of EC objects */
	DAOS_PROP_PO_EC_PDA,
	/** performance domain affinity of replicated objects */
	DAOS_PROP_PO_RP_PDA,
	/** layout version of the pool and everything in it */
	DAOS_PROP_PO_GLOBAL_VERSION,
	/** DAOS_UPGRADE_STATUS_* */
	DAOS_PROP_PO_UPGRADE_STATUS,
	/** DAOS_SCRUB_MODE_* */
	DAOS_PROP_PO_SCRUB_MODE,
	/** seconds between scrubs */
	DAOS_PROP_PO_SCRUB_FREQ,
	/** checksum errors before a target is evicted (0: never) */
	DAOS_PROP_PO_SCRUB_THRESH,
	/** redundancy factor of the pool service */
	DAOS_PROP_PO_SVC_REDUN_FAC,
	/** object layout version */
	DAOS_PROP_PO_OBJ_VERSION,
	/** DAOS_PROP_PERF_DOMAIN_* */
	DAOS_PROP_PO_PERF_DOMAIN,
	/** DAOS_CHECKPOINT_* (MD-on-SSD) */
	DAOS_PROP_PO_CHECKPOINT_MODE,
	/** seconds between timed checkpoints */
	DAOS_PROP_PO_CHECKPOINT_FREQ,
	/** WAL usage (percent) that triggers a checkpoint */
	DAOS_PROP_PO_CHECKPOINT_THRESH,
	/** DAOS_REINT_MODE_* */
	DAOS_PROP_PO_REINT_MODE,
	/** 1 to detect duplicate metadata operations, 0 not to */
	DAOS_PROP_PO_SVC_OPS_ENABLED,
	/** seconds a metadata operation is remembered for duplicate detection */
	DAOS_PROP_PO_SVC_OPS_ENTRY_AGE,
	DAOS_PROP_PO_MAX,
};

/** Number of pool property types. */
#define DAOS_PROP_PO_NUM (DAOS_PROP_PO_MAX - DAOS_PROP_PO_MIN - 1)

#define DAOS_PROP_PO_EC_CELL_SZ_MIN (1UL << 10)
#define DAOS_PROP_PO_EC_CELL_SZ_MAX (1UL << 30)

#define DAOS_PROP_PO_DATA_THRESH_DEFAULT (1UL << 12)

#define DAOS_PROP_PO_REDUN_FAC_MAX 4
#define DAOS_PROP_PO_REDUN_FAC_DEFAULT 0

static inline bool
daos_rf_is_valid(unsigned long long rf)
{
	return rf <= DAOS_PROP_PO_REDUN_FAC_MAX;
}

/** Performance domain affinity "as much as possible". */
#define DAOS_PROP_PDA_MAX ((uint32_t)-1)
#define DAOS_PROP_PO_RP_PDA_DEFAULT DAOS_PROP_PDA_MAX
#define DAOS_PROP_PO_EC_PDA_DEFAULT ((uint32_t)1)

/** Pool upgrade status */
enum {
	DAOS_UPGRADE_STATUS_NOT_STARTED = 0,
	DAOS_UPGRADE_STATUS_IN_PROGRESS = 1,
	DAOS_UPGRADE_STATUS_COMPLETED = 2,
	DAOS_UPGRADE_STATUS_FAILED = 3,
};

#define DAOS_PROP_PO_SVC_REDUN_FAC_MAX 4
#define DAOS_PROP_PO_SVC_REDUN_FAC_DEFAULT 2

static inline bool
daos_svc_rf_is_valid(uint64_t svc_rf)
{
	return svc_rf <= DAOS_PROP_PO_SVC_REDUN_FAC_MAX;
}

/** Level of the performance domain (the pool map level it corresponds to). */
enum {
	DAOS_PROP_PERF_DOMAIN_ROOT = 255,
	DAOS_PROP_PERF_DOMAIN_GROUP = 3,
};

#define DAOS_PROP_PO_PERF_DOMAIN_DEFAULT DAOS_PROP_PERF_DOMAIN_ROOT
#define DAOS_PROP_CO_PERF_DOMAIN_DEFAULT DAOS_PROP_PERF_DOMAIN_ROOT

/** Space reclaim strategy */
enum {
	DAOS_RECLAIM_DISABLED = 0,
	DAOS_RECLAIM_LAZY,
	DAOS_RECLAIM_SNAPSHOT,
	DAOS_RECLAIM_BATCH,
	DAOS_RECLAIM_TIME,
};

/** Reintegration mode */
enum {
	DAOS_REINT_MODE_DATA_SYNC = 0,
	DAOS_REINT_MODE_NO_DATA_SYNC = 1,
};

#define DAOS_PROP_PO_REINT_MODE_DEFAULT DAOS_REINT_MODE_DATA_SYNC

/** Checksum scrubbing schedule */
enum {
	DAOS_SCRUB_MODE_OFF = 0,
	DAOS_SCRUB_MODE_LAZY = 1,
	DAOS_SCRUB_MODE_TIMED = 2,
	DAOS_SCRUB_MODE_INVALID = 3,
};

#define DAOS_PROP_PO_SCRUB_MODE_DEFAULT DAOS_SCRUB_MODE_OFF
#define DAOS_PROP_PO_SCRUB_FREQ_DEFAULT 604800 /* a week, in seconds */
#define DAOS_PROP_PO_SCRUB_THRESH_DEFAULT 0

/** Checkpoint strategy (MD-on-SSD) */
enum {
	DAOS_CHECKPOINT_DISABLED = 0,
	DAOS_CHECKPOINT_TIMED,
	DAOS_CHECKPOINT_LAZY,
};

#define DAOS_PROP_PO_CHECKPOINT_MODE_DEFAULT DAOS_CHECKPOINT_TIMED
#define DAOS_PROP_PO_CHECKPOINT_FREQ_DEFAULT 5 /* seconds */
#define DAOS_PROP_PO_CHECKPOINT_FREQ_MIN 1
#define DAOS_PROP_PO_CHECKPOINT_FREQ_MAX (1 << 20)
#define DAOS_PROP_PO_CHECKPOINT_THRESH_DEFAULT 50 /* percent of the WAL */
#define DAOS_PROP_PO_CHECKPOINT_THRESH_MAX 75
#define DAOS_PROP_PO_CHECKPOINT_THRESH_MIN 10

/** Self-healing bits */
#define DAOS_SELF_HEAL_AUTO_EXCLUDE (1U << 0)
#define DAOS_SELF_HEAL_AUTO_REBUILD (1U << 1)

/** Container property types, valid strictly between DAOS_PROP_CO_MIN and DAOS_PROP_CO_MAX. */
enum daos_cont_props {
	DAOS_PROP_CO_MIN = 0x1000,
	/** string: the container label */
	DAOS_PROP_CO_LABEL,
	/** DAOS_PROP_CO_LAYOUT_*: which middleware owns the container */
	DAOS_PROP_CO_LAYOUT_TYPE,
	/** layout version, private to the middleware (default 1) */
	DAOS_PROP_CO_LAYOUT_VER,
	/** DAOS_PROP_CO_CSUM_*: checksum type */
	DAOS_PROP_CO_CSUM,
	/** checksum chunk size in bytes (default 32 KiB) */
	DAOS_PROP_CO_CSUM_CHUNK_SIZE,
	/** DAOS_PROP_CO_CSUM_SV_*: servers verify checksums on update */
	DAOS_PROP_CO_CSUM_SERVER_VERIFY,
	/** DAOS_PROP_CO_REDUN_RF*: I/O is refused after more faults than this */
	DAOS_PROP_CO_REDUN_FAC,
	/** fault domain level for placement: DAOS_PROP_CO_REDUN_RANK or _NODE */
	DAOS_PROP_CO_REDUN_LVL,
	/** most snapshots to keep */
	DAOS_PROP_CO_SNAPSHOT_MAX,
	/** struct daos_acl *: the container ACL */
	DAOS_PROP_CO_ACL,
	/** DAOS_PROP_CO_COMPRESS_* */
	DAOS_PROP_CO_COMPRESS,
	/** DAOS_PROP_CO_ENCRYPT_* */
	DAOS_PROP_CO_ENCRYPT,
	/** string "user@[domain]" */
	DAOS_PROP_CO_OWNER,
	/** string "group@[domain]" */
	DAOS_PROP_CO_OWNER_GROUP,
	/** DAOS_PROP_CO_DEDUP_* (needs checksums) */
	DAOS_PROP_CO_DEDUP,
	/** deduplication threshold in bytes (default 4 KiB) */
	DAOS_PROP_CO_DEDUP_THRESHOLD,
	/** struct daos_prop_co_roots *: OIDs of the middleware's root objects */
	DAOS_PROP_CO_ROOTS,
	/** DAOS_PROP_CO_STATUS_VAL(): healthy or unclean */
	DAOS_PROP_CO_STATUS,
	/** highest OID handed out by daos_cont_alloc_oids() */
	DAOS_PROP_CO_ALLOCED_OID,
	/** EC cell size in bytes, overriding the pool's */
	DAOS_PROP_CO_EC_CELL_SZ,
	/** performance domain affinity of EC objects */
	DAOS_PROP_CO_EC_PDA,
	/** performance domain affinity of replicated objects */
	DAOS_PROP_CO_RP_PDA,
	/** layout version of the container (immutable) */
	DAOS_PROP_CO_GLOBAL_VERSION,
	/** 1 to exclude the container from scrubbing */
	DAOS_PROP_CO_SCRUBBER_DISABLED,
	/** object layout version (immutable) */
	DAOS_PROP_CO_OBJ_VERSION,
	/** performance domain, inherited from the pool */
	DAOS_PROP_CO_PERF_DOMAIN,
	DAOS_PROP_CO_MAX,
};

/** Number of container property types. */
#define DAOS_PROP_CO_NUM (DAOS_PROP_CO_MAX - DAOS_PROP_CO_MIN - 1)

/** Value of DAOS_PROP_CO_ROOTS: the root objects of a container (DFS: superblock, root). */
struct daos_prop_co_roots {
	daos_obj_id_t cr_oids[4];
};

/** Container layout type (DAOS_PROP_CO_LAYOUT_TYPE). */
typedef uint16_t daos_cont_layout_t;

enum {
	DAOS_PROP_CO_LAYOUT_UNKNOWN,
	/* old spelling, kept for source compatibility */
	DAOS_PROP_CO_LAYOUT_UNKOWN = DAOS_PROP_CO_LAYOUT_UNKNOWN,
	DAOS_PROP_CO_LAYOUT_POSIX,    /* DFS, dfuse, MPI-IO */
	DAOS_PROP_CO_LAYOUT_HDF5,     /* HDF5 DAOS VOL connector */
	DAOS_PROP_CO_LAYOUT_PYTHON,   /* PyDAOS */
	DAOS_PROP_CO_LAYOUT_SPARK,    /* Spark shuffle */
	DAOS_PROP_CO_LAYOUT_DATABASE, /* SQL database */
	DAOS_PROP_CO_LAYOUT_ROOT,     /* ROOT/RNTuple */
	DAOS_PROP_CO_LAYOUT_SEISMIC,  /* seismic graph (SEG-Y) */
	DAOS_PROP_CO_LAYOUT_METEO,    /* meteorology field database */
	DAOS_PROP_CO_LAYOUT_MAX
};

/** Checksum type */
enum {
	DAOS_PROP_CO_CSUM_OFF,
	DAOS_PROP_CO_CSUM_CRC16,
	DAOS_PROP_CO_CSUM_CRC32,
	DAOS_PROP_CO_CSUM_CRC64,
	DAOS_PROP_CO_CSUM_SHA1,
	DAOS_PROP_CO_CSUM_SHA256,
	DAOS_PROP_CO_CSUM_SHA512,
	DAOS_PROP_CO_CSUM_ADLER32
};

/** Server-side checksum verification */
enum { DAOS_PROP_CO_CSUM_SV_OFF, DAOS_PROP_CO_CSUM_SV_ON };

/** Deduplication */
enum { DAOS_PROP_CO_DEDUP_OFF, DAOS_PROP_CO_DEDUP_MEMCMP, DAOS_PROP_CO_DEDUP_HASH };

/** Compression */
enum {
	DAOS_PROP_CO_COMPRESS_OFF,
	DAOS_PROP_CO_COMPRESS_LZ4,
	DAOS_PROP_CO_COMPRESS_DEFLATE,
	DAOS_PROP_CO_COMPRESS_DEFLATE1,
	DAOS_PROP_CO_COMPRESS_DEFLATE2,
	DAOS_PROP_CO_COMPRESS_DEFLATE3,
	DAOS_PROP_CO_COMPRESS_DEFLATE4,
};

/** Encryption */
enum {
	DAOS_PROP_CO_ENCRYPT_OFF,
	DAOS_PROP_CO_ENCRYPT_AES_XTS128,
	DAOS_PROP_CO_ENCRYPT_AES_XTS256,
	DAOS_PROP_CO_ENCRYPT_AES_CBC128,
	DAOS_PROP_CO_ENCRYPT_AES_CBC192,
	DAOS_PROP_CO_ENCRYPT_AES_CBC256,
	DAOS_PROP_CO_ENCRYPT_AES_GCM128,
	DAOS_PROP_CO_ENCRYPT_AES_GCM256
};

/** Redundancy factor: number of concurrent faults the container's data survives. */
enum {
	DAOS_PROP_CO_REDUN_RF0,
	DAOS_PROP_CO_REDUN_RF1,
	DAOS_PROP_CO_REDUN_RF2,
	DAOS_PROP_CO_REDUN_RF3,
	DAOS_PROP_CO_REDUN_RF4,
};

/** Fault domain level for placement: 1 is the engine (rank), 2 the node, up to 254. */
enum {
	DAOS_PROP_CO_REDUN_MIN = 1,
	DAOS_PROP_CO_REDUN_RANK = 1,
	DAOS_PROP_CO_REDUN_NODE = 2,
	DAOS_PROP_CO_REDUN_MAX = 254,
};

#define DAOS_PROP_CO_REDUN_DEFAULT DAOS_PROP_CO_REDUN_NODE

/** Container status */
enum {
	/* redundancy works as configured */
	DAOS_PROP_CO_HEALTHY,
	/* more targets failed than the redundancy factor covers: data may be lost */
	DAOS_PROP_CO_UNCLEAN,
};

/** dcs_flags bit: clear the UNCLEAN status. */
#define DAOS_PROP_CO_CLEAR (0x1)

/** Decoded value of DAOS_PROP_CO_STATUS. */
struct daos_co_status {
	/** DAOS_PROP_CO_HEALTHY or DAOS_PROP_CO_UNCLEAN */
	uint16_t dcs_status;
	/** DAOS_PROP_CO_CLEAR */
	uint16_t dcs_flags;
	/** pool map version when the status was set */
	uint32_t dcs_pm_ver;
};

/** Encode a container status as the 64-bit value of DAOS_PROP_CO_STATUS. */
#define DAOS_PROP_CO_STATUS_VAL(status, flag, pm_ver)                                              \
	((((uint64_t)(flag)) << 48) | (((uint64_t)(status)&0xFFFF) << 32) | ((uint64_t)(pm_ver)))

static inline uint64_t
daos_prop_co_status_2_val(struct daos_co_status *co_status)
{
	return DAOS_PROP_CO_STATUS_VAL(co_status->dcs_status, co_status->dcs_flags,
				       co_status->dcs_pm_ver);
}

static inline void
daos_prop_val_2_co_status(uint64_t val, struct daos_co_status *co_status)
{
	co_status->dcs_flags = (uint16_t)(val >> 48);
	co_status->dcs_status = (uint16_t)((val >> 32) & 0xFFFF);
	co_status->dcs_pm_ver = (uint32_t)(val & 0xFFFFFFFF);
}

/** dpe_flags bit: the entry was asked for but has no value. */
enum {
	DAOS_PROP_ENTRY_NOT_SET = (1 << 0),
};

/** One property: its type and its value (which member is used depends on the type). */
struct daos_prop_entry {
	/** enum daos_pool_props or enum daos_cont_props */
	uint32_t dpe_type;
	/** DAOS_PROP_ENTRY_NOT_SET */
	uint16_t dpe_flags;
	uint16_t dpe_reserv;
	union {
		uint64_t dpe_val;
		d_string_t dpe_str;
		void *dpe_val_ptr;
	};
};

/** Most entries a property list may hold. */
#define DAOS_PROP_ENTRIES_MAX_NR (128)

/** Longest pool or container label, without the NUL. */
#define DAOS_PROP_LABEL_MAX_LEN (127)
/** DAOS_PROP_LABEL_MAX_LEN with the NUL. */
#define DAOS_PROP_MAX_LABEL_BUF_LEN (DAOS_PROP_LABEL_MAX_LEN + 1)

/** What a query returns for a label that was never set. */
#define DAOS_PROP_CO_LABEL_DEFAULT "container_label_not_set"
#define DAOS_PROP_PO_LABEL_DEFAULT "pool_label_not_set"

/**
 * Is @label a valid pool or container label: 1 to DAOS_PROP_LABEL_MAX_LEN characters among
 * letters, digits, ':', '.', '-' and '_', and not parsable as a UUID?
 */
static inline bool
daos_label_is_valid(const char *label)
{
	size_t len;

	if (label == NULL)
		return false;
	for (len = 0; label[len] != '\0'; len++) {
		unsigned char c = (unsigned char)label[len];

		if (len >= DAOS_PROP_LABEL_MAX_LEN)
			return false;
		if (!isalnum(c) && c != '.' && c != '_' && c != ':' && c != '-')
			return false;
	}
	if (len == 0)
		return false;
	return !daos_is_valid_uuid_string(label);
}

/** A performance domain name follows the rules of labels. */
static inline bool
daos_perf_domain_is_valid(const char *perf_domain)
{
	return daos_label_is_valid(perf_domain);
}

/** A property list. */
typedef struct {
	/** number of entries */
	uint32_t dpp_nr;
	uint32_t dpp_reserv;
	/** array of dpp_nr entries */
	struct daos_prop_entry *dpp_entries;
} daos_prop_t;

/**
 * Allocate a list of @entries_nr zeroed entries (0 gives an empty list). NULL on failure or
 * if @entries_nr exceeds DAOS_PROP_ENTRIES_MAX_NR. Free with daos_prop_free().
 */
daos_prop_t *daos_prop_alloc(uint32_t entries_nr);

/** Free the entries of @prop and their values; @prop itself stays (as an empty list). */
void daos_prop_fini(daos_prop_t *prop);

/** Free @prop, its entries and their values. NULL is fine. */
void daos_prop_free(daos_prop_t *prop);

/**
 * Parse "name:value;name:value;..." (@len bytes of @str) into a new list in *@prop (free with
 * daos_prop_free()). Only properties settable at container creation are accepted: label,
 * cksum, cksum_size, srv_cksum, dedup, dedup_threshold, compression, encryption, rf,
 * ec_cell_sz. Returns 0 or a negative DER_*.
 */
int daos_prop_from_str(const char *str, daos_size_t len, daos_prop_t **prop);

/**
 * A new list holding the entries of @old_prop overridden and extended by those of
 * @new_prop, in *@out_prop. Returns 0 or -DER_NOMEM.
 */
int daos_prop_merge2(daos_prop_t *old_prop, daos_prop_t *new_prop, daos_prop_t **out_prop);

/** As daos_prop_merge2(), returning the new list or NULL. */
daos_prop_t *daos_prop_merge(daos_prop_t *old_prop, daos_prop_t *new_prop);

/** The entry of type @type in @prop (borrowed), or NULL. */
struct daos_prop_entry *daos_prop_entry_get(daos_prop_t *prop, uint32_t type);

/**
 * Set the string value of the entry of type @type in @prop to a copy of @str (@len bytes);
 * any previous value is freed. Returns 0 or a negative DER_*.
 */
int daos_prop_set_str(daos_prop_t *prop, uint32_t type, const char *str, daos_size_t len);

/** Set the string value of @entry to a copy of @str (@len bytes). */
int daos_prop_entry_set_str(struct daos_prop_entry *entry, const char *str, daos_size_t len);

/** Set the pointer value of the entry of type @type to a copy of @size bytes at @ptr. */
int daos_prop_set_ptr(daos_prop_t *prop, uint32_t type, const void *ptr, daos_size_t size);

/** Set the pointer value of @entry to a copy of @size bytes at @ptr. */
int daos_prop_entry_set_ptr(struct daos_prop_entry *entry, const void *ptr, daos_size_t size);

/** Copy @len bytes of the pointer value of @entry_src into @entry_dst. 0 or -DER_NOMEM. */
int daos_prop_entry_dup_ptr(struct daos_prop_entry *entry_dst, struct daos_prop_entry *entry_src,
			    size_t len);

/** Compare two ACL entries: 0 if they match, -DER_MISMATCH otherwise. */
int daos_prop_entry_cmp_acl(struct daos_prop_entry *entry1, struct daos_prop_entry *entry2);

/** Copy the container roots of @src into @dst. 0 or -DER_NOMEM. */
int daos_prop_entry_dup_co_roots(struct daos_prop_entry *dst, struct daos_prop_entry *src);

/** Does the type of @entry take a string value? */
bool daos_prop_has_str(struct daos_prop_entry *entry);

/** Does the type of @entry take a pointer value? */
bool daos_prop_has_ptr(struct daos_prop_entry *entry);

/** Does @entry hold a value? */
static inline bool
daos_prop_is_set(struct daos_prop_entry *entry)
{
	return !(entry->dpe_flags & DAOS_PROP_ENTRY_NOT_SET);
}

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_PROP_H */
