/*
 * config.c: daos_server.yml into a struct dss_config. Sits on libyaml's document API (a tree
 * of nodes that keep their line numbers) and libgurt.
 *
 * Parsing is driven by tables of keys, one per mapping (top level, transport_config,
 * control_metadata, an engine, a storage tier). A key is parsed by kind (number, size,
 * string, path, boolean, a custom function for lists and nested mappings), ignored with a
 * warning (a DAOS key that means nothing here), or rejected with a hint (a key DAOS itself
 * moved). Anything else is an unknown key. After the walk, cfg_finish fills the defaults,
 * resolves relative paths against the data directory and checks what spans several keys
 * (roles across tiers, ports and paths across engines). Every error names the file, the
 * line, the key path and the reason, and stops the parse: one error at a time is enough
 * for a human fixing a file, and later keys might only fail because of the first error.
 *
 * The walk visits only nodes the tables describe, at most DSS_CFG_ENGINES_MAX engines of at
 * most DSS_CFG_TIERS_MAX tiers and lists of bounded length, so YAML aliases (even cyclic
 * ones) cannot make it loop or blow up.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include <gurt/common.h>

#include "config.h"

#define CFG_PATH_MAX 256       /* longest key path in messages */
#define CFG_STR_MAX 255        /* longest string value (names, masks, interfaces) */
#define CFG_FILE_MAX 4095      /* longest path value */
#define CFG_READ_MAX (4 << 20) /* largest configuration file */
#define GIB (1ULL << 30)

/* Value kinds of a key. */
enum cfg_kind {
	K_U32,    /* uint32_t in [k_min, k_max] */
	K_SIZE,   /* uint64_t bytes in [k_min, k_max], a bare number counts GiB */
	K_STR,    /* char *, 1..k_max characters, no control characters */
	K_PATH,   /* char *, a path (resolved against the data directory later) */
	K_BOOL,   /* bool */
	K_CUSTOM, /* k_fn parses */
	K_IGNORE, /* a DAOS key with no meaning here: warn with k_note */
	K_REJECT, /* a key DAOS renamed or moved: fail with k_note */
};

struct cfg_parser;

typedef int (*cfg_parse_fn_t)(struct cfg_parser *p, yaml_node_t *val, void *obj);

struct cfg_key {
	const char *k_name;
	enum cfg_kind k_kind;
	size_t k_off; /* offset of the field in the object the table describes */
	uint64_t k_min;
	uint64_t k_max;
	cfg_parse_fn_t k_fn;
	const char *k_note;
};

#define KEY_U32(n, T, f, lo, hi)                                                                   \
	{                                                                                          \
		n, K_U32, offsetof(T, f), lo, hi, NULL, NULL                                       \
	}
#define KEY_SIZE(n, T, f)                                                                          \
	{                                                                                          \
		n, K_SIZE, offsetof(T, f), DSS_CFG_SIZE_MIN, DSS_CFG_SIZE_MAX, NULL, NULL          \
	}
#define KEY_STR(n, T, f)                                                                           \
	{                                                                                          \
		n, K_STR, offsetof(T, f), 1, CFG_STR_MAX, NULL, NULL                               \
	}
#define KEY_PATH(n, T, f)                                                                          \
	{                                                                                          \
		n, K_PATH, offsetof(T, f), 1, CFG_FILE_MAX, NULL, NULL                             \
	}
#define KEY_BOOL(n, T, f)                                                                          \
	{                                                                                          \
		n, K_BOOL, offsetof(T, f), 0, 0, NULL, NULL                                        \
	}
#define KEY_FN(n, fn)                                                                              \
	{                                                                                          \
		n, K_CUSTOM, 0, 0, 0, fn, NULL                                                     \
	}
#define KEY_IGNORE(n, why)                                                                         \
	{                                                                                          \
		n, K_IGNORE, 0, 0, 0, NULL, why                                                    \
	}
#define KEY_REJECT(n, why)                                                                         \
	{                                                                                          \
		n, K_REJECT, 0, 0, 0, NULL, why                                                    \
	}

/*
 * Line numbers of the keys seen in a mapping, by table index: 0 not present, > 0 present
 * with a value, < 0 present but null (keeps the default).
 */
#define LINE_SET(lines, k) ((lines)[k] > 0)

/* Top-level keys. The enum indexes the table. */
enum {
	TK_NAME,
	TK_PORT,
	TK_ACCESS_POINTS,
	TK_MGMT_SVC_REPLICAS,
	TK_PROVIDER,
	TK_DATA_DIR,
	TK_SOCKET_DIR,
	TK_CONTROL_LOG_FILE,
	TK_CONTROL_LOG_MASK,
	TK_CONTROL_METADATA,
	TK_TRANSPORT_CONFIG,
	TK_FAULT_PATH,
	TK_TELEMETRY_PORT,
	TK_CRT_TIMEOUT,
	TK_CORE_DUMP_FILTER,
	TK_CLIENT_ENV_VARS,
	TK_ENGINES,
	TK_AUTO_FORMAT,
};

/* Engine keys. */
enum {
	EK_TARGETS,
	EK_NR_XS_HELPERS,
	EK_FIRST_CORE,
	EK_RANK,
	EK_FABRIC_IFACE,
	EK_FABRIC_IFACE_PORT,
	EK_PROVIDER,
	EK_LOG_FILE,
	EK_LOG_MASK,
	EK_ENV_VARS,
	EK_STORAGE,
};

/* Storage tier keys. */
enum {
	SK_CLASS,
	SK_SCM_MOUNT,
	SK_SCM_SIZE,
	SK_BDEV_LIST,
	SK_BDEV_SIZE,
	SK_BDEV_ROLES,
};

/* Most keys a table may have: the size of a lines array. */
#define CFG_KEYS_MAX 48

/* What the walk remembers for cfg_finish. */
struct cfg_state {
	int cs_lines[CFG_KEYS_MAX];
	int cs_elines[DSS_CFG_ENGINES_MAX][CFG_KEYS_MAX];
	int cs_slines[DSS_CFG_ENGINES_MAX][DSS_CFG_TIERS_MAX][CFG_KEYS_MAX];
	const char *cs_eprovider[DSS_CFG_ENGINES_MAX]; /* libfabric form of engines[i].provider */
	int cs_ap_lines[DSS_CFG_AP_MAX];
	uint32_t cs_ap_nr;
	int cs_engine; /* engine being parsed */
};

/* Parser state for one file. */
struct cfg_parser {
	const char *cp_file;
	const char *cp_buf; /* the text, for locating reader errors */
	yaml_document_t cp_doc;
	struct dss_config *cp_cfg;
	char *cp_err;
	size_t cp_errlen;
	char cp_path[CFG_PATH_MAX]; /* key path of the node being parsed */
	size_t cp_pathlen;
	struct cfg_state cp_state;
};

static struct cfg_state *
cfg_state(struct cfg_parser *p)
{
	return &p->cp_state;
}

/* Messages. */

static int
line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static size_t
path_push(struct cfg_parser *p, bool index, const char *name, int idx)
{
	size_t saved = p->cp_pathlen;
	int n;

	if (index)
		n = snprintf(p->cp_path + saved, sizeof(p->cp_path) - saved, "[%d]", idx);
	else
		n = snprintf(p->cp_path + saved, sizeof(p->cp_path) - saved, "%s%s",
			     saved == 0 ? "" : ".", name);
	if (n > 0)
		p->cp_pathlen = strnlen(p->cp_path, sizeof(p->cp_path) - 1);
	return saved;
}

static void
path_pop(struct cfg_parser *p, size_t saved)
{
	p->cp_pathlen = saved;
	p->cp_path[saved] = '\0';
}

/* "file:line: path: " into @buf (@path NULL: the current key path). */
static int
cfg_prefix(struct cfg_parser *p, int line, const char *path, char *buf, size_t len)
{
	int n;

	if (path == NULL)
		path = p->cp_path;
	if (line < 0)
		line = -line;
	if (line > 0)
		n = snprintf(buf, len, "%s:%d: %s%s", p->cp_file, line, path,
			     *path != '\0' ? ": " : "");
	else
		n = snprintf(buf, len, "%s: %s%s", p->cp_file, path, *path != '\0' ? ": " : "");
	if (n < 0)
		return 0;
	return (size_t)n >= len ? (int)len - 1 : n;
}

static int __attribute__((format(printf, 4, 0)))
cfg_verr(struct cfg_parser *p, int line, const char *path, const char *fmt, va_list ap)
{
	int n;

	if (p->cp_err == NULL || p->cp_errlen == 0)
		return -DER_INVAL;
	n = cfg_prefix(p, line, path, p->cp_err, p->cp_errlen);
	vsnprintf(p->cp_err + n, p->cp_errlen - (size_t)n, fmt, ap);
	return -DER_INVAL;
}

/* Fail at @line of the file, about the key being parsed. Returns -DER_INVAL. */
static int __attribute__((format(printf, 3, 4)))
cfg_err(struct cfg_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verr(p, line, NULL, fmt, ap);
	va_end(ap);
	return -DER_INVAL;
}

/* Fail at @line about the key at @path rather than the one being parsed. */
static int __attribute__((format(printf, 4, 5)))
cfg_err_at(struct cfg_parser *p, int line, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verr(p, line, path, fmt, ap);
	va_end(ap);
	return -DER_INVAL;
}

static int
cfg_nomem(struct cfg_parser *p)
{
	if (p->cp_err != NULL && p->cp_errlen > 0)
		snprintf(p->cp_err, p->cp_errlen, "%s: out of memory", p->cp_file);
	return -DER_NOMEM;
}

static int
strv_push(struct dss_strv *sv, const char *s, size_t len)
{
	char **v;
	char *dup;

	D_STRNDUP(dup, s, len);
	if (dup == NULL)
		return -DER_NOMEM;
	D_REALLOC_ARRAY(v, sv->sv_v, sv->sv_nr + 1);
	if (v == NULL) {
		D_FREE(dup);
		return -DER_NOMEM;
	}
	v[sv->sv_nr++] = dup;
	sv->sv_v = v;
	return 0;
}

static void
strv_fini(struct dss_strv *sv)
{
	uint32_t i;

	for (i = 0; i < sv->sv_nr; i++)
		D_FREE(sv->sv_v[i]);
	D_FREE(sv->sv_v);
	sv->sv_nr = 0;
}

static int __attribute__((format(printf, 3, 4)))
cfg_warn(struct cfg_parser *p, int line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = cfg_prefix(p, line, NULL, buf, sizeof(buf));
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (strv_push(&p->cp_cfg->dc_warnings, buf, strlen(buf)) != 0)
		return cfg_nomem(p);
	return 0;
}

/* Scalars. */

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "a value";
	}
}

static bool
node_is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = (const char *)n->data.scalar.value;
	return n->data.scalar.length == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* The string of scalar @n, or an error saying that @what was expected. */
static int
cfg_scalar(struct cfg_parser *p, yaml_node_t *n, const char *what, const char **str)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE)
		return cfg_err(p, line_of(n), "expected %s, got %s", what, node_kind(n));
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length)
		return cfg_err(p, line_of(n), "contains a NUL character");
	*str = s;
	return 0;
}

static bool
str_has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A decimal or 0x-hexadecimal unsigned number, the whole string. */
static int
str_to_u64(const char *s, uint64_t *val)
{
	unsigned base = 10, digits = 0;
	uint64_t v = 0;

	if (*s == '+')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return -DER_INVAL;
	for (; *s != '\0'; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else if (*s == '_' && base == 10)
			continue;
		else
			return -DER_INVAL;
		if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
			return -DER_OVERFLOW;
		digits++;
	}
	if (digits == 0)
		return -DER_INVAL;
	*val = v;
	return 0;
}

