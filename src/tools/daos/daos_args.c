/*
 * daos_args.c: the command line of `daos`: RESOURCE COMMAND [OPTIONS] [ARGS], with the
 * options of every command in one table (each command lists the ones it takes), number
 * parsers, and help.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gurt/common.h>

#include "daos_internal.h"

enum dt_opt_kind { DT_BOOL, DT_STR };

struct dt_opt {
	char op_short;
	const char *op_long;
	enum dt_opt_kind op_kind;
	size_t op_off;
	const char *op_help;
};

#define OPT(s, l, k, f, h)                                                                         \
	{                                                                                          \
		s, l, k, offsetof(struct dt_opts, f), h                                            \
	}

/* Global options first (no command lists them), then the commands'. */
static const struct dt_opt dt_opts_table[] = {
    OPT('j', "json", DT_BOOL, o_json, "print the answer as JSON"),
    OPT('h', "help", DT_BOOL, o_help, "show help"),
    OPT(0, "sys-name", DT_STR, o_sys, "DAOS system name"),
    OPT('t', "type", DT_STR, o_type, "container type (POSIX, HDF5, PYTHON, ...; default unknown)"),
    OPT('z', "chunk-size", DT_STR, o_chunk_size,
	"POSIX: default chunk size of files (4KiB, 1MiB...)"),
    OPT('o', "oclass", DT_STR, o_oclass, "POSIX: default object class (S1, SX, RP_2G1...)"),
    OPT('l', "label", DT_STR, o_label, "container label (or give it after the pool)"),
    OPT('P', "properties", DT_STR, o_props, "properties, name:value;name:value..."),
    OPT('f', "force", DT_BOOL, o_force, "even if the container is in use"),
    OPT('v', "verbose", DT_BOOL, o_verbose, "more detail"),
    OPT('s', "snap", DT_STR, o_snap, "snapshot name"),
    OPT('e', "epc", DT_STR, o_epc, "snapshot epoch"),
    OPT('r', "epcrange", DT_STR, o_epcrange, "snapshot epoch range: LOW-HIGH"),
    OPT('e', "entry", DT_STR, o_entry, "an ACE (e.g. A::alice@:rw)"),
    OPT('a', "acl-file", DT_STR, o_acl_file, "a file of ACEs, one a line"),
    OPT('p', "principal", DT_STR, o_principal, "OWNER@, GROUP@, EVERYONE@, u:name@, g:name@"),
    OPT('u', "user", DT_STR, o_user, "new owner user (name@)"),
    OPT('g', "group", DT_STR, o_group, "new owner group (name@)"),
    OPT(0, "no-check", DT_BOOL, o_no_check, "do not check that the user and group exist"),
    OPT('O', "outfile", DT_STR, o_outfile, "write the ACL to this file"),
    OPT(0, "src", DT_STR, o_src, "source: a local path, daos://POOL/CONT[/PATH] or a linked path"),
    OPT(0, "dst", DT_STR, o_dst,
	"destination: a local path, daos://POOL/CONT[/PATH] or a linked path"),
    OPT('t', "threads", DT_STR, o_threads, "files copied in parallel (default 4)"),
};

#define DT_NGLOBAL 3

static bool
cmd_takes(const struct dt_cmd *cmd, const char *lname)
{
	size_t len = strlen(lname);
	const char *p;

	for (p = cmd->c_opts; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t n = end == NULL ? strlen(p) : (size_t)(end - p);

		if (n == len && strncmp(p, lname, n) == 0)
			return true;
		p = end == NULL ? p + n : end + 1;
	}
	return false;
}

