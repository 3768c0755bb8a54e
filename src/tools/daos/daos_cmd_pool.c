/*
 * daos_cmd_pool.c: `daos pool ...`: query, list-containers, and user attributes, over a
 * read-only pool handle (a read-write one for set-attr and del-attr).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <daos.h>
#include <gurt/common.h>

#include "daos_internal.h"

static int
pool_query(struct dt_ctx *ctx, const struct dt_opts *o)
{
	static const char *const tiers[] = {"SCM", "NVMe"};
	daos_pool_info_t info;
	char ustr[DAOS_UUID_STR_SIZE];
	int rc;
	int i;

	rc = dt_pool_connect(ctx, o, false);
	if (rc != 0)
		return rc;
	memset(&info, 0, sizeof(info));
	info.pi_bits = DPI_SPACE | DPI_REBUILD_STATUS;
	rc = daos_pool_query(ctx->tx_poh, NULL, &info, NULL, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to query pool %s", o->o_pos[0]);
	uuid_unparse_lower(info.pi_uuid, ustr);
	if (o->o_json) {
		dt_json_begin(ctx);
		dj_obj_begin(ctx, "response");
		dj_str(ctx, "uuid", ustr);
		dj_u64(ctx, "total_targets", info.pi_ntargets);
		dj_u64(ctx, "active_targets", info.pi_ntargets - info.pi_ndisabled);
		dj_u64(ctx, "disabled_targets", info.pi_ndisabled);
		dj_u64(ctx, "total_engines", info.pi_nnodes);
		dj_u64(ctx, "leader", info.pi_leader);
		dj_u64(ctx, "version", info.pi_map_ver);
		dj_arr_begin(ctx, "tier_stats");
		for (i = 0; i < DAOS_MEDIA_MAX; i++) {
			dj_obj_begin(ctx, NULL);
			dj_u64(ctx, "total", info.pi_space.ps_space.s_total[i]);
			dj_u64(ctx, "free", info.pi_space.ps_space.s_free[i]);
			dj_u64(ctx, "min", info.pi_space.ps_free_min[i]);
			dj_u64(ctx, "max", info.pi_space.ps_free_max[i]);
			dj_u64(ctx, "mean", info.pi_space.ps_free_mean[i]);
			dj_str(ctx, "media_type", i == 0 ? "scm" : "nvme");
			dj_obj_end(ctx);
		}
		dj_arr_end(ctx);
		dj_obj_begin(ctx, "rebuild");
		dj_str(ctx, "state", info.pi_rebuild_st.rs_state == 2 ? "done" : "busy");
		dj_u64(ctx, "objects", info.pi_rebuild_st.rs_obj_nr);
		dj_u64(ctx, "records", info.pi_rebuild_st.rs_rec_nr);
		dj_obj_end(ctx);
		dj_obj_end(ctx);
		dt_json_end(ctx, NULL, 0);
		return 0;
	}
	fprintf(ctx->tx_out, "Pool %s, ntarget=%u, disabled=%u, leader=%u, version=%u\n", ustr,
		info.pi_ntargets, info.pi_ndisabled, info.pi_leader, info.pi_map_ver);
	fprintf(ctx->tx_out, "Pool space info:\n- Target count:%u\n", info.pi_space.ps_ntargets);
	for (i = 0; i < DAOS_MEDIA_MAX; i++) {
		fprintf(ctx->tx_out, "- Storage tier %d (%s):\n", i, tiers[i]);
		fprintf(ctx->tx_out, "  Total size: %" PRIu64 "\n",
			info.pi_space.ps_space.s_total[i]);
		fprintf(ctx->tx_out,
			"  Free: %" PRIu64 ", min:%" PRIu64 ", max:%" PRIu64 ", mean:%" PRIu64 "\n",
			info.pi_space.ps_space.s_free[i], info.pi_space.ps_free_min[i],
			info.pi_space.ps_free_max[i], info.pi_space.ps_free_mean[i]);
	}
	fprintf(ctx->tx_out, "Rebuild %s, %" PRIu64 " objs, %" PRIu64 " recs\n",
		info.pi_rebuild_st.rs_state == 2 ? "done" : "busy", info.pi_rebuild_st.rs_obj_nr,
		info.pi_rebuild_st.rs_rec_nr);
	return 0;
}

const struct dt_cmd dt_cmd_pool_query = {"pool", "query", NULL, "Query a pool", "<pool>",
					 1,      1,       "",   pool_query};

static int
pool_list_cont(struct dt_ctx *ctx, const struct dt_opts *o)
{
	struct daos_pool_cont_info *conts = NULL;
	daos_size_t n = 0;
	daos_size_t i;
	int rc;

	rc = dt_pool_connect(ctx, o, false);
	if (rc != 0)
		return rc;
	/* the count may grow between the two calls: retry on -DER_TRUNC */
	do {
		rc = daos_pool_list_cont(ctx->tx_poh, &n, NULL, NULL);
		if (rc != 0)
			break;
		free(conts);
		conts = calloc(n + 1, sizeof(*conts));
		if (conts == NULL)
			return dt_fail(ctx, -DER_NOMEM, "out of memory");
		rc = daos_pool_list_cont(ctx->tx_poh, &n, conts, NULL);
	} while (rc == -DER_TRUNC);
	if (rc != 0) {
		free(conts);
		return dt_fail(ctx, rc, "failed to list containers of pool %s", o->o_pos[0]);
	}
	if (o->o_json) {
		dt_json_begin(ctx);
		dj_arr_begin(ctx, "response");
	} else if (n > 0) {
		fprintf(ctx->tx_out, "%-36s %s\n", "UUID", "Label");
		fprintf(ctx->tx_out, "%-36s %s\n", "----", "-----");
	}
	for (i = 0; i < n; i++) {
		char ustr[DAOS_UUID_STR_SIZE];

		uuid_unparse_lower(conts[i].pci_uuid, ustr);
		if (o->o_json) {
			dj_obj_begin(ctx, NULL);
			dj_str(ctx, "uuid", ustr);
			dj_str(ctx, "label", conts[i].pci_label);
			dj_obj_end(ctx);
		} else {
			fprintf(ctx->tx_out, "%-36s %s\n", ustr, conts[i].pci_label);
		}
	}
	if (o->o_json) {
		dj_arr_end(ctx);
		dt_json_end(ctx, NULL, 0);
	}
	free(conts);
	return 0;
}

