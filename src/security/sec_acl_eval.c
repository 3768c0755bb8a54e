/*
 * sec_acl_eval.c: who gets which permissions by an ACL, the default pool and container
 * ACLs, and the capabilities of handles (daos/security.h has the rules).
 */
#define D_LOGFAC security

#include <string.h>

#include <daos_cont.h>
#include <daos_types.h>
#include <daos/security.h>

#include "sec_internal.h"

static bool
user_in_group(const struct sec_user *user, const char *group)
{
	size_t i;

	for (i = 0; i < user->su_nr_groups; i++)
		if (user->su_groups[i] != NULL && strcmp(user->su_groups[i], group) == 0)
			return true;
	return false;
}

/* Allow permissions of the entry of @type/@name into *@perms; false if there is none. */
static bool
entry_perms(struct daos_acl *acl, enum daos_acl_principal_type type, const char *name,
	    uint64_t *perms)
{
	struct daos_ace *ace;

	if (daos_acl_get_ace_for_principal(acl, type, name, &ace) != 0)
		return false;
	*perms = ace->dae_allow_perms;
	return true;
}

int
sec_acl_get_perms(struct daos_acl *acl, const struct d_ownership *own, const struct sec_user *user,
		  uint64_t min_owner_perms, uint64_t *perms, bool *is_owner)
{
	uint64_t grp_perms = 0;
	uint64_t p = 0;
	bool owner;
	bool found = false;
	size_t i;

	if (acl == NULL || own == NULL || user == NULL || perms == NULL ||
	    !daos_acl_principal_is_valid(own->user) || !daos_acl_principal_is_valid(own->group) ||
	    user->su_user == NULL || (user->su_nr_groups > 0 && user->su_groups == NULL))
		return -DER_INVAL;
	if (daos_acl_validate(acl) != 0)
		return -DER_INVAL;

	owner = strcmp(user->su_user, own->user) == 0;
	if (owner && entry_perms(acl, DAOS_ACL_OWNER, NULL, &p))
		goto out;
	if (entry_perms(acl, DAOS_ACL_USER, user->su_user, &p))
		goto out;

	/* Groups: the union of every matching group entry, the owner group's included. */
	if (user_in_group(user, own->group) && entry_perms(acl, DAOS_ACL_OWNER_GROUP, NULL, &p)) {
		grp_perms |= p;
		found = true;
	}
	for (i = 0; i < user->su_nr_groups; i++) {
		if (user->su_groups[i] != NULL &&
		    entry_perms(acl, DAOS_ACL_GROUP, user->su_groups[i], &p)) {
			grp_perms |= p;
			found = true;
		}
	}
	if (found) {
		p = grp_perms;
		goto out;
	}
	if (!entry_perms(acl, DAOS_ACL_EVERYONE, NULL, &p))
		p = 0;
out:
	if (owner)
		p |= min_owner_perms;
	*perms = p;
	if (is_owner != NULL)
		*is_owner = owner;
	return 0;
}

static struct daos_acl *
default_acl(uint64_t owner_perms, uint64_t group_perms)
{
	struct daos_ace *aces[2];
	struct daos_acl *acl = NULL;

	aces[0] = daos_ace_create(DAOS_ACL_OWNER, NULL);
	aces[1] = daos_ace_create(DAOS_ACL_OWNER_GROUP, NULL);
	if (aces[0] != NULL && aces[1] != NULL) {
		aces[0]->dae_access_types = DAOS_ACL_ACCESS_ALLOW;
		aces[0]->dae_allow_perms = owner_perms;
		aces[1]->dae_access_types = DAOS_ACL_ACCESS_ALLOW;
		aces[1]->dae_allow_perms = group_perms;
		acl = daos_acl_create(aces, 2);
	}
	daos_ace_free(aces[0]);
	daos_ace_free(aces[1]);
	return acl;
}

struct daos_acl *
sec_acl_default_pool(void)
{
	return default_acl(DAOS_ACL_PERM_READ | DAOS_ACL_PERM_WRITE,
			   DAOS_ACL_PERM_READ | DAOS_ACL_PERM_WRITE);
}

