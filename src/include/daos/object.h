/*
 * daos/object.h: object identifiers as the client and server internals see them. Not
 * installed.
 *
 * A "unit" object is one shard of an object: the public object ID plus the shard index (and
 * the layout version the shard was placed with). VOS stores and indexes objects by unit ID.
 */
#ifndef D_DAOS_OBJECT_INTERNAL_H
#define D_DAOS_OBJECT_INTERNAL_H

#include <daos_types.h>
#include <daos_obj.h>
#include <daos_obj_class.h>

/** EC parity lives at offsets with the top bit set; user extents use the low 63 bits. */
#define DAOS_EC_PARITY_BIT (1ULL << 63)

/** Largest object layout version (a few values are left free at the top). */
#define DAOS_OBJ_LAYOUT_VERSION_MAX 0xFFF0

/** The ID of one shard of an object: 192 bits, 24 bytes, as in DAOS. */
typedef struct {
	/** the object */
	daos_obj_id_t id_pub;
	/** which shard */
	uint32_t id_shard;
	/** layout version the shard was placed with */
	uint16_t id_layout_ver;
	uint16_t id_padding;
} daos_unit_oid_t;

_Static_assert(sizeof(daos_unit_oid_t) == 24, "daos_unit_oid_t is 24 bytes");

static inline bool
daos_oid_is_null(daos_obj_id_t oid)
{
	return oid.lo == 0 && oid.hi == 0;
}

/** Order object IDs by hi, then lo: < 0, 0, > 0. */
static inline int
daos_oid_cmp(daos_obj_id_t a, daos_obj_id_t b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/** Same object and same shard (the layout version is not compared)? */
static inline bool
daos_unit_obj_id_equal(daos_unit_oid_t a, daos_unit_oid_t b)
{
	return daos_oid_cmp(a.id_pub, b.id_pub) == 0 && a.id_shard == b.id_shard;
}

static inline bool
daos_unit_oid_is_null(daos_unit_oid_t oid)
{
	return oid.id_shard == 0 && daos_oid_is_null(oid.id_pub);
}

/** Order unit IDs by object, then shard: < 0, 0, > 0. */
static inline int
daos_unit_oid_compare(daos_unit_oid_t a, daos_unit_oid_t b)
{
	int rc = daos_oid_cmp(a.id_pub, b.id_pub);

	if (rc != 0)
		return rc;
	if (a.id_shard != b.id_shard)
		return a.id_shard < b.id_shard ? -1 : 1;
	return 0;
}

/**
 * Encode @type, redundancy scheme @ord and @nr_grps (clamped to DAOS_OBJ_GRP_MAX) into the
 * DAOS-owned high 32 bits of oid->hi, keeping the application's 96 bits. @args is reserved.
 */
static inline void
daos_obj_set_oid(daos_obj_id_t *oid, enum daos_otype_t type, enum daos_obj_redun ord,
		 uint32_t nr_grps, uint32_t args)
{
	uint64_t hdr;

	(void)args;
	if (nr_grps > DAOS_OBJ_GRP_MAX)
		nr_grps = DAOS_OBJ_GRP_MAX;
	hdr = (uint64_t)type << DAOS_OID_FMT_TYPE_SHIFT;
	hdr |= (uint64_t)ord << DAOS_OID_FMT_CLASS_SHIFT;
	hdr |= (uint64_t)nr_grps << DAOS_OID_FMT_META_SHIFT;
	oid->hi &= (1ULL << DAOS_OID_FMT_INTR_BITS) - 1;
	oid->hi |= hdr;
}

/** Group count encoded in @oid (DAOS_OBJ_GRP_MAX for "as many as fit", before placement). */
static inline uint32_t
daos_obj_id2grp_nr(daos_obj_id_t oid)
{
	return (uint32_t)((oid.hi & DAOS_OID_FMT_META_MASK) >> DAOS_OID_FMT_META_SHIFT);
}

/** Is @oid an object ID table (of a snapshot)? */
static inline bool
daos_oid_is_oit(daos_obj_id_t oid)
{
	enum daos_otype_t type = daos_obj_id2type(oid);

	return type == DAOS_OT_OIT || type == DAOS_OT_OIT_V2;
}

/**
 * Fetch @nr iods of @dkey of object @oh (as daos_obj_fetch, flags 0) and, on the same target
 * right after, the dkey query @qflags (DAOS_GET_DKEY and MAX or MIN, optionally RECX; never
 * AKEY) of object @qoh, akey @qakey, in ONE request (OBJ_OPC_FETCH_QUERY): libdfs's stat of a
 * file (the entry, then the size of the file it is believed to name). Possible when every
 * group of @qoh has its leader on the engine of @dkey's target, the values fit inline and
 * both layouts have the same map version. The outcome is the fetch's; when it is 0 and the
 * fetch found something, *@qrc is the query's (0: @qdkey and @qrecx are set; -DER_NONEXIST:
 * no key), otherwise -DER_NONEXIST. -DER_NOSYS: not possible in one request, or the engine
 * does not serve it (once an engine has answered so, this process stops trying): ask
 * the two apart. A blocking call retries once after -DER_STALE with a refreshed map. Not a
 * public API (libdfs only); exported as daos_* because libdaos exports nothing else.
 */
#pragma GCC visibility push(default)
int daos_obj_fetch_query(daos_handle_t oh, daos_key_t *dkey, unsigned int nr, daos_iod_t *iods,
			 d_sg_list_t *sgls, daos_handle_t qoh, uint64_t qflags, daos_key_t *qdkey,
			 daos_key_t *qakey, daos_recx_t *qrecx, int *qrc, daos_event_t *ev);
#pragma GCC visibility pop

#endif /* D_DAOS_OBJECT_INTERNAL_H */
