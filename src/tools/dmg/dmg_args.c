/*
 * dmg_args.c: dmg's command line. Value parsers (sizes with units or "%", rank sets, numbers)
 * and the parser of `dmg [global options] GROUP COMMAND [options] [args]` driven by each
 * command's option table (struct dmg_opt). Options follow DAOS's dmg (go-flags): "-s 1G",
 * "-s1G", "--scm-size=1G", "--scm-size 1G", bundled short booleans ("-fr"), "--" ends options;
 * global options are accepted before and after the command, the command's own options
 * shadowing a global one with the same letter (pool get-acl -o is its output file).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gurt/common.h>

#include "dmg_internal.h"

/* Units of sizes, as DAOS's dmg (go-humanize): K, M, G... are powers of 1000, Ki, Mi,
 * Gi... (and KiB, MiB...) powers of 1024; a trailing B is optional; case does not matter. */
static const struct {
	const char *u_name;
	uint64_t u_mult;
} dmg_units[] = {
    {"", 1ULL},
    {"b", 1ULL},
    {"k", 1000ULL},
    {"kb", 1000ULL},
    {"ki", 1ULL << 10},
    {"kib", 1ULL << 10},
    {"m", 1000000ULL},
    {"mb", 1000000ULL},
    {"mi", 1ULL << 20},
    {"mib", 1ULL << 20},
    {"g", 1000000000ULL},
    {"gb", 1000000000ULL},
    {"gi", 1ULL << 30},
    {"gib", 1ULL << 30},
    {"t", 1000000000000ULL},
    {"tb", 1000000000000ULL},
    {"ti", 1ULL << 40},
    {"tib", 1ULL << 40},
    {"p", 1000000000000000ULL},
    {"pb", 1000000000000000ULL},
    {"pi", 1ULL << 50},
    {"pib", 1ULL << 50},
    {"e", 1000000000000000000ULL},
    {"eb", 1000000000000000000ULL},
    {"ei", 1ULL << 60},
    {"eib", 1ULL << 60},
};

/**
 * Parse a size: a non-negative decimal number (fraction allowed) and an optional unit, or,
 * with @allow_pct, an integer percentage 1..100 followed by "%". Fills *@sz. Returns 0 or
 * -DER_INVAL (empty, negative, unknown unit, overflow, a percentage out of range).
 */
int
dmg_size_parse(const char *str, bool allow_pct, struct dmg_size *sz)
{
	char numbuf[32];
	char unit[8];
	const char *p;
	char *end;
	double num;
	size_t n_num;
	size_t n;
	size_t i;

	memset(sz, 0, sizeof(*sz));
	if (str == NULL)
		return -DER_INVAL;
	while (isspace((unsigned char)*str))
		str++;
	if (!isdigit((unsigned char)*str) && *str != '.')
		return -DER_INVAL;
	n = strlen(str);
	while (n > 0 && isspace((unsigned char)str[n - 1]))
		n--;
	if (n > 0 && str[n - 1] == '%') {
		unsigned long v;

		if (!allow_pct)
			return -DER_INVAL;
		errno = 0;
		v = strtoul(str, &end, 10);
		while (end < str + n - 1 && isspace((unsigned char)*end))
			end++;
		if (errno != 0 || end != str + n - 1 || v == 0 || v > 100)
			return -DER_INVAL;
		sz->ds_set = true;
		sz->ds_pct = true;
		sz->ds_ratio = (uint32_t)v;
		return 0;
	}
	/* plain decimal only: no sign, exponent, hex or "inf" */
	n_num = strspn(str, "0123456789.");
	if (n_num == 0 || n_num >= sizeof(numbuf))
		return -DER_INVAL;
	memcpy(numbuf, str, n_num);
	numbuf[n_num] = '\0';
	errno = 0;
	num = strtod(numbuf, &end);
	if (errno != 0 || *end != '\0' || !isfinite(num) || num < 0)
		return -DER_INVAL;
	p = str + n_num;
	while (p < str + n && isspace((unsigned char)*p))
		p++;
	if ((size_t)(str + n - p) >= sizeof(unit))
		return -DER_INVAL;
	for (i = 0; p + i < str + n; i++)
		unit[i] = (char)tolower((unsigned char)p[i]);
	unit[i] = '\0';
	for (i = 0; i < D_ARRAY_SIZE(dmg_units); i++) {
		if (strcmp(unit, dmg_units[i].u_name) != 0)
			continue;
		/* 2^64 as a double is exact; anything at or above it does not fit */
		if (num * (double)dmg_units[i].u_mult >= 18446744073709551616.0)
			return -DER_INVAL;
		/* a fraction of a byte is not a size anyone meant */
		if (dmg_units[i].u_mult == 1 && num != floor(num))
			return -DER_INVAL;
		sz->ds_set = true;
		sz->ds_bytes = (uint64_t)(num * (double)dmg_units[i].u_mult + 0.5);
		return 0;
	}
	return -DER_INVAL;
}

