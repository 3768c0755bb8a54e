/*
 * dmg_cmd_pool.c: `dmg pool ...`: create, destroy, list, query, get-prop, set-prop, get-acl,
 * update-acl, delete-acl, overwrite-acl, list-cont and evict, with DAOS's flags, defaults,
 * checks of flag combinations, tables and JSON. Pool properties are translated here between
 * DAOS's names/values ("reclaim:lazy") and the DAOS_PROP_PO_* numbers the wire carries.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include <gurt/common.h>
#include <daos_prop.h>
#include <daos_pool.h>
#include <daos_srv/ctl.h>

#include "dmg_internal.h"
#include "mgmt/acl.pb-c.h"
#include "mgmt/pool.pb-c.h"

#define NOMEM(ctx) dmg_fail(ctx, -DER_NOMEM, "out of memory")

/* DAOS's query bits beyond those of our daos_pool.h (same values as DAOS's). */
#define DMG_DPI_ENGINES_DISABLED (1ULL << 3)
#define DMG_DPI_ENGINES_DEAD (1ULL << 4)

/* Default tier ratio of `--size` (6 % metadata, 94 % data), as DAOS. */
#define DMG_TIER_RATIO_META 0.06

/* An ACL file or entry list: at most this many entries, each at most this long. */
#define DMG_ACL_MAX 1024
#define DMG_ACE_LEN 512

/*
 * Pool properties
 */

enum prop_kind {
	PK_STR,   /* free string */
	PK_NUM,   /* integer in [min, max] */
	PK_SIZE,  /* size with units, in [min, max] */
	PK_ENUM,  /* one of the value names */
	PK_FLAGS, /* value names joined with ';' (bits) */
	PK_RO,    /* read-only number (get-prop only) */
};

struct prop_val {
	const char *pv_name;
	uint64_t pv_val;
};

struct prop_def {
	const char *pd_name;
	uint32_t pd_number;
	enum prop_kind pd_kind;
	const char *pd_desc;
	uint64_t pd_min;
	uint64_t pd_max;
	const struct prop_val *pd_vals;
	bool pd_create_only; /* refused by set-prop */
};

static const struct prop_val reclaim_vals[] = {
    {"disabled", DAOS_RECLAIM_DISABLED}, {"lazy", DAOS_RECLAIM_LAZY},
    {"snapshot", DAOS_RECLAIM_SNAPSHOT}, {"batch", DAOS_RECLAIM_BATCH},
    {"time", DAOS_RECLAIM_TIME},         {NULL, 0},
};
static const struct prop_val self_heal_vals[] = {
    {"exclude", DAOS_SELF_HEAL_AUTO_EXCLUDE},
    {"rebuild", DAOS_SELF_HEAL_AUTO_REBUILD},
    {NULL, 0},
};
static const struct prop_val scrub_vals[] = {
    {"off", DAOS_SCRUB_MODE_OFF},
    {"lazy", DAOS_SCRUB_MODE_LAZY},
    {"timed", DAOS_SCRUB_MODE_TIMED},
    {NULL, 0},
};
static const struct prop_val ckpt_vals[] = {
    {"disabled", DAOS_CHECKPOINT_DISABLED},
    {"timed", DAOS_CHECKPOINT_TIMED},
    {"lazy", DAOS_CHECKPOINT_LAZY},
    {NULL, 0},
};
static const struct prop_val perf_vals[] = {
    {"root", DAOS_PROP_PERF_DOMAIN_ROOT},
    {"group", DAOS_PROP_PERF_DOMAIN_GROUP},
    {NULL, 0},
};
static const struct prop_val reint_vals[] = {
    {"data_sync", DAOS_REINT_MODE_DATA_SYNC},
    {"no_data_sync", DAOS_REINT_MODE_NO_DATA_SYNC},
    {NULL, 0},
};

/* DAOS's pool property names (dmg pool get-prop/set-prop), in its display order. */
static const struct prop_def prop_defs[] = {
    {"label", DAOS_PROP_PO_LABEL, PK_STR, "Pool label", 1, 127, NULL, false},
    {"reclaim", DAOS_PROP_PO_RECLAIM, PK_ENUM, "Reclaim strategy", 0, 0, reclaim_vals, false},
    {"self_heal", DAOS_PROP_PO_SELF_HEAL, PK_FLAGS, "Self-healing policy", 0, 0, self_heal_vals,
     false},
    {"space_rb", DAOS_PROP_PO_SPACE_RB, PK_NUM, "Rebuild space ratio", 0, 100, NULL, false},
    {"ec_cell_sz", DAOS_PROP_PO_EC_CELL_SZ, PK_SIZE, "EC cell size", DAOS_PROP_PO_EC_CELL_SZ_MIN,
     DAOS_PROP_PO_EC_CELL_SZ_MAX, NULL, false},
    {"rd_fac", DAOS_PROP_PO_REDUN_FAC, PK_NUM, "Pool redundancy factor", 0,
     DAOS_PROP_PO_REDUN_FAC_MAX, NULL, false},
    {"ec_pda", DAOS_PROP_PO_EC_PDA, PK_NUM, "Performance domain affinity level of EC", 0,
     UINT32_MAX, NULL, true},
    {"rp_pda", DAOS_PROP_PO_RP_PDA, PK_NUM, "Performance domain affinity level of RP", 0,
     UINT32_MAX, NULL, true},
    {"data_thresh", DAOS_PROP_PO_DATA_THRESH, PK_SIZE, "Data bdev threshold size", 0, UINT32_MAX,
     NULL, false},
    {"global_version", DAOS_PROP_PO_GLOBAL_VERSION, PK_RO, "Global Version", 0, 0, NULL, true},
    {"upgrade_status", DAOS_PROP_PO_UPGRADE_STATUS, PK_RO, "Upgrade Status", 0, 0, NULL, true},
    {"scrub", DAOS_PROP_PO_SCRUB_MODE, PK_ENUM, "Checksum scrubbing mode", 0, 0, scrub_vals, false},
    {"scrub_freq", DAOS_PROP_PO_SCRUB_FREQ, PK_NUM, "Checksum scrubbing frequency", 0, UINT64_MAX,
     NULL, false},
    {"scrub_thresh", DAOS_PROP_PO_SCRUB_THRESH, PK_NUM, "Checksum scrubbing threshold", 0,
     UINT64_MAX, NULL, false},
    {"svc_rf", DAOS_PROP_PO_SVC_REDUN_FAC, PK_NUM, "Pool service redundancy factor", 0,
     DAOS_PROP_PO_SVC_REDUN_FAC_MAX, NULL, false},
    {"perf_domain", DAOS_PROP_PO_PERF_DOMAIN, PK_ENUM, "Pool performance domain", 0, 0, perf_vals,
     true},
    {"checkpoint", DAOS_PROP_PO_CHECKPOINT_MODE, PK_ENUM, "Checkpoint mode", 0, 0, ckpt_vals,
     false},
    {"checkpoint_freq", DAOS_PROP_PO_CHECKPOINT_FREQ, PK_NUM, "Checkpoint frequency",
     DAOS_PROP_PO_CHECKPOINT_FREQ_MIN, DAOS_PROP_PO_CHECKPOINT_FREQ_MAX, NULL, false},
    {"checkpoint_thresh", DAOS_PROP_PO_CHECKPOINT_THRESH, PK_NUM, "Checkpoint threshold",
     DAOS_PROP_PO_CHECKPOINT_THRESH_MIN, DAOS_PROP_PO_CHECKPOINT_THRESH_MAX, NULL, false},
    {"reintegration", DAOS_PROP_PO_REINT_MODE, PK_ENUM, "Reintegration mode", 0, 0, reint_vals,
     false},
    {"svc_ops_enabled", DAOS_PROP_PO_SVC_OPS_ENABLED, PK_NUM, "Pool service operations enabled", 0,
     1, NULL, false},
    {"svc_ops_entry_age", DAOS_PROP_PO_SVC_OPS_ENTRY_AGE, PK_NUM,
     "Pool service operations entry age", 60, 600, NULL, false},
};

static const struct prop_def *
prop_by_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(prop_defs); i++) {
		if (strlen(prop_defs[i].pd_name) == len &&
		    strncmp(prop_defs[i].pd_name, name, len) == 0)
			return &prop_defs[i];
	}
	return NULL;
}

