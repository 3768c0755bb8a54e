/*
 * daos_cmd_cont.c: `daos container ...` (create, destroy, query, properties, snapshots,
 * ACLs, owner) and `daos object query`. POSIX containers are created through libdfs
 * (dfs_cont_create), every other type through daos_cont_create with a layout property.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <daos.h>
#include <daos_fs.h>
#include <daos/object.h>
#include <gurt/common.h>

#include "daos_internal.h"

static const char *const layout_names[] = {"unknown",  "POSIX", "HDF5",    "PYTHON", "SPARK",
					   "DATABASE", "ROOT",  "SEISMIC", "METEO"};

/* DAOS's names and descriptions of the container properties, as `daos cont get-prop`. */
struct prop_desc {
	uint32_t pd_type;
	const char *pd_name;
	const char *pd_desc;
};

static const struct prop_desc prop_descs[] = {
    {DAOS_PROP_CO_LABEL, "label", "Label"},
    {DAOS_PROP_CO_LAYOUT_TYPE, "layout_type", "Layout Type"},
    {DAOS_PROP_CO_LAYOUT_VER, "layout_version", "Layout Version"},
    {DAOS_PROP_CO_CSUM, "cksum", "Checksum"},
    {DAOS_PROP_CO_CSUM_CHUNK_SIZE, "cksum_size", "Checksum Chunk Size"},
    {DAOS_PROP_CO_CSUM_SERVER_VERIFY, "srv_cksum", "Server Checksumming"},
    {DAOS_PROP_CO_REDUN_FAC, "rd_fac", "Redundancy Factor"},
    {DAOS_PROP_CO_REDUN_LVL, "rd_lvl", "Redundancy Level"},
    {DAOS_PROP_CO_SNAPSHOT_MAX, "max_snapshot", "Max Snapshot"},
    {DAOS_PROP_CO_ACL, "acl", "Access Control List"},
    {DAOS_PROP_CO_COMPRESS, "compression", "Compression"},
    {DAOS_PROP_CO_ENCRYPT, "encryption", "Encryption"},
    {DAOS_PROP_CO_OWNER, "owner", "Owner"},
    {DAOS_PROP_CO_OWNER_GROUP, "group", "Group"},
    {DAOS_PROP_CO_DEDUP, "dedup", "Deduplication"},
    {DAOS_PROP_CO_DEDUP_THRESHOLD, "dedup_threshold", "Dedupe Threshold"},
    {DAOS_PROP_CO_ROOTS, "roots", "Root OIDs"},
    {DAOS_PROP_CO_STATUS, "status", "Health"},
    {DAOS_PROP_CO_ALLOCED_OID, "alloc_oid", "Highest Allocated OID"},
    {DAOS_PROP_CO_EC_CELL_SZ, "ec_cell_sz", "EC Cell Size"},
    {DAOS_PROP_CO_EC_PDA, "ec_pda", "Performance domain affinity level of EC"},
    {DAOS_PROP_CO_RP_PDA, "rp_pda", "Performance domain affinity level of RP"},
    {DAOS_PROP_CO_GLOBAL_VERSION, "global_version", "Global Version"},
    {DAOS_PROP_CO_SCRUBBER_DISABLED, "scrubber_disabled", "Scrubber Disabled"},
    {DAOS_PROP_CO_OBJ_VERSION, "obj_version", "Object Version"},
    {DAOS_PROP_CO_PERF_DOMAIN, "perf_domain", "Performance domain level"},
};

static const struct prop_desc *
prop_desc_find(uint32_t type, const char *name)
{
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(prop_descs); i++)
		if ((name == NULL && prop_descs[i].pd_type == type) ||
		    (name != NULL && strcmp(prop_descs[i].pd_name, name) == 0))
			return &prop_descs[i];
	/* DAOS's older spellings */
	if (name != NULL && strcmp(name, "rf") == 0)
		return prop_desc_find(DAOS_PROP_CO_REDUN_FAC, NULL);
	if (name != NULL && strcmp(name, "rf_lvl") == 0)
		return prop_desc_find(DAOS_PROP_CO_REDUN_LVL, NULL);
	return NULL;
}

static const char *
layout_name(uint64_t type)
{
	return type < D_ARRAY_SIZE(layout_names) ? layout_names[type] : "unknown";
}

static int
layout_parse(const char *s, uint16_t *type)
{
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(layout_names); i++)
		if (strcasecmp(s, layout_names[i]) == 0) {
			*type = (uint16_t)i;
			return 0;
		}
	return -DER_INVAL;
}