const struct dt_cmd dt_cmd_pool_list_cont = {
    "pool", "list-containers", "list-cont", "List the containers of a pool", "<pool>", 1, 1,
    "",     pool_list_cont};
/* `daos container list <pool>` is the same command */
const struct dt_cmd dt_cmd_cont_list = {
    "container", "list", "ls", "List the containers of a pool", "<pool>", 1, 1, "", pool_list_cont};

/*
 * Attributes, shared by pools and containers: @coh valid means the container's.
 */
static int
attr_list(struct dt_ctx *ctx, const struct dt_opts *o, bool cont)
{
	char *buf = NULL;
	size_t size = 0;
	size_t off;
	int rc;

	if (cont)
		rc = daos_cont_list_attr(ctx->tx_coh, NULL, &size, NULL);
	else
		rc = daos_pool_list_attr(ctx->tx_poh, NULL, &size, NULL);
	if (rc == 0) {
		/* with a NUL per name: at most size + number of names, bounded by 2x + 1 */
		size = size * 2 + 1;
		buf = calloc(1, size + 1);
		if (buf == NULL)
			return dt_fail(ctx, -DER_NOMEM, "out of memory");
		if (cont)
			rc = daos_cont_list_attr(ctx->tx_coh, buf, &size, NULL);
		else
			rc = daos_pool_list_attr(ctx->tx_poh, buf, &size, NULL);
	}
	if (rc != 0) {
		free(buf);
		return dt_fail(ctx, rc, "failed to list attributes");
	}
	if (o->o_json) {
		dt_json_begin(ctx);
		dj_arr_begin(ctx, "response");
	} else {
		fprintf(ctx->tx_out, "Attributes for %s %s:\n", cont ? "container" : "pool",
			o->o_pos[cont ? 1 : 0]);
		if (buf[0] == '\0')
			fprintf(ctx->tx_out, "  No attributes found.\n");
		else
			fprintf(ctx->tx_out, "%-20s\n%-20s\n", "Name", "----");
	}
	for (off = 0; buf[off] != '\0'; off += strlen(buf + off) + 1) {
		const char *name = buf + off;
		char *val = NULL;

		if (o->o_verbose) {
			size_t vsize = 0;
			void *vbuf[1] = {NULL};

			if (cont)
				rc = daos_cont_get_attr(ctx->tx_coh, 1, &name, vbuf, &vsize, NULL);
			else
				rc = daos_pool_get_attr(ctx->tx_poh, 1, &name, vbuf, &vsize, NULL);
			val = calloc(1, vsize + 1);
			vbuf[0] = val;
			if (rc == 0 && val != NULL) {
				if (cont)
					rc = daos_cont_get_attr(ctx->tx_coh, 1, &name, vbuf, &vsize,
								NULL);
				else
					rc = daos_pool_get_attr(ctx->tx_poh, 1, &name, vbuf, &vsize,
								NULL);
			}
		}
		if (o->o_json) {
			dj_obj_begin(ctx, NULL);
			dj_str(ctx, "name", name);
			if (val != NULL) {
				char *b64 = dt_base64(val, strlen(val));

				dj_str(ctx, "value", b64);
				free(b64);
			}
			dj_obj_end(ctx);
		} else if (val != NULL) {
			fprintf(ctx->tx_out, "%-20s %s\n", name, val);
		} else {
			fprintf(ctx->tx_out, "%s\n", name);
		}
		free(val);
	}
	if (o->o_json) {
		dj_arr_end(ctx);
		dt_json_end(ctx, NULL, 0);
	}
	free(buf);
	return 0;
}