static const struct prop_def *
prop_by_number(uint32_t number)
{
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(prop_defs); i++) {
		if (prop_defs[i].pd_number == number)
			return &prop_defs[i];
	}
	return NULL;
}

/* The list of valid names of @d's values, for messages. */
static char *
prop_vals_str(struct dmg_ctx *ctx, const struct prop_def *d)
{
	char buf[256] = "";
	const struct prop_val *v;

	for (v = d->pd_vals; v != NULL && v->pv_name != NULL; v++) {
		if (buf[0] != '\0')
			strncat(buf, ",", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, v->pv_name, sizeof(buf) - strlen(buf) - 1);
	}
	return dmg_strdup(ctx, buf);
}

/* @val (@len bytes) as a value of @d into @p. */
static int
prop_value(struct dmg_ctx *ctx, const struct prop_def *d, const char *val, size_t len,
	   Mgmt__PoolProperty *p)
{
	char *s = dmg_sprintf(ctx, "%.*s", (int)len, val);
	const struct prop_val *v;
	struct dmg_size sz;
	uint64_t num = 0;
	char *end;

	if (s == NULL)
		return NOMEM(ctx);
	if (len == 0)
		return dmg_fail(ctx, -DER_INVAL, "property %s: missing value", d->pd_name);
	switch (d->pd_kind) {
	case PK_STR:
		if (len > d->pd_max)
			return dmg_fail(ctx, -DER_INVAL, "property %s: longer than %" PRIu64,
					d->pd_name, d->pd_max);
		if (d->pd_number == DAOS_PROP_PO_LABEL) {
			uuid_t u;
			size_t i;

			/* DAOS's label rules: [A-Za-z0-9_.:-], not a uuid */
			for (i = 0; i < len; i++) {
				if (!isalnum((unsigned char)s[i]) && strchr("_.:-", s[i]) == NULL)
					return dmg_fail(ctx, -DER_INVAL,
							"invalid label %s: only letters, digits "
							"and _.:- are allowed",
							s);
			}
			if (uuid_parse(s, u) == 0)
				return dmg_fail(ctx, -DER_INVAL, "invalid label %s: a uuid", s);
		}
		p->value_case = MGMT__POOL_PROPERTY__VALUE_STRVAL;
		p->strval = s;
		return 0;
	case PK_NUM:
		errno = 0;
		num = strtoull(s, &end, 10);
		if (!isdigit((unsigned char)s[0]) || errno != 0 || *end != '\0' ||
		    num < d->pd_min || num > d->pd_max)
			return dmg_fail(ctx, -DER_INVAL,
					"invalid value %s for %s (expected %" PRIu64 "-%" PRIu64
					")",
					s, d->pd_name, d->pd_min, d->pd_max);
		break;
	case PK_SIZE:
		if (dmg_size_parse(s, false, &sz) != 0 || sz.ds_bytes < d->pd_min ||
		    sz.ds_bytes > d->pd_max)
			return dmg_fail(ctx, -DER_INVAL, "invalid size %s for %s", s, d->pd_name);
		num = sz.ds_bytes;
		break;
	case PK_ENUM:
	case PK_FLAGS: {
		char *tok;
		char *save = NULL;

		for (tok = strtok_r(s, ";", &save); tok != NULL; tok = strtok_r(NULL, ";", &save)) {
			for (v = d->pd_vals; v->pv_name != NULL; v++) {
				if (strcmp(v->pv_name, tok) == 0)
					break;
			}
			if (v->pv_name == NULL || (d->pd_kind == PK_ENUM && num != 0) ||
			    (d->pd_kind == PK_ENUM && save != NULL && *save != '\0'))
				return dmg_fail(ctx, -DER_INVAL,
						"invalid value %.*s for %s (expected %s%s)",
						(int)len, val, d->pd_name, prop_vals_str(ctx, d),
						d->pd_kind == PK_FLAGS ? ", joined with ;" : "");
			num |= v->pv_val;
		}
		break;
	}
	case PK_RO:
		return dmg_fail(ctx, -DER_INVAL, "property %s is read-only", d->pd_name);
	}
	p->value_case = MGMT__POOL_PROPERTY__VALUE_NUMVAL;
	p->numval = num;
	return 0;
}

/**
 * Parse pool properties @str: "name:value,name:value" with @values, "name,name" without.
 * *@props receives an arena array of *@nr Mgmt__PoolProperty. 0 or -DER_INVAL/-DER_NOMEM.
 */
int
dmg_props_parse(struct dmg_ctx *ctx, const char *str, bool values, ProtobufCMessage ***props,
		size_t *nr)
{
	Mgmt__PoolProperty **arr;
	const char *p = str;
	size_t n = 1;
	size_t i;
	int rc;

	for (i = 0; str[i] != '\0'; i++)
		n += str[i] == ',';
	arr = dmg_alloc(ctx, sizeof(*arr) * n);
	if (arr == NULL)
		return NOMEM(ctx);
	for (i = 0; i < n; i++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		size_t nlen = values ? (colon ? (size_t)(colon - p) : len) : len;
		const struct prop_def *d = prop_by_name(p, nlen);
		size_t k;

		if (values && colon == NULL)
			return dmg_fail(ctx, -DER_INVAL,
					"invalid property %.*s: expected name:value", (int)len, p);
		if (d == NULL)
			return dmg_fail(ctx, -DER_INVAL, "unknown property %.*s", (int)nlen, p);
		for (k = 0; k < i; k++) {
			if (arr[k]->number == d->pd_number)
				return dmg_fail(ctx, -DER_INVAL, "property %s given twice",
						d->pd_name);
		}
		arr[i] = DMG_MSG_NEW(ctx, Mgmt__PoolProperty, MGMT__POOL_PROPERTY__INIT);
		if (arr[i] == NULL)
			return NOMEM(ctx);
		arr[i]->number = d->pd_number;
		if (values) {
			rc = prop_value(ctx, d, colon + 1, len - nlen - 1, arr[i]);
			if (rc != 0)
				return rc;
		}
		p = comma ? comma + 1 : p + len;
	}
	*props = (ProtobufCMessage **)arr;
	*nr = n;
	return 0;
}

/* A property's value as text ("lazy", "exclude;rebuild", "1.0 MB"). */
static char *
prop_format(struct dmg_ctx *ctx, const Mgmt__PoolProperty *p, const struct prop_def *d)
{
	const struct prop_val *v;
	char buf[256] = "";

	if (p->value_case == MGMT__POOL_PROPERTY__VALUE_STRVAL)
		return dmg_strdup(ctx, p->strval);
	if (p->value_case != MGMT__POOL_PROPERTY__VALUE_NUMVAL)
		return dmg_strdup(ctx, "not set");
	if (d == NULL)
		return dmg_sprintf(ctx, "%" PRIu64, p->numval);
	switch (d->pd_kind) {
	case PK_ENUM:
		for (v = d->pd_vals; v->pv_name != NULL; v++) {
			if (v->pv_val == p->numval)
				return dmg_strdup(ctx, v->pv_name);
		}
		return dmg_sprintf(ctx, "unknown (%" PRIu64 ")", p->numval);
	case PK_FLAGS:
		for (v = d->pd_vals; v->pv_name != NULL; v++) {
			if (p->numval & v->pv_val) {
				if (buf[0] != '\0')
					strncat(buf, ";", sizeof(buf) - strlen(buf) - 1);
				strncat(buf, v->pv_name, sizeof(buf) - strlen(buf) - 1);
			}
		}
		return dmg_strdup(ctx, buf[0] ? buf : "none");
	case PK_SIZE:
		dmg_size_format(p->numval, buf, sizeof(buf));
		return dmg_strdup(ctx, buf);
	default:
		return dmg_sprintf(ctx, "%" PRIu64, p->numval);
	}
}

/*
 * ACLs
 */

/* A light check of an ACE's shape "TYPES:FLAGS:PRINCIPAL:PERMS" (the servers decide). */
static bool
ace_valid(const char *ace)
{
	const char *f[4];
	size_t flen[4];
	const char *p = ace;
	int i;

	for (i = 0; i < 4; i++) {
		const char *c = strchr(p, ':');

		if ((i < 3) != (c != NULL))
			return false;
		f[i] = p;
		flen[i] = c ? (size_t)(c - p) : strlen(p);
		p = c ? c + 1 : p;
	}
	if (flen[0] == 0 || strspn(f[0], "AUL") < flen[0])
		return false;
	if (strspn(f[1], "GSFP") < flen[1])
		return false;
	if (flen[2] == 0 || memchr(f[2], '@', flen[2]) == NULL)
		return false;
	return flen[3] > 0 && strspn(f[3], "rwcdtTaAo") == flen[3];
}