/* The value of @e as text, into @buf. */
static void
prop_value_str(struct daos_prop_entry *e, char *buf, size_t len)
{
	static const char *const csum[] = {"off",  "crc16",  "crc32",  "crc64",
					   "sha1", "sha256", "sha512", "adler32"};
	static const char *const onoff[] = {"off", "on"};

	if (!daos_prop_is_set(e)) {
		snprintf(buf, len, "not set");
		return;
	}
	switch (e->dpe_type) {
	case DAOS_PROP_CO_LABEL:
	case DAOS_PROP_CO_OWNER:
	case DAOS_PROP_CO_OWNER_GROUP:
		snprintf(buf, len, "%s", e->dpe_str != NULL ? e->dpe_str : "");
		break;
	case DAOS_PROP_CO_LAYOUT_TYPE:
		snprintf(buf, len, "%s (%" PRIu64 ")", layout_name(e->dpe_val), e->dpe_val);
		break;
	case DAOS_PROP_CO_CSUM:
		snprintf(buf, len, "%s", e->dpe_val < 8 ? csum[e->dpe_val] : "unknown");
		break;
	case DAOS_PROP_CO_CSUM_SERVER_VERIFY:
	case DAOS_PROP_CO_SCRUBBER_DISABLED:
		snprintf(buf, len, "%s", e->dpe_val < 2 ? onoff[e->dpe_val] : "unknown");
		break;
	case DAOS_PROP_CO_REDUN_FAC:
		snprintf(buf, len, "rd_fac%" PRIu64, e->dpe_val);
		break;
	case DAOS_PROP_CO_REDUN_LVL:
		snprintf(buf, len, "%s (%" PRIu64 ")",
			 e->dpe_val == DAOS_PROP_CO_REDUN_RANK   ? "rank"
			 : e->dpe_val == DAOS_PROP_CO_REDUN_NODE ? "node"
								 : "unknown",
			 e->dpe_val);
		break;
	case DAOS_PROP_CO_STATUS: {
		struct daos_co_status st;

		daos_prop_val_2_co_status(e->dpe_val, &st);
		snprintf(buf, len, "%s",
			 st.dcs_status == DAOS_PROP_CO_HEALTHY ? "HEALTHY" : "UNCLEAN");
		break;
	}
	case DAOS_PROP_CO_ACL: {
		char **strs = NULL;
		size_t nr = 0;
		size_t i;
		size_t n = 0;

		buf[0] = '\0';
		if (e->dpe_val_ptr == NULL || daos_acl_to_strs(e->dpe_val_ptr, &strs, &nr) != 0)
			break;
		for (i = 0; i < nr; i++) {
			if (n < len)
				n += snprintf(buf + n, len - n, "%s%s", i > 0 ? ", " : "", strs[i]);
			free(strs[i]);
		}
		free(strs);
		break;
	}
	case DAOS_PROP_CO_ROOTS: {
		struct daos_prop_co_roots *r = e->dpe_val_ptr;

		if (r == NULL)
			snprintf(buf, len, "not set");
		else
			snprintf(buf, len, "%" PRIx64 ".%" PRIx64 ", %" PRIx64 ".%" PRIx64,
				 r->cr_oids[0].hi, r->cr_oids[0].lo, r->cr_oids[1].hi,
				 r->cr_oids[1].lo);
		break;
	}
	default:
		snprintf(buf, len, "%" PRIu64, e->dpe_val);
	}
}

int
dt_prop_print(struct dt_ctx *ctx, daos_prop_t *prop)
{
	char val[1024];
	uint32_t i;

	if (ctx->tx_opts.o_json) {
		dt_json_begin(ctx);
		dj_arr_begin(ctx, "response");
	} else {
		fprintf(ctx->tx_out, "Properties for container %s\n%-40s %s\n%-40s %s\n",
			ctx->tx_opts.o_pos[1], "Name", "Value", "----", "-----");
	}
	for (i = 0; i < prop->dpp_nr; i++) {
		struct daos_prop_entry *e = &prop->dpp_entries[i];
		const struct prop_desc *d = prop_desc_find(e->dpe_type, NULL);

		if (d == NULL)
			continue;
		prop_value_str(e, val, sizeof(val));
		if (ctx->tx_opts.o_json) {
			dj_obj_begin(ctx, NULL);
			dj_str(ctx, "name", d->pd_name);
			dj_str(ctx, "description", d->pd_desc);
			if (!daos_prop_is_set(e))
				dj_null(ctx, "value");
			else if (daos_prop_has_str(e) || daos_prop_has_ptr(e) ||
				 e->dpe_type == DAOS_PROP_CO_LAYOUT_TYPE ||
				 e->dpe_type == DAOS_PROP_CO_STATUS)
				dj_str(ctx, "value", val);
			else
				dj_u64(ctx, "value", e->dpe_val);
			dj_obj_end(ctx);
		} else {
			fprintf(ctx->tx_out, "%-40s %s\n", d->pd_desc, val);
		}
	}
	if (ctx->tx_opts.o_json) {
		dj_arr_end(ctx);
		dt_json_end(ctx, NULL, 0);
	}
	return 0;
}

/*
 * @values: "name:value,name:value" (',' or ';' between), the properties settable at
 * creation or with set-prop (daos_prop_from_str), plus owner and group; otherwise names
 * only ("label,owner").
 */
int
dt_props_parse(struct dt_ctx *ctx, const char *str, bool values, daos_prop_t **propp)
{
	char *copy = strdup(str);
	char *save = NULL;
	char *tok;
	daos_prop_t *prop;
	uint32_t n = 0;
	int rc = 0;

	if (copy == NULL)
		return dt_fail(ctx, -DER_NOMEM, "out of memory");
	prop = daos_prop_alloc(DAOS_PROP_ENTRIES_MAX_NR);
	if (prop == NULL) {
		free(copy);
		return dt_fail(ctx, -DER_NOMEM, "out of memory");
	}
	for (tok = strtok_r(copy, ",;", &save); tok != NULL; tok = strtok_r(NULL, ",;", &save)) {
		struct daos_prop_entry *e = &prop->dpp_entries[n];
		char *colon = strchr(tok, ':');

		if (n >= DAOS_PROP_ENTRIES_MAX_NR) {
			rc = dt_fail(ctx, -DER_INVAL, "too many properties");
			break;
		}
		if (!values) {
			const struct prop_desc *d = prop_desc_find(0, tok);

			if (d == NULL) {
				rc = dt_fail(ctx, -DER_INVAL, "unknown property `%s'", tok);
				break;
			}
			e->dpe_type = d->pd_type;
			n++;
			continue;
		}
		if (colon == NULL || colon[1] == '\0') {
			rc = dt_fail(ctx, -DER_INVAL, "property `%s' is not name:value", tok);
			break;
		}
		*colon = '\0';
		if (prop_desc_find(0, tok) == NULL) {
			rc = dt_fail(ctx, -DER_INVAL, "unknown property `%s'", tok);
			break;
		}
		*colon = ':';
		if (strncmp(tok, "owner:", 6) == 0 || strncmp(tok, "group:", 6) == 0) {
			e->dpe_type = tok[0] == 'o' ? DAOS_PROP_CO_OWNER : DAOS_PROP_CO_OWNER_GROUP;
			rc = daos_prop_entry_set_str(e, colon + 1, strlen(colon + 1));
		} else {
			daos_prop_t *one = NULL;

			if (strncmp(tok, "rd_fac:", 7) == 0) {
				/* DAOS's current name of rf */
				memmove(tok + 2, tok + 6, strlen(tok + 6) + 1);
				tok[0] = 'r';
				tok[1] = 'f';
			}
			rc = daos_prop_from_str(tok, strlen(tok), &one);
			if (rc == 0 && one->dpp_nr == 1) {
				*e = one->dpp_entries[0];
				one->dpp_nr = 0; /* the value moved */
			} else if (rc == 0) {
				rc = -DER_INVAL;
			}
			daos_prop_free(one);
		}
		if (rc != 0) {
			rc = dt_fail(ctx, -DER_INVAL, "bad property `%s'", tok);
			break;
		}
		n++;
	}
	free(copy);
	if (rc == 0 && n == 0)
		rc = dt_fail(ctx, -DER_INVAL, "no property given");
	if (rc != 0) {
		daos_prop_free(prop);
		return rc;
	}
	prop->dpp_nr = n;
	*propp = prop;
	return 0;
}

