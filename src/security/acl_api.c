/*
 * acl_api.c: the binary ACL of daos_security.h: entries (struct daos_ace), the list that
 * holds them (struct daos_acl), and the structural rules both must obey.
 *
 * Layout. An ACL is a header and dal_len bytes of entries laid end to end; an entry is a
 * 32-byte header and dae_principal_len bytes of NUL-padded name (a multiple of 8, 0 for the
 * special principals), so every entry starts 8-byte aligned. The same bytes travel in pool
 * and container properties, so every function that walks an ACL checks each entry's bounds
 * against dal_len: a corrupt ACL gives -DER_INVAL or NULL, never a read past its end.
 *
 * Rules (daos_ace_is_valid, daos_acl_validate), as DAOS:
 *  1. an entry has at least one access type, only known type/flag/permission bits, and no
 *     permissions for an access type it does not have;
 *  2. users and groups have a valid "name@[domain]" name, special principals none;
 *  3. the G flag is set exactly on group principals (GROUP@ and named groups);
 *  4. audit and alarm entries carry S and/or F (what to report), and allow-only entries
 *     carry neither;
 *  5. entries are ordered by principal type: OWNER@, users, GROUP@, groups, EVERYONE@;
 *  6. no principal appears twice;
 *  7. dal_len is 0 or between one entry and DAOS_ACL_MAX_ACE_LEN, a multiple of 8, and the
 *     entries fill it exactly.
 */
#define D_LOGFAC security

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>

#include "sec_internal.h"

D_LOG_FAC_DEFINE(security);

D_CASSERT(sizeof(struct daos_ace) == 32);
D_CASSERT(offsetof(struct daos_ace, dae_allow_perms) == 8);
D_CASSERT(offsetof(struct daos_ace, dae_principal) == 32);
D_CASSERT(sizeof(struct daos_acl) == 8);

#define ACE_ALIGN 8

static size_t
align8(size_t n)
{
	return (n + ACE_ALIGN - 1) & ~(size_t)(ACE_ALIGN - 1);
}

static size_t
ace_size(const struct daos_ace *ace)
{
	return sizeof(*ace) + ace->dae_principal_len;
}

struct daos_ace *
daos_ace_create(enum daos_acl_principal_type type, const char *principal_name)
{
	struct daos_ace *ace;
	size_t name_len = 0;

	if (!sec_type_is_valid(type))
		return NULL;
	if (sec_type_needs_name(type)) {
		if (principal_name == NULL || principal_name[0] == '\0')
			return NULL;
		name_len = strnlen(principal_name, DAOS_ACL_MAX_PRINCIPAL_BUF_LEN);
		if (name_len > DAOS_ACL_MAX_PRINCIPAL_LEN)
			return NULL;
		name_len = align8(name_len + 1);
	}

	D_ALLOC(ace, sizeof(*ace) + name_len);
	if (ace == NULL)
		return NULL;
	ace->dae_principal_type = (uint8_t)type;
	ace->dae_principal_len = (uint16_t)name_len;
	if (name_len > 0)
		memcpy(ace->dae_principal, principal_name, strlen(principal_name));
	if (sec_type_is_group(type))
		ace->dae_access_flags |= DAOS_ACL_FLAG_GROUP;
	return ace;
}

void
daos_ace_free(struct daos_ace *ace)
{
	D_FREE(ace);
}

ssize_t
daos_ace_get_size(struct daos_ace *ace)
{
	if (ace == NULL)
		return -DER_INVAL;
	return (ssize_t)ace_size(ace);
}

static bool
perms_within(const struct daos_ace *ace, uint64_t allowed)
{
	return ((ace->dae_allow_perms | ace->dae_audit_perms | ace->dae_alarm_perms) & ~allowed) ==
	       0;
}

static bool
name_is_terminated(const struct daos_ace *ace)
{
	return memchr(ace->dae_principal, '\0', ace->dae_principal_len) != NULL;
}

