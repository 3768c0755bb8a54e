/*
 * daos_obj.h: the object API. An object is a tree of distribution keys (dkeys), each holding
 * attribute keys (akeys), each holding either a single value or an array of fixed-size
 * records addressed by index. All records under one dkey live on the same targets.
 *
 * Object IDs: the high 32 bits of oid.hi belong to DAOS and are set by
 * daos_obj_generate_oid(): bits 56-63 the object type (enum daos_otype_t, which also says how
 * keys are ordered), bits 48-55 the redundancy scheme (enum daos_obj_redun), bits 32-47 the
 * number of redundancy groups. The remaining 96 bits are the application's.
 */
#ifndef D_DAOS_OBJ_H
#define D_DAOS_OBJ_H

#include <daos_types.h>
#include <daos_event.h>
#include <daos_obj_class.h>
#include <daos_prop.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** The null object ID. */
#define DAOS_OBJ_NIL ((daos_obj_id_t){0})

/* Layout of the DAOS-owned high 32 bits of oid.hi. */
#define DAOS_OID_FMT_INTR_BITS 32
#define DAOS_OID_FMT_TYPE_BITS 8
#define DAOS_OID_FMT_CLASS_BITS 8
#define DAOS_OID_FMT_META_BITS 16

#define DAOS_OID_FMT_TYPE_SHIFT (64 - DAOS_OID_FMT_TYPE_BITS)
#define DAOS_OID_FMT_CLASS_SHIFT (DAOS_OID_FMT_TYPE_SHIFT - DAOS_OID_FMT_CLASS_BITS)
#define DAOS_OID_FMT_META_SHIFT (DAOS_OID_FMT_CLASS_SHIFT - DAOS_OID_FMT_META_BITS)

#define DAOS_OID_FMT_TYPE_MAX ((1ULL << DAOS_OID_FMT_TYPE_BITS) - 1)
#define DAOS_OID_FMT_CLASS_MAX ((1ULL << DAOS_OID_FMT_CLASS_BITS) - 1)
#define DAOS_OID_FMT_META_MAX ((1ULL << DAOS_OID_FMT_META_BITS) - 1)

#define DAOS_OID_FMT_TYPE_MASK (DAOS_OID_FMT_TYPE_MAX << DAOS_OID_FMT_TYPE_SHIFT)
#define DAOS_OID_FMT_CLASS_MASK (DAOS_OID_FMT_CLASS_MAX << DAOS_OID_FMT_CLASS_SHIFT)
#define DAOS_OID_FMT_META_MASK (DAOS_OID_FMT_META_MAX << DAOS_OID_FMT_META_SHIFT)

/** Object types: how an object is used and how its keys are ordered. */
enum daos_otype_t {
	/** default: multi-level KV, dkeys and akeys hashed */
	DAOS_OT_MULTI_HASHED = 0,
	/** object ID table of a snapshot */
	DAOS_OT_OIT = 1,
	/** dkeys are uint64 values, ordered numerically */
	DAOS_OT_DKEY_UINT64 = 2,
	/** akeys are uint64 values, ordered numerically */
	DAOS_OT_AKEY_UINT64 = 3,
	/** dkeys and akeys are uint64 values */
	DAOS_OT_MULTI_UINT64 = 4,
	/** dkeys ordered lexically */
	DAOS_OT_DKEY_LEXICAL = 5,
	/** akeys ordered lexically */
	DAOS_OT_AKEY_LEXICAL = 6,
	/** dkeys and akeys ordered lexically */
	DAOS_OT_MULTI_LEXICAL = 7,
	/** flat KV (no akey), hashed keys */
	DAOS_OT_KV_HASHED = 8,
	/** flat KV, uint64 keys */
	DAOS_OT_KV_UINT64 = 9,
	/** flat KV, lexical keys */
	DAOS_OT_KV_LEXICAL = 10,
	/** array whose cell and chunk sizes are stored in the object */
	DAOS_OT_ARRAY = 11,
	/** array whose cell and chunk sizes the application remembers */
	DAOS_OT_ARRAY_ATTR = 12,
	/** byte array without metadata (DFS files) */
	DAOS_OT_ARRAY_BYTE = 13,
	/** object ID table, second version */
	DAOS_OT_OIT_V2 = 14,

	DAOS_OT_MAX = 14,
};