static void
json_ok_null(struct dt_ctx *ctx)
{
	if (ctx->tx_opts.o_json) {
		dt_json_begin(ctx);
		dj_null(ctx, "response");
		dt_json_end(ctx, NULL, 0);
	}
}

/* query (also the report of create) */

static int
cont_info_print(struct dt_ctx *ctx, const struct dt_opts *o)
{
	static const uint32_t types[] = {DAOS_PROP_CO_LABEL, DAOS_PROP_CO_LAYOUT_TYPE,
					 DAOS_PROP_CO_REDUN_FAC, DAOS_PROP_CO_STATUS};
	daos_pool_info_t pinfo;
	daos_cont_info_t info;
	daos_prop_t *prop;
	struct daos_prop_entry *e;
	char puuid[DAOS_UUID_STR_SIZE];
	char cuuid[DAOS_UUID_STR_SIZE];
	char oclass[64] = "";
	const char *label = NULL;
	uint64_t layout = 0;
	uint64_t rf = 0;
	uint64_t chunk = 0;
	bool healthy = true;
	uint32_t i;
	int rc;

	prop = daos_prop_alloc(D_ARRAY_SIZE(types));
	if (prop == NULL)
		return dt_fail(ctx, -DER_NOMEM, "out of memory");
	for (i = 0; i < D_ARRAY_SIZE(types); i++)
		prop->dpp_entries[i].dpe_type = types[i];
	rc = daos_cont_query(ctx->tx_coh, &info, prop, NULL);
	if (rc != 0) {
		daos_prop_free(prop);
		return dt_fail(ctx, rc, "failed to query container %s", o->o_pos[1]);
	}
	memset(&pinfo, 0, sizeof(pinfo));
	rc = daos_pool_query(ctx->tx_poh, NULL, &pinfo, NULL, NULL);
	if (rc != 0) {
		daos_prop_free(prop);
		return dt_fail(ctx, rc, "failed to query pool %s", o->o_pos[0]);
	}
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_LABEL);
	if (e != NULL && daos_prop_is_set(e))
		label = e->dpe_str;
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_LAYOUT_TYPE);
	if (e != NULL && daos_prop_is_set(e))
		layout = e->dpe_val;
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_REDUN_FAC);
	if (e != NULL && daos_prop_is_set(e))
		rf = e->dpe_val;
	e = daos_prop_entry_get(prop, DAOS_PROP_CO_STATUS);
	if (e != NULL && daos_prop_is_set(e)) {
		struct daos_co_status st;

		daos_prop_val_2_co_status(e->dpe_val, &st);
		healthy = st.dcs_status == DAOS_PROP_CO_HEALTHY;
	}
	if (layout == DAOS_PROP_CO_LAYOUT_POSIX) {
		dfs_t *dfs;
		dfs_attr_t attr;

		if (dfs_mount(ctx->tx_poh, ctx->tx_coh, O_RDONLY, &dfs) == 0) {
			if (dfs_query(dfs, &attr) == 0) {
				chunk = attr.da_chunk_size;
				if (attr.da_oclass_id != 0)
					daos_oclass_id2name(attr.da_oclass_id, oclass);
			}
			dfs_umount(dfs);
		}
	}
	uuid_unparse_lower(pinfo.pi_uuid, puuid);
	uuid_unparse_lower(info.ci_uuid, cuuid);
	if (o->o_json) {
		dt_json_begin(ctx);
		dj_obj_begin(ctx, "response");
		dj_str(ctx, "pool_uuid", puuid);
		dj_str(ctx, "container_uuid", cuuid);
		if (label != NULL)
			dj_str(ctx, "container_label", label);
		dj_u64(ctx, "latest_snapshot", info.ci_lsnapshot);
		dj_u64(ctx, "redundancy_factor", rf);
		dj_u64(ctx, "num_handles", info.ci_nhandles);
		dj_u64(ctx, "num_snapshots", info.ci_nsnapshots);
		dj_u64(ctx, "open_time", info.ci_md_otime);
		dj_u64(ctx, "close_modify_time", info.ci_md_mtime);
		dj_str(ctx, "container_type", layout_name(layout));
		dj_str(ctx, "health", healthy ? "HEALTHY" : "UNCLEAN");
		if (chunk != 0)
			dj_u64(ctx, "chunk_size", chunk);
		if (oclass[0] != '\0')
			dj_str(ctx, "object_class", oclass);
		dj_obj_end(ctx);
		dt_json_end(ctx, NULL, 0);
	} else {
		FILE *f = ctx->tx_out;

		fprintf(f, "  Container UUID              : %s\n", cuuid);
		if (label != NULL)
			fprintf(f, "  Container Label             : %s\n", label);
		fprintf(f, "  Container Type              : %s\n", layout_name(layout));
		fprintf(f, "  Pool UUID                   : %s\n", puuid);
		fprintf(f, "  Container redundancy factor : %" PRIu64 "\n", rf);
		fprintf(f, "  Number of open handles      : %u\n", info.ci_nhandles);
		fprintf(f, "  Latest open time            : %#" PRIx64 "\n", info.ci_md_otime);
		fprintf(f, "  Latest close/modify time    : %#" PRIx64 "\n", info.ci_md_mtime);
		fprintf(f, "  Number of snapshots         : %u\n", info.ci_nsnapshots);
		fprintf(f, "  Latest Persistent Snapshot  : %#" PRIx64 "\n", info.ci_lsnapshot);
		fprintf(f, "  Health                      : %s\n", healthy ? "HEALTHY" : "UNCLEAN");
		if (oclass[0] != '\0')
			fprintf(f, "  Object Class                : %s\n", oclass);
		if (chunk != 0)
			fprintf(f, "  Chunk Size                  : %" PRIu64 "\n", chunk);
	}
	daos_prop_free(prop);
	return 0;
}

