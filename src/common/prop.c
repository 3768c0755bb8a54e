/*
 * prop.c: property lists (daos_prop_t): allocation, typed values (integers, strings, blobs:
 * ACLs, container roots, the service rank list), lookup, merge, copy, and parsing of the
 * "name:value;..." form the daos tool takes. Values are owned by their entry: setting one
 * frees what it replaces, freeing the list frees them all.
 */
#define D_LOGFAC common

#include <stdlib.h>
#include <strings.h>

#include "common_internal.h"
#include <daos_security.h>
#include <daos/prop.h>

bool
daos_prop_type_valid(uint32_t type)
{
	return (type > DAOS_PROP_PO_MIN && type < DAOS_PROP_PO_MAX) ||
	       (type > DAOS_PROP_CO_MIN && type < DAOS_PROP_CO_MAX);
}

static bool
prop_type_is_str(uint32_t type)
{
	switch (type) {
	case DAOS_PROP_PO_LABEL:
	case DAOS_PROP_PO_OWNER:
	case DAOS_PROP_PO_OWNER_GROUP:
	case DAOS_PROP_CO_LABEL:
	case DAOS_PROP_CO_OWNER:
	case DAOS_PROP_CO_OWNER_GROUP:
		return true;
	default:
		return false;
	}
}

static bool
prop_type_is_ptr(uint32_t type)
{
	return type == DAOS_PROP_PO_ACL || type == DAOS_PROP_CO_ACL || type == DAOS_PROP_CO_ROOTS;
}

bool
daos_prop_has_str(struct daos_prop_entry *entry)
{
	return entry != NULL && prop_type_is_str(entry->dpe_type);
}

bool
daos_prop_has_ptr(struct daos_prop_entry *entry)
{
	return entry != NULL && prop_type_is_ptr(entry->dpe_type);
}

static size_t
prop_acl_size(const struct daos_acl *acl)
{
	return sizeof(*acl) + acl->dal_len;
}

/* Free the value of @entry, whatever its kind, and mark it unset. */
static void
prop_entry_value_fini(struct daos_prop_entry *entry)
{
	if (prop_type_is_str(entry->dpe_type)) {
		D_FREE(entry->dpe_str);
	} else if (prop_type_is_ptr(entry->dpe_type)) {
		D_FREE(entry->dpe_val_ptr);
	} else if (entry->dpe_type == DAOS_PROP_PO_SVC_LIST) {
		d_rank_list_free((d_rank_list_t *)entry->dpe_val_ptr);
		entry->dpe_val_ptr = NULL;
	} else {
		entry->dpe_val = 0;
	}
}

daos_prop_t *
daos_prop_alloc(uint32_t entries_nr)
{
	daos_prop_t *prop;

	if (entries_nr > DAOS_PROP_ENTRIES_MAX_NR) {
		D_ERROR("%u property entries, at most %d\n", entries_nr, DAOS_PROP_ENTRIES_MAX_NR);
		return NULL;
	}
	D_ALLOC_PTR(prop);
	if (prop == NULL)
		return NULL;
	if (entries_nr > 0) {
		D_ALLOC_ARRAY(prop->dpp_entries, entries_nr);
		if (prop->dpp_entries == NULL) {
			D_FREE(prop);
			return NULL;
		}
	}
	prop->dpp_nr = entries_nr;
	return prop;
}

void
daos_prop_fini(daos_prop_t *prop)
{
	uint32_t i;

	if (prop == NULL)
		return;
	for (i = 0; prop->dpp_entries != NULL && i < prop->dpp_nr; i++)
		prop_entry_value_fini(&prop->dpp_entries[i]);
	D_FREE(prop->dpp_entries);
	prop->dpp_nr = 0;
}

void
daos_prop_free(daos_prop_t *prop)
{
	if (prop == NULL)
		return;
	daos_prop_fini(prop);
	D_FREE(prop);
}

struct daos_prop_entry *
daos_prop_entry_get(daos_prop_t *prop, uint32_t type)
{
	uint32_t i;

	if (prop == NULL || prop->dpp_entries == NULL)
		return NULL;
	for (i = 0; i < prop->dpp_nr; i++) {
		if (prop->dpp_entries[i].dpe_type == type)
			return &prop->dpp_entries[i];
	}
	return NULL;
}