/** Format @bytes for humans, as DAOS's tables do ("1.0 TB", "512 MB"): powers of 1000. */
void
dmg_size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const sfx[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	double v = (double)bytes;
	int i = 0;

	while (v >= 1000.0 && i < 6) {
		v /= 1000.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, len, "%.*f %s", v < 10.0 ? 1 : 0, v, sfx[i]);
}

/** A decimal uint32 (no sign, no junk). 0 or -DER_INVAL. */
int
dmg_u32_parse(const char *str, uint32_t *val)
{
	unsigned long long v;
	char *end;

	if (str == NULL || !isdigit((unsigned char)str[0]))
		return -DER_INVAL;
	errno = 0;
	v = strtoull(str, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -DER_INVAL;
	*val = (uint32_t)v;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/**
 * Parse a rank set "0-3,5" (optionally in brackets, "[0-3,5]", spaces allowed around items)
 * into *@rl, sorted and without duplicates, at most @max_nr ranks in all. The caller frees
 * rl->dr_ranks with dmg_ranks_free. An empty string is an empty set. Returns 0, -DER_INVAL
 * (syntax, a range backwards, the nil rank, too many) or -DER_NOMEM.
 */
int
dmg_ranks_parse(const char *str, uint32_t max_nr, struct dmg_ranks *rl)
{
	uint32_t *ranks = NULL;
	uint64_t total = 0;
	const char *p;
	const char *stop;
	uint32_t nr = 0;
	uint32_t i;
	int pass;

	memset(rl, 0, sizeof(*rl));
	if (str == NULL)
		return -DER_INVAL;
	p = str;
	while (isspace((unsigned char)*p))
		p++;
	stop = p + strlen(p);
	while (stop > p && isspace((unsigned char)stop[-1]))
		stop--;
	if (p < stop && *p == '[') {
		if (stop[-1] != ']')
			return -DER_INVAL;
		p++;
		stop--;
	}
	if (p == stop)
		return 0;
	/* pass 0 validates and counts, pass 1 fills */
	for (pass = 0; pass < 2; pass++) {
		const char *q = p;

		for (;;) {
			unsigned long long lo;
			unsigned long long hi;
			char *end;

			while (q < stop && isspace((unsigned char)*q))
				q++;
			if (q >= stop || !isdigit((unsigned char)*q))
				goto bad;
			errno = 0;
			lo = strtoull(q, &end, 10);
			if (errno != 0 || lo >= DMG_NIL_RANK || end > stop)
				goto bad;
			hi = lo;
			q = end;
			while (q < stop && isspace((unsigned char)*q))
				q++;
			if (q < stop && *q == '-') {
				q++;
				while (q < stop && isspace((unsigned char)*q))
					q++;
				if (q >= stop || !isdigit((unsigned char)*q))
					goto bad;
				errno = 0;
				hi = strtoull(q, &end, 10);
				if (errno != 0 || hi >= DMG_NIL_RANK || hi < lo || end > stop)
					goto bad;
				q = end;
				while (q < stop && isspace((unsigned char)*q))
					q++;
			}
			if (pass == 0) {
				total += hi - lo + 1;
				if (total > max_nr)
					goto bad;
			} else {
				for (; lo <= hi; lo++)
					ranks[nr++] = (uint32_t)lo;
			}
			if (q == stop)
				break;
			if (*q != ',')
				goto bad;
			q++;
		}
		if (pass == 0) {
			D_ALLOC_ARRAY(ranks, total);
			if (ranks == NULL)
				return -DER_NOMEM;
		}
	}
	qsort(ranks, nr, sizeof(*ranks), cmp_u32);
	for (i = 0, total = 0; i < nr; i++) {
		if (total == 0 || ranks[total - 1] != ranks[i])
			ranks[total++] = ranks[i];
	}
	rl->dr_ranks = ranks;
	rl->dr_nr = (uint32_t)total;
	return 0;
bad:
	D_FREE(ranks);
	return -DER_INVAL;
}

void
dmg_ranks_free(struct dmg_ranks *rl)
{
	D_FREE(rl->dr_ranks);
	rl->dr_nr = 0;
}

/**
 * Format sorted @ranks as a rank set ("0-3,5") into @buf. Returns 0 or -DER_TRUNC (the text
 * is cut at @len - 1 and ends in "...").
 */
int
dmg_ranks_format(const uint32_t *ranks, size_t nr, char *buf, size_t len)
{
	size_t off = 0;
	size_t i = 0;
	int n;

	if (len == 0)
		return -DER_TRUNC;
	buf[0] = '\0';
	while (i < nr) {
		size_t j = i;

		while (j + 1 < nr && ranks[j + 1] == ranks[j] + 1)
			j++;
		if (j == i)
			n = snprintf(buf + off, len - off, "%s%u", off ? "," : "", ranks[i]);
		else
			n = snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "", ranks[i],
				     ranks[j]);
		if (n < 0 || (size_t)n >= len - off) {
			if (len > 4)
				strcpy(buf + len - 4, "...");
			return -DER_TRUNC;
		}
		off += (size_t)n;
		i = j + 1;
	}
	return 0;
}

/* Global options: valid everywhere, after the command's own. */
static const struct dmg_opt dmg_global_opts[] = {
    {'o', "config-path", DO_STR, offsetof(struct dmg_opts, o_config), "PATH",
     "client config file path (default " DMG_CONFIG_DEFAULT ")", false},
    {'l', "host-list", DO_STR, offsetof(struct dmg_opts, o_hostlist), "HOSTS",
     "comma-separated list of addresses <ipv4addr/hostname:port>", false},
    {'i', "insecure", DO_BOOL, offsetof(struct dmg_opts, o_insecure), NULL,
     "have dmg attempt to connect without certificates", false},
    {'d', "debug", DO_BOOL, offsetof(struct dmg_opts, o_debug), NULL, "enable debug output", false},
    {'j', "json", DO_BOOL, offsetof(struct dmg_opts, o_json), NULL, "enable JSON output", false},
    {'h', "help", DO_BOOL, offsetof(struct dmg_opts, o_help), NULL, "show this help message",
     false},
    DMG_OPT_END,
};

static const struct dmg_opt *
opt_find(const struct dmg_opt *tab, char s, const char *l, size_t llen)
{
	for (; tab != NULL && tab->op_long != NULL; tab++) {
		if (s != 0 && tab->op_short == s)
			return tab;
		if (l != NULL && strlen(tab->op_long) == llen &&
		    strncmp(tab->op_long, l, llen) == 0)
			return tab;
	}
	return NULL;
}

/* Store @val for @op in @o. */
static int
opt_set(struct dmg_ctx *ctx, const struct dmg_opt *op, const char *val)
{
	char *base = (char *)&ctx->dx_opts;
	void *field = base + op->op_off;
	int rc;

	switch (op->op_kind) {
	case DO_BOOL:
		*(bool *)field = true;
		return 0;
	case DO_STR:
		*(const char **)field = val;
		return 0;
	case DO_U32:
		rc = dmg_u32_parse(val, field);
		if (rc != 0)
			return dmg_fail(ctx, rc, "invalid value %s for --%s: not a number", val,
					op->op_long);
		return 0;
	case DO_SIZE:
	case DO_BYTES:
		rc = dmg_size_parse(val, op->op_kind == DO_SIZE, field);
		if (rc != 0)
			return dmg_fail(ctx, rc,
					"invalid size %s for --%s (examples: 10G, 512MiB, 1T%s)",
					val, op->op_long, op->op_kind == DO_SIZE ? ", 50%" : "");
		return 0;
	case DO_RANKS:
		dmg_ranks_free(field);
		rc = dmg_ranks_parse(val, 1U << 20, field);
		if (rc != 0)
			return dmg_fail(ctx, rc, "invalid rank list %s for --%s (example: 0-3,5)",
					val, op->op_long);
		ctx->dx_opts.o_ranks_set = true;
		return 0;
	}
	return -DER_INVAL;
}

/* Find the command whose path is @words[0..n-1]; *@prefix: some command starts so. */
static const struct dmg_cmd *
cmd_find(char **words, int n, bool *prefix)
{
	size_t i;

	*prefix = false;
	for (i = 0; i < dmg_ncmds; i++) {
		const char *p = dmg_cmds[i]->dc_path;
		int w;

		for (w = 0; w < n; w++) {
			size_t len = strlen(words[w]);

			if (strncmp(p, words[w], len) != 0 || (p[len] != ' ' && p[len] != '\0'))
				break;
			p += len;
			if (*p == ' ')
				p++;
			else if (w + 1 < n)
				break;
		}
		if (w < n)
			continue;
		if (*p == '\0')
			return dmg_cmds[i];
		*prefix = true;
	}
	return NULL;
}

/* An option at argv[*i]: apply it (taking its value from the next word if needed). */
static int
arg_option(struct dmg_ctx *ctx, const struct dmg_opt *cmd_opts, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const struct dmg_opt *op;
	const char *val = NULL;

	if (a[1] == '-') {
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		op = opt_find(cmd_opts, 0, name, len);
		if (op == NULL)
			op = opt_find(dmg_global_opts, 0, name, len);
		if (op == NULL)
			return dmg_fail(ctx, -DER_INVAL, "unknown flag `%.*s'", (int)len, name);
		if (op->op_kind == DO_BOOL) {
			if (eq != NULL)
				return dmg_fail(ctx, -DER_INVAL, "flag --%s takes no value",
						op->op_long);
			return opt_set(ctx, op, NULL);
		}
		if (eq != NULL) {
			val = eq + 1;
		} else {
			if (*i + 1 >= argc)
				return dmg_fail(ctx, -DER_INVAL, "expected argument for flag --%s",
						op->op_long);
			val = argv[++*i];
		}
		return opt_set(ctx, op, val);
	}
	/* short flags, bundled: -fr, -s1G, -s 1G */
	for (a++; *a != '\0'; a++) {
		int rc;

		op = opt_find(cmd_opts, *a, NULL, 0);
		if (op == NULL)
			op = opt_find(dmg_global_opts, *a, NULL, 0);
		if (op == NULL)
			return dmg_fail(ctx, -DER_INVAL, "unknown flag `%c'", *a);
		if (op->op_kind == DO_BOOL) {
			rc = opt_set(ctx, op, NULL);
			if (rc != 0)
				return rc;
			continue;
		}
		if (a[1] != '\0') {
			val = a + 1;
		} else {
			if (*i + 1 >= argc)
				return dmg_fail(ctx, -DER_INVAL, "expected argument for flag -%c",
						op->op_short);
			val = argv[++*i];
		}
		return opt_set(ctx, op, val);
	}
	return 0;
}

/**
 * Parse @argv (argv[0] is the program) into ctx->dx_opts: global options, the command and
 * its options and positional arguments. With --help anywhere only o_help is checked later.
 * Returns 0 or -DER_INVAL with the reason in ctx->dx_err_msg.
 */
int
dmg_args_parse(struct dmg_ctx *ctx, int argc, char **argv)
{
	struct dmg_opts *o = &ctx->dx_opts;
	const struct dmg_opt *op;
	char *words[4];
	int nwords = 0;
	bool only_pos = false;
	bool prefix;
	int i;
	int rc;

	/* help wins over anything else on the line, as with DAOS's dmg */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			o->o_help = true;
	}
	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (!only_pos && a[0] == '-' && a[1] != '\0') {
			rc = arg_option(ctx, o->o_cmd ? o->o_cmd->dc_opts : NULL, argc, argv, &i);
			if (rc != 0 && !o->o_help)
				return rc;
			continue;
		}
		if (o->o_cmd == NULL) {
			const struct dmg_cmd *cmd;

			if (nwords == (int)D_ARRAY_SIZE(words))
				return dmg_fail(ctx, -DER_INVAL, "unknown command `%s'", a);
			words[nwords++] = a;
			cmd = cmd_find(words, nwords, &prefix);
			if (cmd != NULL) {
				o->o_cmd = cmd;
				continue;
			}
			if (!prefix) {
				if (o->o_help)
					break;
				return dmg_fail(ctx, -DER_INVAL, "unknown command `%s'", a);
			}
			o->o_group = a;
			continue;
		}
		if (o->o_npos >= o->o_cmd->dc_pos_max) {
			if (o->o_help)
				continue;
			return dmg_fail(ctx, -DER_INVAL, "unexpected argument `%s' for `%s'", a,
					o->o_cmd->dc_path);
		}
		o->o_pos[o->o_npos++] = a;
	}
	if (o->o_help)
		return 0;
	if (o->o_cmd == NULL) {
		if (nwords == 0)
			return dmg_fail(ctx, -DER_INVAL,
					"please specify a command (see dmg --help)");
		return dmg_fail(ctx, -DER_INVAL,
				"please specify a command of `%s' (see dmg %s --help)", words[0],
				words[0]);
	}
	if (o->o_npos < o->o_cmd->dc_pos_min)
		return dmg_fail(ctx, -DER_INVAL, "the required argument %s was not provided",
				o->o_cmd->dc_pos_help);
	for (op = o->o_cmd->dc_opts; op != NULL && op->op_long != NULL; op++) {
		const char *base = (const char *)o;
		bool set;

		if (!op->op_required)
			continue;
		switch (op->op_kind) {
		case DO_STR:
			set = *(const char *const *)(base + op->op_off) != NULL;
			break;
		case DO_RANKS:
			set = o->o_ranks_set;
			break;
		case DO_SIZE:
		case DO_BYTES:
			set = ((const struct dmg_size *)(base + op->op_off))->ds_set;
			break;
		default:
			set = true;
		}
		if (!set)
			return dmg_fail(ctx, -DER_INVAL,
					"the required flag `--%s' was not specified", op->op_long);
	}
	return 0;
}