static inline bool
daos_otype_t_is_valid(enum daos_otype_t type)
{
	return type <= DAOS_OT_MAX;
}

/** Is @pa_domain a fault domain level objects can be placed by? */
static inline bool
daos_pa_domain_is_valid(uint32_t pa_domain)
{
	return pa_domain == DAOS_PROP_CO_REDUN_NODE || pa_domain == DAOS_PROP_CO_REDUN_RANK;
}

/** The type encoded in @oid. */
static inline enum daos_otype_t
daos_obj_id2type(daos_obj_id_t oid)
{
	return (enum daos_otype_t)((oid.hi & DAOS_OID_FMT_TYPE_MASK) >> DAOS_OID_FMT_TYPE_SHIFT);
}

static inline bool
daos_is_dkey_lexical_type(enum daos_otype_t type)
{
	return type == DAOS_OT_DKEY_LEXICAL || type == DAOS_OT_MULTI_LEXICAL ||
	       type == DAOS_OT_KV_LEXICAL;
}

static inline bool
daos_is_dkey_lexical(daos_obj_id_t oid)
{
	return daos_is_dkey_lexical_type(daos_obj_id2type(oid));
}

static inline bool
daos_is_akey_lexical_type(enum daos_otype_t type)
{
	return type == DAOS_OT_AKEY_LEXICAL || type == DAOS_OT_MULTI_LEXICAL;
}

static inline bool
daos_is_akey_lexical(daos_obj_id_t oid)
{
	return daos_is_akey_lexical_type(daos_obj_id2type(oid));
}

/** Do objects of @type have uint64 dkeys (arrays chunk by index, so they do)? */
static inline bool
daos_is_dkey_uint64_type(enum daos_otype_t type)
{
	return type == DAOS_OT_ARRAY_BYTE || type == DAOS_OT_MULTI_UINT64 ||
	       type == DAOS_OT_DKEY_UINT64 || type == DAOS_OT_KV_UINT64 || type == DAOS_OT_ARRAY ||
	       type == DAOS_OT_ARRAY_ATTR;
}

static inline bool
daos_is_dkey_uint64(daos_obj_id_t oid)
{
	return daos_is_dkey_uint64_type(daos_obj_id2type(oid));
}

static inline bool
daos_is_akey_uint64_type(enum daos_otype_t type)
{
	return type == DAOS_OT_MULTI_UINT64 || type == DAOS_OT_AKEY_UINT64;
}

static inline bool
daos_is_akey_uint64(daos_obj_id_t oid)
{
	return daos_is_akey_uint64_type(daos_obj_id2type(oid));
}

static inline bool
daos_is_array_type(enum daos_otype_t type)
{
	return type == DAOS_OT_ARRAY_BYTE || type == DAOS_OT_ARRAY || type == DAOS_OT_ARRAY_ATTR;
}

static inline bool
daos_is_array(daos_obj_id_t oid)
{
	return daos_is_array_type(daos_obj_id2type(oid));
}

static inline bool
daos_is_kv_type(enum daos_otype_t type)
{
	return type == DAOS_OT_KV_HASHED || type == DAOS_OT_KV_UINT64 || type == DAOS_OT_KV_LEXICAL;
}

static inline bool
daos_is_kv(daos_obj_id_t oid)
{
	return daos_is_kv_type(daos_obj_id2type(oid));
}

/*
 * Conditional operations, passed in the flags of update, fetch and punch. The akey conditions
 * apply to every akey of the call, or, with DAOS_COND_PER_AKEY, each iod says in iod_flags.
 * A failed condition is -DER_EXIST (insert) or -DER_NONEXIST (update, fetch, punch).
 */
enum {
	/** punch the key if it exists, fail otherwise */
	DAOS_COND_PUNCH = (1 << 0),
	/** insert the dkey if it does not exist, fail otherwise */
	DAOS_COND_DKEY_INSERT = (1 << 1),
	/** update the dkey if it exists, fail otherwise */
	DAOS_COND_DKEY_UPDATE = (1 << 2),
	/** fetch the dkey if it exists, fail otherwise */
	DAOS_COND_DKEY_FETCH = (1 << 3),
	/** insert the akey if it does not exist, fail otherwise */
	DAOS_COND_AKEY_INSERT = (1 << 4),
	/** update the akey if it exists, fail otherwise */
	DAOS_COND_AKEY_UPDATE = (1 << 5),
	/** fetch the akey if it exists, fail otherwise */
	DAOS_COND_AKEY_FETCH = (1 << 6),
	/** the akey conditions are per iod, in iod_flags */
	DAOS_COND_PER_AKEY = (1 << 7),
	/** all condition bits */
	DAOS_COND_MASK = ((1 << 8) - 1),
};

