/*
 * oclass.c: the predefined object classes (names, IDs and attributes as in DAOS), class
 * lookup by name and by ID, and the choice of a class and group count for a new object.
 * Sits on gurt only; the table is constant, so every function here is thread-safe.
 */
#define D_LOGFAC common

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "common_internal.h"

D_LOG_FAC_DEFINE(common);

/* One table entry: the class's name without OC_, its ID and its attributes. */
struct oc_entry {
	const char *oe_name;
	daos_oclass_id_t oe_id;
	enum daos_obj_redun oe_redun;
	struct daos_oclass_attr oe_attr;
};

/* EC cell size of the table; the pool and container properties override it. */
#define OC_EC_CELL_DEF (1U << 20)

#define OC_ATTR_RP(g, r)                                                                           \
	{                                                                                          \
		.ca_schema = DAOS_OS_STRIPED, .ca_resil = DAOS_RES_REPL,                           \
		.ca_resil_degree = (r) == DAOS_OBJ_REPL_MAX ? DAOS_OBJ_RESIL_MAX : (r)-1,          \
		.ca_grp_nr = (g), .u.rp = {.r_num = (r)},                                          \
	}
#define OC_ATTR_EC(g, k, p)                                                                        \
	{                                                                                          \
		.ca_schema = DAOS_OS_STRIPED, .ca_resil = DAOS_RES_EC, .ca_resil_degree = (p),     \
		.ca_grp_nr = (g), .u.ec = {.e_k = (k), .e_p = (p), .e_len = OC_EC_CELL_DEF},       \
	}

#define OC_S(g)                                                                                    \
	{                                                                                          \
		"S" #g, OC_S##g, DAOS_OR_RP_1, OC_ATTR_RP(g, 1)                                    \
	}
#define OC_SX                                                                                      \
	{                                                                                          \
		"SX", OC_SX, DAOS_OR_RP_1, OC_ATTR_RP(DAOS_OBJ_GRP_MAX, 1)                         \
	}
#define OC_RP(r, g)                                                                                \
	{                                                                                          \
		"RP_" #r "G" #g, OC_RP_##r##G##g, DAOS_OR_RP_##r, OC_ATTR_RP(g, r)                 \
	}
#define OC_RPX(r)                                                                                  \
	{                                                                                          \
		"RP_" #r "GX", OC_RP_##r##GX, DAOS_OR_RP_##r, OC_ATTR_RP(DAOS_OBJ_GRP_MAX, r)      \
	}
#define OC_EC(k, p, g)                                                                             \
	{                                                                                          \
		"EC_" #k "P" #p "G" #g, OC_EC_##k##P##p##G##g, DAOS_OR_RS_##k##P##p,               \
		    OC_ATTR_EC(g, k, p)                                                            \
	}
#define OC_ECX(k, p)                                                                               \
	{                                                                                          \
		"EC_" #k "P" #p "GX", OC_EC_##k##P##p##GX, DAOS_OR_RS_##k##P##p,                   \
		    OC_ATTR_EC(DAOS_OBJ_GRP_MAX, k, p)                                             \
	}

/* The group counts every scheme is predefined with, then GX. */
#define OC_RP_ALL(r)                                                                               \
	OC_RP(r, 1), OC_RP(r, 2), OC_RP(r, 4), OC_RP(r, 6), OC_RP(r, 8), OC_RP(r, 12),             \
	    OC_RP(r, 16), OC_RP(r, 32), OC_RPX(r)
#define OC_EC_ALL(k, p)                                                                            \
	OC_EC(k, p, 1), OC_EC(k, p, 2), OC_EC(k, p, 4), OC_EC(k, p, 6), OC_EC(k, p, 8),            \
	    OC_EC(k, p, 12), OC_EC(k, p, 16), OC_EC(k, p, 32), OC_ECX(k, p)

/*
 * Ordered by scheme, then group count: the first entry of a scheme is the one that stands
 * for the group counts the table does not list.
 */