/* Read the ACEs of @path (one per line, '#' comments and blank lines ignored). */
static int
acl_file_read(struct dmg_ctx *ctx, const char *path, char ***entries, size_t *nr)
{
	char line[DMG_ACE_LEN + 2];
	char **arr;
	size_t n = 0;
	unsigned lineno = 0;
	FILE *f;

	arr = dmg_alloc(ctx, sizeof(*arr) * DMG_ACL_MAX);
	if (arr == NULL)
		return NOMEM(ctx);
	f = fopen(path, "r");
	if (f == NULL)
		return dmg_fail(ctx, d_errno2der(errno), "cannot read ACL file %s: %s", path,
				strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line;
		size_t len;

		lineno++;
		len = strlen(s);
		if (len > 0 && s[len - 1] != '\n' && !feof(f)) {
			fclose(f);
			return dmg_fail(ctx, -DER_INVAL, "%s:%u: line too long", path, lineno);
		}
		while (*s != '\0' && isspace((unsigned char)*s))
			s++;
		len = strlen(s);
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			s[--len] = '\0';
		if (len == 0 || s[0] == '#')
			continue;
		if (!ace_valid(s)) {
			fclose(f);
			return dmg_fail(ctx, -DER_INVAL,
					"%s:%u: invalid access control entry %s (expected "
					"TYPE:FLAGS:PRINCIPAL:PERMS, e.g. A::OWNER@:rw)",
					path, lineno, s);
		}
		if (n == DMG_ACL_MAX) {
			fclose(f);
			return dmg_fail(ctx, -DER_INVAL, "%s: more than %d entries", path,
					DMG_ACL_MAX);
		}
		arr[n] = dmg_strdup(ctx, s);
		if (arr[n++] == NULL) {
			fclose(f);
			return NOMEM(ctx);
		}
	}
	fclose(f);
	*entries = arr;
	*nr = n;
	return 0;
}

/* "name" -> "name@", as DAOS's ACLPrincipalFlag. */
static char *
principal(struct dmg_ctx *ctx, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return NULL;
	if (strchr(name, '@') != NULL)
		return dmg_strdup(ctx, name);
	return dmg_sprintf(ctx, "%s@", name);
}

/*
 * pool create
 */

static const struct dmg_opt pool_create_opts[] = {
    DMG_OPT('g', "group", DO_STR, o_ugroup, "GROUP",
	    "DAOS pool to be owned by given group, format name@domain"),
    DMG_OPT('u', "user", DO_STR, o_user, "USER",
	    "DAOS pool to be owned by given user, format name@domain"),
    DMG_OPT('P', "properties", DO_STR, o_props, "PROPS", "pool properties to be set"),
    DMG_OPT('a', "acl-file", DO_STR, o_acl_file, "PATH",
	    "access control list file path for DAOS pool"),
    DMG_OPT('z', "size", DO_SIZE, o_size, "SIZE",
	    "total size of DAOS pool or its percentage ratio (auto)"),
    DMG_OPT('t', "tier-ratio", DO_STR, o_tier_ratio, "RATIO",
	    "percentage of storage tiers for pool storage (auto; default: 6,94)"),
    DMG_OPT('k', "nranks", DO_U32, o_nranks, "N", "number of ranks to use (auto)"),
    DMG_OPT('v', "nsvc", DO_U32, o_nsvc, "N", "number of pool service replicas"),
    DMG_OPT('s', "scm-size", DO_BYTES, o_scm_size, "SIZE",
	    "per-engine SCM allocation for DAOS pool (manual)"),
    DMG_OPT('n', "nvme-size", DO_BYTES, o_nvme_size, "SIZE",
	    "per-engine NVMe allocation for DAOS pool (manual)"),
    DMG_OPT('r', "ranks", DO_RANKS, o_ranks, "RANKS",
	    "storage engine unique identifiers (ranks) for DAOS pool"),
    DMG_OPT(0, "label", DO_STR, o_label, "LABEL", "pool label (instead of the argument)"),
    DMG_OPT_END,
};

/* "6,94", "6" (the rest to tier 1) or "6%,94%" into fractions. */
static int
tier_ratio_parse(struct dmg_ctx *ctx, const char *str, double *r)
{
	const char *p = str;
	int n = 0;

	while (*p != '\0') {
		char *end;
		double v;

		if (n == 2)
			goto bad;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno != 0 || !isfinite(v) || v < 0 || v > 100)
			goto bad;
		if (*end == '%')
			end++;
		r[n++] = round(v * 100.0) / 10000.0;
		if (*end == ',' && end[1] != '\0')
			end++;
		else if (*end != '\0')
			goto bad;
		p = end;
	}
	if (n == 0)
		goto bad;
	if (n == 1)
		r[1] = 1.0 - r[0];
	if (fabs(r[0] + r[1] - 1.0) > 0.01)
		return dmg_fail(ctx, -DER_INVAL, "storage tier ratios must add up to 100 (got %s)",
				str);
	return 0;
bad:
	return dmg_fail(ctx, -DER_INVAL,
			"invalid tier ratio %s (expected percentages, e.g. 6,94 or 6)", str);
}