int
dss_config_size_parse(const char *str, uint64_t unit, uint64_t *bytes)
{
	static const struct {
		const char *name;
		uint64_t mult;
	} units[] = {
	    {"b", 1},
	    {"k", 1ULL << 10},
	    {"kib", 1ULL << 10},
	    {"kb", 1000ULL},
	    {"m", 1ULL << 20},
	    {"mib", 1ULL << 20},
	    {"mb", 1000000ULL},
	    {"g", 1ULL << 30},
	    {"gib", 1ULL << 30},
	    {"gb", 1000000000ULL},
	    {"t", 1ULL << 40},
	    {"tib", 1ULL << 40},
	    {"tb", 1000000000000ULL},
	    {"p", 1ULL << 50},
	    {"pib", 1ULL << 50},
	    {"pb", 1000000000000000ULL},
	};
	const char *s = str;
	uint64_t whole = 0, frac = 0, frac_div = 1, mult = unit, v, f;
	int ndigits = 0;
	size_t i;

	if (s == NULL)
		return -DER_INVAL;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9'; s++, ndigits++)
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, (uint64_t)(*s - '0'), &whole))
			return -DER_OVERFLOW;
	if (*s == '.') {
		s++;
		for (; *s >= '0' && *s <= '9'; s++, ndigits++) {
			if (frac_div >= 1000000000ULL)
				return -DER_INVAL; /* more than 9 decimals */
			frac = frac * 10 + (uint64_t)(*s - '0');
			frac_div *= 10;
		}
	}
	if (ndigits == 0)
		return -DER_INVAL;
	while (*s == ' ')
		s++;
	if (*s != '\0') {
		for (i = 0; i < D_ARRAY_SIZE(units); i++)
			if (strcasecmp(s, units[i].name) == 0)
				break;
		if (i == D_ARRAY_SIZE(units))
			return -DER_INVAL;
		mult = units[i].mult;
	}
	if (__builtin_mul_overflow(whole, mult, &v))
		return -DER_OVERFLOW;
	if (frac != 0) {
		/* frac / frac_div of mult must be whole bytes; frac < 1e9 and mult <= 2^50 */
		unsigned __int128 fb = (unsigned __int128)frac * mult;

		if (fb % frac_div != 0)
			return -DER_INVAL;
		f = (uint64_t)(fb / frac_div);
		if (__builtin_add_overflow(v, f, &v))
			return -DER_OVERFLOW;
	}
	*bytes = v;
	return 0;
}

/* @v as the largest exact binary unit, "4GiB", or bytes, "12345B". */
static const char *
size_str(uint64_t v, char *buf, size_t len)
{
	static const char *const names[] = {"PiB", "TiB", "GiB", "MiB", "KiB"};
	int i;

	for (i = 0; i < 5; i++) {
		uint64_t u = 1ULL << (10 * (5 - i));

		if (v >= u && v % u == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", v / u, names[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%" PRIu64 "B", v);
	return buf;
}

static int
str_replace(char **field, const char *s)
{
	char *dup = NULL;

	if (s != NULL) {
		D_STRNDUP(dup, s, strlen(s));
		if (dup == NULL)
			return -DER_NOMEM;
	}
	D_FREE(*field);
	*field = dup;
	return 0;
}

/* Parse value @n of key @k (written at line @kline) into @obj. */
static int
cfg_value(struct cfg_parser *p, const struct cfg_key *k, int kline, yaml_node_t *n, void *obj)
{
	char *field = (char *)obj + k->k_off;
	char a[32], b[32];
	const char *s;
	uint64_t v;
	int rc;

	switch (k->k_kind) {
	case K_U32:
		rc = cfg_scalar(p, n, "a number", &s);
		if (rc != 0)
			return rc;
		rc = str_to_u64(s, &v);
		if (rc == -DER_INVAL && !(s[0] == '-' && s[1] >= '0' && s[1] <= '9'))
			return cfg_err(p, line_of(n), "expected a number, got '%s'", s);
		if (rc != 0 || v < k->k_min || v > k->k_max)
			return cfg_err(p, line_of(n), "must be %" PRIu64 "..%" PRIu64 ", got %s",
				       k->k_min, k->k_max, s);
		*(uint32_t *)(void *)field = (uint32_t)v;
		return 0;
	case K_SIZE:
		rc = cfg_scalar(p, n, "a size", &s);
		if (rc != 0)
			return rc;
		rc = dss_config_size_parse(s, GIB, &v);
		if (rc == -DER_INVAL)
			return cfg_err(p, line_of(n),
				       "expected a size such as 16 (GiB), 4GiB or 512MiB, got '%s'",
				       s);
		if (rc != 0 || v < k->k_min || v > k->k_max)
			return cfg_err(p, line_of(n), "must be %s..%s, got %s",
				       size_str(k->k_min, a, sizeof(a)),
				       size_str(k->k_max, b, sizeof(b)), s);
		*(uint64_t *)(void *)field = v;
		return 0;
	case K_STR:
	case K_PATH:
		rc = cfg_scalar(p, n, k->k_kind == K_PATH ? "a path" : "a string", &s);
		if (rc != 0)
			return rc;
		if (*s == '\0')
			return cfg_err(p, line_of(n), "must not be empty");
		if (strlen(s) > k->k_max)
			return cfg_err(p, line_of(n), "longer than %" PRIu64 " characters",
				       k->k_max);
		if (str_has_ctl(s))
			return cfg_err(p, line_of(n), "contains control characters");
		if (str_replace((char **)(void *)field, s) != 0)
			return cfg_nomem(p);
		return 0;
	case K_BOOL:
		rc = cfg_scalar(p, n, "true or false", &s);
		if (rc != 0)
			return rc;
		if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
		    strcasecmp(s, "on") == 0)
			*(bool *)(void *)field = true;
		else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
			 strcasecmp(s, "off") == 0)
			*(bool *)(void *)field = false;
		else
			return cfg_err(p, line_of(n), "expected true or false, got '%s'", s);
		return 0;
	case K_CUSTOM:
		return k->k_fn(p, n, obj);
	case K_IGNORE:
		return cfg_warn(p, kline, "ignored: %s", k->k_note);
	case K_REJECT:
		return cfg_err(p, kline, "%s", k->k_note);
	}
	return cfg_err(p, line_of(n), "internal error: bad key kind");
}

/*
 * Walk mapping @map with the @nkeys keys of @keys into @obj, recording key lines in
 * @lines (@nkeys entries, zeroed by the caller).
 */
