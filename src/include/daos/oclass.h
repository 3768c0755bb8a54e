/*
 * daos/oclass.h: object classes and OID encoding as the client and server internals see them
 * (src/common/oclass.c). Not installed.
 *
 * A class ID names a redundancy scheme (replicas, or EC k+p) and a group count. The class
 * table holds one entry per predefined class; any other group count of a known scheme is a
 * valid class too (S3, RP_2G5), found through the first table entry of its scheme.
 */
#ifndef D_DAOS_OCLASS_INTERNAL_H
#define D_DAOS_OCLASS_INTERNAL_H

#include <daos_types.h>
#include <daos_obj.h>
#include <daos_obj_class.h>

/** Longest class name, without the NUL (the caller's buffer for id2name holds 24 bytes). */
#define DAOS_OCLASS_NAME_MAX 23

/** Replica count of RP_XSF: "as many as there are fault domains". */
#define DAOS_OBJ_REPL_MAX 0xFFFF
/** Resilience degree of RP_XSF. */
#define DAOS_OBJ_RESIL_MAX 0xFFFF

/**
 * The attributes of class @oc_id in *@attr, with ca_grp_nr the class's group count
 * (DAOS_OBJ_GRP_MAX for GX). Returns 0, or -DER_INVAL for an unknown class.
 * Context: any thread; the table is constant.
 */
int daos_oclass_attr_get(daos_oclass_id_t oc_id, struct daos_oclass_attr *attr);

/**
 * The attributes of the class encoded in @oid, ca_grp_nr being the group count stored in the
 * OID. Returns 0 or -DER_INVAL.
 */
int daos_oclass_oid2attr(daos_obj_id_t oid, struct daos_oclass_attr *attr);

/** Shards per redundancy group of @attr: replicas, or k + p. */
uint32_t daos_oclass_grp_size(const struct daos_oclass_attr *attr);

/** Is @oc_id a known class (a table entry, or another group count of a known scheme)? */
bool daos_oclass_is_valid(daos_oclass_id_t oc_id);

/** Does the class protect data (more than one shard per group)? */
static inline bool
daos_oclass_is_redundant(const struct daos_oclass_attr *attr)
{
	return daos_oclass_grp_size(attr) > 1;
}

/** Failures that class @oc_id tolerates in *@tf (replicas - 1, or p). 0 or -DER_INVAL. */
int daos_oclass_cid2allowedfailures(daos_oclass_id_t oc_id, uint32_t *tf);

/**
 * Resolve class @oc_id for a pool of @domain_nr fault domains and @target_nr targets, with
 * redundancy factor @rf: the scheme in *@ord and the concrete group count in *@nr (GX
 * becomes as many groups as fit, keeping min(rf, 30% of the targets) groups' worth of
 * targets spare for rebuild). -DER_INVAL if the class is unknown or does not fit.
 */
int daos_oclass_fit_max(daos_oclass_id_t oc_id, int domain_nr, int target_nr,
			enum daos_obj_redun *ord, uint32_t *nr, uint32_t rf);

/**
 * Choose a class for an object of @type when the application gave none (OC_UNKNOWN), from
 * the container's redundancy factor @rf, the pool's @domain_nr and @target_nr, and @hints
 * (DAOS_OCH_*). The scheme goes to *@ord, the group count to *@nr. 0 or -DER_INVAL.
 */
int daos_oclass_select(uint32_t rf, int domain_nr, int target_nr, enum daos_otype_t type,
		       daos_oclass_hints_t hints, enum daos_obj_redun *ord, uint32_t *nr);

/** What daos_obj_generate_oid2() needs to know about the container and its pool. */
struct daos_oid_gen_attr {
	/** container redundancy factor (DAOS_PROP_CO_REDUN_RF*) */
	uint32_t ga_rf;
	/** fault domains at the container's redundancy level */
	uint32_t ga_domain_nr;
	/** targets of the pool */
	uint32_t ga_target_nr;
};

/**
 * The body of daos_obj_generate_oid2() once the container handle is resolved: check @type,
 * pick or fit class @cid (OC_UNKNOWN: chosen from @hints and the container's redundancy
 * factor), refuse a class that tolerates fewer failures than the redundancy factor, and write
 * type, scheme and group count into the high 32 bits of oid->hi. 0 or -DER_INVAL.
 */
int daos_obj_generate_oid_by_attr(daos_obj_id_t *oid, enum daos_otype_t type, daos_oclass_id_t cid,
				  daos_oclass_hints_t hints, uint32_t args,
				  const struct daos_oid_gen_attr *ga);

/** DAOS's dkey hash: the uint64 value for uint64-dkey objects, murmur64 (seed 5731) else. */
uint64_t daos_obj_dkey2hash(daos_obj_id_t oid, const daos_key_t *dkey);

/** Redundancy group of a dkey with hash @hash among @grp_nr groups (jump consistent hash). */
uint32_t daos_obj_hash2grp(uint64_t hash, uint32_t grp_nr);

#endif /* D_DAOS_OCLASS_INTERNAL_H */