bool
daos_ace_is_valid(struct daos_ace *ace)
{
	const uint16_t report = DAOS_ACL_FLAG_ACCESS_FAIL | DAOS_ACL_FLAG_ACCESS_SUCCESS;
	const uint8_t alert = DAOS_ACL_ACCESS_AUDIT | DAOS_ACL_ACCESS_ALARM;
	uint8_t types;

	if (ace == NULL)
		return false;
	types = ace->dae_access_types;
	if (types == 0 || (types & ~DAOS_ACL_ACCESS_ALL) != 0)
		return false;
	if ((ace->dae_access_flags & ~DAOS_ACL_FLAG_ALL) != 0)
		return false;
	if (!perms_within(ace, DAOS_ACL_PERM_ALL))
		return false;
	if (!sec_type_is_valid(ace->dae_principal_type))
		return false;
	if (sec_type_needs_name(ace->dae_principal_type) != (ace->dae_principal_len != 0))
		return false;
	if (sec_type_is_group(ace->dae_principal_type) !=
	    ((ace->dae_access_flags & DAOS_ACL_FLAG_GROUP) != 0))
		return false;
	if (ace->dae_principal_len % ACE_ALIGN != 0)
		return false;
	if (ace->dae_principal_len > 0 &&
	    (!name_is_terminated(ace) || !daos_acl_principal_is_valid(ace->dae_principal)))
		return false;
	if ((!(types & DAOS_ACL_ACCESS_ALLOW) && ace->dae_allow_perms != 0) ||
	    (!(types & DAOS_ACL_ACCESS_AUDIT) && ace->dae_audit_perms != 0) ||
	    (!(types & DAOS_ACL_ACCESS_ALARM) && ace->dae_alarm_perms != 0))
		return false;
	if (((types & alert) != 0) != ((ace->dae_access_flags & report) != 0))
		return false;
	return true;
}

/*
 * The entry at byte @off of @acl's list if it is aligned and its header and name lie inside
 * the list, else NULL.
 */
static struct daos_ace *
ace_at(struct daos_acl *acl, size_t off)
{
	struct daos_ace *ace;

	/* A corrupt name length would misalign every later entry: stop there. */
	if (off % ACE_ALIGN != 0 || off + sizeof(*ace) > acl->dal_len)
		return NULL;
	ace = (struct daos_ace *)(acl->dal_ace + off);
	if (off + ace_size(ace) > acl->dal_len)
		return NULL;
	return ace;
}

struct daos_ace *
daos_acl_get_next_ace(struct daos_acl *acl, struct daos_ace *current_ace)
{
	size_t off;

	if (acl == NULL)
		return NULL;
	if (current_ace == NULL)
		return ace_at(acl, 0);
	if ((uint8_t *)current_ace < acl->dal_ace ||
	    (uint8_t *)current_ace >= acl->dal_ace + acl->dal_len)
		return NULL;
	off = (size_t)((uint8_t *)current_ace - acl->dal_ace) + ace_size(current_ace);
	return ace_at(acl, off);
}

/* Does @ace belong to principal @type/@name (@name ignored for special principals)? */
static bool
ace_is_principal(const struct daos_ace *ace, unsigned int type, const char *name)
{
	if (ace->dae_principal_type != type)
		return false;
	if (!sec_type_needs_name(type))
		return true;
	if (name == NULL || ace->dae_principal_len == 0 || !name_is_terminated(ace))
		return false;
	return strcmp(ace->dae_principal, name) == 0;
}

static bool
aces_same_principal(const struct daos_ace *a, const struct daos_ace *b)
{
	return ace_is_principal(a, b->dae_principal_type,
				b->dae_principal_len > 0 ? b->dae_principal : NULL);
}

static size_t
acl_size(size_t list_len)
{
	return sizeof(struct daos_acl) + list_len;
}