int
daos_prop_entry_set_str(struct daos_prop_entry *entry, const char *str, daos_size_t len)
{
	char *copy;

	if (entry == NULL || str == NULL || len == 0 || !prop_type_is_str(entry->dpe_type))
		return -DER_INVAL;
	D_STRNDUP(copy, str, len);
	if (copy == NULL)
		return -DER_NOMEM;
	D_FREE(entry->dpe_str);
	entry->dpe_str = copy;
	entry->dpe_flags &= ~DAOS_PROP_ENTRY_NOT_SET;
	return 0;
}

int
daos_prop_set_str(daos_prop_t *prop, uint32_t type, const char *str, daos_size_t len)
{
	struct daos_prop_entry *entry = daos_prop_entry_get(prop, type);

	if (entry == NULL)
		return -DER_NONEXIST;
	return daos_prop_entry_set_str(entry, str, len);
}

int
daos_prop_entry_set_ptr(struct daos_prop_entry *entry, const void *ptr, daos_size_t size)
{
	void *copy;

	if (entry == NULL || ptr == NULL || size == 0 || !prop_type_is_ptr(entry->dpe_type))
		return -DER_INVAL;
	if (entry->dpe_type == DAOS_PROP_CO_ROOTS && size != sizeof(struct daos_prop_co_roots))
		return -DER_INVAL;
	if ((entry->dpe_type == DAOS_PROP_PO_ACL || entry->dpe_type == DAOS_PROP_CO_ACL) &&
	    (size < sizeof(struct daos_acl) || size != prop_acl_size((const struct daos_acl *)ptr)))
		return -DER_INVAL;
	D_ALLOC(copy, size);
	if (copy == NULL)
		return -DER_NOMEM;
	memcpy(copy, ptr, size);
	D_FREE(entry->dpe_val_ptr);
	entry->dpe_val_ptr = copy;
	entry->dpe_flags &= ~DAOS_PROP_ENTRY_NOT_SET;
	return 0;
}

int
daos_prop_set_ptr(daos_prop_t *prop, uint32_t type, const void *ptr, daos_size_t size)
{
	struct daos_prop_entry *entry = daos_prop_entry_get(prop, type);

	if (entry == NULL)
		return -DER_NONEXIST;
	return daos_prop_entry_set_ptr(entry, ptr, size);
}

int
daos_prop_entry_dup_ptr(struct daos_prop_entry *entry_dst, struct daos_prop_entry *entry_src,
			size_t len)
{
	void *copy;

	if (entry_dst == NULL || entry_src == NULL || entry_src->dpe_val_ptr == NULL || len == 0)
		return -DER_INVAL;
	D_ALLOC(copy, len);
	if (copy == NULL)
		return -DER_NOMEM;
	memcpy(copy, entry_src->dpe_val_ptr, len);
	D_FREE(entry_dst->dpe_val_ptr);
	entry_dst->dpe_val_ptr = copy;
	return 0;
}

int
daos_prop_entry_dup_co_roots(struct daos_prop_entry *dst, struct daos_prop_entry *src)
{
	return daos_prop_entry_dup_ptr(dst, src, sizeof(struct daos_prop_co_roots));
}

int
daos_prop_entry_cmp_acl(struct daos_prop_entry *entry1, struct daos_prop_entry *entry2)
{
	const struct daos_acl *a;
	const struct daos_acl *b;

	if (entry1 == NULL || entry2 == NULL)
		return -DER_INVAL;
	a = entry1->dpe_val_ptr;
	b = entry2->dpe_val_ptr;
	if (a == NULL || b == NULL)
		return a == b ? 0 : -DER_MISMATCH;
	if (prop_acl_size(a) != prop_acl_size(b) || memcmp(a, b, prop_acl_size(a)) != 0)
		return -DER_MISMATCH;
	return 0;
}