static int
attr_get(struct dt_ctx *ctx, const struct dt_opts *o, bool cont)
{
	const char *name = o->o_pos[cont ? 2 : 1];
	size_t size = 0;
	void *bufs[1] = {NULL};
	char *val;
	int rc;

	if (cont)
		rc = daos_cont_get_attr(ctx->tx_coh, 1, &name, bufs, &size, NULL);
	else
		rc = daos_pool_get_attr(ctx->tx_poh, 1, &name, bufs, &size, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to get attribute %s", name);
	val = calloc(1, size + 1);
	if (val == NULL)
		return dt_fail(ctx, -DER_NOMEM, "out of memory");
	bufs[0] = val;
	if (cont)
		rc = daos_cont_get_attr(ctx->tx_coh, 1, &name, bufs, &size, NULL);
	else
		rc = daos_pool_get_attr(ctx->tx_poh, 1, &name, bufs, &size, NULL);
	if (rc != 0) {
		free(val);
		return dt_fail(ctx, rc, "failed to get attribute %s", name);
	}
	if (o->o_json) {
		char *b64 = dt_base64(val, size);

		dt_json_begin(ctx);
		dj_arr_begin(ctx, "response");
		dj_obj_begin(ctx, NULL);
		dj_str(ctx, "name", name);
		dj_str(ctx, "value", b64);
		dj_obj_end(ctx);
		dj_arr_end(ctx);
		dt_json_end(ctx, NULL, 0);
		free(b64);
	} else {
		fprintf(ctx->tx_out, "Attributes for %s %s:\n%-20s %s\n%-20s %s\n%-20s %.*s\n",
			cont ? "container" : "pool", o->o_pos[cont ? 1 : 0], "Name", "Value",
			"----", "-----", name, (int)size, val);
	}
	free(val);
	return 0;
}

static int
attr_set(struct dt_ctx *ctx, const struct dt_opts *o, bool cont)
{
	const char *name = o->o_pos[cont ? 2 : 1];
	const void *val = o->o_pos[cont ? 3 : 2];
	size_t size = strlen(val);
	int rc;

	if (size == 0)
		return dt_fail(ctx, -DER_INVAL, "an attribute value may not be empty");
	if (cont)
		rc = daos_cont_set_attr(ctx->tx_coh, 1, &name, &val, &size, NULL);
	else
		rc = daos_pool_set_attr(ctx->tx_poh, 1, &name, &val, &size, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to set attribute %s", name);
	if (o->o_json) {
		dt_json_begin(ctx);
		dj_null(ctx, "response");
		dt_json_end(ctx, NULL, 0);
	}
	return 0;
}

static int
attr_del(struct dt_ctx *ctx, const struct dt_opts *o, bool cont)
{
	const char *name = o->o_pos[cont ? 2 : 1];
	int rc;

	if (cont)
		rc = daos_cont_del_attr(ctx->tx_coh, 1, &name, NULL);
	else
		rc = daos_pool_del_attr(ctx->tx_poh, 1, &name, NULL);
	if (rc != 0)
		return dt_fail(ctx, rc, "failed to delete attribute %s", name);
	if (o->o_json) {
		dt_json_begin(ctx);
		dj_null(ctx, "response");
		dt_json_end(ctx, NULL, 0);
	}
	return 0;
}

static int
pool_list_attrs(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_pool_connect(ctx, o, false);

	return rc != 0 ? rc : attr_list(ctx, o, false);
}

static int
pool_get_attr(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_pool_connect(ctx, o, false);

	return rc != 0 ? rc : attr_get(ctx, o, false);
}

static int
pool_set_attr(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_pool_connect(ctx, o, true);

	return rc != 0 ? rc : attr_set(ctx, o, false);
}

static int
pool_del_attr(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_pool_connect(ctx, o, true);

	return rc != 0 ? rc : attr_del(ctx, o, false);
}

const struct dt_cmd dt_cmd_pool_list_attrs = {
    "pool",
    "list-attrs",
    "list-attr",
    "List the user attributes of a pool (-v: with values)",
    "<pool>",
    1,
    1,
    "verbose",
    pool_list_attrs};
const struct dt_cmd dt_cmd_pool_get_attr = {
    "pool", "get-attr", NULL,         "Print a user attribute of a pool", "<pool> <name>", 2,
    2,      "",         pool_get_attr};
const struct dt_cmd dt_cmd_pool_set_attr = {
    "pool", "set-attr", NULL,         "Set a user attribute of a pool", "<pool> <name> <value>", 3,
    3,      "",         pool_set_attr};
const struct dt_cmd dt_cmd_pool_del_attr = {
    "pool", "del-attr", "delete-attr", "Delete a user attribute of a pool", "<pool> <name>", 2,
    2,      "",         pool_del_attr};

/* container attributes: the same over an open container */
static int
cont_list_attrs(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_cont_open(ctx, o, DAOS_COO_RO);

	return rc != 0 ? rc : attr_list(ctx, o, true);
}

static int
cont_get_attr(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_cont_open(ctx, o, DAOS_COO_RO);

	return rc != 0 ? rc : attr_get(ctx, o, true);
}

static int
cont_set_attr(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_cont_open(ctx, o, DAOS_COO_RW);

	return rc != 0 ? rc : attr_set(ctx, o, true);
}

static int
cont_del_attr(struct dt_ctx *ctx, const struct dt_opts *o)
{
	int rc = dt_cont_open(ctx, o, DAOS_COO_RW);

	return rc != 0 ? rc : attr_del(ctx, o, true);
}

const struct dt_cmd dt_cmd_cont_list_attrs = {
    "container",
    "list-attrs",
    "list-attr",
    "List the user attributes of a container (-v: with values)",
    "<pool> <container>",
    2,
    2,
    "verbose",
    cont_list_attrs};
const struct dt_cmd dt_cmd_cont_get_attr = {"container",
					    "get-attr",
					    NULL,
					    "Print a user attribute of a container",
					    "<pool> <container> <name>",
					    3,
					    3,
					    "",
					    cont_get_attr};
const struct dt_cmd dt_cmd_cont_set_attr = {"container",
					    "set-attr",
					    NULL,
					    "Set a user attribute of a container",
					    "<pool> <container> <name> <value>",
					    4,
					    4,
					    "",
					    cont_set_attr};
const struct dt_cmd dt_cmd_cont_del_attr = {"container",
					    "del-attr",
					    "delete-attr",
					    "Delete a user attribute of a container",
					    "<pool> <container> <name>",
					    3,
					    3,
					    "",
					    cont_del_attr};