struct daos_acl *
daos_acl_create(struct daos_ace *aces[], uint16_t num_aces)
{
	struct daos_acl *acl;
	size_t len = 0;
	uint8_t *pen;
	unsigned int type;
	uint16_t i;

	if (num_aces > 0 && aces == NULL)
		return NULL;
	for (i = 0; i < num_aces; i++) {
		if (aces[i] == NULL)
			return NULL;
		len += ace_size(aces[i]);
	}
	if (len > UINT32_MAX - sizeof(*acl))
		return NULL;

	D_ALLOC(acl, acl_size(len));
	if (acl == NULL)
		return NULL;
	acl->dal_ver = DAOS_ACL_VERSION;
	acl->dal_len = (uint32_t)len;

	/* Stable by principal type: entries of one type keep the caller's order. */
	pen = acl->dal_ace;
	for (type = DAOS_ACL_OWNER; type <= DAOS_ACL_EVERYONE; type++) {
		for (i = 0; i < num_aces; i++) {
			if (aces[i]->dae_principal_type != type)
				continue;
			memcpy(pen, aces[i], ace_size(aces[i]));
			pen += ace_size(aces[i]);
		}
	}
	/* Entries of unknown types go last; daos_acl_validate rejects them. */
	for (i = 0; i < num_aces; i++) {
		if (sec_type_is_valid(aces[i]->dae_principal_type))
			continue;
		memcpy(pen, aces[i], ace_size(aces[i]));
		pen += ace_size(aces[i]);
	}
	return acl;
}

ssize_t
daos_acl_get_size(struct daos_acl *acl)
{
	if (acl == NULL)
		return -DER_INVAL;
	return (ssize_t)acl_size(acl->dal_len);
}

struct daos_acl *
daos_acl_dup(struct daos_acl *acl)
{
	struct daos_acl *copy;

	if (acl == NULL)
		return NULL;
	D_ALLOC_NZ(copy, acl_size(acl->dal_len));
	if (copy == NULL)
		return NULL;
	memcpy(copy, acl, acl_size(acl->dal_len));
	return copy;
}

void
daos_acl_free(struct daos_acl *acl)
{
	D_FREE(acl);
}

int
daos_acl_get_ace_for_principal(struct daos_acl *acl, enum daos_acl_principal_type type,
			       const char *principal, struct daos_ace **ace)
{
	struct daos_ace *cur;

	if (acl == NULL || ace == NULL || !sec_type_is_valid(type) ||
	    (sec_type_needs_name(type) && principal == NULL))
		return -DER_INVAL;

	for (cur = daos_acl_get_next_ace(acl, NULL); cur != NULL;
	     cur = daos_acl_get_next_ace(acl, cur)) {
		if (ace_is_principal(cur, type, principal)) {
			*ace = cur;
			return 0;
		}
	}
	return -DER_NONEXIST;
}

int
daos_acl_add_ace(struct daos_acl **acl, struct daos_ace *new_ace)
{
	struct daos_acl *old;
	struct daos_acl *new_acl;
	struct daos_ace *cur;
	uint8_t *pen;
	bool written = false;
	size_t len;

	if (acl == NULL || *acl == NULL || !daos_ace_is_valid(new_ace))
		return -DER_INVAL;
	old = *acl;

	for (cur = daos_acl_get_next_ace(old, NULL); cur != NULL;
	     cur = daos_acl_get_next_ace(old, cur)) {
		if (aces_same_principal(cur, new_ace)) {
			/* Same principal, same name: same size; replace in place. */
			memcpy(cur, new_ace, ace_size(new_ace));
			return 0;
		}
	}

	len = (size_t)old->dal_len + ace_size(new_ace);
	if (len > UINT32_MAX - sizeof(*old))
		return -DER_INVAL;
	D_ALLOC(new_acl, acl_size(len));
	if (new_acl == NULL)
		return -DER_NOMEM;
	new_acl->dal_ver = old->dal_ver;
	new_acl->dal_len = (uint32_t)len;

	/* After every entry of the same or an earlier type: the list stays ordered. */
	pen = new_acl->dal_ace;
	for (cur = daos_acl_get_next_ace(old, NULL); cur != NULL;
	     cur = daos_acl_get_next_ace(old, cur)) {
		if (!written && cur->dae_principal_type > new_ace->dae_principal_type) {
			memcpy(pen, new_ace, ace_size(new_ace));
			pen += ace_size(new_ace);
			written = true;
		}
		memcpy(pen, cur, ace_size(cur));
		pen += ace_size(cur);
	}
	if (!written) {
		memcpy(pen, new_ace, ace_size(new_ace));
		pen += ace_size(new_ace);
	}
	/* A corrupt tail of the old list is dropped; the new length is what was written. */
	new_acl->dal_len = (uint32_t)(pen - new_acl->dal_ace);

	daos_acl_free(old);
	*acl = new_acl;
	return 0;
}