/* Deep-copy the value of @src into @dst (same type; @dst's old value freed). */
static int
prop_entry_copy(struct daos_prop_entry *dst, const struct daos_prop_entry *src)
{
	int rc = 0;

	if (dst != src)
		prop_entry_value_fini(dst);
	dst->dpe_type = src->dpe_type;
	dst->dpe_flags = src->dpe_flags;
	dst->dpe_reserv = 0;
	if (src->dpe_flags & DAOS_PROP_ENTRY_NOT_SET)
		return 0;
	if (prop_type_is_str(src->dpe_type)) {
		dst->dpe_str = NULL;
		if (src->dpe_str != NULL) {
			D_STRNDUP(dst->dpe_str, src->dpe_str, strlen(src->dpe_str));
			if (dst->dpe_str == NULL)
				rc = -DER_NOMEM;
		}
	} else if (prop_type_is_ptr(src->dpe_type)) {
		size_t size;

		dst->dpe_val_ptr = NULL;
		if (src->dpe_val_ptr == NULL)
			return 0;
		if (src->dpe_type == DAOS_PROP_CO_ROOTS)
			size = sizeof(struct daos_prop_co_roots);
		else
			size = prop_acl_size(src->dpe_val_ptr);
		D_ALLOC(dst->dpe_val_ptr, size);
		if (dst->dpe_val_ptr == NULL)
			rc = -DER_NOMEM;
		else
			memcpy(dst->dpe_val_ptr, src->dpe_val_ptr, size);
	} else if (src->dpe_type == DAOS_PROP_PO_SVC_LIST) {
		d_rank_list_t *list = NULL;

		dst->dpe_val_ptr = NULL;
		if (src->dpe_val_ptr == NULL)
			return 0;
		rc = d_rank_list_dup(&list, src->dpe_val_ptr);
		dst->dpe_val_ptr = list;
	} else {
		dst->dpe_val = src->dpe_val;
	}
	return rc;
}

daos_prop_t *
daos_prop_dup(const daos_prop_t *prop)
{
	daos_prop_t *dup;
	uint32_t i;

	if (prop == NULL)
		return NULL;
	dup = daos_prop_alloc(prop->dpp_nr);
	if (dup == NULL)
		return NULL;
	for (i = 0; i < prop->dpp_nr; i++) {
		if (!daos_prop_type_valid(prop->dpp_entries[i].dpe_type) ||
		    prop_entry_copy(&dup->dpp_entries[i], &prop->dpp_entries[i]) != 0) {
			daos_prop_free(dup);
			return NULL;
		}
	}
	return dup;
}