/* The option @name (long) or @c (short) that @cmd (NULL: none yet) takes. */
static const struct dt_opt *
opt_find(const struct dt_cmd *cmd, const char *name, size_t len, char c)
{
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(dt_opts_table); i++) {
		const struct dt_opt *op = &dt_opts_table[i];

		if (i >= DT_NGLOBAL && (cmd == NULL || !cmd_takes(cmd, op->op_long)))
			continue;
		if (name != NULL && strlen(op->op_long) == len &&
		    strncmp(op->op_long, name, len) == 0)
			return op;
		if (name == NULL && op->op_short == c)
			return op;
	}
	return NULL;
}

static const char *
group_name(const char *s)
{
	if (strcmp(s, "pool") == 0)
		return "pool";
	if (strcmp(s, "container") == 0 || strcmp(s, "cont") == 0)
		return "container";
	if (strcmp(s, "object") == 0 || strcmp(s, "obj") == 0)
		return "object";
	if (strcmp(s, "filesystem") == 0 || strcmp(s, "fs") == 0)
		return "filesystem";
	return NULL;
}

static const struct dt_cmd *
cmd_find(const char *group, const char *name)
{
	int i;

	for (i = 0; dt_cmds[i] != NULL; i++) {
		const struct dt_cmd *c = dt_cmds[i];

		if (strcmp(c->c_group, group) != 0)
			continue;
		if (strcmp(c->c_name, name) == 0 || (c->c_alias && strcmp(c->c_alias, name) == 0))
			return c;
	}
	return NULL;
}

static int
opt_set(struct dt_ctx *ctx, const struct dt_opt *op, const char *val)
{
	char *base = (char *)&ctx->tx_opts;

	if (op->op_kind == DT_BOOL) {
		*(bool *)(base + op->op_off) = true;
		return 0;
	}
	if (val == NULL)
		return dt_fail(ctx, -DER_INVAL, "option --%s needs a value", op->op_long);
	*(const char **)(base + op->op_off) = val;
	return 0;
}

int
dt_args_parse(struct dt_ctx *ctx, int argc, char **argv)
{
	struct dt_opts *o = &ctx->tx_opts;
	const char *group = NULL;
	bool dashdash = false;
	int i;
	int rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct dt_opt *op;

		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (!dashdash && a[0] == '-' && a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq == NULL ? strlen(a + 2) : (size_t)(eq - a - 2);

			op = opt_find(o->o_cmd, a + 2, len, 0);
			if (op == NULL)
				return dt_fail(ctx, -DER_INVAL, "unknown flag `%s'", a);
			if (eq != NULL && op->op_kind == DT_BOOL)
				return dt_fail(ctx, -DER_INVAL, "option --%s takes no value",
					       op->op_long);
			if (eq != NULL)
				rc = opt_set(ctx, op, eq + 1);
			else if (op->op_kind == DT_STR)
				rc = opt_set(ctx, op, i + 1 < argc ? argv[++i] : NULL);
			else
				rc = opt_set(ctx, op, NULL);
			if (rc != 0)
				return rc;
			continue;
		}
		if (!dashdash && a[0] == '-' && a[1] != '\0') {
			const char *p;

			for (p = a + 1; *p != '\0'; p++) {
				op = opt_find(o->o_cmd, NULL, 0, *p);
				if (op == NULL)
					return dt_fail(ctx, -DER_INVAL, "unknown flag `-%c'", *p);
				if (op->op_kind == DT_STR) {
					const char *val = p[1] != '\0'   ? p + 1
							  : i + 1 < argc ? argv[++i]
									 : NULL;

					rc = opt_set(ctx, op, val);
					if (rc != 0)
						return rc;
					break;
				}
				opt_set(ctx, op, NULL);
			}
			continue;
		}
		if (group == NULL) {
			group = group_name(a);
			if (group == NULL)
				return dt_fail(ctx, -DER_INVAL, "unknown resource `%s'", a);
			o->o_group_name = group;
			continue;
		}
		if (o->o_cmd == NULL) {
			o->o_cmd = cmd_find(group, a);
			if (o->o_cmd == NULL)
				return dt_fail(ctx, -DER_INVAL, "unknown command `%s %s'", group,
					       a);
			continue;
		}
		if (o->o_npos >= o->o_cmd->c_pos_max)
			return dt_fail(ctx, -DER_INVAL, "too many arguments: `%s'", a);
		o->o_pos[o->o_npos++] = a;
	}
	if (o->o_help)
		return 0;
	if (group == NULL)
		return dt_fail(ctx, -DER_INVAL,
			       "no resource given (pool, container, object, filesystem)");
	if (o->o_cmd == NULL)
		return dt_fail(ctx, -DER_INVAL, "no command given for `%s'", group);
	if (o->o_npos < o->o_cmd->c_pos_min)
		return dt_fail(ctx, -DER_INVAL, "missing argument: %s", o->o_cmd->c_pos_help);
	return 0;
}