/** Object attributes (daos_obj_query()). */
struct daos_obj_attr {
	/** optional: affinity rank of the object */
	d_rank_t oa_rank;
	/** optional: attributes of a private class */
	struct daos_oclass_attr *oa_oa;
};

/** Object open modes */
enum {
	/** shared read */
	DAOS_OO_RO = (1 << 1),
	/** shared read and write, no write caching */
	DAOS_OO_RW = (1 << 2),
	/** exclusive write, data may be cached */
	DAOS_OO_EXCL = (1 << 3),
	/** unsupported: random I/O hint */
	DAOS_OO_IO_RAND = (1 << 4),
	/** unsupported: sequential I/O hint */
	DAOS_OO_IO_SEQ = (1 << 5),
};

/** A record extent: rx_nr records of an array starting at index rx_idx. */
typedef struct {
	uint64_t rx_idx;
	uint64_t rx_nr;
} daos_recx_t;

/** Kind of value stored under an akey. An akey holds one kind for its whole life. */
typedef enum {
	/** none (a dkey) */
	DAOS_IOD_NONE = 0,
	/** one value, written and read whole */
	DAOS_IOD_SINGLE = 1,
	/** an array of equal-sized records, each written atomically */
	DAOS_IOD_ARRAY = 2,
} daos_iod_type_t;

/**
 * I/O descriptor: what to access under one akey. For DAOS_IOD_SINGLE, iod_nr is 1, iod_recxs
 * is ignored and iod_size is the value size. For DAOS_IOD_ARRAY, iod_size is the record size
 * and iod_recxs[iod_nr] the extents. A fetch with iod_size == DAOS_REC_ANY (0) returns the
 * actual size in iod_size; an update with iod_size 0 punches the extents.
 */
typedef struct {
	/** the akey */
	daos_key_t iod_name;
	daos_iod_type_t iod_type;
	daos_size_t iod_size;
	/** DAOS_COND_AKEY_* of this akey, used with DAOS_COND_PER_AKEY */
	uint64_t iod_flags;
	uint32_t iod_nr;
	daos_recx_t *iod_recxs;
} daos_iod_t;

/** daos_iom_t flag: return every extent in iom_recxs, not only the lowest and highest. */
#define DAOS_IOMF_DETAIL (0x1U)

/** I/O map: the extents a fetch found under one akey. */
typedef struct {
	daos_iod_type_t iom_type;
	/** capacity of iom_recxs */
	uint32_t iom_nr;
	/** extents found (iom_recxs is truncated if larger than iom_nr); 1 for a single value */
	uint32_t iom_nr_out;
	/** DAOS_IOMF_* */
	uint32_t iom_flags;
	/** value size or record size */
	daos_size_t iom_size;
	/** lowest extent within the requested ones */
	daos_recx_t iom_recx_lo;
	/** highest extent within the requested ones (0 for a single value or one extent) */
	daos_recx_t iom_recx_hi;
	/** extents found; allocated and freed by the caller */
	daos_recx_t *iom_recxs;
} daos_iom_t;

/** Record size "unknown" for a fetch. */
enum {
	DAOS_REC_ANY = 0,
};

/** What daos_obj_query_key() looks for: MAX or MIN, and which of DKEY, AKEY, RECX. */
enum {
	DAOS_GET_MAX = (1 << 0),
	DAOS_GET_MIN = (1 << 1),
	DAOS_GET_DKEY = (1 << 2),
	DAOS_GET_AKEY = (1 << 3),
	DAOS_GET_RECX = (1 << 4),
};

/** Descriptor of one key returned by an enumeration; the keys follow each other in the sgl. */
typedef struct {
	/** length of the key in bytes */
	daos_size_t kd_key_len;
	/** akey enumeration: DAOS_IOD_SINGLE and/or DAOS_IOD_ARRAY bits; ignored for dkeys */
	uint32_t kd_val_type;
} daos_key_desc_t;