int
daos_acl_remove_ace(struct daos_acl **acl, enum daos_acl_principal_type type,
		    const char *principal_name)
{
	struct daos_acl *old;
	struct daos_acl *new_acl;
	struct daos_ace *victim;
	struct daos_ace *cur;
	uint8_t *pen;
	int rc;

	if (acl == NULL || *acl == NULL || !sec_type_is_valid(type) ||
	    (sec_type_needs_name(type) && (principal_name == NULL || principal_name[0] == '\0')))
		return -DER_INVAL;
	old = *acl;

	rc = daos_acl_get_ace_for_principal(old, type, principal_name, &victim);
	if (rc != 0)
		return rc;

	D_ALLOC(new_acl, acl_size(old->dal_len - ace_size(victim)));
	if (new_acl == NULL)
		return -DER_NOMEM;
	new_acl->dal_ver = old->dal_ver;
	pen = new_acl->dal_ace;
	for (cur = daos_acl_get_next_ace(old, NULL); cur != NULL;
	     cur = daos_acl_get_next_ace(old, cur)) {
		if (cur == victim)
			continue;
		memcpy(pen, cur, ace_size(cur));
		pen += ace_size(cur);
	}
	new_acl->dal_len = (uint32_t)(pen - new_acl->dal_ace);

	daos_acl_free(old);
	*acl = new_acl;
	return 0;
}

int
daos_acl_validate(struct daos_acl *acl)
{
	struct daos_ace *cur;
	struct daos_ace *prev;
	size_t used = 0;
	int last_type = -1;

	if (acl == NULL)
		return -DER_INVAL;
	if (acl->dal_ver != DAOS_ACL_VERSION) {
		D_DEBUG("ACL version %u, expected %u\n", acl->dal_ver, DAOS_ACL_VERSION);
		return -DER_INVAL;
	}
	if (acl->dal_len > 0 &&
	    (acl->dal_len < sizeof(struct daos_ace) || acl->dal_len > DAOS_ACL_MAX_ACE_LEN)) {
		D_DEBUG("ACL length %u out of range\n", acl->dal_len);
		return -DER_INVAL;
	}
	if (acl->dal_len % ACE_ALIGN != 0)
		return -DER_INVAL;

	for (cur = daos_acl_get_next_ace(acl, NULL); cur != NULL;
	     cur = daos_acl_get_next_ace(acl, cur)) {
		if (!daos_ace_is_valid(cur))
			return -DER_INVAL;
		if ((int)cur->dae_principal_type < last_type)
			return -DER_INVAL;
		/* Duplicates have the same type, so they sit next to each other's kind. */
		for (prev = daos_acl_get_next_ace(acl, NULL); prev != cur;
		     prev = daos_acl_get_next_ace(acl, prev)) {
			if (aces_same_principal(prev, cur))
				return -DER_INVAL;
		}
		last_type = cur->dae_principal_type;
		used += ace_size(cur);
	}
	if (used != acl->dal_len) {
		D_DEBUG("ACL entries cover %zu of %u bytes\n", used, acl->dal_len);
		return -DER_INVAL;
	}
	return 0;
}