static int
pool_create_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__PoolCreateReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__PoolCreateReq, MGMT__POOL_CREATE_REQ__INIT);
	const char *label = o->o_npos > 0 ? o->o_pos[0] : o->o_label;
	bool manual = o->o_scm_size.ds_set || o->o_nvme_size.ds_set;
	uuid_t uuid;
	size_t i;
	int rc;

	if (req == NULL)
		return NOMEM(ctx);
	/* flag combinations, as DAOS */
	if (o->o_npos > 0 && o->o_label != NULL)
		return dmg_fail(ctx, -DER_INVAL,
				"give the label as the argument or --label, not both");
	if (label == NULL)
		return dmg_fail(ctx, -DER_INVAL,
				"the required argument <pool label> was not provided");
	if (manual == o->o_size.ds_set)
		return dmg_fail(ctx, -DER_INVAL,
				"unsupported option combination, use (--scm-size "
				"and --nvme-size) or (--size)");
	if (o->o_nranks > 0 && o->o_ranks_set)
		return dmg_fail(ctx, -DER_INVAL, "--nranks may not be mixed with --ranks");
	if (manual && o->o_nranks > 0)
		return dmg_fail(ctx, -DER_INVAL, "--nranks may not be mixed with --scm-size");
	if (manual && o->o_tier_ratio != NULL)
		return dmg_fail(ctx, -DER_INVAL, "--tier-ratio may not be mixed with --scm-size");
	if (o->o_nvme_size.ds_set && !o->o_scm_size.ds_set)
		return dmg_fail(ctx, -DER_INVAL, "--nvme-size cannot be set without --scm-size");
	if (o->o_size.ds_pct && (o->o_nranks > 0 || o->o_tier_ratio != NULL))
		return dmg_fail(ctx, -DER_INVAL,
				"--size=%% may not be mixed with --nranks or --tier-ratio");
	if (o->o_size.ds_set && !o->o_size.ds_pct && o->o_size.ds_bytes == 0)
		return dmg_fail(ctx, -DER_INVAL, "--size must be more than 0");
	if (manual && o->o_scm_size.ds_bytes == 0)
		return dmg_fail(ctx, -DER_INVAL, "--scm-size must be more than 0");
	if (o->o_nsvc > 13)
		return dmg_fail(ctx, -DER_INVAL, "--nsvc: at most 13 pool service replicas");

	uuid_generate(uuid);
	req->uuid = dmg_alloc(ctx, 37);
	if (req->uuid == NULL)
		return NOMEM(ctx);
	uuid_unparse_lower(uuid, req->uuid);
	req->sys = (char *)ctx->dx_sys;
	req->num_svc_reps = o->o_nsvc;

	/* properties, the label first */
	if (o->o_props != NULL) {
		rc = dmg_props_parse(ctx, o->o_props, true, (ProtobufCMessage ***)&req->properties,
				     &req->n_properties);
		if (rc != 0)
			return rc;
		for (i = 0; i < req->n_properties; i++) {
			if (req->properties[i]->number == DAOS_PROP_PO_LABEL)
				return dmg_fail(ctx, -DER_INVAL,
						"can't set label property with label argument");
		}
	}
	{
		Mgmt__PoolProperty **arr = dmg_alloc(ctx, sizeof(*arr) * (req->n_properties + 1));
		ProtobufCMessage **lp;
		size_t nl;
		char *lstr = dmg_sprintf(ctx, "label:%s", label);

		if (arr == NULL || lstr == NULL)
			return NOMEM(ctx);
		rc = dmg_props_parse(ctx, lstr, true, &lp, &nl);
		if (rc != 0)
			return rc;
		arr[0] = (Mgmt__PoolProperty *)lp[0];
		for (i = 0; i < req->n_properties; i++)
			arr[i + 1] = req->properties[i];
		req->properties = arr;
		req->n_properties++;
	}

	/* sizes */
	req->tier_ratio = dmg_alloc(ctx, sizeof(double) * 2);
	req->tier_bytes = dmg_alloc(ctx, sizeof(uint64_t) * 2);
	if (req->tier_ratio == NULL || req->tier_bytes == NULL)
		return NOMEM(ctx);
	if (o->o_size.ds_pct) {
		req->tier_ratio[0] = req->tier_ratio[1] = o->o_size.ds_ratio / 100.0;
		req->n_tier_ratio = 2;
	} else if (o->o_size.ds_set) {
		req->total_bytes = o->o_size.ds_bytes;
		req->tier_ratio[0] = DMG_TIER_RATIO_META;
		req->tier_ratio[1] = 1.0 - DMG_TIER_RATIO_META;
		if (o->o_tier_ratio != NULL) {
			rc = tier_ratio_parse(ctx, o->o_tier_ratio, req->tier_ratio);
			if (rc != 0)
				return rc;
		}
		req->n_tier_ratio = 2;
		req->num_ranks = o->o_nranks;
	} else {
		req->tier_bytes[0] = o->o_scm_size.ds_bytes;
		req->tier_bytes[1] = o->o_nvme_size.ds_bytes;
		req->n_tier_bytes = 2;
	}
	if (o->o_ranks_set) {
		req->ranks = dmg_alloc(ctx, sizeof(uint32_t) * (o->o_ranks.dr_nr + 1));
		if (req->ranks == NULL)
			return NOMEM(ctx);
		memcpy(req->ranks, o->o_ranks.dr_ranks, sizeof(uint32_t) * o->o_ranks.dr_nr);
		req->n_ranks = o->o_ranks.dr_nr;
	}

	/* owner: the caller's user and group unless given */
	req->user = principal(ctx, o->o_user);
	if (req->user == NULL) {
		struct passwd *pw = getpwuid(geteuid());

		req->user = pw ? dmg_sprintf(ctx, "%s@", pw->pw_name)
			       : dmg_sprintf(ctx, "%u@", (unsigned)geteuid());
	}
	req->user_group = principal(ctx, o->o_ugroup);
	if (req->user_group == NULL) {
		struct group *gr = getgrgid(getegid());

		req->user_group = gr ? dmg_sprintf(ctx, "%s@", gr->gr_name)
				     : dmg_sprintf(ctx, "%u@", (unsigned)getegid());
	}
	if (req->user == NULL || req->user_group == NULL)
		return NOMEM(ctx);
	if (o->o_acl_file != NULL) {
		rc = acl_file_read(ctx, o->o_acl_file, &req->acl, &req->n_acl);
		if (rc != 0)
			return rc;
	}
	return dmg_call_set(call, DSS_CTL_POOL_CREATE, &req->base,
			    &mgmt__pool_create_resp__descriptor);
}

static char *
rank_set(struct dmg_ctx *ctx, const uint32_t *ranks, size_t n)
{
	char *s = dmg_alloc(ctx, n * 12 + 3);

	if (s == NULL)
		return NULL;
	s[0] = '[';
	dmg_ranks_format(ranks, n, s + 1, n * 12 + 1);
	strcat(s, "]");
	return s;
}

static int
pool_create_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		  ProtobufCMessage *msg)
{
	Mgmt__PoolCreateResp *resp = (Mgmt__PoolCreateResp *)msg;
	Mgmt__PoolCreateReq *req = (Mgmt__PoolCreateReq *)call->cl_req;
	static const char *const tiers[] = {"SCM", "NVMe"};
	uint64_t nranks = resp->n_tgt_ranks ? resp->n_tgt_ranks : 1;
	uint64_t total = 0;
	char a[32];
	char b[32];
	size_t i;

	if (o->o_json) {
		struct dmg_json j;

		dj_envelope_begin(&j, ctx->dx_out);
		dj_obj_begin(&j, "response");
		dj_str(&j, "uuid", req->uuid);
		dj_u64(&j, "svc_ldr", resp->svc_ldr);
		dj_u32_arr(&j, "svc_reps", resp->svc_reps, resp->n_svc_reps);
		dj_u32_arr(&j, "tgt_ranks", resp->tgt_ranks, resp->n_tgt_ranks);
		/* always both tiers: DAOS's tools read tier_bytes[0] and [1] */
		dj_arr_begin(&j, "tier_bytes");
		for (i = 0; i < resp->n_tier_bytes || i < 2; i++)
			dj_u64(&j, NULL, i < resp->n_tier_bytes ? resp->tier_bytes[i] : 0);
		dj_arr_end(&j);
		dj_u64(&j, "mem_file_bytes", resp->mem_file_bytes);
		dj_bool(&j, "md_on_ssd_active", false);
		dj_obj_end(&j);
		dj_envelope_end(&j, NULL, 0);
		return 0;
	}
	/* what was asked, worded as DAOS's dmg (its ratio is SCM:NVMe, not SCM:total) */
	if (o->o_size.ds_pct) {
		fprintf(ctx->dx_out, "Creating DAOS pool with %u%% of all storage\n",
			o->o_size.ds_ratio);
	} else if (o->o_size.ds_set) {
		dmg_size_format(req->total_bytes, a, sizeof(a));
		fprintf(ctx->dx_out,
			"Creating DAOS pool with automatic storage allocation: %s total, %.2f%% "
			"ratio",
			a, 100.0 * req->tier_ratio[0] / req->tier_ratio[1]);
		if (req->num_ranks > 0)
			fprintf(ctx->dx_out, " with %u ranks", req->num_ranks);
		fputc('\n', ctx->dx_out);
	} else {
		dmg_size_format(req->tier_bytes[0], a, sizeof(a));
		dmg_size_format(req->tier_bytes[1], b, sizeof(b));
		fprintf(ctx->dx_out,
			"Creating DAOS pool with manual per-engine storage allocation: %s SCM, %s "
			"NVMe (%.2f%% ratio)\n",
			a, b,
			req->tier_bytes[1] ? 100.0 * (double)req->tier_bytes[0] / req->tier_bytes[1]
					   : 100.0);
	}
	for (i = 0; i < resp->n_tier_bytes; i++)
		total += resp->tier_bytes[i] * nranks;
	fprintf(ctx->dx_out, "Pool created with ");
	for (i = 0; i < resp->n_tier_bytes; i++)
		fprintf(ctx->dx_out, "%s%.2f%%", i ? "," : "",
			total ? 100.0 * (double)(resp->tier_bytes[i] * nranks) / (double)total
			      : 0.0);
	fprintf(ctx->dx_out, " storage tier ratio\n");
	fprintf(ctx->dx_out, "--------------------------------------------------\n");
	fprintf(ctx->dx_out, "  UUID                 : %s\n", req->uuid);
	fprintf(ctx->dx_out, "  Service Leader       : %u\n", resp->svc_ldr);
	fprintf(ctx->dx_out, "  Service Ranks        : %s\n",
		rank_set(ctx, resp->svc_reps, resp->n_svc_reps));
	fprintf(ctx->dx_out, "  Storage Ranks        : %s\n",
		rank_set(ctx, resp->tgt_ranks, resp->n_tgt_ranks));
	dmg_size_format(total, a, sizeof(a));
	fprintf(ctx->dx_out, "  Total Size           : %s\n", a);
	for (i = 0; i < resp->n_tier_bytes && i < 2; i++) {
		dmg_size_format(resp->tier_bytes[i] * nranks, a, sizeof(a));
		dmg_size_format(resp->tier_bytes[i], b, sizeof(b));
		fprintf(ctx->dx_out, "  Storage tier %zu (%s)%s: %s (%s / rank)\n", i, tiers[i],
			i ? "" : " ", a, b);
	}
	return 0;
}