/** The redundancy scheme encoded in @oid. */
static inline enum daos_obj_redun
daos_obj_id2ord(daos_obj_id_t oid)
{
	return (enum daos_obj_redun)((oid.hi & DAOS_OID_FMT_CLASS_MASK) >>
				     DAOS_OID_FMT_CLASS_SHIFT);
}

/** The class of @oid: its redundancy scheme and group count as a class ID. */
static inline daos_oclass_id_t
daos_obj_id2class(daos_obj_id_t oid)
{
	uint32_t ord = (uint32_t)daos_obj_id2ord(oid);
	uint32_t nr_grps = (uint32_t)((oid.hi & DAOS_OID_FMT_META_MASK) >> DAOS_OID_FMT_META_SHIFT);

	return (daos_oclass_id_t)((ord << OC_REDUN_SHIFT) | nr_grps);
}

static inline bool
daos_obj_id_is_nil(daos_obj_id_t oid)
{
	return oid.hi == 0 && oid.lo == 0;
}

/* Layout of daos_oclass_hints_t: redundancy in bits 0-3, sharding in bits 4-9. */
#define DAOS_OCH_RDD_BITS 4
#define DAOS_OCH_SHD_BITS 6
#define DAOS_OCH_RDD_SHIFT 0
#define DAOS_OCH_SHD_SHIFT DAOS_OCH_RDD_BITS
#define DAOS_OCH_RDD_MAX_VAL ((1ULL << DAOS_OCH_RDD_BITS) - 1)
#define DAOS_OCH_SHD_MAX_VAL ((1ULL << DAOS_OCH_SHD_BITS) - 1)
#define DAOS_OCH_RDD_MASK (DAOS_OCH_RDD_MAX_VAL << DAOS_OCH_RDD_SHIFT)
#define DAOS_OCH_SHD_MASK (DAOS_OCH_SHD_MAX_VAL << DAOS_OCH_SHD_SHIFT)

/** Hints for choosing a class when none is given. */
enum {
	/** redundancy: from the container's redundancy factor */
	DAOS_OCH_RDD_DEF = (1 << 0),
	/** redundancy: none */
	DAOS_OCH_RDD_NO = (1 << 1),
	/** redundancy: replication */
	DAOS_OCH_RDD_RP = (1 << 2),
	/** redundancy: erasure code */
	DAOS_OCH_RDD_EC = (1 << 3),
	/** sharding: all targets for arrays and flat KVs, one group otherwise */
	DAOS_OCH_SHD_DEF = (1 << 4),
	/** sharding: one group */
	DAOS_OCH_SHD_TINY = (1 << 5),
	/** sharding: max(128, 25% of the targets) */
	DAOS_OCH_SHD_REG = (1 << 6),
	/** sharding: max(256, 50%) */
	DAOS_OCH_SHD_HI = (1 << 7),
	/** sharding: max(1024, 80%) */
	DAOS_OCH_SHD_EXT = (1 << 8),
	/** sharding: 100% */
	DAOS_OCH_SHD_MAX = (1 << 9),
};

/**
 * Fill in the DAOS-owned bits of @oid (whose low 96 bits the caller set, unique in the
 * container): type @type, and class @cid, or, if @cid is OC_UNKNOWN, a class chosen from
 * @hints and the container properties. @args is reserved (0).
 * Returns 0, -DER_INVAL, -DER_NO_HDL.
 */
int daos_obj_generate_oid2(daos_handle_t coh, daos_obj_id_t *oid, enum daos_otype_t type,
			   daos_oclass_id_t cid, daos_oclass_hints_t hints, uint32_t args);

/*
 * DAOS 2.x applications call daos_obj_generate_oid() and link daos_obj_generate_oid2; libdaos
 * exports both names for the same function.
 */
int daos_obj_generate_oid(daos_handle_t coh, daos_obj_id_t *oid, enum daos_otype_t type,
			  daos_oclass_id_t cid, daos_oclass_hints_t hints, uint32_t args);
#define daos_obj_generate_oid daos_obj_generate_oid2

/**
 * Step oid->hi through every 32-bit value (2^32 calls visit each once). The caller picks the
 * start and skips values it reserves.
 */
static inline void
daos_obj_oid_cycle(daos_obj_id_t *oid)
{
	/* a prime step visits every residue */
	oid->hi = (oid->hi + 999999937) & UINT_MAX;
}

