/*
 * oid.c: object ID generation (the DAOS-owned high 32 bits of oid.hi), the default class for
 * an object type, and the dkey hash that picks a redundancy group. Sits on oclass.c.
 */
#define D_LOGFAC common

#include "common_internal.h"

/* Reed-Solomon scheme with @p parity cells and the widest k that @domain_nr domains allow. */
static void
oid_ec_pick(uint32_t p, int domain_nr, enum daos_obj_redun *ord, uint32_t *grp_size)
{
	if (p == 1) {
		if (domain_nr >= 18) {
			*ord = DAOS_OR_RS_16P1;
			*grp_size = 17;
		} else if (domain_nr >= 10) {
			*ord = DAOS_OR_RS_8P1;
			*grp_size = 9;
		} else if (domain_nr >= 6) {
			*ord = DAOS_OR_RS_4P1;
			*grp_size = 5;
		} else {
			*ord = DAOS_OR_RS_2P1;
			*grp_size = 3;
		}
	} else {
		if (domain_nr >= 20) {
			*ord = DAOS_OR_RS_16P2;
			*grp_size = 18;
		} else if (domain_nr >= 12) {
			*ord = DAOS_OR_RS_8P2;
			*grp_size = 10;
		} else if (domain_nr >= 8) {
			*ord = DAOS_OR_RS_4P2;
			*grp_size = 6;
		} else {
			*ord = DAOS_OR_RS_2P2;
			*grp_size = 4;
		}
	}
}

int
daos_oclass_select(uint32_t rf, int domain_nr, int target_nr, enum daos_otype_t type,
		   daos_oclass_hints_t hints, enum daos_obj_redun *ord, uint32_t *nr)
{
	uint16_t rdd = hints & DAOS_OCH_RDD_MASK;
	uint16_t shd = hints & DAOS_OCH_SHD_MASK;
	bool want_ec;
	uint32_t grp_size;
	uint32_t grp_nr;
	uint32_t reserve;
	uint32_t max_grp;

	if (domain_nr <= 0 || target_nr <= 0)
		return -DER_INVAL;
	/* EC when asked, or by default for arrays once the container needs protection */
	want_ec = rdd == DAOS_OCH_RDD_EC || (rdd == 0 && daos_is_array_type(type));
	switch (rf) {
	case DAOS_PROP_CO_REDUN_RF0:
		if (rdd == DAOS_OCH_RDD_RP && domain_nr >= 2) {
			*ord = DAOS_OR_RP_2;
			grp_size = 2;
		} else if (rdd == DAOS_OCH_RDD_EC) {
			oid_ec_pick(1, domain_nr, ord, &grp_size);
		} else {
			*ord = DAOS_OR_RP_1;
			grp_size = 1;
		}
		break;
	case DAOS_PROP_CO_REDUN_RF1:
		if (want_ec && domain_nr >= 3) {
			oid_ec_pick(1, domain_nr, ord, &grp_size);
		} else {
			*ord = DAOS_OR_RP_2;
			grp_size = 2;
		}
		break;
	case DAOS_PROP_CO_REDUN_RF2:
		if (want_ec && domain_nr >= 4) {
			oid_ec_pick(2, domain_nr, ord, &grp_size);
		} else {
			*ord = DAOS_OR_RP_3;
			grp_size = 3;
		}
		break;
	case DAOS_PROP_CO_REDUN_RF3:
		*ord = DAOS_OR_RP_4;
		grp_size = 4;
		break;
	case DAOS_PROP_CO_REDUN_RF4:
		*ord = DAOS_OR_RP_5;
		grp_size = 5;
		break;
	default:
		D_ERROR("invalid redundancy factor %u\n", rf);
		return -DER_INVAL;
	}
	if (grp_size > (uint32_t)domain_nr) {
		D_ERROR("redundancy factor %u needs %u fault domains, the pool has %d\n", rf,
			grp_size, domain_nr);
		return -DER_INVAL;
	}

	switch (shd) {
	case 0:
	case DAOS_OCH_SHD_DEF:
		grp_nr = (daos_is_array_type(type) || daos_is_kv_type(type)) ? DAOS_OBJ_GRP_MAX : 1;
		break;
	case DAOS_OCH_SHD_MAX:
		grp_nr = DAOS_OBJ_GRP_MAX;
		break;
	case DAOS_OCH_SHD_TINY:
		grp_nr = 1;
		break;
	case DAOS_OCH_SHD_REG:
		grp_nr = (uint32_t)target_nr / 4 > 128 ? (uint32_t)target_nr / 4 : 128;
		break;
	case DAOS_OCH_SHD_HI:
		grp_nr = (uint32_t)target_nr / 2 > 256 ? (uint32_t)target_nr / 2 : 256;
		break;
	case DAOS_OCH_SHD_EXT:
		grp_nr = (uint32_t)target_nr * 4 / 5 > 1024 ? (uint32_t)target_nr * 4 / 5 : 1024;
		break;
	default:
		D_ERROR("invalid sharding hint %#x\n", (unsigned int)shd);
		return -DER_INVAL;
	}

	if (grp_nr == DAOS_OBJ_GRP_MAX || (uint64_t)grp_nr * grp_size > (uint64_t)target_nr) {
		max_grp = (uint32_t)target_nr / grp_size;
		reserve = (((uint32_t)target_nr * 3 / 10) / grp_size);
		if (reserve > rf)
			reserve = rf;
		if (max_grp > reserve)
			max_grp -= reserve;
		*nr = max_grp > 0 ? max_grp : 1;
	} else {
		*nr = grp_nr;
	}
	return 0;
}