const struct dmg_cmd dmg_cmd_pool_create = {
    "pool create",    "Create a DAOS pool", "<pool label>",    0,    1,
    pool_create_opts, pool_create_build,    pool_create_print, NULL,
};

/*
 * Commands on one existing pool: the positional <pool label or UUID>
 */

/* Check the pool label or UUID (o_pos[0]) and name it, and the system, in a request's
 * @sys and @id fields. */
static int
pool_target(struct dmg_ctx *ctx, const struct dmg_opts *o, char **sys, char **id)
{
	const char *pool = o->o_pos[0];

	if (pool == NULL || pool[0] == '\0' || strlen(pool) > 127)
		return dmg_fail(ctx, -DER_INVAL, "invalid pool label or UUID");
	*sys = (char *)ctx->dx_sys;
	*id = (char *)pool;
	return 0;
}

/* Success text for commands with no reply worth showing; JSON gets a null response. */
static int
print_done(struct dmg_ctx *ctx, const struct dmg_opts *o, const char *what)
{
	if (o->o_json)
		dmg_json_resp(ctx, NULL, NULL);
	else
		fprintf(ctx->dx_out, "%s command succeeded\n", what);
	return 0;
}

static const struct dmg_opt pool_destroy_opts[] = {
    DMG_OPT('r', "recursive", DO_BOOL, o_recursive, NULL, "remove pool with existing containers"),
    DMG_OPT('f', "force", DO_BOOL, o_force, NULL,
	    "forcibly remove pool with active client connections"),
    DMG_OPT_END,
};

static int
pool_destroy_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__PoolDestroyReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__PoolDestroyReq, MGMT__POOL_DESTROY_REQ__INIT);

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	req->force = o->o_force;
	req->recursive = o->o_recursive;
	return dmg_call_set(call, DSS_CTL_POOL_DESTROY, &req->base,
			    &mgmt__pool_destroy_resp__descriptor);
}

static int
pool_destroy_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		   ProtobufCMessage *msg)
{
	(void)call;
	(void)msg;
	return print_done(ctx, o, "Pool-destroy");
}

const struct dmg_cmd dmg_cmd_pool_destroy = {
    "pool destroy",    "Destroy a DAOS pool", "<pool label or UUID>", 1,    1,
    pool_destroy_opts, pool_destroy_build,    pool_destroy_print,     NULL,
};

static int
pool_evict_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__PoolEvictReq *req = DMG_MSG_NEW(ctx, Mgmt__PoolEvictReq, MGMT__POOL_EVICT_REQ__INIT);

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	return dmg_call_set(call, DSS_CTL_POOL_EVICT, &req->base,
			    &mgmt__pool_evict_resp__descriptor);
}

static int
pool_evict_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		 ProtobufCMessage *msg)
{
	(void)call;
	if (o->o_json) {
		dmg_json_resp(ctx, msg, NULL);
		return 0;
	}
	fprintf(ctx->dx_out, "Pool-evict command succeeded (%d handles evicted)\n",
		((Mgmt__PoolEvictResp *)msg)->count);
	return 0;
}

const struct dmg_cmd dmg_cmd_pool_evict = {
    "pool evict",
    "Evict all pool connections to a DAOS pool",
    "<pool label or UUID>",
    1,
    1,
    NULL,
    pool_evict_build,
    pool_evict_print,
    NULL,
};

/*
 * pool exclude / drain / reintegrate: targets of ranks DOWN / DRAIN / UP in the pool map.
 */

static const struct dmg_opt pool_ranks_opts[] = {
    DMG_OPT('r', "ranks", DO_RANKS, o_ranks, "RANKS",
	    "comma-separated list of ranks whose targets change (e.g. 1,3)"),
    DMG_OPT(0, "rank", DO_RANKS, o_ranks, "RANK", "the rank whose targets change"),
    DMG_OPT(0, "target-idx", DO_STR, o_target_idx, "IDX",
	    "comma-separated list of target indexes on each rank (default: all)"),
    DMG_OPT_END,
};

static int
pool_ranks_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call,
		 uint32_t method)
{
	Mgmt__PoolRanksReq *req = DMG_MSG_NEW(ctx, Mgmt__PoolRanksReq, MGMT__POOL_RANKS_REQ__INIT);
	struct dmg_ranks idx = {0};
	int rc;

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	if (!o->o_ranks_set || o->o_ranks.dr_nr == 0)
		return dmg_fail(ctx, -DER_INVAL, "--ranks is required");
	req->ranks = dmg_alloc(ctx, sizeof(uint32_t) * o->o_ranks.dr_nr);
	if (req->ranks == NULL)
		return NOMEM(ctx);
	memcpy(req->ranks, o->o_ranks.dr_ranks, sizeof(uint32_t) * o->o_ranks.dr_nr);
	req->n_ranks = o->o_ranks.dr_nr;
	if (o->o_target_idx != NULL) {
		rc = dmg_ranks_parse(o->o_target_idx, 4096, &idx);
		if (rc != 0)
			return dmg_fail(ctx, rc, "invalid target index list %s (example: 0,1)",
					o->o_target_idx);
		req->target_idx = dmg_alloc(ctx, sizeof(uint32_t) * (idx.dr_nr + 1));
		if (req->target_idx == NULL) {
			dmg_ranks_free(&idx);
			return NOMEM(ctx);
		}
		memcpy(req->target_idx, idx.dr_ranks, sizeof(uint32_t) * idx.dr_nr);
		req->n_target_idx = idx.dr_nr;
		dmg_ranks_free(&idx);
	}
	return dmg_call_set(call, method, &req->base, &mgmt__pool_ranks_resp__descriptor);
}

static int
pool_exclude_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	return pool_ranks_build(ctx, o, call, DSS_CTL_POOL_EXCLUDE);
}

static int
pool_drain_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	return pool_ranks_build(ctx, o, call, DSS_CTL_POOL_DRAIN);
}

static int
pool_reint_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	return pool_ranks_build(ctx, o, call, DSS_CTL_POOL_REINT);
}

static int
pool_ranks_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		 ProtobufCMessage *msg)
{
	const char *what = call->cl_method == DSS_CTL_POOL_EXCLUDE ? "Exclude"
			   : call->cl_method == DSS_CTL_POOL_DRAIN ? "Drain"
								   : "Reintegration";

	if (o->o_json) {
		dmg_json_resp(ctx, msg, NULL);
		return 0;
	}
	fprintf(ctx->dx_out, "%s command succeeded (pool map version %u)\n", what,
		((Mgmt__PoolRanksResp *)msg)->map_version);
	return 0;
}

const struct dmg_cmd dmg_cmd_pool_exclude = {
    "pool exclude",
    "Exclude targets from a pool",
    "<pool label or UUID>",
    1,
    1,
    pool_ranks_opts,
    pool_exclude_build,
    pool_ranks_print,
    NULL,
};

const struct dmg_cmd dmg_cmd_pool_drain = {
    "pool drain",
    "Drain targets from a pool",
    "<pool label or UUID>",
    1,
    1,
    pool_ranks_opts,
    pool_drain_build,
    pool_ranks_print,
    NULL,
};

const struct dmg_cmd dmg_cmd_pool_reintegrate = {
    "pool reintegrate",
    "Reintegrate targets into a pool",
    "<pool label or UUID>",
    1,
    1,
    pool_ranks_opts,
    pool_reint_build,
    pool_ranks_print,
    NULL,
};

/*
 * pool list
 */

static const struct dmg_opt pool_list_opts[] = {
    DMG_OPT('v', "verbose", DO_BOOL, o_verbose, NULL,
	    "add pool UUIDs and service replica lists to display"),
    DMG_OPT('n', "no-query", DO_BOOL, o_no_query, NULL, "disable query of listed pools"),
    DMG_OPT_END,
};

static int
pool_list_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__ListPoolsReq *req = DMG_MSG_NEW(ctx, Mgmt__ListPoolsReq, MGMT__LIST_POOLS_REQ__INIT);

	if (req == NULL)
		return NOMEM(ctx);
	req->sys = (char *)ctx->dx_sys;
	req->no_query = o->o_no_query;
	return dmg_call_set(call, DSS_CTL_POOL_LIST, &req->base,
			    &mgmt__list_pools_resp__descriptor);
}