/**
 * Open object @oid of container @coh with mode DAOS_OO_*; the handle in *@oh is closed with
 * daos_obj_close(). Opening does not create anything: the object exists once written.
 */
int daos_obj_open(daos_handle_t coh, daos_obj_id_t oid, unsigned int mode, daos_handle_t *oh,
		  daos_event_t *ev);

/** Close an object handle. */
int daos_obj_close(daos_handle_t oh, daos_event_t *ev);

/** Punch (delete at the transaction's epoch) the whole object. @flags is reserved. */
int daos_obj_punch(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_event_t *ev);

/** Punch @nr dkeys with everything under them. @flags: DAOS_COND_PUNCH. */
int daos_obj_punch_dkeys(daos_handle_t oh, daos_handle_t th, uint64_t flags, unsigned int nr,
			 daos_key_t *dkeys, daos_event_t *ev);

/** Punch @nr akeys of dkey @dkey. @flags: DAOS_COND_PUNCH. */
int daos_obj_punch_akeys(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_key_t *dkey,
			 unsigned int nr, daos_key_t *akeys, daos_event_t *ev);

/** Return the object's attributes in *@oa and/or the ranks storing it in @ranks. */
int daos_obj_query(daos_handle_t oh, struct daos_obj_attr *oa, d_rank_list_t *ranks,
		   daos_event_t *ev);

/**
 * Fetch the values described by @nr iods under dkey @dkey into @nr sgls. A missing value
 * gives sg_nr_out == 0 (a missing record reads as zeroes within an array). @ioms (optional)
 * receives the extents found. @flags: DAOS_COND_DKEY_FETCH, DAOS_COND_AKEY_FETCH.
 * Returns 0, -DER_REC2BIG (iod_size is set to the size needed), -DER_NO_HDL, -DER_INVAL...
 */
int daos_obj_fetch(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_key_t *dkey,
		   unsigned int nr, daos_iod_t *iods, d_sg_list_t *sgls, daos_iom_t *ioms,
		   daos_event_t *ev);

/**
 * Write the values described by @nr iods under dkey @dkey from @nr sgls (each sgl holds the
 * data of its iod, in order). @flags: DAOS_COND_DKEY_* / DAOS_COND_AKEY_* / PER_AKEY.
 */
int daos_obj_update(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_key_t *dkey,
		    unsigned int nr, daos_iod_t *iods, d_sg_list_t *sgls, daos_event_t *ev);

/**
 * Enumerate dkeys: up to *@nr keys are written back to back into @sgl, their lengths in
 * @kds; *@nr returns how many. Continue while !daos_anchor_is_eof(@anchor).
 * -DER_KEY2BIG: the first key does not fit; kds[0].kd_key_len says how much it needs.
 */
int daos_obj_list_dkey(daos_handle_t oh, daos_handle_t th, uint32_t *nr, daos_key_desc_t *kds,
		       d_sg_list_t *sgl, daos_anchor_t *anchor, daos_event_t *ev);

/** Enumerate the akeys of dkey @dkey, as daos_obj_list_dkey(). */
int daos_obj_list_akey(daos_handle_t oh, daos_handle_t th, daos_key_t *dkey, uint32_t *nr,
		       daos_key_desc_t *kds, d_sg_list_t *sgl, daos_anchor_t *anchor,
		       daos_event_t *ev);

/**
 * Enumerate the extents of array akey @akey under @dkey: up to *@nr into @recxs (with their
 * epoch ranges in @eprs, optional), the record size in *@size, in increasing index order if
 * @incr_order. Keep the same order for the life of an anchor.
 */
int daos_obj_list_recx(daos_handle_t oh, daos_handle_t th, daos_key_t *dkey, daos_key_t *akey,
		       daos_size_t *size, uint32_t *nr, daos_recx_t *recxs,
		       daos_epoch_range_t *eprs, daos_anchor_t *anchor, bool incr_order,
		       daos_event_t *ev);

/**
 * Find the largest or smallest integer dkey, akey and/or array extent: @flags is DAOS_GET_MAX
 * or DAOS_GET_MIN with any of DAOS_GET_DKEY/AKEY/RECX. The keys not searched for are given by
 * the caller in @dkey/@akey (uint64 keys). An empty array gives rx_nr == 0 in @recx.
 */
int daos_obj_query_key(daos_handle_t oh, daos_handle_t th, uint64_t flags, daos_key_t *dkey,
		       daos_key_t *akey, daos_recx_t *recx, daos_event_t *ev);