static int
cfg_walk(struct cfg_parser *p, yaml_node_t *map, const struct cfg_key *keys, int nkeys, void *obj,
	 int *lines)
{
	yaml_node_pair_t *pair;

	D_ASSERT(nkeys <= CFG_KEYS_MAX);
	if (map->type != YAML_MAPPING_NODE)
		return cfg_err(p, line_of(map), "expected a mapping of keys, got %s",
			       map->type == YAML_SCALAR_NODE ? "a single value" : node_kind(map));
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(&p->cp_doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(&p->cp_doc, pair->value);
		const char *name;
		size_t saved;
		int i, rc;

		if (kn == NULL || vn == NULL)
			return cfg_err(p, line_of(map), "malformed mapping");
		if (kn->type != YAML_SCALAR_NODE)
			return cfg_err(p, line_of(kn), "expected a key name, got %s",
				       node_kind(kn));
		rc = cfg_scalar(p, kn, "a key name", &name);
		if (rc != 0)
			return rc;
		for (i = 0; i < nkeys; i++)
			if (keys[i].k_name != NULL && strcmp(keys[i].k_name, name) == 0)
				break;
		saved = path_push(p, false, name, 0);
		if (i == nkeys) {
			rc = cfg_err(p, line_of(kn), "unknown key");
		} else if (lines[i] != 0) {
			rc = cfg_err(p, line_of(kn), "duplicate key (first at line %d)",
				     lines[i] < 0 ? -lines[i] : lines[i]);
		} else if (node_is_null(vn)) {
			lines[i] = -line_of(kn);
			rc = 0;
		} else {
			lines[i] = line_of(kn);
			rc = cfg_value(p, &keys[i], lines[i], vn, obj);
		}
		path_pop(p, saved);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Check that @n is a list of at most @max entries. */
static int
cfg_seq(struct cfg_parser *p, yaml_node_t *n, uint32_t max, const char *what)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return cfg_err(p, line_of(n), "expected a list of %s, got %s", what,
			       n->type == YAML_SCALAR_NODE ? "a single value" : node_kind(n));
	if ((uint64_t)(n->data.sequence.items.top - n->data.sequence.items.start) > max) {
		yaml_node_t *extra =
		    yaml_document_get_node(&p->cp_doc, n->data.sequence.items.start[max]);

		return cfg_err(p, line_of(extra != NULL ? extra : n), "at most %u %s allowed", max,
			       what);
	}
	return 0;
}

/* Custom keys. */

static int
parse_name(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_config *cfg = obj;
	const char *s, *c;
	int rc;

	rc = cfg_scalar(p, n, "a name", &s);
	if (rc != 0)
		return rc;
	if (*s == '\0' || strlen(s) > DSS_CFG_NAME_MAX)
		return cfg_err(p, line_of(n), "must be 1..%d characters, got '%s'",
			       DSS_CFG_NAME_MAX, s);
	for (c = s; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
			return cfg_err(p, line_of(n),
				       "may hold only letters, digits, '_', '-' and '.', got '%s'",
				       s);
	if (str_replace(&cfg->dc_name, s) != 0)
		return cfg_nomem(p);
	return 0;
}

/*
 * Split an access point "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address.
 * *@port is 0 when none is given.
 */
static int
ap_split(const char *s, const char **host, size_t *hlen, uint32_t *port)
{
	const char *colon, *c;
	uint64_t v;

	*port = 0;
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end == s + 1)
			return -DER_INVAL;
		*host = s + 1;
		*hlen = (size_t)(end - s - 1);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -DER_INVAL;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL; /* a bare IPv6 address */
		*host = s;
		*hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (*hlen == 0 || *hlen > 253)
		return -DER_INVAL;
	for (c = *host; c < *host + *hlen; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_' || *c == ':'))
			return -DER_INVAL;
	if (colon != NULL) {
		if (colon[1] == '\0' || str_to_u64(colon + 1, &v) != 0 || v == 0 || v > 65535 ||
		    colon[1] == '+')
			return -DER_INVAL;
		*port = (uint32_t)v;
	}
	return 0;
}

static int
parse_access_points(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_config *cfg = obj;
	struct cfg_state *cs = cfg_state(p);
	yaml_node_item_t *it;
	int rc, i;

	rc = cfg_seq(p, n, DSS_CFG_AP_MAX, "hosts");
	if (rc != 0)
		return rc;
	strv_fini(&cfg->dc_access_points);
	cs->cs_ap_nr = 0;
	for (it = n->data.sequence.items.start, i = 0; it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *e = yaml_document_get_node(&p->cp_doc, *it);
		size_t saved = path_push(p, true, NULL, i), hlen;
		const char *s, *host;
		uint32_t port;

		rc = cfg_scalar(p, e, "a host", &s);
		if (rc == 0 && ap_split(s, &host, &hlen, &port) != 0)
			rc = cfg_err(p, line_of(e),
				     "expected host, host:port or [IPv6]:port, got '%s'", s);
		if (rc == 0 && strv_push(&cfg->dc_access_points, s, strlen(s)) != 0)
			rc = cfg_nomem(p);
		if (rc == 0)
			cs->cs_ap_lines[cs->cs_ap_nr++] = line_of(e);
		path_pop(p, saved);
		if (rc != 0)
			return rc;
	}
	if (cfg->dc_access_points.sv_nr == 0)
		return cfg_err(p, line_of(n), "must list at least one host");
	if (cfg->dc_access_points.sv_nr % 2 == 0)
		return cfg_err(p, line_of(n),
			       "must list an odd number of hosts (1, 3, 5 or 7) for a Raft "
			       "quorum, got %u",
			       cfg->dc_access_points.sv_nr);
	return 0;
}

static const struct {
	const char *daos;
	const char *fi;
	const char *warn; /* accepted, but the user should know this */
} providers[] = {
    {"ofi+tcp;ofi_rxm", "tcp;ofi_rxm", NULL},
    {"ofi+tcp", "tcp", NULL},
    {"ofi+shm", "shm", NULL},
    {"ofi+verbs;ofi_rxm", "verbs;ofi_rxm", NULL},
    {"ofi+verbs", "verbs;ofi_rxm", NULL}, /* DAOS >= 2.2 adds ofi_rxm to verbs itself */
    {"ofi+cxi", "cxi", NULL},
    {"ofi+sockets", "sockets",
     "the sockets provider has millisecond latencies; prefer ofi+tcp;ofi_rxm"},
};

int
dss_config_provider_map(const char *name, const char **daos, const char **fi)
{
	size_t i;

	if (name == NULL)
		return -DER_INVAL;
	for (i = 0; i < D_ARRAY_SIZE(providers); i++)
		if (strcmp(name, providers[i].daos) == 0 ||
		    strcmp(name, providers[i].daos + 4) == 0)
			break;
	if (i == D_ARRAY_SIZE(providers))
		return -DER_INVAL;
	if (daos != NULL)
		*daos = providers[i].daos;
	if (fi != NULL)
		*fi = providers[i].fi;
	return 0;
}

/* Validate provider @n; *@fi gets its libfabric form. */
static int
provider_node(struct cfg_parser *p, yaml_node_t *n, const char **daos, const char **fi)
{
	const char *s;
	size_t i;
	int rc;

	rc = cfg_scalar(p, n, "a provider name", &s);
	if (rc != 0)
		return rc;
	if (strncmp(s, "ucx+", 4) == 0)
		return cfg_err(p, line_of(n), "UCX is not supported: use an ofi+ provider");
	if (dss_config_provider_map(s, daos, fi) != 0)
		return cfg_err(p, line_of(n),
			       "unknown provider '%s': use ofi+tcp;ofi_rxm, ofi+tcp, ofi+shm, "
			       "ofi+verbs;ofi_rxm or ofi+cxi",
			       s);
	for (i = 0; i < D_ARRAY_SIZE(providers); i++)
		if (providers[i].daos == *daos && providers[i].warn != NULL)
			return cfg_warn(p, line_of(n), "%s", providers[i].warn);
	return 0;
}

static int
parse_provider(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_config *cfg = obj;
	const char *daos, *fi;
	int rc;

	rc = provider_node(p, n, &daos, &fi);
	if (rc != 0)
		return rc;
	if (str_replace(&cfg->dc_provider, daos) != 0 || str_replace(&cfg->dc_fi_provider, fi))
		return cfg_nomem(p);
	return 0;
}

static int
parse_engine_provider(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct cfg_state *cs = cfg_state(p);
	const char *daos, *fi;
	int rc;

	(void)obj;
	rc = provider_node(p, n, &daos, &fi);
	if (rc == 0)
		cs->cs_eprovider[cs->cs_engine] = fi;
	return rc;
}

/* DAOS's control_log_mask names, and gurt's. */
static int
ctl_level_parse(const char *s)
{
	if (strcasecmp(s, "DISABLED") == 0)
		return D_LOG_NONE;
	if (strcasecmp(s, "TRACE") == 0)
		return D_LOG_DEBUG;
	if (strcasecmp(s, "NOTICE") == 0)
		return D_LOG_NOTE;
	return d_log_str2level(s);
}

static const char *
ctl_level_name(int level)
{
	switch (level) {
	case D_LOG_DEBUG:
		return "DEBUG";
	case D_LOG_INFO:
		return "INFO";
	case D_LOG_NOTE:
		return "NOTICE";
	case D_LOG_WARN:
		return "WARN";
	case D_LOG_ERR:
		return "ERROR";
	case D_LOG_CRIT:
		return "CRIT";
	case D_LOG_EMERG:
		return "EMRG";
	default:
		return "DISABLED";
	}
}

static int
parse_control_log_mask(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_config *cfg = obj;
	const char *s;
	int rc, level;

	rc = cfg_scalar(p, n, "a log level", &s);
	if (rc != 0)
		return rc;
	level = ctl_level_parse(s);
	if (level < 0)
		return cfg_err(p, line_of(n),
			       "expected DISABLED, TRACE, DEBUG, INFO, NOTICE or ERROR, got '%s'",
			       s);
	cfg->dc_control_log_level = level;
	return 0;
}

/* Trim blanks around @s in place. */
static char *
str_trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	return s;
}

/* "LEVEL" or "LEVEL,facility=LEVEL,...", as D_LOG_MASK; empty items are skipped. */
static int
parse_log_mask(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_engine_config *ec = obj;
	char buf[CFG_STR_MAX + 1];
	char *save = NULL, *t;
	const char *s;
	int rc;

	rc = cfg_scalar(p, n, "a log mask", &s);
	if (rc != 0)
		return rc;
	if (*s == '\0' || strlen(s) > CFG_STR_MAX)
		return cfg_err(p, line_of(n), "must be 1..%d characters", CFG_STR_MAX);
	strcpy(buf, s);
	for (t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '='), *level = t;

		if (eq != NULL) {
			*eq = '\0';
			level = eq + 1;
			t = str_trim(t);
			if (*t == '\0' || strlen(t) >= 32)
				return cfg_err(p, line_of(n), "bad facility name in '%s'", s);
		}
		level = str_trim(level);
		if (*level == '\0' && eq == NULL)
			continue;
		if (d_log_str2level(level) < 0)
			return cfg_err(
			    p, line_of(n),
			    "expected LEVEL or LEVEL,facility=LEVEL,... with levels DEBUG, "
			    "INFO, NOTE, WARN, ERR, CRIT, EMRG or NONE, got '%s'",
			    s);
	}
	if (str_replace(&ec->ec_log_mask, s) != 0)
		return cfg_nomem(p);
	return 0;
}