/* Size, used % and imbalance % over the tiers of a pool. */
static void
usage_sum(Mgmt__StorageUsageStats **ts, size_t n, uint32_t ntgts, uint64_t *total, int *used_pct,
	  int *imb_pct)
{
	uint64_t free = 0;
	int imb = 0;
	size_t i;

	*total = 0;
	for (i = 0; i < n; i++) {
		*total += ts[i]->total;
		free += ts[i]->free;
		if (ts[i]->total > 0 && ntgts > 0) {
			double per = (double)ts[i]->total / ntgts;
			int v = (int)(100.0 * (double)(ts[i]->max - ts[i]->min) / per);

			if (v > imb)
				imb = v;
		}
	}
	*used_pct = *total ? (int)(100.0 * (double)(*total - free) / (double)*total) : 0;
	*imb_pct = imb;
}

static int
pool_list_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		ProtobufCMessage *msg)
{
	static const char *const hdr[] = {"Pool", "Size", "State", "Used", "Imbalance", "Disabled"};
	static const char *const hdr_v[] = {"Label",     "UUID",     "State",
					    "SvcReps",   "Size",     "Used",
					    "Imbalance", "Disabled", "Rebuild State"};
	static const char *const hdr_n[] = {"Pool", "State", "SvcReps"};
	Mgmt__ListPoolsResp *resp = (Mgmt__ListPoolsResp *)msg;
	struct dmg_table t;
	size_t i;

	(void)call;
	if (o->o_json) {
		static const char *const skip[] = {"status", "data_version", NULL};

		dmg_json_resp(ctx, msg, skip);
		return 0;
	}
	if (resp->n_pools == 0) {
		fprintf(ctx->dx_out, "No pools in system\n");
		return 0;
	}
	if (dmg_table_init(ctx, &t,
			   o->o_verbose    ? 9
			   : o->o_no_query ? 3
					   : 6,
			   o->o_verbose    ? hdr_v
			   : o->o_no_query ? hdr_n
					   : hdr) != 0)
		return NOMEM(ctx);
	for (i = 0; i < resp->n_pools; i++) {
		Mgmt__ListPoolsResp__Pool *p = resp->pools[i];
		const char *name = p->label[0] ? p->label : p->uuid;
		char *reps = rank_set(ctx, p->svc_reps, p->n_svc_reps);
		char size[32];
		uint64_t total;
		int used;
		int imb;
		int rc;

		usage_sum(p->tier_stats, p->n_tier_stats, p->total_targets, &total, &used, &imb);
		dmg_size_format(total, size, sizeof(size));
		if (o->o_verbose) {
			const char *c[9] = {
			    p->label,
			    p->uuid,
			    p->state,
			    reps,
			    size,
			    dmg_sprintf(ctx, "%d%%", used),
			    dmg_sprintf(ctx, "%d%%", imb),
			    dmg_sprintf(ctx, "%u/%u", p->disabled_targets, p->total_targets),
			    p->rebuild_state};

			rc = dmg_table_row(&t, c);
		} else if (o->o_no_query) {
			const char *c[3] = {name, p->state, reps};

			rc = dmg_table_row(&t, c);
		} else {
			const char *c[6] = {
			    name,
			    size,
			    p->state,
			    dmg_sprintf(ctx, "%d%%", used),
			    dmg_sprintf(ctx, "%d%%", imb),
			    dmg_sprintf(ctx, "%u/%u", p->disabled_targets, p->total_targets)};

			rc = dmg_table_row(&t, c);
		}
		if (rc != 0)
			return NOMEM(ctx);
	}
	dmg_table_print(&t, ctx->dx_out);
	return 0;
}

const struct dmg_cmd dmg_cmd_pool_list = {
    "pool list",     "List DAOS pools", NULL, 0, 0, pool_list_opts,
    pool_list_build, pool_list_print,   NULL,
};

/*
 * pool query
 */

static const struct dmg_opt pool_query_opts[] = {
    DMG_OPT('e', "show-enabled", DO_BOOL, o_show_enabled, NULL,
	    "show engine unique identifiers (ranks) which are enabled"),
    DMG_OPT('t', "health-only", DO_BOOL, o_health_only, NULL,
	    "only perform pool health related queries"),
    DMG_OPT_END,
};

static int
pool_query_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__PoolQueryReq *req = DMG_MSG_NEW(ctx, Mgmt__PoolQueryReq, MGMT__POOL_QUERY_REQ__INIT);
	uint64_t mask;

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	/* DAOS's defaults: everything but enabled and dead engines; health: no space */
	mask = ~(uint64_t)(DPI_ENGINES_ENABLED | DMG_DPI_ENGINES_DEAD);
	if (o->o_health_only)
		mask = ~(uint64_t)(DPI_ENGINES_ENABLED | DPI_SPACE);
	if (o->o_show_enabled)
		mask |= DPI_ENGINES_ENABLED;
	mask |= DMG_DPI_ENGINES_DISABLED;
	req->query_mask = mask;
	return dmg_call_set(call, DSS_CTL_POOL_QUERY, &req->base,
			    &mgmt__pool_query_resp__descriptor);
}

/* DAOS's query_mask in JSON: the option names, sorted, comma-separated. */
static const char *
mask_str(struct dmg_ctx *ctx, uint64_t mask)
{
	char buf[128] = "";

	if (mask & DMG_DPI_ENGINES_DEAD)
		strcat(buf, "dead_engines,");
	if (mask & DMG_DPI_ENGINES_DISABLED)
		strcat(buf, "disabled_engines,");
	if (mask & DPI_ENGINES_ENABLED)
		strcat(buf, "enabled_engines,");
	if (mask & DPI_REBUILD_STATUS)
		strcat(buf, "rebuild,");
	if (mask & DPI_SPACE)
		strcat(buf, "space,");
	if (buf[0] != '\0')
		buf[strlen(buf) - 1] = '\0';
	return dmg_strdup(ctx, buf);
}

static const char *
media_name(int media)
{
	return media == MGMT__STORAGE_MEDIA_TYPE__SCM ? "SCM" : "NVMe";
}