void
dt_help_print(FILE *f, const struct dt_opts *o)
{
	size_t i;
	int k;

	if (o->o_cmd != NULL) {
		const struct dt_cmd *c = o->o_cmd;

		fprintf(f, "Usage: daos %s %s [OPTIONS] %s\n\n%s\n", c->c_group, c->c_name,
			c->c_pos_help, c->c_summary);
		if (c->c_alias != NULL)
			fprintf(f, "Alias: %s\n", c->c_alias);
		fprintf(f, "\nOptions:\n");
		for (i = 0; i < D_ARRAY_SIZE(dt_opts_table); i++) {
			const struct dt_opt *op = &dt_opts_table[i];
			char left[64];

			if (i >= DT_NGLOBAL && !cmd_takes(c, op->op_long))
				continue;
			if (op->op_short != 0)
				snprintf(left, sizeof(left), "-%c, --%s%s", op->op_short,
					 op->op_long, op->op_kind == DT_STR ? "=" : "");
			else
				snprintf(left, sizeof(left), "    --%s%s", op->op_long,
					 op->op_kind == DT_STR ? "=" : "");
			fprintf(f, "  %-24s %s\n", left, op->op_help);
		}
		return;
	}
	fprintf(f, "Usage: daos [-j] RESOURCE COMMAND [OPTIONS] [ARGS]\n\n");
	fprintf(f, "Pool and container arguments are labels or UUIDs.\n\nCommands:\n");
	for (k = 0; dt_cmds[k] != NULL; k++) {
		const struct dt_cmd *c = dt_cmds[k];

		if (o->o_group_name != NULL && strcmp(o->o_group_name, c->c_group) != 0)
			continue;
		fprintf(f, "  %-9s %-15s %s\n", c->c_group, c->c_name, c->c_summary);
	}
	fprintf(f, "\n`daos RESOURCE COMMAND --help` shows a command's options.\n");
}

int
dt_u64_parse(const char *str, uint64_t *val)
{
	char *end;

	if (str == NULL || str[0] == '\0' || str[0] == '-' || isspace((unsigned char)str[0]))
		return -DER_INVAL;
	errno = 0;
	*val = strtoull(str, &end, 0);
	if (errno != 0 || *end != '\0')
		return -DER_INVAL;
	return 0;
}

int
dt_size_parse(const char *str, uint64_t *bytes)
{
	static const char units[] = "KMGTPE";
	uint64_t v;
	char *end;
	const char *u;
	int shift = 0;

	if (str == NULL || !isdigit((unsigned char)str[0]))
		return -DER_INVAL;
	errno = 0;
	v = strtoull(str, &end, 10);
	if (errno != 0)
		return -DER_INVAL;
	if (*end != '\0') {
		u = strchr(units, toupper((unsigned char)*end));
		if (u == NULL)
			return -DER_INVAL;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (strcasecmp(end, "iB") != 0 && strcasecmp(end, "B") != 0 && *end != '\0')
			return -DER_INVAL;
	}
	if (shift > 0 && v > (UINT64_MAX >> shift))
		return -DER_INVAL;
	*bytes = v << shift;
	return 0;
}