static int
validate_with_perms(struct daos_acl *acl, uint64_t allowed)
{
	struct daos_ace *cur;
	int rc;

	rc = daos_acl_validate(acl);
	if (rc != 0)
		return rc;
	for (cur = daos_acl_get_next_ace(acl, NULL); cur != NULL;
	     cur = daos_acl_get_next_ace(acl, cur)) {
		if (!perms_within(cur, allowed))
			return -DER_INVAL;
	}
	return 0;
}

int
daos_acl_pool_validate(struct daos_acl *acl)
{
	return validate_with_perms(acl, DAOS_ACL_PERM_POOL_ALL);
}

int
daos_acl_cont_validate(struct daos_acl *acl)
{
	return validate_with_perms(acl, DAOS_ACL_PERM_CONT_ALL);
}

/* Dumps, for debugging: names of bits, one per line. */

static const char *const type_names[] = {"Owner", "User", "Owner Group", "Group", "Everyone"};
static const char *const access_names[] = {"Allow", "Audit", "Alarm"};
static const char *const flag_names[] = {"Group", "Pool Inherit", "Access Fail", "Access Success"};
static const char *const perm_names[] = {
    "Read",     "Write",   "Create Container", "Delete Container", "Get Prop",
    "Set Prop", "Get ACL", "Set ACL",          "Set Owner"};

static void
indent(uint32_t tabs)
{
	uint32_t i;

	for (i = 0; i < tabs; i++)
		putchar('\t');
}

static void
dump_bits(uint32_t tabs, const char *title, uint64_t bits, const char *const *names, int nr)
{
	int i;

	indent(tabs);
	printf("%s:\n", title);
	if (bits == 0) {
		indent(tabs + 1);
		printf("None\n");
		return;
	}
	for (i = 0; i < 64; i++) {
		if (!(bits & (1ULL << i)))
			continue;
		indent(tabs + 1);
		printf("%s (%#llx)\n", i < nr ? names[i] : "Unknown", 1ULL << i);
	}
}

void
daos_ace_dump(struct daos_ace *ace, uint32_t tabs)
{
	indent(tabs);
	printf("Access Control Entry:\n");
	if (ace == NULL) {
		indent(tabs + 1);
		printf("NULL\n");
		return;
	}
	indent(tabs + 1);
	printf("Principal Type: %s (%u)\n",
	       sec_type_is_valid(ace->dae_principal_type) ? type_names[ace->dae_principal_type]
							  : "Unknown",
	       ace->dae_principal_type);
	indent(tabs + 1);
	printf("Principal Length: %u\n", ace->dae_principal_len);
	if (ace->dae_principal_len > 0 && name_is_terminated(ace)) {
		indent(tabs + 1);
		printf("Principal Name: \"%s\"\n", ace->dae_principal);
	}
	dump_bits(tabs + 1, "Access Types", ace->dae_access_types, access_names,
		  (int)D_ARRAY_SIZE(access_names));
	dump_bits(tabs + 1, "Flags", ace->dae_access_flags, flag_names,
		  (int)D_ARRAY_SIZE(flag_names));
	dump_bits(tabs + 1, "Allow Permissions", ace->dae_allow_perms, perm_names,
		  (int)D_ARRAY_SIZE(perm_names));
	dump_bits(tabs + 1, "Audit Permissions", ace->dae_audit_perms, perm_names,
		  (int)D_ARRAY_SIZE(perm_names));
	dump_bits(tabs + 1, "Alarm Permissions", ace->dae_alarm_perms, perm_names,
		  (int)D_ARRAY_SIZE(perm_names));
}

void
daos_acl_dump(struct daos_acl *acl)
{
	struct daos_ace *cur;

	printf("Access Control List:\n");
	if (acl == NULL) {
		printf("\tNULL\n");
		return;
	}
	printf("\tVersion: %u\n", acl->dal_ver);
	printf("\tLength: %u\n", acl->dal_len);
	for (cur = daos_acl_get_next_ace(acl, NULL); cur != NULL;
	     cur = daos_acl_get_next_ace(acl, cur))
		daos_ace_dump(cur, 1);
}