static int
pool_query_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		 ProtobufCMessage *msg)
{
	Mgmt__PoolQueryResp *resp = (Mgmt__PoolQueryResp *)msg;
	const ProtobufCEnumValue *st;
	size_t i;

	(void)call;
	if (o->o_json) {
		static const char *const skip[] = {"status", "query_mask", NULL};
		struct dmg_json j;

		dj_envelope_begin(&j, ctx->dx_out);
		dj_obj_begin(&j, "response");
		dj_str(&j, "query_mask", mask_str(ctx, resp->query_mask));
		dj_pb_fields(&j, msg, skip);
		dj_bool(&j, "md_on_ssd_active", false);
		dj_arr_begin(&j, "usage");
		for (i = 0; i < resp->n_tier_stats; i++) {
			Mgmt__StorageUsageStats *s = resp->tier_stats[i];
			double per =
			    resp->active_targets ? (double)s->total / resp->active_targets : 0;

			dj_obj_begin(&j, NULL);
			dj_str(&j, "tier_name",
			       s->media_type == MGMT__STORAGE_MEDIA_TYPE__SCM ? "SCM" : "NVME");
			dj_u64(&j, "size", s->total);
			dj_u64(&j, "free", s->free);
			dj_u64(&j, "imbalance",
			       per > 0 ? (uint64_t)(100.0 * (double)(s->max - s->min) / per) : 0);
			dj_obj_end(&j);
		}
		dj_arr_end(&j);
		dj_obj_end(&j);
		dj_envelope_end(&j, NULL, 0);
		return 0;
	}
	st = protobuf_c_enum_descriptor_get_value(&mgmt__pool_service_state__descriptor,
						  resp->state);
	fprintf(ctx->dx_out, "Pool %s, ntarget=%u, disabled=%u, leader=%u, version=%u, state=%s\n",
		resp->uuid, resp->total_targets, resp->disabled_targets, resp->svc_ldr,
		resp->version, st ? st->name : "Unknown");
	fprintf(ctx->dx_out, "Pool health info:\n");
	if (resp->disabled_ranks[0] != '\0')
		fprintf(ctx->dx_out, "- Disabled ranks: %s\n", resp->disabled_ranks);
	if (resp->dead_ranks[0] != '\0')
		fprintf(ctx->dx_out, "- Dead ranks: %s\n", resp->dead_ranks);
	if (resp->enabled_ranks[0] != '\0')
		fprintf(ctx->dx_out, "- Enabled ranks: %s\n", resp->enabled_ranks);
	if (resp->rebuild != NULL) {
		const ProtobufCEnumValue *rs = protobuf_c_enum_descriptor_get_value(
		    &mgmt__pool_rebuild_status__state__descriptor, resp->rebuild->state);
		char name[16];
		size_t k;

		snprintf(name, sizeof(name), "%s", rs ? rs->name : "unknown");
		for (k = 0; name[k] != '\0'; k++)
			name[k] = (char)tolower((unsigned char)name[k]);
		if (resp->rebuild->status != 0)
			fprintf(ctx->dx_out, "- Rebuild failed, status=%d\n",
				resp->rebuild->status);
		else
			fprintf(ctx->dx_out, "- Rebuild %s, %" PRIu64 " objs, %" PRIu64 " recs\n",
				name, resp->rebuild->objects, resp->rebuild->records);
	} else {
		fprintf(ctx->dx_out, "- Rebuild unknown\n");
	}
	if (resp->n_tier_stats > 0) {
		fprintf(ctx->dx_out, "Pool space info:\n- Target count:%u\n", resp->active_targets);
		for (i = 0; i < resp->n_tier_stats; i++) {
			Mgmt__StorageUsageStats *s = resp->tier_stats[i];
			char a[32];
			char b[32];
			char c[32];
			char d[32];

			dmg_size_format(s->total, a, sizeof(a));
			dmg_size_format(s->free, b, sizeof(b));
			dmg_size_format(s->min, c, sizeof(c));
			dmg_size_format(s->max, d, sizeof(d));
			fprintf(ctx->dx_out, "- Storage tier %zu (%s):\n  Total size: %s\n", i,
				media_name(s->media_type), a);
			fprintf(ctx->dx_out, "  Free: %s, min:%s, max:%s, ", b, c, d);
			dmg_size_format(s->mean, a, sizeof(a));
			fprintf(ctx->dx_out, "mean:%s\n", a);
		}
	}
	return 0;
}

const struct dmg_cmd dmg_cmd_pool_query = {
    "pool query",    "Query a DAOS pool", "<pool label or UUID>", 1,    1,
    pool_query_opts, pool_query_build,    pool_query_print,       NULL,
};

/*
 * pool get-prop / set-prop
 */

static int
pool_get_prop_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__PoolGetPropReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__PoolGetPropReq, MGMT__POOL_GET_PROP_REQ__INIT);
	int rc;

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	if (o->o_npos > 1) {
		rc = dmg_props_parse(ctx, o->o_pos[1], false,
				     (ProtobufCMessage ***)&req->properties, &req->n_properties);
		if (rc != 0)
			return rc;
	}
	return dmg_call_set(call, DSS_CTL_POOL_GET_PROP, &req->base,
			    &mgmt__pool_get_prop_resp__descriptor);
}

static int
pool_get_prop_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		    ProtobufCMessage *msg)
{
	static const char *const hdr[] = {"Name", "Value"};
	Mgmt__PoolGetPropResp *resp = (Mgmt__PoolGetPropResp *)msg;
	struct dmg_table t;
	struct dmg_json j;
	size_t i;

	(void)call;
	if (o->o_json) {
		dj_envelope_begin(&j, ctx->dx_out);
		dj_arr_begin(&j, "response");
	} else if (dmg_table_init(ctx, &t, 2, hdr) != 0) {
		return NOMEM(ctx);
	}
	for (i = 0; i < resp->n_properties; i++) {
		Mgmt__PoolProperty *p = resp->properties[i];
		const struct prop_def *d = prop_by_number(p->number);
		const char *name = d ? d->pd_name : dmg_sprintf(ctx, "prop_%u", p->number);
		char *val = prop_format(ctx, p, d);

		if (val == NULL || name == NULL)
			return NOMEM(ctx);
		if (o->o_json) {
			dj_obj_begin(&j, NULL);
			dj_str(&j, "name", name);
			dj_str(&j, "description", d ? d->pd_desc : "");
			dj_str(&j, "value", val);
			dj_obj_end(&j);
		} else {
			const char *c[2] = {
			    dmg_sprintf(ctx, "%s (%s)", d ? d->pd_desc : "Unknown", name), val};

			if (dmg_table_row(&t, c) != 0)
				return NOMEM(ctx);
		}
	}
	if (o->o_json) {
		dj_arr_end(&j);
		dj_envelope_end(&j, NULL, 0);
	} else {
		fprintf(ctx->dx_out, "Pool %s properties:\n", o->o_pos[0]);
		dmg_table_print(&t, ctx->dx_out);
	}
	return 0;
}

const struct dmg_cmd dmg_cmd_pool_get_prop = {
    "pool get-prop",
    "Get pool properties",
    "<pool label or UUID> [key[,key...]]",
    1,
    2,
    NULL,
    pool_get_prop_build,
    pool_get_prop_print,
    NULL,
};

static int
pool_set_prop_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__PoolSetPropReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__PoolSetPropReq, MGMT__POOL_SET_PROP_REQ__INIT);
	size_t i;
	int rc;

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	rc = dmg_props_parse(ctx, o->o_pos[1], true, (ProtobufCMessage ***)&req->properties,
			     &req->n_properties);
	if (rc != 0)
		return rc;
	for (i = 0; i < req->n_properties; i++) {
		const struct prop_def *d = prop_by_number(req->properties[i]->number);

		if (d->pd_create_only)
			return dmg_fail(ctx, -DER_INVAL, "can't set %s on an existing pool",
					d->pd_name);
	}
	return dmg_call_set(call, DSS_CTL_POOL_SET_PROP, &req->base,
			    &mgmt__pool_set_prop_resp__descriptor);
}

static int
pool_set_prop_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		    ProtobufCMessage *msg)
{
	(void)call;
	(void)msg;
	if (o->o_json)
		dmg_json_resp(ctx, NULL, NULL);
	else
		fprintf(ctx->dx_out, "pool set-prop succeeded\n");
	return 0;
}

const struct dmg_cmd dmg_cmd_pool_set_prop = {
    "pool set-prop",
    "Set pool property",
    "<pool label or UUID> <key:val[,key:val...]>",
    2,
    2,
    NULL,
    pool_set_prop_build,
    pool_set_prop_print,
    NULL,
};

/*
 * ACL commands
 */

static const struct dmg_opt pool_get_acl_opts[] = {
    DMG_OPT('o', "outfile", DO_STR, o_outfile, "PATH", "output ACL to file"),
    DMG_OPT('f', "force", DO_BOOL, o_force, NULL, "allow to clobber output file"),
    DMG_OPT('v', "verbose", DO_BOOL, o_verbose, NULL, "add descriptive comments to ACL entries"),
    DMG_OPT_END,
};

static const struct dmg_opt pool_update_acl_opts[] = {
    DMG_OPT('a', "acl-file", DO_STR, o_acl_file, "PATH", "path for new access control list file"),
    DMG_OPT('e', "entry", DO_STR, o_entry, "ACE", "single access control entry to add or update"),
    DMG_OPT_END,
};

static const struct dmg_opt pool_overwrite_acl_opts[] = {
    DMG_OPT_REQ('a', "acl-file", DO_STR, o_acl_file, "PATH",
		"path for new access control list file"),
    DMG_OPT_END,
};

static const struct dmg_opt pool_delete_acl_opts[] = {
    DMG_OPT_REQ('p', "principal", DO_STR, o_principal, "PRINCIPAL",
		"principal whose entry should be removed"),
    DMG_OPT_END,
};

static int
pool_get_acl_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__GetACLReq *req = DMG_MSG_NEW(ctx, Mgmt__GetACLReq, MGMT__GET_ACLREQ__INIT);
	struct stat st;

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	if (o->o_outfile != NULL && !o->o_force && stat(o->o_outfile, &st) == 0)
		return dmg_fail(ctx, -DER_EXIST, "file already exists: %s", o->o_outfile);
	return dmg_call_set(call, DSS_CTL_POOL_GET_ACL, &req->base, &mgmt__aclresp__descriptor);
}