static int
cont_query(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_cont_open(ctx, o, DAOS_COO_RO);

	return rc != 0 ? rc : cont_info_print(ctx, o);
}

const struct dt_cmd dt_cmd_cont_query = {
    "container", "query", NULL, "Query a container", "<pool> <container>", 2, 2, "", cont_query};

/* create, destroy */

static int
cont_create(struct dt_ctx *ctx, const struct dt_opts *o)
{
	const char *label = o->o_pos[1] != NULL ? o->o_pos[1] : o->o_label;
	daos_prop_t *prop = NULL;
	uint16_t type = DAOS_PROP_CO_LAYOUT_UNKNOWN;
	uint64_t chunk = 0;
	int oclass = 0;
	char ustr[DAOS_UUID_STR_SIZE];
	uuid_t uuid;
	struct dt_opts qo;
	int rc;

	if (o->o_pos[1] != NULL && o->o_label != NULL)
		return dt_fail(ctx, -DER_INVAL, "give the label once (positional or --label)");
	if (label != NULL && !daos_label_is_valid(label))
		return dt_fail(ctx, -DER_INVAL, "invalid container label `%s'", label);
	if (o->o_type != NULL && layout_parse(o->o_type, &type) != 0)
		return dt_fail(ctx, -DER_INVAL, "unknown container type `%s'", o->o_type);
	if (o->o_chunk_size != NULL && (dt_size_parse(o->o_chunk_size, &chunk) != 0 || chunk == 0))
		return dt_fail(ctx, -DER_INVAL, "invalid chunk size `%s'", o->o_chunk_size);
	if (o->o_oclass != NULL) {
		oclass = daos_oclass_name2id(o->o_oclass);
		if (oclass == OC_UNKNOWN)
			return dt_fail(ctx, -DER_INVAL, "unknown object class `%s'", o->o_oclass);
	}
	if ((chunk != 0 || oclass != 0) && type != DAOS_PROP_CO_LAYOUT_POSIX)
		return dt_fail(ctx, -DER_INVAL, "--chunk-size and --oclass need --type POSIX");
	if (o->o_props != NULL) {
		rc = dt_props_parse(ctx, o->o_props, true, &prop);
		if (rc != 0)
			return rc;
	}
	rc = dt_pool_connect(ctx, o, true);
	if (rc != 0)
		goto out;
	if (type == DAOS_PROP_CO_LAYOUT_POSIX) {
		dfs_attr_t attr;

		memset(&attr, 0, sizeof(attr));
		attr.da_chunk_size = chunk;
		attr.da_oclass_id = oclass;
		attr.da_props = prop;
		if (label != NULL)
			rc = dfs_cont_create_with_label(ctx->tx_poh, label, &attr, &uuid, NULL,
							NULL);
		else
			rc = dfs_cont_create(ctx->tx_poh, &uuid, &attr, NULL, NULL);
		if (rc != 0) {
			rc = d_errno2der(rc);
			goto out_fail;
		}
	} else {
		daos_prop_t *lprop = daos_prop_alloc(1);
		daos_prop_t *merged = NULL;

		if (lprop == NULL) {
			rc = -DER_NOMEM;
			goto out_fail;
		}
		lprop->dpp_entries[0].dpe_type = DAOS_PROP_CO_LAYOUT_TYPE;
		lprop->dpp_entries[0].dpe_val = type;
		if (prop != NULL) {
			rc = daos_prop_merge2(prop, lprop, &merged);
			daos_prop_free(lprop);
			if (rc != 0)
				goto out_fail;
			lprop = merged;
		}
		if (label != NULL)
			rc = daos_cont_create_with_label(ctx->tx_poh, label, lprop, &uuid, NULL);
		else
			rc = daos_cont_create(ctx->tx_poh, &uuid, lprop, NULL);
		daos_prop_free(lprop);
		if (rc != 0)
			goto out_fail;
	}
	uuid_unparse_lower(uuid, ustr);
	/* report what was created, as a query does */
	qo = *o;
	qo.o_pos[1] = ustr;
	rc = daos_cont_open(ctx->tx_poh, ustr, DAOS_COO_RO, &ctx->tx_coh, NULL, NULL);
	if (rc != 0) {
		rc = dt_fail(ctx, rc, "created container %s, but could not open it", ustr);
		goto out;
	}
	ctx->tx_cont_open = true;
	rc = cont_info_print(ctx, &qo);
	if (rc == 0 && !o->o_json)
		fprintf(ctx->tx_out, "Successfully created container %s\n", ustr);
	goto out;
out_fail:
	rc = dt_fail(ctx, rc, "failed to create container");
out:
	daos_prop_free(prop);
	return rc;
}