static const struct oc_entry oc_table[] = {
    OC_S(1),
    OC_S(2),
    OC_S(4),
    OC_S(6),
    OC_S(8),
    OC_S(12),
    OC_S(16),
    OC_S(32),
    OC_SX,
    OC_RP_ALL(2),
    OC_RP_ALL(3),
    OC_RP_ALL(4),
    OC_RP_ALL(5),
    OC_RP_ALL(6),
    OC_RP(12, 1),
    OC_RP(16, 1),
    OC_RP(24, 1),
    OC_RP(32, 1),
    OC_RP(48, 1),
    OC_RP(64, 1),
    OC_RP(128, 1),
    {"RP_XSF", OC_RP_XSF, 0, OC_ATTR_RP(1, DAOS_OBJ_REPL_MAX)},
    OC_EC_ALL(2, 1),
    OC_EC_ALL(2, 2),
    OC_EC_ALL(4, 1),
    OC_EC_ALL(4, 2),
    OC_EC_ALL(4, 3),
    OC_EC_ALL(8, 1),
    OC_EC_ALL(8, 2),
    OC_EC_ALL(8, 3),
    OC_EC_ALL(16, 1),
    OC_EC_ALL(16, 2),
    OC_EC_ALL(16, 3),
};

#define OC_TABLE_NR ((int)(sizeof(oc_table) / sizeof(oc_table[0])))

/* The entry of @oc_id and its group count in *@nr_grps, or NULL. */
static const struct oc_entry *
oc_lookup(daos_oclass_id_t oc_id, uint32_t *nr_grps)
{
	enum daos_obj_redun redun;
	uint32_t grps;
	int i;

	if (oc_id == OC_UNKNOWN)
		return NULL;
	for (i = 0; i < OC_TABLE_NR; i++) {
		if (oc_table[i].oe_id == oc_id) {
			if (nr_grps != NULL)
				*nr_grps = oc_table[i].oe_attr.ca_grp_nr;
			return &oc_table[i];
		}
	}
	/* IDs below OC_S1 name only the table's entries */
	if (oc_id < ((daos_oclass_id_t)DAOS_OR_RP_1 << OC_REDUN_SHIFT))
		return NULL;
	redun = (enum daos_obj_redun)(oc_id >> OC_REDUN_SHIFT);
	grps = oc_id & ((1U << OC_REDUN_SHIFT) - 1);
	if (grps == 0 || grps > DAOS_OBJ_GRP_MAX)
		return NULL;
	for (i = 0; i < OC_TABLE_NR; i++) {
		if (oc_table[i].oe_redun == redun && oc_table[i].oe_id >= OC_S1) {
			if (nr_grps != NULL)
				*nr_grps = grps;
			return &oc_table[i];
		}
	}
	return NULL;
}

int
daos_oclass_attr_get(daos_oclass_id_t oc_id, struct daos_oclass_attr *attr)
{
	const struct oc_entry *oe;
	uint32_t nr_grps;

	oe = oc_lookup(oc_id, &nr_grps);
	if (oe == NULL)
		return -DER_INVAL;
	*attr = oe->oe_attr;
	attr->ca_grp_nr = nr_grps;
	return 0;
}

int
daos_oclass_oid2attr(daos_obj_id_t oid, struct daos_oclass_attr *attr)
{
	return daos_oclass_attr_get(daos_obj_id2class(oid), attr);
}

uint32_t
daos_oclass_grp_size(const struct daos_oclass_attr *attr)
{
	if (attr->ca_resil == DAOS_RES_EC)
		return (uint32_t)attr->u.ec.e_k + attr->u.ec.e_p;
	return attr->u.rp.r_num;
}

bool
daos_oclass_is_valid(daos_oclass_id_t oc_id)
{
	return oc_lookup(oc_id, NULL) != NULL;
}

int
daos_oclass_cid2allowedfailures(daos_oclass_id_t oc_id, uint32_t *tf)
{
	const struct oc_entry *oe = oc_lookup(oc_id, NULL);

	if (oe == NULL)
		return -DER_INVAL;
	*tf = oe->oe_attr.ca_resil_degree;
	return 0;
}

int
daos_oclass_name2id(const char *name)
{
	int i;

	if (name == NULL)
		return OC_UNKNOWN;
	/* the daos tool and applications spell classes with or without OC_, in any case */
	if (strncasecmp(name, "OC_", 3) == 0)
		name += 3;
	if (strnlen(name, DAOS_OCLASS_NAME_MAX + 1) > DAOS_OCLASS_NAME_MAX)
		return OC_UNKNOWN;
	for (i = 0; i < OC_TABLE_NR; i++) {
		if (strcasecmp(oc_table[i].oe_name, name) == 0)
			return (int)oc_table[i].oe_id;
	}
	return OC_UNKNOWN;
}