static void
opts_print(FILE *f, const struct dmg_opt *op)
{
	for (; op != NULL && op->op_long != NULL; op++) {
		char left[64];

		snprintf(left, sizeof(left), "%s%c%s--%s%s%s", op->op_short ? "-" : "",
			 op->op_short ? op->op_short : ' ', op->op_short ? ", " : "  ", op->op_long,
			 op->op_arg ? "=" : "", op->op_arg ? op->op_arg : "");
		fprintf(f, "  %-32s %s%s\n", left, op->op_help,
			op->op_required ? " (required)" : "");
	}
}

/** Help for what @o names: a command, a group of commands, or dmg as a whole. */
void
dmg_help_print(FILE *f, const struct dmg_opts *o)
{
	const char *group = NULL;
	size_t glen = 0;
	size_t i;

	if (o->o_cmd != NULL) {
		const struct dmg_cmd *c = o->o_cmd;

		fprintf(f, "Usage:\n  dmg [OPTIONS] %s [%s-OPTIONS]%s%s\n\n%s\n", c->dc_path,
			c->dc_path, c->dc_pos_help ? " " : "", c->dc_pos_help ? c->dc_pos_help : "",
			c->dc_summary);
		if (c->dc_opts != NULL && c->dc_opts->op_long != NULL) {
			fprintf(f, "\n[%s command options]\n", c->dc_path);
			opts_print(f, c->dc_opts);
		}
		fprintf(f, "\nApplication Options:\n");
		opts_print(f, dmg_global_opts);
		return;
	}
	if (o->o_group != NULL) {
		group = o->o_group;
		glen = strlen(group);
	}
	fprintf(f, "Usage:\n  dmg [OPTIONS] %s%s<command>\n\n", group ? group : "",
		group ? " " : "");
	fprintf(f, "dmg (DAOS Management) administers a DAOS system: its servers (system), their\n"
		   "storage, pools and metrics, through the servers' management port.\n\n"
		   "Application Options:\n");
	opts_print(f, dmg_global_opts);
	fprintf(f, "\nAvailable commands:\n");
	for (i = 0; i < dmg_ncmds; i++) {
		const struct dmg_cmd *c = dmg_cmds[i];

		if (group != NULL &&
		    (strncmp(c->dc_path, group, glen) != 0 || c->dc_path[glen] != ' '))
			continue;
		fprintf(f, "  %-28s %s\n", c->dc_path, c->dc_summary);
	}
}