/** The highest epoch at which the object was modified, in *@epoch. */
int daos_obj_query_max_epoch(daos_handle_t oh, daos_handle_t th, daos_epoch_t *epoch,
			     daos_event_t *ev);

/**
 * Check that the replicas (or EC cells) of object @oid agree at @epoch (DAOS_EPOCH_MAX:
 * latest). Returns 0, or -DER_MISMATCH if they do not.
 */
int daos_obj_verify(daos_handle_t coh, daos_obj_id_t oid, daos_epoch_t epoch);

/**
 * Split the dkey enumeration of an object into several anchors for parallel listing. With
 * *@nr == 0, *@nr returns the recommended count; @anchors (optional) receives them.
 */
int daos_obj_anchor_split(daos_handle_t oh, uint32_t *nr, daos_anchor_t *anchors);

/** Set @anchor to enumerate part @index of a split done with daos_obj_anchor_split(). */
int daos_obj_anchor_set(daos_handle_t oh, uint32_t index, daos_anchor_t *anchor);

/** Set @anchor to start an enumeration at dkey @dkey (or at akey @akey under it). */
int daos_obj_key2anchor(daos_handle_t oh, daos_handle_t th, daos_key_t *dkey, daos_key_t *akey,
			daos_anchor_t *anchor, daos_event_t *ev);

/** Open the object ID table of the snapshot at @epoch; close with daos_oit_close(). */
int daos_oit_open(daos_handle_t coh, daos_epoch_t epoch, daos_handle_t *oh, daos_event_t *ev);

int daos_oit_close(daos_handle_t oh, daos_event_t *ev);

/** Enumerate the OIDs of an object ID table: up to *@oids_nr into @oids. */
int daos_oit_list(daos_handle_t oh, daos_obj_id_t *oids, uint32_t *oids_nr, daos_anchor_t *anchor,
		  daos_event_t *ev);

/** Longest marker daos_oit_mark() stores. */
#define DAOS_OIT_MARKER_MAX_LEN (32)

/** Store @marker (NULL clears it) with @oid in the table. -DER_NONEXIST if @oid is absent. */
int daos_oit_mark(daos_handle_t oh, daos_obj_id_t oid, d_iov_t *marker, daos_event_t *ev);

/** As daos_oit_list(), returning only the OIDs without a marker. */
int daos_oit_list_unmarked(daos_handle_t oh, daos_obj_id_t *oids, uint32_t *oids_nr,
			   daos_anchor_t *anchor, daos_event_t *ev);

/**
 * Filter of daos_oit_list_filter(), called per OID with its marker (NULL if none): > 0 lists
 * the OID, 0 skips it, < 0 stops the enumeration with that error.
 */
typedef int(daos_oit_filter_cb)(daos_obj_id_t oid, d_iov_t *marker);

int daos_oit_list_filter(daos_handle_t oh, daos_obj_id_t *oids, uint32_t *oids_nr,
			 daos_anchor_t *anchor, daos_oit_filter_cb filter, daos_event_t *ev);

/*
 * Where an object's shards are (daos_obj_layout_get): ol_nr groups, each a daos_obj_shard of
 * os_replica_nr shard locations, as placement computes them from the pool map of the
 * container handle (no RPC).
 */
struct daos_shard_loc {
	uint32_t sd_rank;
	uint32_t sd_tgt_idx;
};

struct daos_obj_shard {
	uint32_t os_replica_nr;
	struct daos_shard_loc os_shard_loc[];
};

struct daos_obj_layout {
	uint32_t ol_ver;
	uint32_t ol_class;
	uint32_t ol_nr;
	struct daos_obj_shard *ol_shards[];
};

/** A shard location that is no target. */
#define DAOS_TGT_IGNORE ((uint32_t)-1)

/**
 * The layout of @oid in container @coh in a new *@layout (daos_obj_layout_free). Returns 0,
 * -DER_NO_HDL, -DER_INVAL (not a valid object id), -DER_NOMEM.
 */
int daos_obj_layout_get(daos_handle_t coh, daos_obj_id_t oid, struct daos_obj_layout **layout);

/** Free what daos_obj_layout_get() returned (NULL is fine). Returns 0. */
int daos_obj_layout_free(struct daos_obj_layout *layout);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_OBJ_H */
