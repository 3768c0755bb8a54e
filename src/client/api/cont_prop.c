/*
 * cont_prop.c: container property lists (daos_prop_t) to and from the management service's
 * mgmt.ContProperty messages (cont_internal.h says how each kind of value travels).
 */
#define D_LOGFAC client

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <daos_errno.h>
#include <daos_prop.h>
#include <daos_security.h>
#include <gurt/common.h>

#include "client_internal.h"
#include "cont_internal.h"

/* "hhhhhhhhhhhhhhhh.llllllllllllllll" times four, ':' between, NUL. */
#define ROOTS_STR_LEN (4 * 33 + 3 + 1)

static bool
prop_is_str(uint32_t type)
{
	return type == DAOS_PROP_CO_LABEL || type == DAOS_PROP_CO_OWNER ||
	       type == DAOS_PROP_CO_OWNER_GROUP;
}

static bool
prop_is_cont(uint32_t type)
{
	return type > DAOS_PROP_CO_MIN && type < DAOS_PROP_CO_MAX;
}

void
dc_cont_prop_pb_free(Mgmt__ContProperty **pbs, size_t nr)
{
	size_t i;
	size_t j;

	if (pbs == NULL)
		return;
	for (i = 0; i < nr; i++) {
		Mgmt__ContProperty *pb = pbs[i];

		if (pb == NULL)
			continue;
		if (pb->strval != protobuf_c_empty_string)
			D_FREE(pb->strval);
		for (j = 0; j < pb->n_acl; j++)
			D_FREE(pb->acl[j]);
		D_FREE(pb->acl);
		D_FREE(pb);
	}
	D_FREE(pbs);
}

static int
roots2str(const struct daos_prop_co_roots *roots, char **out)
{
	char *s;
	int i;
	int n = 0;

	D_ALLOC(s, ROOTS_STR_LEN);
	if (s == NULL)
		return -DER_NOMEM;
	for (i = 0; i < 4; i++)
		n += snprintf(s + n, ROOTS_STR_LEN - n, "%s%016" PRIx64 ".%016" PRIx64,
			      i == 0 ? "" : ":", roots->cr_oids[i].hi, roots->cr_oids[i].lo);
	*out = s;
	return 0;
}

static int
str2roots(const char *s, struct daos_prop_co_roots *roots)
{
	int i;

	if (strlen(s) != ROOTS_STR_LEN - 1)
		return -DER_PROTO;
	for (i = 0; i < 4; i++) {
		const char *p = s + i * 34;
		char buf[17];
		char *end;

		if (p[16] != '.' || (i < 3 && p[33] != ':'))
			return -DER_PROTO;
		memcpy(buf, p, 16);
		buf[16] = '\0';
		roots->cr_oids[i].hi = strtoull(buf, &end, 16);
		if (*end != '\0')
			return -DER_PROTO;
		memcpy(buf, p + 17, 16);
		roots->cr_oids[i].lo = strtoull(buf, &end, 16);
		if (*end != '\0')
			return -DER_PROTO;
	}
	return 0;
}

static int
entry2pb(const struct daos_prop_entry *e, bool numbers_only, Mgmt__ContProperty *pb)
{
	size_t nr;
	int rc;

	pb->number = e->dpe_type;
	if (numbers_only)
		return 0;
	if (prop_is_str(e->dpe_type)) {
		if (e->dpe_str == NULL)
			return -DER_INVAL;
		D_STRNDUP(pb->strval, e->dpe_str, strlen(e->dpe_str));
		return pb->strval == NULL ? -DER_NOMEM : 0;
	}
	if (e->dpe_type == DAOS_PROP_CO_ACL) {
		if (e->dpe_val_ptr == NULL)
			return -DER_INVAL;
		rc = daos_acl_to_strs(e->dpe_val_ptr, &pb->acl, &nr);
		if (rc == 0)
			pb->n_acl = nr;
		return rc;
	}
	if (e->dpe_type == DAOS_PROP_CO_ROOTS) {
		if (e->dpe_val_ptr == NULL)
			return -DER_INVAL;
		return roots2str(e->dpe_val_ptr, &pb->strval);
	}
	pb->numval = e->dpe_val;
	return 0;
}