int
daos_oclass_id2name(daos_oclass_id_t oc_id, char *name)
{
	const struct oc_entry *oe;
	uint32_t nr_grps;
	const char *g;
	int n;

	oe = oc_lookup(oc_id, &nr_grps);
	if (oe == NULL) {
		strcpy(name, "UNKNOWN");
		return -1;
	}
	if (nr_grps == oe->oe_attr.ca_grp_nr) {
		strcpy(name, oe->oe_name);
		return 0;
	}
	/* a group count the table does not list: the scheme's prefix and the number */
	if (oe->oe_redun == DAOS_OR_RP_1) {
		snprintf(name, DAOS_OCLASS_NAME_MAX + 1, "S%u", nr_grps);
		return 0;
	}
	g = strrchr(oe->oe_name, 'G');
	D_ASSERT(g != NULL);
	n = (int)(g - oe->oe_name);
	snprintf(name, DAOS_OCLASS_NAME_MAX + 1, "%.*sG%u", n, oe->oe_name, nr_grps);
	return 0;
}

ssize_t
daos_oclass_names_list(size_t size, char *str)
{
	size_t len = 0;
	size_t n;
	int i;

	if (size == 0 || str == NULL)
		return -DER_INVAL;
	str[0] = '\0';
	for (i = 0; i < OC_TABLE_NR; i++) {
		n = strlen(oc_table[i].oe_name);
		if (len + n + 2 >= size)
			return -DER_OVERFLOW;
		memcpy(str + len, oc_table[i].oe_name, n);
		memcpy(str + len + n, ", ", 3);
		len += n + 2;
	}
	return (ssize_t)len;
}

int
daos_oclass_nr(int opts)
{
	(void)opts;
	return OC_TABLE_NR;
}

/*
 * Groups kept in reserve so that a rebuild after @rf failures still finds targets in
 * distinct domains: at most rf groups and at most 30% of the targets.
 */
static uint32_t
oc_reserve_grps(uint32_t target_nr, uint32_t grp_size, uint32_t rf)
{
	uint32_t cap = (target_nr * 3 / 10) / grp_size;

	return cap < rf ? cap : rf;
}

int
daos_oclass_fit_max(daos_oclass_id_t oc_id, int domain_nr, int target_nr, enum daos_obj_redun *ord,
		    uint32_t *nr, uint32_t rf)
{
	const struct oc_entry *oe;
	uint32_t grp_size;
	uint32_t grp_nr;
	uint32_t reserve;

	if (domain_nr <= 0 || target_nr <= 0)
		return -DER_INVAL;
	oe = oc_lookup(oc_id, &grp_nr);
	if (oe == NULL) {
		D_DEBUG("unknown object class %u\n", (unsigned int)oc_id);
		return -DER_INVAL;
	}
	/*
	 * IDs below OC_S1 (RP_XSF) are stored in the OID as they are: scheme 0, the ID in the
	 * group-count bits; placement sizes them from the pool.
	 */
	if (oc_id < ((daos_oclass_id_t)DAOS_OR_RP_1 << OC_REDUN_SHIFT)) {
		*ord = OC_UNKNOWN;
		*nr = oc_id;
		return 0;
	}

	grp_size = daos_oclass_grp_size(&oe->oe_attr);
	if (grp_nr == DAOS_OBJ_GRP_MAX) {
		reserve = oc_reserve_grps((uint32_t)target_nr, grp_size, rf);
		grp_nr = (uint32_t)target_nr / grp_size;
		if (grp_nr == 0)
			grp_nr = 1;
		if (grp_nr > reserve)
			grp_nr -= reserve;
	}
	if (grp_size > (uint32_t)domain_nr) {
		D_ERROR("class %u: group size %u exceeds %d fault domains\n", (unsigned int)oc_id,
			grp_size, domain_nr);
		return -DER_INVAL;
	}
	if ((uint64_t)grp_nr * grp_size > (uint64_t)target_nr) {
		D_ERROR("class %u: %u groups of %u exceed %d targets\n", (unsigned int)oc_id,
			grp_nr, grp_size, target_nr);
		return -DER_INVAL;
	}
	*ord = oe->oe_redun;
	*nr = grp_nr;
	return 0;
}