int
daos_prop_copy(daos_prop_t *prop_req, const daos_prop_t *prop_reply)
{
	uint32_t i;
	uint32_t j;
	int rc;

	if (prop_req == NULL || prop_reply == NULL)
		return -DER_INVAL;
	if (prop_req->dpp_nr == 0) {
		if (prop_reply->dpp_nr > DAOS_PROP_ENTRIES_MAX_NR)
			return -DER_INVAL;
		D_ALLOC_ARRAY(prop_req->dpp_entries, prop_reply->dpp_nr);
		if (prop_reply->dpp_nr > 0 && prop_req->dpp_entries == NULL)
			return -DER_NOMEM;
		prop_req->dpp_nr = prop_reply->dpp_nr;
		for (i = 0; i < prop_reply->dpp_nr; i++)
			prop_req->dpp_entries[i].dpe_type = prop_reply->dpp_entries[i].dpe_type;
	}
	for (i = 0; i < prop_req->dpp_nr; i++) {
		struct daos_prop_entry *req = &prop_req->dpp_entries[i];
		const struct daos_prop_entry *rep = NULL;

		for (j = 0; j < prop_reply->dpp_nr; j++) {
			if (prop_reply->dpp_entries[j].dpe_type == req->dpe_type) {
				rep = &prop_reply->dpp_entries[j];
				break;
			}
		}
		if (rep == NULL) {
			prop_entry_value_fini(req);
			req->dpe_flags |= DAOS_PROP_ENTRY_NOT_SET;
			continue;
		}
		rc = prop_entry_copy(req, rep);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
daos_prop_merge2(daos_prop_t *old_prop, daos_prop_t *new_prop, daos_prop_t **out_prop)
{
	daos_prop_t *out;
	uint32_t extra = 0;
	uint32_t n;
	uint32_t i;
	int rc;

	if (old_prop == NULL || new_prop == NULL || out_prop == NULL)
		return -DER_INVAL;
	for (i = 0; i < new_prop->dpp_nr; i++) {
		if (daos_prop_entry_get(old_prop, new_prop->dpp_entries[i].dpe_type) == NULL)
			extra++;
	}
	if (old_prop->dpp_nr + extra > DAOS_PROP_ENTRIES_MAX_NR)
		return -DER_INVAL;
	out = daos_prop_alloc(old_prop->dpp_nr + extra);
	if (out == NULL)
		return -DER_NOMEM;
	for (i = 0; i < old_prop->dpp_nr; i++) {
		struct daos_prop_entry *src = &old_prop->dpp_entries[i];
		struct daos_prop_entry *upd = daos_prop_entry_get(new_prop, src->dpe_type);

		rc = prop_entry_copy(&out->dpp_entries[i], upd != NULL ? upd : src);
		if (rc != 0)
			goto out_free;
	}
	n = old_prop->dpp_nr;
	for (i = 0; i < new_prop->dpp_nr; i++) {
		struct daos_prop_entry *src = &new_prop->dpp_entries[i];

		if (daos_prop_entry_get(old_prop, src->dpe_type) != NULL)
			continue;
		rc = prop_entry_copy(&out->dpp_entries[n++], src);
		if (rc != 0)
			goto out_free;
	}
	*out_prop = out;
	return 0;

out_free:
	daos_prop_free(out);
	return rc;
}

daos_prop_t *
daos_prop_merge(daos_prop_t *old_prop, daos_prop_t *new_prop)
{
	daos_prop_t *out = NULL;

	if (daos_prop_merge2(old_prop, new_prop, &out) != 0)
		return NULL;
	return out;
}

/* Names of enumerated values in the "name:value" form, index = value. */
static const char *const prop_csum_names[] = {"off",  "crc16",  "crc32",  "crc64",
					      "sha1", "sha256", "sha512", "adler32"};
static const char *const prop_dedup_names[] = {"off", "memcmp", "hash"};
static const char *const prop_compress_names[] = {"off",      "lz4",      "deflate", "deflate1",
						  "deflate2", "deflate3", "deflate4"};
static const char *const prop_encrypt_names[] = {"off",        "aes-xts128", "aes-xts256",
						 "aes-cbc128", "aes-cbc192", "aes-cbc256",
						 "aes-gcm128", "aes-gcm256"};
static const char *const prop_onoff_names[] = {"off", "on"};

static int
prop_parse_enum(const char *val, const char *const *names, int nr, uint64_t *out)
{
	int i;

	for (i = 0; i < nr; i++) {
		if (strcasecmp(val, names[i]) == 0) {
			*out = (uint64_t)i;
			return 0;
		}
	}
	return -DER_INVAL;
}

static int
prop_parse_u64(const char *val, uint64_t *out)
{
	char *end;

	if (*val == '\0' || *val == '-')
		return -DER_INVAL;
	*out = strtoull(val, &end, 0);
	return *end == '\0' ? 0 : -DER_INVAL;
}

#define PROP_NAMES(a) (a), (int)(sizeof(a) / sizeof((a)[0]))

/* Parse one "name:value" into @entry. */
static int
prop_parse_one(char *item, struct daos_prop_entry *entry)
{
	char *val = strchr(item, ':');
	uint64_t v = 0;
	int rc;

	if (val == NULL)
		return -DER_INVAL;
	*val++ = '\0';
	if (strcmp(item, "label") == 0) {
		if (!daos_label_is_valid(val))
			return -DER_INVAL;
		entry->dpe_type = DAOS_PROP_CO_LABEL;
		return daos_prop_entry_set_str(entry, val, strlen(val));
	}
	if (strcmp(item, "cksum") == 0) {
		entry->dpe_type = DAOS_PROP_CO_CSUM;
		rc = prop_parse_enum(val, PROP_NAMES(prop_csum_names), &v);
	} else if (strcmp(item, "cksum_size") == 0) {
		entry->dpe_type = DAOS_PROP_CO_CSUM_CHUNK_SIZE;
		rc = prop_parse_u64(val, &v);
	} else if (strcmp(item, "srv_cksum") == 0) {
		entry->dpe_type = DAOS_PROP_CO_CSUM_SERVER_VERIFY;
		rc = prop_parse_enum(val, PROP_NAMES(prop_onoff_names), &v);
	} else if (strcmp(item, "dedup") == 0) {
		entry->dpe_type = DAOS_PROP_CO_DEDUP;
		rc = prop_parse_enum(val, PROP_NAMES(prop_dedup_names), &v);
	} else if (strcmp(item, "dedup_threshold") == 0) {
		entry->dpe_type = DAOS_PROP_CO_DEDUP_THRESHOLD;
		rc = prop_parse_u64(val, &v);
	} else if (strcmp(item, "compression") == 0) {
		entry->dpe_type = DAOS_PROP_CO_COMPRESS;
		rc = prop_parse_enum(val, PROP_NAMES(prop_compress_names), &v);
	} else if (strcmp(item, "encryption") == 0) {
		entry->dpe_type = DAOS_PROP_CO_ENCRYPT;
		rc = prop_parse_enum(val, PROP_NAMES(prop_encrypt_names), &v);
	} else if (strcmp(item, "rf") == 0) {
		entry->dpe_type = DAOS_PROP_CO_REDUN_FAC;
		rc = prop_parse_u64(val, &v);
		if (rc == 0 && !daos_rf_is_valid(v))
			rc = -DER_INVAL;
	} else if (strcmp(item, "ec_cell_sz") == 0) {
		entry->dpe_type = DAOS_PROP_CO_EC_CELL_SZ;
		rc = prop_parse_u64(val, &v);
		if (rc == 0 && (v < DAOS_PROP_PO_EC_CELL_SZ_MIN || v > DAOS_PROP_PO_EC_CELL_SZ_MAX))
			rc = -DER_INVAL;
	} else {
		rc = -DER_INVAL;
	}
	if (rc == 0)
		entry->dpe_val = v;
	return rc;
}

int
daos_prop_from_str(const char *str, daos_size_t len, daos_prop_t **prop_out)
{
	daos_prop_t *prop = NULL;
	char *copy;
	char *item;
	char *save = NULL;
	uint32_t nr = 0;
	uint32_t i;
	int rc = 0;

	if (str == NULL || len == 0 || prop_out == NULL)
		return -DER_INVAL;
	D_STRNDUP(copy, str, len);
	if (copy == NULL)
		return -DER_NOMEM;
	for (i = 0; copy[i] != '\0'; i++)
		nr += copy[i] == ';';
	prop = daos_prop_alloc(0);
	if (prop == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	D_ALLOC_ARRAY(prop->dpp_entries, nr + 1);
	if (prop->dpp_entries == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	for (item = strtok_r(copy, ";", &save); item != NULL; item = strtok_r(NULL, ";", &save)) {
		struct daos_prop_entry *entry = &prop->dpp_entries[prop->dpp_nr];

		if (prop->dpp_nr >= DAOS_PROP_ENTRIES_MAX_NR) {
			rc = -DER_INVAL;
			goto out;
		}
		rc = prop_parse_one(item, entry);
		prop->dpp_nr++; /* counted even on error, so that its value is freed */
		if (rc != 0)
			goto out;
		for (i = 0; i + 1 < prop->dpp_nr; i++) {
			if (prop->dpp_entries[i].dpe_type == entry->dpe_type) {
				rc = -DER_INVAL;
				goto out;
			}
		}
	}
	if (prop->dpp_nr == 0)
		rc = -DER_INVAL;
out:
	D_FREE(copy);
	if (rc != 0) {
		D_ERROR("invalid property string: " DF_RC "\n", DP_RC(rc));
		daos_prop_free(prop);
		return rc;
	}
	*prop_out = prop;
	return 0;
}