int
dc_cont_prop2pb(const daos_prop_t *prop, bool numbers_only, Mgmt__ContProperty ***pbsp, size_t *nrp)
{
	Mgmt__ContProperty **pbs;
	uint32_t nr = prop == NULL ? 0 : prop->dpp_nr;
	uint32_t i;
	int rc = 0;

	*pbsp = NULL;
	*nrp = 0;
	if (nr == 0)
		return 0;
	if (prop->dpp_entries == NULL || nr > DAOS_PROP_ENTRIES_MAX_NR)
		return -DER_INVAL;
	D_ALLOC_ARRAY(pbs, nr);
	if (pbs == NULL)
		return -DER_NOMEM;
	for (i = 0; i < nr; i++) {
		const struct daos_prop_entry *e = &prop->dpp_entries[i];

		if (!prop_is_cont(e->dpe_type)) {
			D_DEBUG("property type %#x is not a container's\n", e->dpe_type);
			rc = -DER_INVAL;
			break;
		}
		D_ALLOC_PTR(pbs[i]);
		if (pbs[i] == NULL) {
			rc = -DER_NOMEM;
			break;
		}
		mgmt__cont_property__init(pbs[i]);
		rc = entry2pb(e, numbers_only, pbs[i]);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		dc_cont_prop_pb_free(pbs, nr);
		return rc;
	}
	*pbsp = pbs;
	*nrp = nr;
	return 0;
}

static int
pb2entry(const Mgmt__ContProperty *pb, struct daos_prop_entry *e)
{
	int rc;

	e->dpe_type = pb->number;
	if (prop_is_str(pb->number)) {
		if (pb->strval[0] == '\0') {
			e->dpe_flags |= DAOS_PROP_ENTRY_NOT_SET;
			return 0;
		}
		return daos_prop_entry_set_str(e, pb->strval, strlen(pb->strval));
	}
	if (pb->number == DAOS_PROP_CO_ACL) {
		struct daos_acl *acl;

		if (pb->n_acl == 0)
			acl = daos_acl_create(NULL, 0);
		else if (daos_acl_from_strs((const char **)pb->acl, pb->n_acl, &acl) != 0)
			return -DER_PROTO;
		if (acl == NULL)
			return -DER_NOMEM;
		rc = daos_prop_entry_set_ptr(e, acl, daos_acl_get_size(acl));
		daos_acl_free(acl);
		return rc;
	}
	if (pb->number == DAOS_PROP_CO_ROOTS) {
		struct daos_prop_co_roots roots;

		if (str2roots(pb->strval, &roots) != 0)
			return -DER_PROTO;
		return daos_prop_entry_set_ptr(e, &roots, sizeof(roots));
	}
	e->dpe_val = pb->numval;
	return 0;
}

int
dc_cont_pb2prop(Mgmt__ContProperty *const *pbs, size_t nr, daos_prop_t **propp)
{
	daos_prop_t *prop;
	uint32_t known = 0;
	size_t i;
	int rc;

	for (i = 0; i < nr; i++)
		if (prop_is_cont(pbs[i]->number))
			known++;
	if (known > DAOS_PROP_ENTRIES_MAX_NR)
		return -DER_PROTO;
	prop = daos_prop_alloc(known);
	if (prop == NULL)
		return -DER_NOMEM;
	for (i = 0, known = 0; i < nr; i++) {
		if (!prop_is_cont(pbs[i]->number))
			continue;
		rc = pb2entry(pbs[i], &prop->dpp_entries[known]);
		if (rc != 0) {
			D_ERROR("container property %#x from the service: " DF_RC "\n",
				pbs[i]->number, DP_RC(rc));
			daos_prop_free(prop);
			return rc;
		}
		known++;
	}
	*propp = prop;
	return 0;
}