struct daos_acl *
sec_acl_default_cont(void)
{
	return default_acl(DAOS_ACL_PERM_CONT_ALL, DAOS_ACL_PERM_READ | DAOS_ACL_PERM_WRITE |
						       DAOS_ACL_PERM_GET_PROP |
						       DAOS_ACL_PERM_SET_PROP);
}

int
sec_pool_capas(uint64_t flags, uint64_t perms, uint64_t *capas)
{
	uint64_t c = 0;

	if (capas == NULL || (flags != DAOS_PC_RO && flags != DAOS_PC_RW && flags != DAOS_PC_EX))
		return -DER_INVAL;
	if (perms & (DAOS_ACL_PERM_READ | DAOS_ACL_PERM_GET_PROP))
		c |= SEC_POOL_CAPA_READ;
	if (perms & (DAOS_ACL_PERM_WRITE | DAOS_ACL_PERM_CREATE_CONT))
		c |= SEC_POOL_CAPA_CREATE_CONT;
	if (perms & (DAOS_ACL_PERM_WRITE | DAOS_ACL_PERM_DEL_CONT))
		c |= SEC_POOL_CAPA_DEL_CONT;

	if (flags == DAOS_PC_RO)
		c &= SEC_POOL_CAPAS_RO_MASK;
	else if (!(c & SEC_POOL_CAPAS_RO_MASK) || !(c & ~SEC_POOL_CAPAS_RO_MASK))
		c = 0; /* read-write needs both some read and some write */
	*capas = c;
	return 0;
}

static bool
cont_flags_valid(uint64_t flags)
{
	uint64_t mode = flags & DAOS_COO_IO_BASE_MASK;

	if ((flags & ~(uint64_t)DAOS_COO_MASK) != 0)
		return false;
	return mode == DAOS_COO_RO || mode == DAOS_COO_RW || mode == DAOS_COO_EX;
}

int
sec_cont_capas(uint64_t flags, uint64_t perms, bool is_owner, uint64_t *capas)
{
	static const struct {
		uint64_t perm;
		uint64_t capa;
	} map[] = {
	    {DAOS_ACL_PERM_READ, SEC_CONT_CAPA_READ_DATA},
	    {DAOS_ACL_PERM_WRITE, SEC_CONT_CAPA_WRITE_DATA},
	    {DAOS_ACL_PERM_GET_PROP, SEC_CONT_CAPA_GET_PROP},
	    {DAOS_ACL_PERM_SET_PROP, SEC_CONT_CAPA_SET_PROP},
	    {DAOS_ACL_PERM_GET_ACL, SEC_CONT_CAPA_GET_ACL},
	    {DAOS_ACL_PERM_SET_ACL, SEC_CONT_CAPA_SET_ACL},
	    {DAOS_ACL_PERM_SET_OWNER, SEC_CONT_CAPA_SET_OWNER},
	    {DAOS_ACL_PERM_DEL_CONT, SEC_CONT_CAPA_DELETE},
	};
	uint64_t c = 0;
	size_t i;

	if (capas == NULL || !cont_flags_valid(flags))
		return -DER_INVAL;
	for (i = 0; i < D_ARRAY_SIZE(map); i++)
		if (perms & map[i].perm)
			c |= map[i].capa;
	if (is_owner)
		c |= SEC_CONT_CAPA_OPEN_EX | SEC_CONT_CAPA_EVICT_ALL;

	if (flags & DAOS_COO_RO)
		c &= SEC_CONT_CAPAS_RO_MASK;
	else if (!(c & SEC_CONT_CAPAS_RO_MASK) || !(c & SEC_CONT_CAPAS_W_MASK))
		c = 0; /* read-write needs both some read and some write */
	if (!(flags & DAOS_COO_EX))
		c &= ~SEC_CONT_CAPA_OPEN_EX;
	if (!(flags & DAOS_COO_EVICT_ALL))
		c &= ~SEC_CONT_CAPA_EVICT_ALL;
	*capas = c;
	return 0;
}