/* The ACL as DAOS prints it: owner comments, then one entry per line. */
static void
acl_write(FILE *f, const Mgmt__AccessControlList *acl, bool verbose)
{
	size_t i;

	fprintf(f, "# Owner: %s\n# Owner Group: %s\n# Entries:\n", acl->owner_user,
		acl->owner_group);
	if (acl->n_entries == 0)
		fprintf(f, "#   None\n");
	for (i = 0; i < acl->n_entries; i++) {
		if (verbose)
			fprintf(f, "# Entry %zu\n", i + 1);
		fprintf(f, "%s\n", acl->entries[i]);
	}
}

static int
acl_print(struct dmg_ctx *ctx, const struct dmg_opts *o, ProtobufCMessage *msg, const char *what)
{
	Mgmt__ACLResp *resp = (Mgmt__ACLResp *)msg;
	Mgmt__AccessControlList empty = MGMT__ACCESS_CONTROL_LIST__INIT;
	const Mgmt__AccessControlList *acl = resp->acl ? resp->acl : &empty;

	if (o->o_json) {
		struct dmg_json j;

		dj_envelope_begin(&j, ctx->dx_out);
		dj_obj_begin(&j, "response");
		dj_pb_fields(&j, &acl->base, NULL);
		dj_obj_end(&j);
		dj_envelope_end(&j, NULL, 0);
		return 0;
	}
	if (what != NULL)
		fprintf(ctx->dx_out, "%s command succeeded, ID: %s\n", what, o->o_pos[0]);
	if (o->o_outfile != NULL) {
		FILE *f = fopen(o->o_outfile, "w");

		if (f == NULL)
			return dmg_fail(ctx, d_errno2der(errno), "unable to create file %s: %s",
					o->o_outfile, strerror(errno));
		acl_write(f, acl, o->o_verbose);
		if (fclose(f) != 0)
			return dmg_fail(ctx, -DER_IO, "failed to write to file %s", o->o_outfile);
		fprintf(ctx->dx_out, "Wrote ACL to output file: %s\n", o->o_outfile);
		return 0;
	}
	acl_write(ctx->dx_out, acl, o->o_verbose);
	return 0;
}

static int
pool_get_acl_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		   ProtobufCMessage *msg)
{
	(void)call;
	return acl_print(ctx, o, msg, NULL);
}

static int
pool_modify_acl_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call,
		      uint32_t method)
{
	Mgmt__ModifyACLReq *req = DMG_MSG_NEW(ctx, Mgmt__ModifyACLReq, MGMT__MODIFY_ACLREQ__INIT);
	int rc;

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	if ((o->o_acl_file == NULL) == (o->o_entry == NULL))
		return dmg_fail(ctx, -DER_INVAL, "either ACL file or entry parameter is required");
	if (o->o_acl_file != NULL) {
		rc = acl_file_read(ctx, o->o_acl_file, &req->entries, &req->n_entries);
		if (rc != 0)
			return rc;
		if (req->n_entries == 0 && method == DSS_CTL_POOL_UPDATE_ACL)
			return dmg_fail(ctx, -DER_INVAL, "ACL file %s has no entries",
					o->o_acl_file);
	} else {
		if (!ace_valid(o->o_entry))
			return dmg_fail(ctx, -DER_INVAL,
					"invalid access control entry %s (expected "
					"TYPE:FLAGS:PRINCIPAL:PERMS, e.g. A::OWNER@:rw)",
					o->o_entry);
		req->entries = dmg_alloc(ctx, sizeof(char *));
		if (req->entries == NULL)
			return NOMEM(ctx);
		req->entries[0] = (char *)o->o_entry;
		req->n_entries = 1;
	}
	return dmg_call_set(call, method, &req->base, &mgmt__aclresp__descriptor);
}

static int
pool_update_acl_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	return pool_modify_acl_build(ctx, o, call, DSS_CTL_POOL_UPDATE_ACL);
}

static int
pool_overwrite_acl_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	return pool_modify_acl_build(ctx, o, call, DSS_CTL_POOL_OVERWRITE_ACL);
}

static int
pool_delete_acl_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__DeleteACLReq *req = DMG_MSG_NEW(ctx, Mgmt__DeleteACLReq, MGMT__DELETE_ACLREQ__INIT);
	const char *p = o->o_principal;

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	if (p[0] == '\0' || strchr(p, '@') == NULL)
		return dmg_fail(ctx, -DER_INVAL,
				"invalid principal %s (expected OWNER@, GROUP@, EVERYONE@, "
				"u:name@ or g:name@)",
				p);
	req->principal = (char *)p;
	return dmg_call_set(call, DSS_CTL_POOL_DELETE_ACL, &req->base, &mgmt__aclresp__descriptor);
}

static int
pool_update_acl_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		      ProtobufCMessage *msg)
{
	(void)call;
	return acl_print(ctx, o, msg, "Pool-update-ACL");
}

static int
pool_overwrite_acl_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
			 ProtobufCMessage *msg)
{
	(void)call;
	return acl_print(ctx, o, msg, "Pool-overwrite-ACL");
}

static int
pool_delete_acl_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		      ProtobufCMessage *msg)
{
	(void)call;
	return acl_print(ctx, o, msg, "Pool-delete-ACL");
}

const struct dmg_cmd dmg_cmd_pool_get_acl = {
    "pool get-acl",
    "Get a DAOS pool's Access Control List",
    "<pool label or UUID>",
    1,
    1,
    pool_get_acl_opts,
    pool_get_acl_build,
    pool_get_acl_print,
    NULL,
};

const struct dmg_cmd dmg_cmd_pool_update_acl = {
    "pool update-acl",
    "Update entries in a DAOS pool's Access Control List",
    "<pool label or UUID>",
    1,
    1,
    pool_update_acl_opts,
    pool_update_acl_build,
    pool_update_acl_print,
    NULL,
};

const struct dmg_cmd dmg_cmd_pool_overwrite_acl = {
    "pool overwrite-acl",
    "Overwrite a DAOS pool's Access Control List",
    "<pool label or UUID>",
    1,
    1,
    pool_overwrite_acl_opts,
    pool_overwrite_acl_build,
    pool_overwrite_acl_print,
    NULL,
};

const struct dmg_cmd dmg_cmd_pool_delete_acl = {
    "pool delete-acl",
    "Delete an entry from a DAOS pool's Access Control List",
    "<pool label or UUID>",
    1,
    1,
    pool_delete_acl_opts,
    pool_delete_acl_build,
    pool_delete_acl_print,
    NULL,
};

/*
 * pool list-cont
 */

static int
pool_list_cont_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__ListContReq *req = DMG_MSG_NEW(ctx, Mgmt__ListContReq, MGMT__LIST_CONT_REQ__INIT);

	if (req == NULL)
		return NOMEM(ctx);
	if (pool_target(ctx, o, &req->sys, &req->id) != 0)
		return -DER_INVAL;
	return dmg_call_set(call, DSS_CTL_POOL_LIST_CONT, &req->base,
			    &mgmt__list_cont_resp__descriptor);
}

static int
pool_list_cont_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		     ProtobufCMessage *msg)
{
	static const char *const hdr[] = {"UUID", "Label"};
	Mgmt__ListContResp *resp = (Mgmt__ListContResp *)msg;
	struct dmg_table t;
	size_t i;

	(void)call;
	if (o->o_json) {
		dmg_json_resp(ctx, msg, NULL);
		return 0;
	}
	if (resp->n_containers == 0) {
		fprintf(ctx->dx_out, "No containers.\n");
		return 0;
	}
	if (dmg_table_init(ctx, &t, 2, hdr) != 0)
		return NOMEM(ctx);
	for (i = 0; i < resp->n_containers; i++) {
		const char *c[2] = {resp->containers[i]->uuid, resp->containers[i]->label};

		if (dmg_table_row(&t, c) != 0)
			return NOMEM(ctx);
	}
	dmg_table_print(&t, ctx->dx_out);
	return 0;
}

const struct dmg_cmd dmg_cmd_pool_list_cont = {
    "pool list-cont",
    "List containers of a DAOS pool",
    "<pool label or UUID>",
    1,
    1,
    NULL,
    pool_list_cont_build,
    pool_list_cont_print,
    NULL,
};