int
daos_obj_generate_oid_by_attr(daos_obj_id_t *oid, enum daos_otype_t type, daos_oclass_id_t cid,
			      daos_oclass_hints_t hints, uint32_t args,
			      const struct daos_oid_gen_attr *ga)
{
	enum daos_obj_redun ord;
	uint32_t nr_grps;
	uint32_t tf;
	int rc;

	if (oid == NULL || ga == NULL || !daos_otype_t_is_valid(type))
		return -DER_INVAL;
	if (ga->ga_domain_nr == 0 || ga->ga_target_nr == 0 ||
	    ga->ga_domain_nr > (uint32_t)INT32_MAX || ga->ga_target_nr > (uint32_t)INT32_MAX)
		return -DER_INVAL;

	if (cid == OC_UNKNOWN) {
		rc = daos_oclass_select(ga->ga_rf, (int)ga->ga_domain_nr, (int)ga->ga_target_nr,
					type, hints, &ord, &nr_grps);
	} else {
		rc = daos_oclass_cid2allowedfailures(cid, &tf);
		if (rc != 0) {
			D_ERROR("unknown object class %u\n", (unsigned int)cid);
			return rc;
		}
		/* RP_XSF (tf "max") always satisfies the container */
		if (tf < ga->ga_rf) {
			D_ERROR("object class %u tolerates %u failures, the container needs %u\n",
				(unsigned int)cid, tf, ga->ga_rf);
			return -DER_INVAL;
		}
		rc = daos_oclass_fit_max(cid, (int)ga->ga_domain_nr, (int)ga->ga_target_nr, &ord,
					 &nr_grps, ga->ga_rf);
	}
	if (rc != 0)
		return rc;
	daos_obj_set_oid(oid, type, ord, nr_grps, args);
	return 0;
}

uint64_t
daos_obj_dkey2hash(daos_obj_id_t oid, const daos_key_t *dkey)
{
	uint64_t v = 0;

	/* no dkey (object punch, dkey listing): hash 0, as in DAOS */
	if (dkey == NULL || dkey->iov_buf == NULL)
		return 0;
	if (daos_is_dkey_uint64(oid)) {
		memcpy(&v, dkey->iov_buf, dkey->iov_len < sizeof(v) ? dkey->iov_len : sizeof(v));
		return v;
	}
	return d_hash_murmur64((const unsigned char *)dkey->iov_buf, (unsigned int)dkey->iov_len,
			       DAOS_DKEY_HASH_SEED);
}

uint32_t
daos_obj_hash2grp(uint64_t hash, uint32_t grp_nr)
{
	if (grp_nr <= 1)
		return 0;
	return d_hash_jump(hash, grp_nr);
}