/* A list of NAME=value. */
static int
env_list(struct cfg_parser *p, yaml_node_t *n, struct dss_strv *sv)
{
	yaml_node_item_t *it;
	int rc, i;

	rc = cfg_seq(p, n, DSS_CFG_ENV_MAX, "NAME=value entries");
	if (rc != 0)
		return rc;
	strv_fini(sv);
	for (it = n->data.sequence.items.start, i = 0; it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *e = yaml_document_get_node(&p->cp_doc, *it);
		size_t saved = path_push(p, true, NULL, i);
		const char *s, *c;

		rc = cfg_scalar(p, e, "NAME=value", &s);
		if (rc == 0) {
			for (c = s; *c != '\0' && *c != '='; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				      *c == '_' || (c != s && *c >= '0' && *c <= '9')))
					break;
			if (c == s || *c != '=' || strlen(s) > CFG_FILE_MAX || str_has_ctl(s))
				rc = cfg_err(p, line_of(e), "expected NAME=value, got '%s'", s);
		}
		if (rc == 0 && strv_push(sv, s, strlen(s)) != 0)
			rc = cfg_nomem(p);
		path_pop(p, saved);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
parse_client_env(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	return env_list(p, n, &((struct dss_config *)obj)->dc_client_env_vars);
}

static int
parse_env_vars(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	return env_list(p, n, &((struct dss_engine_config *)obj)->ec_env_vars);
}

static int
parse_fault_path(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_config *cfg = obj;
	const char *s;
	int rc;

	rc = cfg_scalar(p, n, "a fault domain path", &s);
	if (rc != 0)
		return rc;
	if (s[0] != '/' || strstr(s, "//") != NULL || strlen(s) > CFG_STR_MAX || str_has_ctl(s) ||
	    (strlen(s) > 1 && s[strlen(s) - 1] == '/'))
		return cfg_err(p, line_of(n), "expected a path such as /rack1/node3, got '%s'", s);
	if (str_replace(&cfg->dc_fault_path, s) != 0)
		return cfg_nomem(p);
	return 0;
}

static const struct cfg_key transport_keys[] = {
    KEY_BOOL("allow_insecure", struct dss_config, dc_allow_insecure),
    KEY_PATH("client_cert_dir", struct dss_config, dc_client_cert_dir),
    KEY_PATH("ca_cert", struct dss_config, dc_ca_cert),
    KEY_PATH("cert", struct dss_config, dc_cert),
    KEY_PATH("key", struct dss_config, dc_key),
};

static int
parse_transport(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	int lines[D_ARRAY_SIZE(transport_keys)] = {0};

	return cfg_walk(p, n, transport_keys, (int)D_ARRAY_SIZE(transport_keys), obj, lines);
}

static const struct cfg_key ctl_meta_keys[] = {
    KEY_PATH("path", struct dss_config, dc_control_metadata),
    KEY_IGNORE("device", "daos_server formats no partitions: the directory in path: is used"),
};

static int
parse_control_metadata(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	int lines[D_ARRAY_SIZE(ctl_meta_keys)] = {0};

	return cfg_walk(p, n, ctl_meta_keys, (int)D_ARRAY_SIZE(ctl_meta_keys), obj, lines);
}

/* Storage tiers. */

static int
parse_class(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_tier_config *tc = obj;
	const char *s;
	int rc;

	rc = cfg_scalar(p, n, "a storage class", &s);
	if (rc != 0)
		return rc;
	if (strcmp(s, "ram") == 0)
		tc->tc_class = DSS_TIER_RAM;
	else if (strcmp(s, "file") == 0)
		tc->tc_class = DSS_TIER_FILE;
	else if (strcmp(s, "kdev") == 0)
		tc->tc_class = DSS_TIER_KDEV;
	else if (strcmp(s, "dcpm") == 0)
		return cfg_err(p, line_of(n),
			       "class dcpm (Optane persistent memory) is not supported: use class "
			       "ram, made durable by a WAL on the file tiers");
	else if (strcmp(s, "nvme") == 0)
		return cfg_err(p, line_of(n),
			       "class nvme (SPDK) is not supported: use class file, or kdev for "
			       "a kernel block device");
	else
		return cfg_err(p, line_of(n), "expected ram, file or kdev, got '%s'", s);
	return 0;
}

static int
parse_bdev_list(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_tier_config *tc = obj;
	yaml_node_item_t *it;
	int rc, i;

	rc = cfg_seq(p, n, DSS_CFG_BDEVS_MAX, "paths");
	if (rc != 0)
		return rc;
	strv_fini(&tc->tc_bdev_list);
	for (it = n->data.sequence.items.start, i = 0; it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *e = yaml_document_get_node(&p->cp_doc, *it);
		size_t saved = path_push(p, true, NULL, i);
		const char *s;

		rc = cfg_scalar(p, e, "a path", &s);
		if (rc == 0 && (*s == '\0' || strlen(s) > CFG_FILE_MAX || str_has_ctl(s)))
			rc = cfg_err(p, line_of(e), "expected a file path, got '%s'", s);
		if (rc == 0 && strv_push(&tc->tc_bdev_list, s, strlen(s)) != 0)
			rc = cfg_nomem(p);
		path_pop(p, saved);
		if (rc != 0)
			return rc;
	}
	if (tc->tc_bdev_list.sv_nr == 0)
		return cfg_err(p, line_of(n), "must list at least one path");
	return 0;
}

static int
parse_bdev_roles(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_tier_config *tc = obj;
	yaml_node_item_t *it;
	int rc, i;

	rc = cfg_seq(p, n, 3, "roles");
	if (rc != 0)
		return rc;
	tc->tc_roles = 0;
	for (it = n->data.sequence.items.start, i = 0; it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *e = yaml_document_get_node(&p->cp_doc, *it);
		size_t saved = path_push(p, true, NULL, i);
		uint32_t role = 0;
		const char *s;

		rc = cfg_scalar(p, e, "a role", &s);
		if (rc == 0) {
			if (strcmp(s, "wal") == 0)
				role = DSS_ROLE_WAL;
			else if (strcmp(s, "meta") == 0)
				role = DSS_ROLE_META;
			else if (strcmp(s, "data") == 0)
				role = DSS_ROLE_DATA;
			else
				rc = cfg_err(p, line_of(e), "expected wal, meta or data, got '%s'",
					     s);
		}
		if (rc == 0 && (tc->tc_roles & role) != 0)
			rc = cfg_err(p, line_of(e), "role %s listed twice", s);
		path_pop(p, saved);
		if (rc != 0)
			return rc;
		tc->tc_roles |= role;
	}
	if (tc->tc_roles == 0)
		return cfg_err(p, line_of(n), "must list at least one of wal, meta, data");
	tc->tc_roles_explicit = true;
	return 0;
}

static const struct cfg_key tier_keys[] = {
    [SK_CLASS] = KEY_FN("class", parse_class),
    [SK_SCM_MOUNT] = KEY_PATH("scm_mount", struct dss_tier_config, tc_scm_mount),
    [SK_SCM_SIZE] = KEY_SIZE("scm_size", struct dss_tier_config, tc_scm_size),
    [SK_BDEV_LIST] = KEY_FN("bdev_list", parse_bdev_list),
    [SK_BDEV_SIZE] = KEY_SIZE("bdev_size", struct dss_tier_config, tc_bdev_size),
    [SK_BDEV_ROLES] = KEY_FN("bdev_roles", parse_bdev_roles),
    KEY_IGNORE("scm_list", "PMem namespaces (class dcpm) are not supported"),
    KEY_IGNORE("scm_hugepages_disabled", "no hugepages are used"),
    KEY_IGNORE("bdev_number", "no SPDK devices are used"),
    KEY_IGNORE("bdev_busid_range", "no SPDK hot-plug is used"),
};

/* Error about key @k of the tier's mapping, at its line. */
static int
tier_key_err(struct cfg_parser *p, const int *lines, int k, const char *why)
{
	char path[CFG_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s.%s", p->cp_path, tier_keys[k].k_name);
	return cfg_err_at(p, lines[k], path, "%s", why);
}

static int
parse_tier(struct cfg_parser *p, yaml_node_t *n, struct dss_tier_config *tc, int *lines)
{
	static const int bdev_keys[] = {SK_BDEV_LIST, SK_BDEV_SIZE, SK_BDEV_ROLES};
	static const int scm_keys[] = {SK_SCM_MOUNT, SK_SCM_SIZE};
	size_t i;
	int rc;

	tc->tc_line = line_of(n);
	rc = cfg_walk(p, n, tier_keys, (int)D_ARRAY_SIZE(tier_keys), tc, lines);
	if (rc != 0)
		return rc;
	if (!LINE_SET(lines, SK_CLASS))
		return cfg_err(p, line_of(n), "missing required key class (ram, file or kdev)");
	if (tc->tc_class == DSS_TIER_RAM) {
		for (i = 0; i < D_ARRAY_SIZE(bdev_keys); i++)
			if (lines[bdev_keys[i]] != 0)
				return tier_key_err(p, lines, bdev_keys[i],
						    "not valid for class ram");
		if (!LINE_SET(lines, SK_SCM_MOUNT))
			return cfg_err(p, line_of(n), "class ram needs scm_mount");
		if (!LINE_SET(lines, SK_SCM_SIZE))
			tc->tc_scm_size = DSS_CFG_DEF_SCM_SIZE;
		return 0;
	}
	for (i = 0; i < D_ARRAY_SIZE(scm_keys); i++)
		if (lines[scm_keys[i]] != 0)
			return tier_key_err(p, lines, scm_keys[i],
					    tc->tc_class == DSS_TIER_FILE
						? "not valid for class file"
						: "not valid for class kdev");
	if (!LINE_SET(lines, SK_BDEV_LIST))
		return cfg_err(p, line_of(n), "class %s needs bdev_list",
			       tc->tc_class == DSS_TIER_FILE ? "file" : "kdev");
	if (tc->tc_class == DSS_TIER_FILE && !LINE_SET(lines, SK_BDEV_SIZE))
		return cfg_err(p, line_of(n), "class file needs bdev_size (GiB per file)");
	if (tc->tc_class == DSS_TIER_KDEV && LINE_SET(lines, SK_BDEV_SIZE)) {
		size_t saved = path_push(p, false, "bdev_size", 0);

		rc = cfg_warn(p, lines[SK_BDEV_SIZE],
			      "ignored for class kdev: the whole device is used");
		path_pop(p, saved);
		tc->tc_bdev_size = 0;
	}
	return rc;
}

/*
 * Roles across the tiers of @ec (engine @eidx; the key path is "engines[eidx]"): explicit on
 * every bdev tier or on none; then DAOS's default assignment, or DAOS's rules.
 */
static int
tiers_check(struct cfg_parser *p, struct dss_engine_config *ec, int eidx, int line)
{
	struct cfg_state *cs = cfg_state(p);
	uint32_t i, nbdev = ec->ec_tier_nr - 1, explicit = 0, seen = 0;
	int wal_at = -1, meta_at = -1;
	char path[CFG_PATH_MAX + 64];

	for (i = 0; i < ec->ec_tier_nr; i++) {
		struct dss_tier_config *tc = &ec->ec_tiers[i];

		snprintf(path, sizeof(path), "%s.storage[%u]", p->cp_path, i);
		if (i == 0 && tc->tc_class != DSS_TIER_RAM)
			return cfg_err_at(p, tc->tc_line, path,
					  "the first tier must be class ram (the memory that "
					  "holds metadata)");
		if (i > 0 && tc->tc_class == DSS_TIER_RAM)
			return cfg_err_at(p, tc->tc_line, path,
					  "only the first tier may be class ram");
		if (tc->tc_roles_explicit)
			explicit ++;
	}
	if (explicit == 0) {
		if (nbdev == 0)
			ec->ec_tiers[0].tc_roles = DSS_ROLE_ALL;
		for (i = 1; i < ec->ec_tier_nr; i++) {
			if (nbdev == 1)
				ec->ec_tiers[i].tc_roles = DSS_ROLE_ALL;
			else if (i == 1)
				ec->ec_tiers[i].tc_roles = DSS_ROLE_WAL;
			else if (nbdev == 2)
				ec->ec_tiers[i].tc_roles = DSS_ROLE_META | DSS_ROLE_DATA;
			else if (i == 2)
				ec->ec_tiers[i].tc_roles = DSS_ROLE_META;
			else
				ec->ec_tiers[i].tc_roles = DSS_ROLE_DATA;
		}
		return 0;
	}
	for (i = 1; i < ec->ec_tier_nr; i++) {
		struct dss_tier_config *tc = &ec->ec_tiers[i];
		int rline = cs->cs_slines[eidx][i][SK_BDEV_ROLES];

		snprintf(path, sizeof(path), "%s.storage[%u]%s", p->cp_path, i,
			 tc->tc_roles_explicit ? ".bdev_roles" : "");
		if (!tc->tc_roles_explicit)
			return cfg_err_at(p, tc->tc_line, path,
					  "bdev_roles must be given on every bdev tier or on none");
		if ((tc->tc_roles & DSS_ROLE_WAL) && wal_at >= 0)
			return cfg_err_at(p, rline, path, "wal is already on storage[%d]", wal_at);
		if ((tc->tc_roles & DSS_ROLE_META) && meta_at >= 0)
			return cfg_err_at(p, rline, path, "meta is already on storage[%d]",
					  meta_at);
		if (tc->tc_roles & DSS_ROLE_WAL)
			wal_at = (int)i;
		if (tc->tc_roles & DSS_ROLE_META)
			meta_at = (int)i;
		seen |= tc->tc_roles;
	}
	if (seen != DSS_ROLE_ALL) {
		snprintf(path, sizeof(path), "%s.storage", p->cp_path);
		return cfg_err_at(p, line, path, "no tier has the %s role",
				  !(seen & DSS_ROLE_WAL)    ? "wal"
				  : !(seen & DSS_ROLE_META) ? "meta"
							    : "data");
	}
	return 0;
}

static int
parse_storage(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	struct dss_engine_config *ec = obj;
	struct cfg_state *cs = cfg_state(p);
	yaml_node_item_t *it;
	int rc, i;

	rc = cfg_seq(p, n, DSS_CFG_TIERS_MAX, "tiers");
	if (rc != 0)
		return rc;
	if (n->data.sequence.items.top == n->data.sequence.items.start)
		return cfg_err(p, line_of(n), "must list at least one tier");
	for (it = n->data.sequence.items.start, i = 0; it < n->data.sequence.items.top; it++, i++) {
		yaml_node_t *e = yaml_document_get_node(&p->cp_doc, *it);
		size_t saved = path_push(p, true, NULL, i);

		ec->ec_tier_nr = (uint32_t)i + 1;
		rc = parse_tier(p, e, &ec->ec_tiers[i], cs->cs_slines[cs->cs_engine][i]);
		path_pop(p, saved);
		if (rc != 0)
			return rc;
	}
	return 0;
}

#define OLD_ENGINE_KEY "moved into the engine's storage: tiers in DAOS 2.0"

static const struct cfg_key engine_keys[] = {
    [EK_TARGETS] = KEY_U32("targets", struct dss_engine_config, ec_targets, 1, DSS_CFG_TARGETS_MAX),
    [EK_NR_XS_HELPERS] =
	KEY_U32("nr_xs_helpers", struct dss_engine_config, ec_nr_helpers, 0, DSS_CFG_HELPERS_MAX),
    [EK_FIRST_CORE] = KEY_U32("first_core", struct dss_engine_config, ec_first_core, 0, 4095),
    [EK_RANK] = KEY_U32("rank", struct dss_engine_config, ec_rank, 0, UINT32_MAX - 1),
    [EK_FABRIC_IFACE] = KEY_STR("fabric_iface", struct dss_engine_config, ec_fabric_iface),
    [EK_FABRIC_IFACE_PORT] =
	KEY_U32("fabric_iface_port", struct dss_engine_config, ec_fabric_iface_port, 1, 65535),
    [EK_PROVIDER] = KEY_FN("provider", parse_engine_provider),
    [EK_LOG_FILE] = KEY_PATH("log_file", struct dss_engine_config, ec_log_file),
    [EK_LOG_MASK] = KEY_FN("log_mask", parse_log_mask),
    [EK_ENV_VARS] = KEY_FN("env_vars", parse_env_vars),
    [EK_STORAGE] = KEY_FN("storage", parse_storage),
    KEY_IGNORE("pinned_numa_node", "NUMA placement is not done; use first_core"),
    KEY_IGNORE("bypass_health_chk", "there is no NVMe health check"),
    KEY_IGNORE("accel_engine", "no acceleration engine is used"),
    KEY_IGNORE("accel_opt_move", "no acceleration engine is used"),
    KEY_IGNORE("accel_opt_crc", "no acceleration engine is used"),
    KEY_IGNORE("acceleration", "no acceleration engine is used"),
    KEY_IGNORE("spdk_rpc_server", "SPDK is not used"),
    KEY_IGNORE("crt_ctx_share_addr", "each target has its own endpoint"),
    KEY_IGNORE("crt_timeout", "set crt_timeout at the top level"),
    KEY_REJECT("scm_mount", OLD_ENGINE_KEY),
    KEY_REJECT("scm_class", OLD_ENGINE_KEY),
    KEY_REJECT("scm_list", OLD_ENGINE_KEY),
    KEY_REJECT("scm_size", OLD_ENGINE_KEY),
    KEY_REJECT("bdev_class", OLD_ENGINE_KEY),
    KEY_REJECT("bdev_list", OLD_ENGINE_KEY),
    KEY_REJECT("bdev_size", OLD_ENGINE_KEY),
    KEY_REJECT("bdev_number", OLD_ENGINE_KEY),
};

static long
cfg_nproc(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

static int
engine_defaults(struct dss_engine_config *ec)
{
	long nproc = cfg_nproc();

	ec->ec_targets = nproc < DSS_CFG_DEF_TARGETS ? (uint32_t)nproc : DSS_CFG_DEF_TARGETS;
	ec->ec_fabric_iface_port = DSS_CFG_DEF_IFACE_PORT;
	if (str_replace(&ec->ec_fabric_iface, DSS_CFG_DEF_IFACE) != 0 ||
	    str_replace(&ec->ec_log_mask, DSS_CFG_DEF_LOG_MASK) != 0)
		return -DER_NOMEM;
	return 0;
}

/* Tiers of an engine whose entry has no storage: key: everything under engine<i>/. */
static int
engine_default_tiers(struct dss_engine_config *ec, int idx)
{
	struct dss_tier_config *ram = &ec->ec_tiers[0], *file = &ec->ec_tiers[1];
	char *path;

	ram->tc_class = DSS_TIER_RAM;
	ram->tc_scm_size = DSS_CFG_DEF_SCM_SIZE;
	if (D_ASPRINTF(ram->tc_scm_mount, "engine%d/scm", idx) == NULL)
		return -DER_NOMEM;
	file->tc_class = DSS_TIER_FILE;
	file->tc_bdev_size = DSS_CFG_DEF_BDEV_SIZE;
	file->tc_roles = DSS_ROLE_ALL;
	if (D_ASPRINTF(path, "engine%d/bdev0", idx) == NULL)
		return -DER_NOMEM;
	if (strv_push(&file->tc_bdev_list, path, strlen(path)) != 0) {
		D_FREE(path);
		return -DER_NOMEM;
	}
	D_FREE(path);
	ec->ec_tier_nr = 2;
	return 0;
}

static int
parse_engines(struct cfg_parser *p, yaml_node_t *n, void *obj)
{
	static const int required[] = {EK_TARGETS, EK_FABRIC_IFACE, EK_FABRIC_IFACE_PORT};
	struct dss_config *cfg = obj;
	struct cfg_state *cs = cfg_state(p);
	yaml_node_item_t *it;
	uint32_t nr;
	int rc, i;
	size_t k;

	rc = cfg_seq(p, n, DSS_CFG_ENGINES_MAX, "engines");
	if (rc != 0)
		return rc;
	nr = (uint32_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (nr == 0)
		return cfg_err(p, line_of(n), "must list at least one engine");
	D_ALLOC_ARRAY(cfg->dc_engines, nr);
	if (cfg->dc_engines == NULL)
		return cfg_nomem(p);
	for (it = n->data.sequence.items.start, i = 0; it < n->data.sequence.items.top; it++, i++) {
		struct dss_engine_config *ec = &cfg->dc_engines[i];
		yaml_node_t *e = yaml_document_get_node(&p->cp_doc, *it);
		int *lines = cs->cs_elines[i];
		size_t saved = path_push(p, true, NULL, i);

		cfg->dc_engine_nr = (uint32_t)i + 1;
		cs->cs_engine = i;
		ec->ec_line = line_of(e);
		rc = engine_defaults(ec);
		if (rc != 0) {
			rc = cfg_nomem(p);
			goto pop;
		}
		rc = cfg_walk(p, e, engine_keys, (int)D_ARRAY_SIZE(engine_keys), ec, lines);
		if (rc != 0)
			goto pop;
		for (k = 0; k < D_ARRAY_SIZE(required); k++)
			if (!LINE_SET(lines, required[k])) {
				rc = cfg_err(p, line_of(e), "missing required key %s",
					     engine_keys[required[k]].k_name);
				goto pop;
			}
		ec->ec_first_core_set = LINE_SET(lines, EK_FIRST_CORE);
		ec->ec_rank_set = LINE_SET(lines, EK_RANK);
		if (ec->ec_nr_helpers > ec->ec_targets) {
			size_t s2 = path_push(p, false, "nr_xs_helpers", 0);

			rc = cfg_err(p, lines[EK_NR_XS_HELPERS],
				     "must not exceed targets (%u), got %u", ec->ec_targets,
				     ec->ec_nr_helpers);
			path_pop(p, s2);
			goto pop;
		}
		if (LINE_SET(lines, EK_STORAGE))
			rc = tiers_check(p, ec, i, lines[EK_STORAGE]);
		else
			rc = engine_default_tiers(ec, i) == 0 ? 0 : cfg_nomem(p);
	pop:
		path_pop(p, saved);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const struct cfg_key top_keys[] = {
    [TK_NAME] = KEY_FN("name", parse_name),
    [TK_PORT] = KEY_U32("port", struct dss_config, dc_port, 1, 65535),
    [TK_ACCESS_POINTS] = KEY_FN("access_points", parse_access_points),
    [TK_MGMT_SVC_REPLICAS] = KEY_FN("mgmt_svc_replicas", parse_access_points),
    [TK_PROVIDER] = KEY_FN("provider", parse_provider),
    [TK_DATA_DIR] = KEY_PATH("data_dir", struct dss_config, dc_data_dir),
    [TK_SOCKET_DIR] = KEY_PATH("socket_dir", struct dss_config, dc_socket_dir),
    [TK_CONTROL_LOG_FILE] = KEY_PATH("control_log_file", struct dss_config, dc_control_log_file),
    [TK_CONTROL_LOG_MASK] = KEY_FN("control_log_mask", parse_control_log_mask),
    [TK_CONTROL_METADATA] = KEY_FN("control_metadata", parse_control_metadata),
    [TK_TRANSPORT_CONFIG] = KEY_FN("transport_config", parse_transport),
    [TK_FAULT_PATH] = KEY_FN("fault_path", parse_fault_path),
    [TK_TELEMETRY_PORT] = KEY_U32("telemetry_port", struct dss_config, dc_telemetry_port, 0, 65535),
    [TK_CRT_TIMEOUT] = KEY_U32("crt_timeout", struct dss_config, dc_crt_timeout, 1, 3600),
    [TK_CORE_DUMP_FILTER] =
	KEY_U32("core_dump_filter", struct dss_config, dc_core_dump_filter, 0, 0x1ff),
    [TK_CLIENT_ENV_VARS] = KEY_FN("client_env_vars", parse_client_env),
    [TK_ENGINES] = KEY_FN("engines", parse_engines),
    [TK_AUTO_FORMAT] = KEY_BOOL("auto_format", struct dss_config, dc_auto_format),
    KEY_IGNORE("fault_cb", "fault domain callbacks are not run; set fault_path"),
    KEY_IGNORE("nr_hugepages", "no hugepages are used"),
    KEY_IGNORE("disable_hugepages", "no hugepages are used"),
    KEY_IGNORE("allow_thp", "no hugepages are used"),
    KEY_IGNORE("system_ram_reserved", "no RAM disk is sized: set scm_size"),
    KEY_IGNORE("bdev_include", "no SPDK devices are used"),
    KEY_IGNORE("bdev_exclude", "no SPDK devices are used"),
    KEY_IGNORE("disable_vfio", "no SPDK devices are used"),
    KEY_IGNORE("disable_vmd", "no SPDK devices are used"),
    KEY_IGNORE("enable_vmd", "no SPDK devices are used"),
    KEY_IGNORE("enable_hotplug", "no SPDK devices are used"),
    KEY_IGNORE("hyperthreads", "not supported by DAOS either"),
    KEY_IGNORE("allow_numa_imbalance", "NUMA placement is not done"),
    KEY_IGNORE("helper_log_file", "there is no privileged helper"),
    KEY_IGNORE("firmware_helper_log_file", "there is no firmware helper"),
    KEY_IGNORE("crt_ctx_share_addr", "each target has its own endpoint"),
    KEY_IGNORE("disable_srx", "no shared receive contexts are used"),
    KEY_IGNORE("fabric_auth_key", "fabric authorization keys are not supported"),
    KEY_IGNORE("telemetry_config", "metrics are served on the management port"),
    KEY_IGNORE("support_config", "no support collection tool is run"),
    KEY_REJECT("servers", "renamed engines: in DAOS 2.0"),
    KEY_REJECT("scm_mount", OLD_ENGINE_KEY),
    KEY_REJECT("bdev_class", OLD_ENGINE_KEY),
};

D_CASSERT(D_ARRAY_SIZE(top_keys) <= CFG_KEYS_MAX);
D_CASSERT(D_ARRAY_SIZE(engine_keys) <= CFG_KEYS_MAX);
D_CASSERT(D_ARRAY_SIZE(tier_keys) <= CFG_KEYS_MAX);
D_CASSERT(D_ARRAY_SIZE(transport_keys) <= CFG_KEYS_MAX);

/* After the walk. */

/* Make @*path absolute against @base. */
static int
path_abs(char **path, const char *base)
{
	char *abs;
	size_t len;

	if (*path == NULL)
		return 0;
	if ((*path)[0] != '/') {
		bool slash = base[strlen(base) - 1] == '/';

		if (D_ASPRINTF(abs, "%s%s%s", base, slash ? "" : "/", *path) == NULL)
			return -DER_NOMEM;
		D_FREE(*path);
		*path = abs;
	}
	len = strlen(*path);
	while (len > 1 && (*path)[len - 1] == '/')
		(*path)[--len] = '\0';
	return 0;
}

static int
data_dir_resolve(struct dss_config *cfg, const char *override)
{
	const char *home = getenv("HOME");
	char cwd[4096];
	int rc;

	if (override != NULL && *override != '\0')
		rc = str_replace(&cfg->dc_data_dir, override);
	else if (cfg->dc_data_dir != NULL)
		rc = 0;
	else if (home != NULL && home[0] == '/')
		rc = D_ASPRINTF(cfg->dc_data_dir, "%s/%s", home, DSS_CFG_DEF_DATA_DIR_HOME) == NULL
			 ? -DER_NOMEM
			 : 0;
	else
		rc = D_ASPRINTF(cfg->dc_data_dir, "%s-%u", DSS_CFG_DEF_DATA_DIR_TMP,
				(unsigned)getuid()) == NULL
			 ? -DER_NOMEM
			 : 0;
	if (rc != 0)
		return rc;
	if (cfg->dc_data_dir[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return d_errno2der(errno);
		return path_abs(&cfg->dc_data_dir, cwd);
	}
	return path_abs(&cfg->dc_data_dir, "/");
}

/* Does any of the paths used for storage by engines before @ei (or by @ei before tier
 * @ti, entry @bi) equal @path? Returns the owner in @where. */
static bool
storage_path_used(const struct dss_config *cfg, const char *path, uint32_t ei, uint32_t ti,
		  uint32_t bi, char *where, size_t len)
{
	uint32_t e, t, b;

	for (e = 0; e <= ei; e++) {
		const struct dss_engine_config *ec = &cfg->dc_engines[e];

		for (t = 0; t < ec->ec_tier_nr && (e < ei || t <= ti); t++) {
			const struct dss_tier_config *tc = &ec->ec_tiers[t];
			bool last = e == ei && t == ti;

			if (tc->tc_scm_mount != NULL && !(last && bi == UINT32_MAX) &&
			    strcmp(tc->tc_scm_mount, path) == 0) {
				snprintf(where, len, "engines[%u].storage[%u].scm_mount", e, t);
				return true;
			}
			for (b = 0; b < tc->tc_bdev_list.sv_nr && (!last || b < bi); b++)
				if (strcmp(tc->tc_bdev_list.sv_v[b], path) == 0) {
					snprintf(where, len,
						 "engines[%u].storage[%u].bdev_list[%u]", e, t, b);
					return true;
				}
		}
	}
	return false;
}

static int
engines_check(struct cfg_parser *p)
{
	struct dss_config *cfg = p->cp_cfg;
	struct cfg_state *cs = cfg_state(p);
	char path[128], where[96];
	uint32_t i, j, t, b;

	for (i = 0; i < cfg->dc_engine_nr; i++) {
		struct dss_engine_config *ec = &cfg->dc_engines[i];
		uint32_t lo = ec->ec_fabric_iface_port, hi = lo + ec->ec_targets;
		int *lines = cs->cs_elines[i];

		if (cs->cs_eprovider[i] != NULL &&
		    strcmp(cs->cs_eprovider[i], cfg->dc_fi_provider) != 0) {
			snprintf(path, sizeof(path), "engines[%u].provider", i);
			return cfg_err_at(p, lines[EK_PROVIDER], path,
					  "must match the top-level provider (%s): every engine "
					  "uses one provider",
					  cfg->dc_provider);
		}
		snprintf(path, sizeof(path), "engines[%u].fabric_iface_port", i);
		if (hi > 65535)
			return cfg_err_at(p, lines[EK_FABRIC_IFACE_PORT], path,
					  "%u + %u targets runs past port 65535 (one port per "
					  "target and one for the system xstream)",
					  lo, ec->ec_targets);
		if (cfg->dc_port >= lo && cfg->dc_port <= hi)
			return cfg_err_at(p, lines[EK_FABRIC_IFACE_PORT], path,
					  "ports %u..%u (one per target, one for the system "
					  "xstream) include the management port %u",
					  lo, hi, cfg->dc_port);
		if (cfg->dc_telemetry_port >= lo && cfg->dc_telemetry_port <= hi)
			return cfg_err_at(p, lines[EK_FABRIC_IFACE_PORT], path,
					  "ports %u..%u include telemetry_port %u", lo, hi,
					  cfg->dc_telemetry_port);
		for (j = 0; j < i; j++) {
			struct dss_engine_config *o = &cfg->dc_engines[j];
			uint32_t olo = o->ec_fabric_iface_port, ohi = olo + o->ec_targets;

			if (lo <= ohi && olo <= hi &&
			    strcmp(o->ec_fabric_iface, ec->ec_fabric_iface) == 0)
				return cfg_err_at(p, lines[EK_FABRIC_IFACE_PORT], path,
						  "ports %u..%u overlap engines[%u]'s %u..%u", lo,
						  hi, j, olo, ohi);
			if (ec->ec_rank_set && o->ec_rank_set && ec->ec_rank == o->ec_rank) {
				snprintf(path, sizeof(path), "engines[%u].rank", i);
				return cfg_err_at(p, lines[EK_RANK], path,
						  "rank %u is also engines[%u]'s", ec->ec_rank, j);
			}
		}
		for (t = 0; t < ec->ec_tier_nr; t++) {
			struct dss_tier_config *tc = &ec->ec_tiers[t];
			int *sl = cs->cs_slines[i][t];

			if (tc->tc_scm_mount != NULL &&
			    storage_path_used(cfg, tc->tc_scm_mount, i, t, UINT32_MAX, where,
					      sizeof(where))) {
				snprintf(path, sizeof(path), "engines[%u].storage[%u].scm_mount", i,
					 t);
				return cfg_err_at(p, sl[SK_SCM_MOUNT], path, "%s is also %s",
						  tc->tc_scm_mount, where);
			}
			for (b = 0; b < tc->tc_bdev_list.sv_nr; b++)
				if (storage_path_used(cfg, tc->tc_bdev_list.sv_v[b], i, t, b, where,
						      sizeof(where))) {
					snprintf(path, sizeof(path),
						 "engines[%u].storage[%u].bdev_list[%u]", i, t, b);
					return cfg_err_at(p, sl[SK_BDEV_LIST], path,
							  "%s is also %s", tc->tc_bdev_list.sv_v[b],
							  where);
				}
		}
	}
	return 0;
}

/* Normalise the access points to host:port, and reject duplicates. */
static int
access_points_finish(struct cfg_parser *p)
{
	struct dss_config *cfg = p->cp_cfg;
	struct cfg_state *cs = cfg_state(p);
	struct dss_strv *sv = &cfg->dc_access_points;
	uint32_t i, j;
	int key;

	key = LINE_SET(cs->cs_lines, TK_ACCESS_POINTS) ? TK_ACCESS_POINTS : TK_MGMT_SVC_REPLICAS;
	if (sv->sv_nr == 0) {
		char def[64];

		snprintf(def, sizeof(def), "%s:%u", DSS_CFG_DEF_AP_HOST, cfg->dc_port);
		return strv_push(sv, def, strlen(def)) == 0 ? 0 : cfg_nomem(p);
	}
	for (i = 0; i < sv->sv_nr; i++) {
		const char *host;
		uint32_t port;
		size_t hlen;
		char *norm;

		if (ap_split(sv->sv_v[i], &host, &hlen, &port) != 0)
			return cfg_err(p, 0, "internal error: access point '%s'", sv->sv_v[i]);
		if (port == 0)
			port = cfg->dc_port;
		if (memchr(host, ':', hlen) != NULL)
			D_ASPRINTF(norm, "[%.*s]:%u", (int)hlen, host, port);
		else
			D_ASPRINTF(norm, "%.*s:%u", (int)hlen, host, port);
		if (norm == NULL)
			return cfg_nomem(p);
		D_FREE(sv->sv_v[i]);
		sv->sv_v[i] = norm;
		for (j = 0; j < i; j++)
			if (strcmp(sv->sv_v[j], norm) == 0) {
				char path[64];

				snprintf(path, sizeof(path), "%s[%u]", top_keys[key].k_name, i);
				return cfg_err_at(p, i < cs->cs_ap_nr ? cs->cs_ap_lines[i] : 0,
						  path, "%s is listed twice", norm);
			}
	}
	return 0;
}

/*
 * Read port variable @name: unset leaves *@port alone; otherwise it must be a decimal
 * number 1..65535. The error names the variable, not the file: it did not come from there.
 */
static int
env_port(struct cfg_parser *p, const char *name, uint32_t *port, bool *set)
{
	const char *s = getenv(name);
	uint32_t v = 0;
	size_t i, len;

	*set = false;
	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len == 0 || strspn(s, "0123456789") != len) {
		if (p->cp_err != NULL && p->cp_errlen > 0)
			snprintf(p->cp_err, p->cp_errlen,
				 "environment variable %s: expected a port number, got '%.32s'",
				 name, s);
		return -DER_INVAL;
	}
	for (i = 0; i < len && v <= 65535; i++)
		v = v * 10 + (uint32_t)(s[i] - '0');
	if (v == 0 || v > 65535) {
		if (p->cp_err != NULL && p->cp_errlen > 0)
			snprintf(p->cp_err, p->cp_errlen,
				 "environment variable %s: must be 1..65535, got %.32s", name, s);
		return -DER_INVAL;
	}
	*port = v;
	*set = true;
	return 0;
}

static bool
host_is_local(const char *host, size_t hlen)
{
	return (hlen == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	       (hlen == 3 && strncmp(host, "::1", 3) == 0) ||
	       (hlen >= 4 && strncmp(host, "127.", 4) == 0);
}

/*
 * DAOS_SERVER_PORT and DAOS_FABRIC_PORT override port and engines[0].fabric_iface_port once
 * the file and the defaults are in (see config.h). A loopback access point on the old
 * management port follows it: that is this server.
 */
static int
env_overrides(struct cfg_parser *p)
{
	struct dss_config *cfg = p->cp_cfg;
	struct dss_strv *sv = &cfg->dc_access_points;
	struct dss_engine_config *ec = &cfg->dc_engines[0];
	uint32_t port = cfg->dc_port, fport = ec->ec_fabric_iface_port, i, ap_port;
	const char *host;
	size_t hlen;
	bool set;
	int rc;

	rc = env_port(p, "DAOS_SERVER_PORT", &port, &set);
	if (rc != 0)
		return rc;
	if (set && port != cfg->dc_port) {
		for (i = 0; i < sv->sv_nr; i++) {
			char *norm;

			if (ap_split(sv->sv_v[i], &host, &hlen, &ap_port) != 0 ||
			    ap_port != cfg->dc_port || !host_is_local(host, hlen))
				continue;
			if (memchr(host, ':', hlen) != NULL)
				D_ASPRINTF(norm, "[%.*s]:%u", (int)hlen, host, port);
			else
				D_ASPRINTF(norm, "%.*s:%u", (int)hlen, host, port);
			if (norm == NULL)
				return cfg_nomem(p);
			D_FREE(sv->sv_v[i]);
			sv->sv_v[i] = norm;
		}
		cfg->dc_port = port;
	}
	rc = env_port(p, "DAOS_FABRIC_PORT", &fport, &set);
	if (rc != 0 || !set)
		return rc;
	if (fport + ec->ec_targets > 65535 || (port >= fport && port <= fport + ec->ec_targets)) {
		if (p->cp_err != NULL && p->cp_errlen > 0)
			snprintf(p->cp_err, p->cp_errlen,
				 "environment variable DAOS_FABRIC_PORT: ports %u..%u (one per "
				 "target, one for the system xstream) %s",
				 fport, fport + ec->ec_targets,
				 fport + ec->ec_targets > 65535 ? "run past port 65535"
								: "include the management port");
		return -DER_INVAL;
	}
	ec->ec_fabric_iface_port = fport;
	/* later checks about this port must not point at the file's line */
	cfg_state(p)->cs_elines[0][EK_FABRIC_IFACE_PORT] = 0;
	return 0;
}

static int
cfg_finish(struct cfg_parser *p, const char *data_dir)
{
	struct dss_config *cfg = p->cp_cfg;
	struct cfg_state *cs = cfg_state(p);
	uint32_t i, t, b;
	int rc, *lines = cs->cs_lines;

	if (LINE_SET(lines, TK_ACCESS_POINTS) && LINE_SET(lines, TK_MGMT_SVC_REPLICAS)) {
		int k = lines[TK_ACCESS_POINTS] > lines[TK_MGMT_SVC_REPLICAS]
			    ? TK_ACCESS_POINTS
			    : TK_MGMT_SVC_REPLICAS;
		return cfg_err_at(p, lines[k], top_keys[k].k_name,
				  "set access_points or mgmt_svc_replicas, not both");
	}
	if (cfg->dc_provider == NULL &&
	    (str_replace(&cfg->dc_provider, DSS_CFG_DEF_PROVIDER) != 0 ||
	     str_replace(&cfg->dc_fi_provider, "tcp;ofi_rxm") != 0))
		return cfg_nomem(p);
	if (!LINE_SET(lines, TK_PROVIDER)) {
		/* no top-level provider: the engines' (which must agree) sets it */
		for (i = 0; i < cfg->dc_engine_nr; i++)
			if (cs->cs_eprovider[i] != NULL) {
				const char *daos = NULL;

				for (t = 0; t < D_ARRAY_SIZE(providers); t++)
					if (strcmp(providers[t].fi, cs->cs_eprovider[i]) == 0) {
						daos = providers[t].daos;
						break;
					}
				if (str_replace(&cfg->dc_provider, daos) != 0 ||
				    str_replace(&cfg->dc_fi_provider, cs->cs_eprovider[i]) != 0)
					return cfg_nomem(p);
				break;
			}
	}
	rc = access_points_finish(p);
	if (rc != 0)
		return rc;
	if (cfg->dc_engine_nr == 0) {
		D_ALLOC_ARRAY(cfg->dc_engines, 1);
		if (cfg->dc_engines == NULL)
			return cfg_nomem(p);
		cfg->dc_engine_nr = 1;
		if (engine_defaults(&cfg->dc_engines[0]) != 0 ||
		    engine_default_tiers(&cfg->dc_engines[0], 0) != 0)
			return cfg_nomem(p);
	}
	rc = env_overrides(p);
	if (rc != 0)
		return rc;
	if (cfg->dc_telemetry_port != 0 && cfg->dc_telemetry_port == cfg->dc_port)
		return cfg_err_at(p, lines[TK_TELEMETRY_PORT], "telemetry_port",
				  "must differ from port (%u)", cfg->dc_port);
	if (!cfg->dc_allow_insecure) {
		static const struct {
			size_t off;
			const char *name;
		} certs[] = {
		    {offsetof(struct dss_config, dc_ca_cert), "daosCA.crt"},
		    {offsetof(struct dss_config, dc_cert), "server.crt"},
		    {offsetof(struct dss_config, dc_key), "server.key"},
		    {offsetof(struct dss_config, dc_client_cert_dir), "clients"},
		};

		for (i = 0; i < D_ARRAY_SIZE(certs); i++) {
			char **f = (char **)(void *)((char *)cfg + certs[i].off);

			if (*f == NULL &&
			    D_ASPRINTF(*f, "%s/%s", DSS_CFG_DEF_CERT_DIR, certs[i].name) == NULL)
				return cfg_nomem(p);
		}
	}

	/* paths */
	rc = data_dir_resolve(cfg, data_dir);
	if (rc != 0)
		return rc == -DER_NOMEM ? cfg_nomem(p) : cfg_err(p, 0, "cannot resolve data_dir");
	if (cfg->dc_socket_dir == NULL && str_replace(&cfg->dc_socket_dir, DSS_CFG_DEF_SOCKET_DIR))
		return cfg_nomem(p);
	if (cfg->dc_control_metadata == NULL &&
	    str_replace(&cfg->dc_control_metadata, DSS_CFG_DEF_CTL_META_DIR))
		return cfg_nomem(p);
	if (path_abs(&cfg->dc_socket_dir, cfg->dc_data_dir) ||
	    path_abs(&cfg->dc_control_log_file, cfg->dc_data_dir) ||
	    path_abs(&cfg->dc_control_metadata, cfg->dc_data_dir) ||
	    path_abs(&cfg->dc_ca_cert, cfg->dc_data_dir) ||
	    path_abs(&cfg->dc_cert, cfg->dc_data_dir) || path_abs(&cfg->dc_key, cfg->dc_data_dir) ||
	    path_abs(&cfg->dc_client_cert_dir, cfg->dc_data_dir))
		return cfg_nomem(p);
	for (i = 0; i < cfg->dc_engine_nr; i++) {
		struct dss_engine_config *ec = &cfg->dc_engines[i];

		if (path_abs(&ec->ec_log_file, cfg->dc_data_dir))
			return cfg_nomem(p);
		for (t = 0; t < ec->ec_tier_nr; t++) {
			struct dss_tier_config *tc = &ec->ec_tiers[t];

			if (path_abs(&tc->tc_scm_mount, cfg->dc_data_dir))
				return cfg_nomem(p);
			for (b = 0; b < tc->tc_bdev_list.sv_nr; b++)
				if (path_abs(&tc->tc_bdev_list.sv_v[b], cfg->dc_data_dir))
					return cfg_nomem(p);
		}
	}
	return engines_check(p);
}

static void
engine_fini(struct dss_engine_config *ec)
{
	uint32_t t;

	D_FREE(ec->ec_fabric_iface);
	D_FREE(ec->ec_log_file);
	D_FREE(ec->ec_log_mask);
	strv_fini(&ec->ec_env_vars);
	for (t = 0; t < DSS_CFG_TIERS_MAX; t++) {
		D_FREE(ec->ec_tiers[t].tc_scm_mount);
		strv_fini(&ec->ec_tiers[t].tc_bdev_list);
	}
}

void
dss_config_free(struct dss_config *cfg)
{
	uint32_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->dc_engine_nr; i++)
		engine_fini(&cfg->dc_engines[i]);
	D_FREE(cfg->dc_engines);
	D_FREE(cfg->dc_file);
	D_FREE(cfg->dc_name);
	strv_fini(&cfg->dc_access_points);
	D_FREE(cfg->dc_provider);
	D_FREE(cfg->dc_fi_provider);
	D_FREE(cfg->dc_data_dir);
	D_FREE(cfg->dc_socket_dir);
	D_FREE(cfg->dc_control_log_file);
	D_FREE(cfg->dc_control_metadata);
	D_FREE(cfg->dc_ca_cert);
	D_FREE(cfg->dc_cert);
	D_FREE(cfg->dc_key);
	D_FREE(cfg->dc_client_cert_dir);
	D_FREE(cfg->dc_fault_path);
	strv_fini(&cfg->dc_client_env_vars);
	strv_fini(&cfg->dc_warnings);
	D_FREE(cfg);
}

static const char *
yaml_problem(const yaml_parser_t *yp)
{
	return yp->problem != NULL ? yp->problem : "malformed YAML";
}

static int
cfg_syntax_err(struct cfg_parser *p, const yaml_parser_t *yp, size_t len)
{
	int line = (int)yp->problem_mark.line + 1;
	size_t i;

	if (yp->error == YAML_MEMORY_ERROR)
		return cfg_nomem(p);
	if (yp->error == YAML_READER_ERROR) {
		/* the reader reports a byte offset; count lines up to it */
		line = 1;
		for (i = 0; i < yp->problem_offset && i < len; i++)
			line += p->cp_buf[i] == '\n';
		return cfg_err(p, line, "not UTF-8 text: %s", yaml_problem(yp));
	}
	if (yp->problem_mark.index < len && p->cp_buf[yp->problem_mark.index] == '\t')
		return cfg_err(p, line, "YAML syntax error: a tab; YAML indents with spaces");
	if (yp->context != NULL)
		return cfg_err(p, line, "YAML syntax error: %s %s", yaml_problem(yp), yp->context);
	return cfg_err(p, line, "YAML syntax error: %s", yaml_problem(yp));
}

int
dss_config_parse(const char *buf, size_t len, const char *name, const char *data_dir,
		 struct dss_config **cfgp, char *err, size_t errlen)
{
	struct cfg_parser *p;
	struct dss_config *cfg;
	yaml_parser_t yp;
	yaml_document_t extra;
	yaml_node_t *root;
	bool have_doc = false;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	D_ALLOC_PTR(p);
	if (p == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", name != NULL ? name : "config");
		return -DER_NOMEM;
	}
	p->cp_buf = buf;
	p->cp_file = name != NULL ? name : "daos_server.yml";
	p->cp_err = err;
	p->cp_errlen = errlen;
	D_ALLOC_PTR(cfg);
	if (cfg == NULL) {
		rc = cfg_nomem(p);
		goto out_p;
	}
	p->cp_cfg = cfg;
	cfg->dc_port = DSS_CFG_DEF_PORT;
	cfg->dc_crt_timeout = DSS_CFG_DEF_CRT_TIMEOUT;
	cfg->dc_control_log_level = D_LOG_INFO;
	/* DAOS's default is secure; only the embedded single-node system is not */
	cfg->dc_allow_insecure = buf == NULL;
	/* DAOS waits for dmg storage format; the embedded single-node system formats itself */
	cfg->dc_auto_format = buf == NULL;
	if (str_replace(&cfg->dc_name, DSS_CFG_DEF_NAME) != 0 ||
	    (name != NULL && str_replace(&cfg->dc_file, name) != 0)) {
		rc = cfg_nomem(p);
		goto out_cfg;
	}

	if (buf != NULL) {
		if (!yaml_parser_initialize(&yp)) {
			rc = cfg_nomem(p);
			goto out_cfg;
		}
		yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
		if (!yaml_parser_load(&yp, &p->cp_doc)) {
			rc = cfg_syntax_err(p, &yp, len);
			yaml_parser_delete(&yp);
			goto out_cfg;
		}
		have_doc = true;
		root = yaml_document_get_root_node(&p->cp_doc);
		if (root != NULL) {
			/* a second document is an error too */
			if (!yaml_parser_load(&yp, &extra)) {
				rc = cfg_syntax_err(p, &yp, len);
				yaml_parser_delete(&yp);
				goto out_doc;
			}
			if (yaml_document_get_root_node(&extra) != NULL) {
				rc = cfg_err(p, (int)extra.start_mark.line + 1,
					     "only one YAML document is allowed");
				yaml_document_delete(&extra);
				yaml_parser_delete(&yp);
				goto out_doc;
			}
			yaml_document_delete(&extra);
		}
		yaml_parser_delete(&yp);
		if (root != NULL && !node_is_null(root)) {
			rc = cfg_walk(p, root, top_keys, (int)D_ARRAY_SIZE(top_keys), cfg,
				      p->cp_state.cs_lines);
			if (rc != 0)
				goto out_doc;
		}
	}
	cfg->dc_core_dump_filter_set = LINE_SET(p->cp_state.cs_lines, TK_CORE_DUMP_FILTER);
	rc = cfg_finish(p, data_dir);
	if (rc != 0)
		goto out_doc;
	*cfgp = cfg;
	cfg = NULL;
out_doc:
	if (have_doc)
		yaml_document_delete(&p->cp_doc);
out_cfg:
	dss_config_free(cfg);
out_p:
	D_FREE(p);
	return rc;
}

int
dss_config_load(const char *path, const char *data_dir, struct dss_config **cfg, char *err,
		size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	if (path == NULL)
		return dss_config_parse(NULL, 0, NULL, data_dir, cfg, err, errlen);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = d_errno2der(errno);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CFG_READ_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path,
				 CFG_READ_MAX);
		rc = -DER_INVAL;
		goto out;
	}
	D_ALLOC_NZ(buf, (size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? d_errno2der(errno) : -DER_IO;
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s: read failed: %s", path,
					 n < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	rc = dss_config_parse(buf, len, path, data_dir, cfg, err, errlen);
out:
	D_FREE(buf);
	close(fd);
	return rc;
}

/*
 * Dump: the configuration becomes a libyaml document (scalars tagged int, bool or str),
 * written either by the emitter (YAML, no tags) or by hand (JSON).
 */

struct cfg_dump {
	yaml_document_t dd_doc;
	bool dd_json;
	int dd_rc;
};

static int
dump_scalar(struct cfg_dump *d, const char *tag, const char *s)
{
	int id;

	if (d->dd_rc != 0)
		return 0;
	id = yaml_document_add_scalar(&d->dd_doc, (yaml_char_t *)tag, (const yaml_char_t *)s, -1,
				      YAML_ANY_SCALAR_STYLE);
	if (id == 0)
		d->dd_rc = -DER_NOMEM;
	return id;
}

static int
dump_str(struct cfg_dump *d, const char *s)
{
	return dump_scalar(d, YAML_STR_TAG, s != NULL ? s : "");
}

static int
dump_u64(struct cfg_dump *d, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return dump_scalar(d, YAML_INT_TAG, buf);
}

static int
dump_size(struct cfg_dump *d, uint64_t v)
{
	char buf[32];

	if (d->dd_json)
		return dump_u64(d, v);
	return dump_scalar(d, YAML_STR_TAG, size_str(v, buf, sizeof(buf)));
}

static int
dump_bool(struct cfg_dump *d, bool v)
{
	return dump_scalar(d, YAML_BOOL_TAG, v ? "true" : "false");
}

static int
dump_map(struct cfg_dump *d)
{
	int id;

	if (d->dd_rc != 0)
		return 0;
	id = yaml_document_add_mapping(&d->dd_doc, (yaml_char_t *)YAML_MAP_TAG,
				       YAML_BLOCK_MAPPING_STYLE);
	if (id == 0)
		d->dd_rc = -DER_NOMEM;
	return id;
}

static int
dump_seq(struct cfg_dump *d, bool flow)
{
	int id;

	if (d->dd_rc != 0)
		return 0;
	id =
	    yaml_document_add_sequence(&d->dd_doc, (yaml_char_t *)YAML_SEQ_TAG,
				       flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
	if (id == 0)
		d->dd_rc = -DER_NOMEM;
	return id;
}

static void
dump_pair(struct cfg_dump *d, int map, const char *key, int val)
{
	int k;

	if (d->dd_rc != 0 || val == 0)
		return;
	k = dump_str(d, key);
	if (k != 0 && !yaml_document_append_mapping_pair(&d->dd_doc, map, k, val))
		d->dd_rc = -DER_NOMEM;
}

static void
dump_item(struct cfg_dump *d, int seq, int val)
{
	if (d->dd_rc == 0 && val != 0 && !yaml_document_append_sequence_item(&d->dd_doc, seq, val))
		d->dd_rc = -DER_NOMEM;
}

static int
dump_strv(struct cfg_dump *d, const struct dss_strv *sv)
{
	int seq = dump_seq(d, true);
	uint32_t i;

	for (i = 0; i < sv->sv_nr; i++)
		dump_item(d, seq, dump_str(d, sv->sv_v[i]));
	return seq;
}

static int
dump_roles(struct cfg_dump *d, uint32_t roles)
{
	int seq = dump_seq(d, true);

	if (roles & DSS_ROLE_WAL)
		dump_item(d, seq, dump_str(d, "wal"));
	if (roles & DSS_ROLE_META)
		dump_item(d, seq, dump_str(d, "meta"));
	if (roles & DSS_ROLE_DATA)
		dump_item(d, seq, dump_str(d, "data"));
	return seq;
}

static int
dump_engine(struct cfg_dump *d, const struct dss_engine_config *ec)
{
	int m = dump_map(d), st;
	uint32_t t;

	dump_pair(d, m, "targets", dump_u64(d, ec->ec_targets));
	dump_pair(d, m, "nr_xs_helpers", dump_u64(d, ec->ec_nr_helpers));
	if (ec->ec_first_core_set)
		dump_pair(d, m, "first_core", dump_u64(d, ec->ec_first_core));
	if (ec->ec_rank_set)
		dump_pair(d, m, "rank", dump_u64(d, ec->ec_rank));
	dump_pair(d, m, "fabric_iface", dump_str(d, ec->ec_fabric_iface));
	dump_pair(d, m, "fabric_iface_port", dump_u64(d, ec->ec_fabric_iface_port));
	if (ec->ec_log_file != NULL)
		dump_pair(d, m, "log_file", dump_str(d, ec->ec_log_file));
	dump_pair(d, m, "log_mask", dump_str(d, ec->ec_log_mask));
	dump_pair(d, m, "env_vars", dump_strv(d, &ec->ec_env_vars));
	st = dump_seq(d, false);
	for (t = 0; t < ec->ec_tier_nr; t++) {
		const struct dss_tier_config *tc = &ec->ec_tiers[t];
		int tm = dump_map(d);

		if (tc->tc_class == DSS_TIER_RAM) {
			dump_pair(d, tm, "class", dump_str(d, "ram"));
			dump_pair(d, tm, "scm_mount", dump_str(d, tc->tc_scm_mount));
			dump_pair(d, tm, "scm_size", dump_size(d, tc->tc_scm_size));
			if (d->dd_json)
				dump_pair(d, tm, "roles", dump_roles(d, tc->tc_roles));
		} else {
			dump_pair(d, tm, "class",
				  dump_str(d, tc->tc_class == DSS_TIER_FILE ? "file" : "kdev"));
			dump_pair(d, tm, "bdev_list", dump_strv(d, &tc->tc_bdev_list));
			if (tc->tc_class == DSS_TIER_FILE)
				dump_pair(d, tm, "bdev_size", dump_size(d, tc->tc_bdev_size));
			dump_pair(d, tm, "bdev_roles", dump_roles(d, tc->tc_roles));
		}
		dump_item(d, st, tm);
	}
	dump_pair(d, m, "storage", st);
	return m;
}

static void
dump_build(struct cfg_dump *d, const struct dss_config *cfg)
{
	int root, m, seq;
	uint32_t i;

	root = dump_map(d);
	dump_pair(d, root, "name", dump_str(d, cfg->dc_name));
	dump_pair(d, root, "port", dump_u64(d, cfg->dc_port));
	dump_pair(d, root, "access_points", dump_strv(d, &cfg->dc_access_points));
	dump_pair(d, root, "provider", dump_str(d, cfg->dc_provider));
	if (d->dd_json)
		dump_pair(d, root, "fabric_provider", dump_str(d, cfg->dc_fi_provider));
	dump_pair(d, root, "data_dir", dump_str(d, cfg->dc_data_dir));
	dump_pair(d, root, "socket_dir", dump_str(d, cfg->dc_socket_dir));
	if (cfg->dc_control_log_file != NULL)
		dump_pair(d, root, "control_log_file", dump_str(d, cfg->dc_control_log_file));
	dump_pair(d, root, "control_log_mask",
		  dump_str(d, ctl_level_name(cfg->dc_control_log_level)));
	m = dump_map(d);
	dump_pair(d, m, "path", dump_str(d, cfg->dc_control_metadata));
	dump_pair(d, root, "control_metadata", m);
	m = dump_map(d);
	dump_pair(d, m, "allow_insecure", dump_bool(d, cfg->dc_allow_insecure));
	if (cfg->dc_client_cert_dir != NULL)
		dump_pair(d, m, "client_cert_dir", dump_str(d, cfg->dc_client_cert_dir));
	if (cfg->dc_ca_cert != NULL)
		dump_pair(d, m, "ca_cert", dump_str(d, cfg->dc_ca_cert));
	if (cfg->dc_cert != NULL)
		dump_pair(d, m, "cert", dump_str(d, cfg->dc_cert));
	if (cfg->dc_key != NULL)
		dump_pair(d, m, "key", dump_str(d, cfg->dc_key));
	dump_pair(d, root, "transport_config", m);
	if (cfg->dc_fault_path != NULL)
		dump_pair(d, root, "fault_path", dump_str(d, cfg->dc_fault_path));
	dump_pair(d, root, "telemetry_port", dump_u64(d, cfg->dc_telemetry_port));
	dump_pair(d, root, "crt_timeout", dump_u64(d, cfg->dc_crt_timeout));
	if (cfg->dc_core_dump_filter_set) {
		char hex[16];

		snprintf(hex, sizeof(hex), "0x%x", cfg->dc_core_dump_filter);
		dump_pair(d, root, "core_dump_filter",
			  d->dd_json ? dump_u64(d, cfg->dc_core_dump_filter)
				     : dump_scalar(d, YAML_INT_TAG, hex));
	}
	dump_pair(d, root, "client_env_vars", dump_strv(d, &cfg->dc_client_env_vars));
	dump_pair(d, root, "auto_format", dump_bool(d, cfg->dc_auto_format));
	seq = dump_seq(d, false);
	for (i = 0; i < cfg->dc_engine_nr; i++)
		dump_item(d, seq, dump_engine(d, &cfg->dc_engines[i]));
	dump_pair(d, root, "engines", seq);
}

/* A str scalar a YAML reader would take for null, a boolean or a number: quote it. */
static bool
str_needs_quotes(const char *s)
{
	static const char *const words[] = {"",   "~",  "null", "true", "false", "yes",
					    "no", "on", "off",  "y",    "n"};
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return true;
	if ((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.')
		return strspn(s, "0123456789+-.eExXabcdefABCDEF_") == strlen(s);
	return false;
}

static int
dump_emit_node(yaml_emitter_t *em, yaml_document_t *doc, int id)
{
	yaml_node_t *n = yaml_document_get_node(doc, id);
	yaml_event_t ev;
	yaml_node_pair_t *pr;
	yaml_node_item_t *it;
	int ok;

	switch (n->type) {
	case YAML_SCALAR_NODE: {
		bool str = strcmp((char *)n->tag, YAML_STR_TAG) == 0;
		yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

		if (str && str_needs_quotes((char *)n->data.scalar.value))
			style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		ok = yaml_scalar_event_initialize(&ev, NULL, NULL, n->data.scalar.value,
						  (int)n->data.scalar.length, 1, 1, style);
		return ok && yaml_emitter_emit(em, &ev) ? 0 : -DER_IO;
	}
	case YAML_SEQUENCE_NODE:
		ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  n->data.sequence.style);
		if (!ok || !yaml_emitter_emit(em, &ev))
			return -DER_IO;
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
			if (dump_emit_node(em, doc, *it) != 0)
				return -DER_IO;
		ok = yaml_sequence_end_event_initialize(&ev);
		return ok && yaml_emitter_emit(em, &ev) ? 0 : -DER_IO;
	case YAML_MAPPING_NODE:
		ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							 YAML_BLOCK_MAPPING_STYLE);
		if (!ok || !yaml_emitter_emit(em, &ev))
			return -DER_IO;
		for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++)
			if (dump_emit_node(em, doc, pr->key) != 0 ||
			    dump_emit_node(em, doc, pr->value) != 0)
				return -DER_IO;
		ok = yaml_mapping_end_event_initialize(&ev);
		return ok && yaml_emitter_emit(em, &ev) ? 0 : -DER_IO;
	default:
		return -DER_IO;
	}
}

static int
dump_yaml(yaml_document_t *doc, FILE *fp)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int rc = -DER_IO;

	if (!yaml_emitter_initialize(&em))
		return -DER_NOMEM;
	yaml_emitter_set_output_file(&em, fp);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	if (dump_emit_node(&em, doc, 1) != 0)
		goto out;
	if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev))
		goto out;
	rc = yaml_emitter_flush(&em) ? 0 : -DER_IO;
out:
	yaml_emitter_delete(&em);
	return rc;
}

static void
json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c < 0x20 || c == 0x7f)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static void
json_node(FILE *fp, yaml_document_t *doc, int id, int depth)
{
	yaml_node_t *n = yaml_document_get_node(doc, id);
	yaml_node_pair_t *pr;
	yaml_node_item_t *it;

	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (strcmp((char *)n->tag, YAML_STR_TAG) == 0)
			json_str(fp, (char *)n->data.scalar.value);
		else
			fputs((char *)n->data.scalar.value, fp);
		break;
	case YAML_SEQUENCE_NODE:
		if (n->data.sequence.items.start == n->data.sequence.items.top) {
			fputs("[]", fp);
			break;
		}
		fputs("[\n", fp);
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			fprintf(fp, "%*s", 2 * (depth + 1), "");
			json_node(fp, doc, *it, depth + 1);
			fputs(it + 1 < n->data.sequence.items.top ? ",\n" : "\n", fp);
		}
		fprintf(fp, "%*s]", 2 * depth, "");
		break;
	case YAML_MAPPING_NODE:
		fputs("{\n", fp);
		for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
			fprintf(fp, "%*s", 2 * (depth + 1), "");
			json_node(fp, doc, pr->key, depth + 1);
			fputs(": ", fp);
			json_node(fp, doc, pr->value, depth + 1);
			fputs(pr + 1 < n->data.mapping.pairs.top ? ",\n" : "\n", fp);
		}
		fprintf(fp, "%*s}", 2 * depth, "");
		break;
	default:
		break;
	}
}

int
dss_config_dump(const struct dss_config *cfg, FILE *fp, bool json)
{
	struct cfg_dump d = {.dd_json = json};
	int rc;

	if (!yaml_document_initialize(&d.dd_doc, NULL, NULL, NULL, 1, 1))
		return -DER_NOMEM;
	dump_build(&d, cfg);
	rc = d.dd_rc;
	if (rc == 0) {
		if (json) {
			json_node(fp, &d.dd_doc, 1, 0);
			fputc('\n', fp);
		} else {
			rc = dump_yaml(&d.dd_doc, fp);
		}
	}
	if (rc == 0 && (fflush(fp) != 0 || ferror(fp)))
		rc = -DER_IO;
	yaml_document_delete(&d.dd_doc);
	return rc;
}