const struct dt_cmd dt_cmd_cont_create = {
    "container",        "create", NULL, "Create a container",
    "<pool> [<label>]", 1,        2,    "type,chunk-size,oclass,label,properties",
    cont_create};

static int
cont_destroy(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc;

	rc = dt_pool_connect(ctx, o, true);
	if (rc != 0)
		return rc;
	rc = daos_cont_destroy(ctx->tx_poh, o->o_pos[1], o->o_force, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to destroy container %s", o->o_pos[1]);
	if (o->o_json)
		json_ok_null(ctx);
	else
		fprintf(ctx->tx_out, "Successfully destroyed container %s\n", o->o_pos[1]);
	return 0;
}

const struct dt_cmd dt_cmd_cont_destroy = {
    "container", "destroy", NULL,    "Destroy a container", "<pool> <container>",
    2,           2,         "force", cont_destroy};

/* properties */

static int
cont_get_prop(struct dt_ctx *ctx, const struct dt_opts *o)
{
	daos_prop_t *prop = NULL;
	int rc;

	if (o->o_props != NULL) {
		rc = dt_props_parse(ctx, o->o_props, false, &prop);
		if (rc != 0)
			return rc;
	} else {
		prop = daos_prop_alloc(0);
		if (prop == NULL)
			return dt_fail(ctx, -DER_NOMEM, "out of memory");
	}
	rc = dt_cont_open(ctx, o, DAOS_COO_RO);
	if (rc == 0) {
		rc = daos_cont_query(ctx->tx_coh, NULL, prop, NULL);
		if (rc != 0)
			rc = dt_fail(ctx, rc, "failed to get the properties of container %s",
				     o->o_pos[1]);
		else
			rc = dt_prop_print(ctx, prop);
	}
	daos_prop_free(prop);
	return rc;
}

const struct dt_cmd dt_cmd_cont_get_prop = {
    "container",          "get-prop", NULL, "Print container properties (--properties: only these)",
    "<pool> <container>", 2,          2,    "properties",
    cont_get_prop};

static int
cont_set_prop(struct dt_ctx *ctx, const struct dt_opts *o)
{
	const char *str = o->o_pos[2] != NULL ? o->o_pos[2] : o->o_props;
	daos_prop_t *prop = NULL;
	int rc;

	if (str == NULL || (o->o_pos[2] != NULL && o->o_props != NULL))
		return dt_fail(ctx, -DER_INVAL, "give the properties once: name:value[,...]");
	rc = dt_props_parse(ctx, str, true, &prop);
	if (rc != 0)
		return rc;
	rc = dt_cont_open(ctx, o, DAOS_COO_RW);
	if (rc == 0) {
		rc = daos_cont_set_prop(ctx->tx_coh, prop, NULL);
		if (rc != 0)
			rc = dt_fail(ctx, rc, "failed to set the properties of container %s",
				     o->o_pos[1]);
		else if (o->o_json)
			json_ok_null(ctx);
		else
			fprintf(ctx->tx_out, "Properties were successfully set\n");
	}
	daos_prop_free(prop);
	return rc;
}

const struct dt_cmd dt_cmd_cont_set_prop = {"container",
					    "set-prop",
					    NULL,
					    "Set container properties (name:value[,name:value...])",
					    "<pool> <container> [<name:value,...>]",
					    2,
					    3,
					    "properties",
					    cont_set_prop};

/* snapshots */

static int
cont_create_snap(struct dt_ctx *ctx, const struct dt_opts *o)
{
	daos_epoch_t epoch = 0;
	int rc;

	if (o->o_snap != NULL && strlen(o->o_snap) >= DAOS_SNAPSHOT_MAX_LEN)
		return dt_fail(ctx, -DER_INVAL, "snapshot name too long");
	rc = dt_cont_open(ctx, o, DAOS_COO_RW);
	if (rc != 0)
		return rc;
	rc = daos_cont_create_snap(ctx->tx_coh, &epoch, (char *)o->o_snap, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to create a snapshot of container %s", o->o_pos[1]);
	if (o->o_json) {
		dt_json_begin(ctx);
		dj_obj_begin(ctx, "response");
		dj_u64(ctx, "epoch", epoch);
		if (o->o_snap != NULL)
			dj_str(ctx, "name", o->o_snap);
		dj_obj_end(ctx);
		dt_json_end(ctx, NULL, 0);
	} else {
		fprintf(ctx->tx_out, "snapshot/epoch %#" PRIx64 " has been created\n", epoch);
	}
	return 0;
}

const struct dt_cmd dt_cmd_cont_create_snap = {"container",
					       "create-snap",
					       "snap",
					       "Take a snapshot of a container (-s: its name)",
					       "<pool> <container>",
					       2,
					       2,
					       "snap",
					       cont_create_snap};

/* All snapshots, in new arrays (free both). */
static int
snaps_get(struct dt_ctx *ctx, daos_epoch_t **epochsp, char ***namesp, int *nrp)
{
	daos_epoch_t *epochs = NULL;
	char **names = NULL;
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	int nr = 0;
	int got;
	int i;
	int rc;

	rc = daos_cont_list_snap(ctx->tx_coh, &nr, NULL, NULL, &anchor, NULL);
	while (rc == 0) {
		got = nr;
		epochs = calloc(got + 1, sizeof(*epochs));
		names = calloc(got + 1, sizeof(*names));
		for (i = 0; names != NULL && i < got; i++)
			names[i] = calloc(1, DAOS_SNAPSHOT_MAX_LEN);
		if (epochs == NULL || names == NULL || (got > 0 && names[got - 1] == NULL)) {
			rc = -DER_NOMEM;
			break;
		}
		memset(&anchor, 0, sizeof(anchor));
		rc = daos_cont_list_snap(ctx->tx_coh, &nr, epochs, names, &anchor, NULL);
		if (rc != 0 || nr <= got)
			break;
		/* more appeared meanwhile: again */
		for (i = 0; i < got; i++)
			free(names[i]);
		free(names);
		free(epochs);
		names = NULL;
		epochs = NULL;
	}
	if (rc != 0) {
		for (i = 0; names != NULL && i < nr; i++)
			free(names[i]);
		free(names);
		free(epochs);
		return rc;
	}
	*epochsp = epochs;
	*namesp = names;
	*nrp = nr;
	return 0;
}

static void
snaps_free(daos_epoch_t *epochs, char **names, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	free(epochs);
}

static int
cont_list_snaps(struct dt_ctx *ctx, const struct dt_opts *o)
{
	daos_epoch_t *epochs;
	char **names;
	int nr;
	int i;
	int rc;

	rc = dt_cont_open(ctx, o, DAOS_COO_RO);
	if (rc != 0)
		return rc;
	rc = snaps_get(ctx, &epochs, &names, &nr);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to list the snapshots of container %s",
			       o->o_pos[1]);
	if (o->o_json) {
		dt_json_begin(ctx);
		dj_arr_begin(ctx, "response");
	} else {
		fprintf(ctx->tx_out, "Container's snapshots :\n");
		if (nr == 0)
			fprintf(ctx->tx_out, "no snapshots\n");
	}
	for (i = 0; i < nr; i++) {
		if (o->o_json) {
			dj_obj_begin(ctx, NULL);
			dj_u64(ctx, "epoch", epochs[i]);
			dj_str(ctx, "name", names[i]);
			dj_obj_end(ctx);
		} else {
			fprintf(ctx->tx_out, "%#" PRIx64 " %s\n", epochs[i], names[i]);
		}
	}
	if (o->o_json) {
		dj_arr_end(ctx);
		dt_json_end(ctx, NULL, 0);
	}
	snaps_free(epochs, names, nr);
	return 0;
}

const struct dt_cmd dt_cmd_cont_list_snaps = {"container",
					      "list-snaps",
					      "list-snap",
					      "List the snapshots of a container",
					      "<pool> <container>",
					      2,
					      2,
					      "",
					      cont_list_snaps};

static int
cont_destroy_snap(struct dt_ctx *ctx, const struct dt_opts *o)
{
	daos_epoch_range_t epr = {0, 0};
	int given = (o->o_snap != NULL) + (o->o_epc != NULL) + (o->o_epcrange != NULL);
	int rc;

	if (given != 1)
		return dt_fail(ctx, -DER_INVAL, "give exactly one of --snap, --epc, --epcrange");
	if (o->o_epc != NULL) {
		if (dt_u64_parse(o->o_epc, &epr.epr_lo) != 0 || epr.epr_lo == 0)
			return dt_fail(ctx, -DER_INVAL, "invalid epoch `%s'", o->o_epc);
		epr.epr_hi = epr.epr_lo;
	} else if (o->o_epcrange != NULL) {
		char lo[32];
		const char *dash = strchr(o->o_epcrange, '-');

		if (dash == NULL || (size_t)(dash - o->o_epcrange) >= sizeof(lo))
			return dt_fail(ctx, -DER_INVAL, "invalid epoch range `%s' (LOW-HIGH)",
				       o->o_epcrange);
		memcpy(lo, o->o_epcrange, dash - o->o_epcrange);
		lo[dash - o->o_epcrange] = '\0';
		if (dt_u64_parse(lo, &epr.epr_lo) != 0 ||
		    dt_u64_parse(dash + 1, &epr.epr_hi) != 0 || epr.epr_lo > epr.epr_hi ||
		    epr.epr_hi == 0)
			return dt_fail(ctx, -DER_INVAL, "invalid epoch range `%s' (LOW-HIGH)",
				       o->o_epcrange);
	}
	rc = dt_cont_open(ctx, o, DAOS_COO_RW);
	if (rc != 0)
		return rc;
	if (o->o_snap != NULL) {
		daos_epoch_t *epochs;
		char **names;
		int nr;
		int i;

		rc = snaps_get(ctx, &epochs, &names, &nr);
		if (rc != 0)
			return dt_fail(ctx, rc, "failed to list the snapshots");
		for (i = 0; i < nr; i++)
			if (strcmp(names[i], o->o_snap) == 0)
				break;
		if (i < nr)
			epr.epr_lo = epr.epr_hi = epochs[i];
		snaps_free(epochs, names, nr);
		if (i == nr)
			return dt_fail(ctx, -DER_NONEXIST, "no snapshot named `%s'", o->o_snap);
	}
	rc = daos_cont_destroy_snap(ctx->tx_coh, epr, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to destroy snapshots of container %s", o->o_pos[1]);
	json_ok_null(ctx);
	return 0;
}

const struct dt_cmd dt_cmd_cont_destroy_snap = {
    "container",
    "destroy-snap",
    NULL,
    "Destroy snapshots of a container (--snap NAME, --epc EPOCH or --epcrange LOW-HIGH)",
    "<pool> <container>",
    2,
    2,
    "snap,epc,epcrange",
    cont_destroy_snap};

/* ACL and owner */

static int
acl_print(struct dt_ctx *ctx, const struct dt_opts *o)
{
	daos_prop_t *prop = NULL;
	struct daos_prop_entry *acl;
	struct daos_prop_entry *owner;
	struct daos_prop_entry *group;
	FILE *f = ctx->tx_out;
	int rc;

	rc = daos_cont_get_acl(ctx->tx_coh, &prop, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to get the ACL of container %s", o->o_pos[1]);
	acl = daos_prop_entry_get(prop, DAOS_PROP_CO_ACL);
	owner = daos_prop_entry_get(prop, DAOS_PROP_CO_OWNER);
	group = daos_prop_entry_get(prop, DAOS_PROP_CO_OWNER_GROUP);
	if (o->o_outfile != NULL) {
		f = fopen(o->o_outfile, "w");
		if (f == NULL) {
			daos_prop_free(prop);
			return dt_fail(ctx, -DER_IO, "cannot write %s", o->o_outfile);
		}
	}
	if (o->o_json && o->o_outfile == NULL) {
		char **strs = NULL;
		size_t nr = 0;
		size_t i;

		if (acl != NULL && daos_prop_is_set(acl) && acl->dpe_val_ptr != NULL)
			daos_acl_to_strs(acl->dpe_val_ptr, &strs, &nr);
		dt_json_begin(ctx);
		dj_obj_begin(ctx, "response");
		dj_arr_begin(ctx, "entries");
		for (i = 0; i < nr; i++) {
			dj_str(ctx, NULL, strs[i]);
			free(strs[i]);
		}
		free(strs);
		dj_arr_end(ctx);
		dj_str(ctx, "owner_user",
		       owner != NULL && daos_prop_is_set(owner) ? owner->dpe_str : "");
		dj_str(ctx, "owner_group",
		       group != NULL && daos_prop_is_set(group) ? group->dpe_str : "");
		dj_obj_end(ctx);
		dt_json_end(ctx, NULL, 0);
	} else {
		fprintf(f, "# Owner: %s\n# Owner-Group: %s\n",
			owner != NULL && daos_prop_is_set(owner) ? owner->dpe_str : "",
			group != NULL && daos_prop_is_set(group) ? group->dpe_str : "");
		if (acl != NULL && daos_prop_is_set(acl))
			daos_acl_to_stream(f, acl->dpe_val_ptr, o->o_verbose);
	}
	if (f != ctx->tx_out)
		fclose(f);
	daos_prop_free(prop);
	return 0;
}

static int
cont_get_acl(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_cont_open(ctx, o, DAOS_COO_RO);

	return rc != 0 ? rc : acl_print(ctx, o);
}

const struct dt_cmd dt_cmd_cont_get_acl = {
    "container",          "get-acl", NULL, "Print the ACL of a container (-O: into a file)",
    "<pool> <container>", 2,         2,    "verbose,outfile",
    cont_get_acl};

/* The ACL of --entry or of --acl-file (ACEs one a line; '#' comments, blank lines). */
static int
acl_load(struct dt_ctx *ctx, const struct dt_opts *o, struct daos_acl **acl)
{
	const char *aces[1024];
	char line[1024];
	size_t nr = 0;
	size_t i;
	FILE *f;
	int rc;

	if ((o->o_entry != NULL) == (o->o_acl_file != NULL))
		return dt_fail(ctx, -DER_INVAL, "give one of --entry and --acl-file");
	if (o->o_entry != NULL) {
		aces[0] = o->o_entry;
		rc = daos_acl_from_strs(aces, 1, acl);
		if (rc != 0)
			return dt_fail(ctx, -DER_INVAL, "invalid ACE `%s'", o->o_entry);
		return 0;
	}
	f = fopen(o->o_acl_file, "r");
	if (f == NULL)
		return dt_fail(ctx, -DER_INVAL, "cannot read ACL file %s", o->o_acl_file);
	rc = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line;
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
			*--end = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		if (nr == D_ARRAY_SIZE(aces)) {
			rc = -DER_INVAL;
			break;
		}
		aces[nr] = strdup(p);
		if (aces[nr] == NULL) {
			rc = -DER_NOMEM;
			break;
		}
		nr++;
	}
	fclose(f);
	if (rc == 0 && nr == 0)
		rc = -DER_INVAL;
	if (rc == 0)
		rc = daos_acl_from_strs(aces, nr, acl);
	for (i = 0; i < nr; i++)
		free((char *)aces[i]);
	if (rc != 0)
		return dt_fail(ctx, rc, "invalid ACL file %s", o->o_acl_file);
	return 0;
}

static int
acl_change(struct dt_ctx *ctx, const struct dt_opts *o, bool overwrite)
{
	struct daos_acl *acl = NULL;
	int rc;

	if (overwrite && o->o_entry != NULL)
		return dt_fail(ctx, -DER_INVAL, "overwrite-acl takes --acl-file only");
	rc = acl_load(ctx, o, &acl);
	if (rc != 0)
		return rc;
	rc = dt_cont_open(ctx, o, DAOS_COO_RW);
	if (rc == 0) {
		if (overwrite)
			rc = daos_cont_overwrite_acl(ctx->tx_coh, acl, NULL);
		else
			rc = daos_cont_update_acl(ctx->tx_coh, acl, NULL);
		if (rc != 0)
			rc = dt_fail(ctx, rc, "failed to change the ACL of container %s",
				     o->o_pos[1]);
		else
			rc = acl_print(ctx, o);
	}
	daos_acl_free(acl);
	return rc;
}

static int
cont_update_acl(struct dt_ctx *ctx, const struct dt_opts *o)
{
	return acl_change(ctx, o, false);
}

static int
cont_overwrite_acl(struct dt_ctx *ctx, const struct dt_opts *o)
{
	return acl_change(ctx, o, true);
}

const struct dt_cmd dt_cmd_cont_update_acl = {
    "container",
    "update-acl",
    NULL,
    "Add or replace ACL entries (--entry ACE or --acl-file)",
    "<pool> <container>",
    2,
    2,
    "entry,acl-file,verbose",
    cont_update_acl};
const struct dt_cmd dt_cmd_cont_overwrite_acl = {"container",
						 "overwrite-acl",
						 NULL,
						 "Replace the ACL with that of --acl-file",
						 "<pool> <container>",
						 2,
						 2,
						 "acl-file,verbose",
						 cont_overwrite_acl};

static int
cont_delete_acl(struct dt_ctx *ctx, const struct dt_opts *o)
{
	enum daos_acl_principal_type type;
	char *name = NULL;
	int rc;

	if (o->o_principal == NULL)
		return dt_fail(ctx, -DER_INVAL, "--principal is required");
	rc = daos_acl_principal_from_str(o->o_principal, &type, &name);
	if (rc != 0)
		return dt_fail(ctx, -DER_INVAL, "invalid principal `%s'", o->o_principal);
	rc = dt_cont_open(ctx, o, DAOS_COO_RW);
	if (rc == 0) {
		rc = daos_cont_delete_acl(ctx->tx_coh, type, name, NULL);
		if (rc != 0)
			rc = dt_fail(ctx, rc, "failed to delete the ACL entry of %s",
				     o->o_principal);
		else
			rc = acl_print(ctx, o);
	}
	free(name);
	return rc;
}

const struct dt_cmd dt_cmd_cont_delete_acl = {"container",
					      "delete-acl",
					      NULL,
					      "Remove the ACL entry of a principal (--principal)",
					      "<pool> <container>",
					      2,
					      2,
					      "principal,verbose",
					      cont_delete_acl};

static int
cont_set_owner(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc;

	if (o->o_user == NULL && o->o_group == NULL)
		return dt_fail(ctx, -DER_INVAL, "give --user and/or --group");
	if ((o->o_user != NULL && !daos_acl_principal_is_valid(o->o_user)) ||
	    (o->o_group != NULL && !daos_acl_principal_is_valid(o->o_group)))
		return dt_fail(ctx, -DER_INVAL, "owner names are name@ or name@domain");
	rc = dt_cont_open(ctx, o, DAOS_COO_RW);
	if (rc != 0)
		return rc;
	if (o->o_no_check)
		rc = daos_cont_set_owner_no_check(ctx->tx_coh, (char *)o->o_user,
						  (char *)o->o_group, NULL);
	else
		rc = daos_cont_set_owner(ctx->tx_coh, (char *)o->o_user, (char *)o->o_group, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to set the owner of container %s", o->o_pos[1]);
	if (o->o_json)
		json_ok_null(ctx);
	else
		fprintf(ctx->tx_out, "Successfully set owner for container %s\n", o->o_pos[1]);
	return 0;
}

const struct dt_cmd dt_cmd_cont_set_owner = {
    "container",          "set-owner", NULL, "Change the owner user and/or group of a container",
    "<pool> <container>", 2,           2,    "user,group,no-check",
    cont_set_owner};

/* object query: the layout placement gives (no RPC) */

static int
oid_parse(const char *str, daos_obj_id_t *oid)
{
	char hi[32];
	const char *dot = strchr(str, '.');

	if (dot == NULL || (size_t)(dot - str) >= sizeof(hi))
		return -DER_INVAL;
	memcpy(hi, str, dot - str);
	hi[dot - str] = '\0';
	if (dt_u64_parse(hi, &oid->hi) != 0 || dt_u64_parse(dot + 1, &oid->lo) != 0)
		return -DER_INVAL;
	return 0;
}

static int
obj_query(struct dt_ctx *ctx, const struct dt_opts *o)
{
	struct daos_obj_layout *layout = NULL;
	daos_obj_id_t oid;
	char cname[64] = "";
	uint32_t g;
	uint32_t r;
	int rc;

	if (oid_parse(o->o_pos[2], &oid) != 0)
		return dt_fail(ctx, -DER_INVAL, "invalid object id `%s' (HI.LO)", o->o_pos[2]);
	rc = dt_cont_open(ctx, o, DAOS_COO_RO);
	if (rc != 0)
		return rc;
	rc = daos_obj_layout_get(ctx->tx_coh, oid, &layout);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to get the layout of object %s", o->o_pos[2]);
	daos_oclass_id2name(layout->ol_class, cname);
	if (o->o_json) {
		char ostr[64];

		snprintf(ostr, sizeof(ostr), "%" PRIu64 ".%" PRIu64, oid.hi, oid.lo);
		dt_json_begin(ctx);
		dj_obj_begin(ctx, "response");
		dj_str(ctx, "oid", ostr);
		dj_u64(ctx, "version", layout->ol_ver);
		dj_str(ctx, "class", cname);
		dj_arr_begin(ctx, "groups");
		for (g = 0; g < layout->ol_nr; g++) {
			dj_arr_begin(ctx, NULL);
			for (r = 0; r < layout->ol_shards[g]->os_replica_nr; r++) {
				struct daos_shard_loc *l = &layout->ol_shards[g]->os_shard_loc[r];

				dj_obj_begin(ctx, NULL);
				dj_u64(ctx, "rank", l->sd_rank);
				dj_u64(ctx, "target", l->sd_tgt_idx);
				dj_obj_end(ctx);
			}
			dj_arr_end(ctx);
		}
		dj_arr_end(ctx);
		dj_obj_end(ctx);
		dt_json_end(ctx, NULL, 0);
	} else {
		fprintf(ctx->tx_out, "oid: %" PRIu64 ".%" PRIu64 " ver %u class %s grp_nr: %u\n",
			oid.hi, oid.lo, layout->ol_ver, cname, layout->ol_nr);
		for (g = 0; g < layout->ol_nr; g++) {
			fprintf(ctx->tx_out, "grp: %u\n", g);
			for (r = 0; r < layout->ol_shards[g]->os_replica_nr; r++) {
				struct daos_shard_loc *l = &layout->ol_shards[g]->os_shard_loc[r];

				fprintf(ctx->tx_out, "replica %u %u:%u\n", r, l->sd_rank,
					l->sd_tgt_idx);
			}
		}
	}
	daos_obj_layout_free(layout);
	return 0;
}

const struct dt_cmd dt_cmd_obj_query = {"object",
					"query",
					NULL,
					"Print where an object's shards are (rank:target)",
					"<pool> <container> <oid HI.LO>",
					3,
					3,
					"",
					obj_query};
