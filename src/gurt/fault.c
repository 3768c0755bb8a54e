/*
 * fault.c: fault-injection points (gurt/fault_inject.h): the table of armed faults, the
 * decision whether a hit fires, and the two ways of arming faults from the environment
 * (the D_FAULTS string and DAOS's YAML fault_config file). Sits on libc, pthreads and
 * libyaml only.
 *
 * Invariants:
 * 1. d_fault_inject_enabled != 0 exactly while fi_nr_armed != 0; both change under fi_lock.
 * 2. An entry's fe_attr, fe_rand and fe_armed change only under fi_lock. fe_armed is also
 *    read without the lock, as a hint: a stale 0 only means a hit racing with the arming is
 *    not counted, a stale 1 is checked again under the lock.
 * 3. Nothing here allocates through d_malloc & co. or logs while fi_lock is held: both may
 *    reach D_FAIL_CHECK(D_FI_ALLOC), which would take fi_lock again. The parsers use plain
 *    malloc so that an armed D_FI_ALLOC cannot fail them.
 */
#define D_LOGFAC gurt

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yaml.h>

#include <gurt/common.h>

int d_fault_inject_enabled;

struct fi_entry {
	struct d_fault_attr fe_attr;
	uint64_t fe_rand; /* state of this fault's draws */
	int fe_armed;
};

static pthread_mutex_t fi_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fi_entry fi_table[D_FI_MAX_ID];
static uint32_t fi_nr_armed;
static uint64_t fi_seed;

/* splitmix64: small, fast, and good enough to decide whether a test fault fires. */
static uint64_t
fi_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Each id gets its own stream so its faults do not depend on how other points are hit. */
static uint64_t
fi_rand_seed(uint64_t seed, uint32_t id)
{
	uint64_t state = seed ^ ((uint64_t)id * 0xd1b54a32d192ed03ULL);

	return fi_rand_next(&state);
}

bool
d_fault_check(uint32_t id)
{
	struct fi_entry *fe;
	struct d_fault_attr *fa;
	bool fire = false;

	if (id >= D_FI_MAX_ID)
		return false;
	fe = &fi_table[id];
	if (!__atomic_load_n(&fe->fe_armed, __ATOMIC_RELAXED))
		return false;

	pthread_mutex_lock(&fi_lock);
	if (!fe->fe_armed)
		goto out_unlock;
	fa = &fe->fe_attr;
	fa->fa_num_hits++;
	if (fa->fa_interval > 1 && fa->fa_num_hits % fa->fa_interval != 0)
		goto out_unlock;
	if (fa->fa_max_faults != 0 && fa->fa_num_faults >= fa->fa_max_faults)
		goto out_unlock;
	if (fa->fa_probability_y != 0 &&
	    fi_rand_next(&fe->fe_rand) % fa->fa_probability_y >= fa->fa_probability_x)
		goto out_unlock;
	fa->fa_num_faults++;
	fire = true;
out_unlock:
	pthread_mutex_unlock(&fi_lock);
	return fire;
}

static bool
fi_attr_valid(const struct d_fault_attr *attr)
{
	if (attr->fa_id >= D_FI_MAX_ID)
		return false;
	return attr->fa_probability_y == 0 || attr->fa_probability_x <= attr->fa_probability_y;
}

static void
fi_arm_locked(const struct d_fault_attr *attr)
{
	struct fi_entry *fe = &fi_table[attr->fa_id];

	fe->fe_attr = *attr;
	fe->fe_attr.fa_num_faults = 0;
	fe->fe_attr.fa_num_hits = 0;
	fe->fe_attr.fa_pad = 0;
	fe->fe_rand = fi_rand_seed(fi_seed, attr->fa_id);
	if (!fe->fe_armed) {
		__atomic_store_n(&fe->fe_armed, 1, __ATOMIC_RELEASE);
		if (fi_nr_armed++ == 0)
			__atomic_store_n(&d_fault_inject_enabled, 1, __ATOMIC_RELEASE);
	}
}

static void
fi_disarm_locked(uint32_t id)
{
	struct fi_entry *fe = &fi_table[id];

	if (!fe->fe_armed)
		return;
	__atomic_store_n(&fe->fe_armed, 0, __ATOMIC_RELAXED);
	D_ASSERT(fi_nr_armed > 0);
	if (--fi_nr_armed == 0)
		__atomic_store_n(&d_fault_inject_enabled, 0, __ATOMIC_RELEASE);
}

int
d_fault_attr_set(const struct d_fault_attr *attr)
{
	D_ASSERT(attr != NULL);
	if (!fi_attr_valid(attr)) {
		D_ERROR("fault %u: bad attributes (interval %u, probability %u/%u): " DF_RC "\n",
			attr->fa_id, attr->fa_interval, attr->fa_probability_x,
			attr->fa_probability_y, DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	pthread_mutex_lock(&fi_lock);
	fi_arm_locked(attr);
	pthread_mutex_unlock(&fi_lock);
	return 0;
}

int
d_fault_attr_get(uint32_t id, struct d_fault_attr *attr)
{
	int rc = 0;

	D_ASSERT(attr != NULL);
	if (id >= D_FI_MAX_ID)
		return -DER_INVAL;
	pthread_mutex_lock(&fi_lock);
	if (fi_table[id].fe_armed)
		*attr = fi_table[id].fe_attr;
	else
		rc = -DER_NONEXIST;
	pthread_mutex_unlock(&fi_lock);
	return rc;
}

void
d_fault_attr_clear(uint32_t id)
{
	if (id >= D_FI_MAX_ID)
		return;
	pthread_mutex_lock(&fi_lock);
	fi_disarm_locked(id);
	pthread_mutex_unlock(&fi_lock);
}

void
d_fault_attr_clear_all(void)
{
	uint32_t id;

	pthread_mutex_lock(&fi_lock);
	for (id = 0; id < D_FI_MAX_ID && fi_nr_armed > 0; id++)
		fi_disarm_locked(id);
	pthread_mutex_unlock(&fi_lock);
}

int
d_fault_attr_err_code(uint32_t id)
{
	int rc = 0;

	if (id >= D_FI_MAX_ID)
		return 0;
	pthread_mutex_lock(&fi_lock);
	if (fi_table[id].fe_armed)
		rc = fi_table[id].fe_attr.fa_err_code;
	pthread_mutex_unlock(&fi_lock);
	return rc;
}

/* Value parsing shared by both syntaxes. Each takes a counted string, not NUL-terminated. */

/* Decimal, or hex after "0x"; no sign, no spaces; at most @max. */
static bool
fi_u64_parse(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return false;
	for (; i < len; i++) {
		unsigned int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned int)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned int)(s[i] - 'a' + 10);
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = (unsigned int)(s[i] - 'A' + 10);
		else
			return false;
		if (v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool
fi_u32_parse(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;

	if (!fi_u64_parse(s, len, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/*
 * A probability: "0", "1", or an integer part and up to 9 decimal places ("0.25", "1.0"),
 * kept exact as x / 10^places.
 */
static bool
fi_prob_parse(const char *s, size_t len, uint32_t *x, uint32_t *y)
{
	const char *dot = memchr(s, '.', len);
	size_t ilen = dot != NULL ? (size_t)(dot - s) : len;
	size_t flen = dot != NULL ? len - ilen - 1 : 0;
	uint32_t num = 0;
	uint32_t den = 1;
	uint32_t ipart;
	size_t i;

	if (ilen != 1 || (s[0] != '0' && s[0] != '1'))
		return false;
	if (dot != NULL && (flen == 0 || flen > 9))
		return false;
	ipart = (uint32_t)(s[0] - '0');
	for (i = 0; i < flen; i++) {
		if (dot[1 + i] < '0' || dot[1 + i] > '9')
			return false;
		num = num * 10 + (uint32_t)(dot[1 + i] - '0');
		den *= 10;
	}
	if (ipart == 1) {
		if (num != 0)
			return false;
		num = den;
	}
	*x = num;
	*y = den;
	return true;
}

#define FI_ERR_NAME_(name, value, desc) {#name, value},

static const struct fi_err_name {
	const char *fen_name;
	int fen_code;
} fi_err_names[] = {D_FOREACH_GURT_ERR(FI_ERR_NAME_) D_FOREACH_DAOS_ERR(FI_ERR_NAME_)};

#undef FI_ERR_NAME_

/* A known DER_* code, by name or number, of either sign; stored negative. */
static bool
fi_err_parse(const char *s, size_t len, int32_t *out)
{
	uint64_t v = 0;
	bool named;
	size_t i;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		s++;
		len--;
	}
	named = len > 4 && memcmp(s, "DER_", 4) == 0;
	if (!named && !fi_u64_parse(s, len, INT32_MAX, &v))
		return false;
	for (i = 0; i < D_ARRAY_SIZE(fi_err_names); i++) {
		const struct fi_err_name *fen = &fi_err_names[i];

		if (named ? strlen(fen->fen_name) == len && memcmp(fen->fen_name, s, len) == 0
			  : (uint64_t)fen->fen_code == v) {
			*out = -fen->fen_code;
			return true;
		}
	}
	return false;
}

/* The D_FAULTS string syntax. */

/* Which properties a token sets: a later token may not set them again. */
#define FI_SETS_INTERVAL (1U << 0)
#define FI_SETS_PROB (1U << 1)
#define FI_SETS_MAX (1U << 2)
#define FI_SETS_ERR (1U << 3)

enum fi_tok_kind {
	FI_TOK_ALWAYS,
	FI_TOK_ONCE,
	FI_TOK_EVERY,
	FI_TOK_NTH,
	FI_TOK_PROB,
	FI_TOK_MAX,
	FI_TOK_ERR,
};

static const struct fi_token {
	const char *ft_name;
	enum fi_tok_kind ft_kind;
	bool ft_value; /* takes "=value" */
	unsigned int ft_sets;
} fi_tokens[] = {
    {"always", FI_TOK_ALWAYS, false, FI_SETS_INTERVAL | FI_SETS_PROB | FI_SETS_MAX},
    {"once", FI_TOK_ONCE, false, FI_SETS_MAX},
    {"every", FI_TOK_EVERY, true, FI_SETS_INTERVAL},
    {"nth", FI_TOK_NTH, true, FI_SETS_INTERVAL | FI_SETS_MAX},
    {"prob", FI_TOK_PROB, true, FI_SETS_PROB},
    {"max", FI_TOK_MAX, true, FI_SETS_MAX},
    {"err", FI_TOK_ERR, true, FI_SETS_ERR},
};

static void
fi_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* Log lines quote at most this much of the input. */
#define FI_QUOTE_MAX 64

static int
fi_token_bad(const char *item, size_t ilen, const char *tok, size_t tlen, const char *why)
{
	D_ERROR("D_FAULTS item \"%.*s\": bad token \"%.*s\": %s: " DF_RC "\n",
		(int)(ilen < FI_QUOTE_MAX ? ilen : FI_QUOTE_MAX), item,
		(int)(tlen < FI_QUOTE_MAX ? tlen : FI_QUOTE_MAX), tok, why, DP_RC(-DER_INVAL));
	return -DER_INVAL;
}

/* Apply token [tok, tok + tlen) of @item to @attr. */
static int
fi_token_parse(const char *item, size_t ilen, const char *tok, size_t tlen,
	       struct d_fault_attr *attr, unsigned int *sets)
{
	const struct fi_token *ft = NULL;
	const char *eq = memchr(tok, '=', tlen);
	size_t klen = eq != NULL ? (size_t)(eq - tok) : tlen;
	const char *val = eq != NULL ? eq + 1 : NULL;
	size_t vlen = eq != NULL ? tlen - klen - 1 : 0;
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(fi_tokens); i++) {
		if (strlen(fi_tokens[i].ft_name) == klen &&
		    memcmp(fi_tokens[i].ft_name, tok, klen) == 0) {
			ft = &fi_tokens[i];
			break;
		}
	}
	if (ft == NULL)
		return fi_token_bad(item, ilen, tok, tlen, "unknown token");
	if (ft->ft_value != (eq != NULL))
		return fi_token_bad(item, ilen, tok, tlen,
				    ft->ft_value ? "needs =value" : "takes no value");
	if ((*sets & ft->ft_sets) != 0)
		return fi_token_bad(item, ilen, tok, tlen, "conflicts with an earlier token");
	*sets |= ft->ft_sets;

	switch (ft->ft_kind) {
	case FI_TOK_ALWAYS: /* the defaults */
		return 0;
	case FI_TOK_ONCE:
		attr->fa_max_faults = 1;
		return 0;
	case FI_TOK_EVERY:
	case FI_TOK_NTH:
		if (!fi_u32_parse(val, vlen, &attr->fa_interval) || attr->fa_interval == 0)
			return fi_token_bad(item, ilen, tok, tlen, "not a number in 1..4294967295");
		if (ft->ft_kind == FI_TOK_NTH)
			attr->fa_max_faults = 1;
		return 0;
	case FI_TOK_PROB:
		if (!fi_prob_parse(val, vlen, &attr->fa_probability_x, &attr->fa_probability_y))
			return fi_token_bad(item, ilen, tok, tlen,
					    "not a probability from 0 to 1 (at most 9 places)");
		return 0;
	case FI_TOK_MAX:
		if (!fi_u64_parse(val, vlen, UINT64_MAX, &attr->fa_max_faults))
			return fi_token_bad(item, ilen, tok, tlen, "not an unsigned 64-bit number");
		return 0;
	case FI_TOK_ERR:
		if (!fi_err_parse(val, vlen, &attr->fa_err_code))
			return fi_token_bad(item, ilen, tok, tlen, "not a known DER_* code");
		return 0;
	}
	return 0;
}

/* Parse one "id:tokens" item [item, item + ilen) into @attr. */
static int
fi_item_parse(const char *item, size_t ilen, struct d_fault_attr *attr)
{
	const char *colon;
	const char *id;
	const char *tok;
	const char *end;
	unsigned int sets = 0;
	size_t idlen;
	size_t rest;
	uint64_t v;
	int rc;

	fi_trim(&item, &ilen);
	memset(attr, 0, sizeof(*attr));
	if (ilen == 0)
		return fi_token_bad(item, ilen, item, ilen, "empty item");
	colon = memchr(item, ':', ilen);
	if (colon == NULL)
		return fi_token_bad(item, ilen, item, ilen, "expected id:spec");
	id = item;
	idlen = (size_t)(colon - item);
	fi_trim(&id, &idlen);
	if (!fi_u64_parse(id, idlen, D_FI_MAX_ID - 1, &v))
		return fi_token_bad(item, ilen, id, idlen, "not an id below D_FI_MAX_ID (4096)");
	attr->fa_id = (uint32_t)v;

	tok = colon + 1;
	rest = (size_t)(item + ilen - tok);
	for (;;) {
		size_t tlen;

		end = memchr(tok, '/', rest);
		tlen = end != NULL ? (size_t)(end - tok) : rest;
		rest -= tlen;
		fi_trim(&tok, &tlen);
		if (tlen == 0)
			return fi_token_bad(item, ilen, tok, 0, "empty token");
		rc = fi_token_parse(item, ilen, tok, tlen, attr, &sets);
		if (rc != 0)
			return rc;
		if (end == NULL)
			break;
		rest--;
		tok = end + 1;
	}
	return 0;
}

/* Parse @spec; arm its faults only if @arm (a first pass checks the whole string). */
static int
fi_spec_parse(const char *spec, bool arm)
{
	const char *item = spec;
	struct d_fault_attr attr;
	int rc;

	for (;;) {
		const char *end = strchr(item, ',');
		size_t ilen = end != NULL ? (size_t)(end - item) : strlen(item);

		rc = fi_item_parse(item, ilen, &attr);
		if (rc != 0)
			return rc;
		if (arm) {
			rc = d_fault_attr_set(&attr);
			D_ASSERT(rc == 0);
		}
		if (end == NULL)
			return 0;
		item = end + 1;
	}
}

int
d_fault_parse(const char *spec)
{
	int rc;

	if (spec == NULL) {
		D_ERROR("D_FAULTS: no spec: " DF_RC "\n", DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	rc = fi_spec_parse(spec, false);
	if (rc == 0)
		rc = fi_spec_parse(spec, true);
	return rc;
}

/*
 * The YAML config file. Faults are staged in fy_attrs and armed only when the whole file
 * has parsed, after its seed (wherever it appears in the file) is applied.
 */

struct fi_yaml {
	yaml_parser_t fy_parser;
	const char *fy_path;
	struct d_fault_attr *fy_attrs; /* malloc'd */
	size_t fy_nr;
	size_t fy_cap;
	uint64_t fy_seed;
	bool fy_has_seed;
};

/* 1-based line of @ev, for messages. */
static size_t
fy_line(const yaml_event_t *ev)
{
	return ev->start_mark.line + 1;
}

/* The next event into *@ev (which the caller then deletes); -DER_INVAL on bad YAML. */
static int
fy_next(struct fi_yaml *fy, yaml_event_t *ev)
{
	if (yaml_parser_parse(&fy->fy_parser, ev))
		return 0;
	D_ERROR("%s:%zu: bad YAML: %s: " DF_RC "\n", fy->fy_path,
		fy->fy_parser.problem_mark.line + 1,
		fy->fy_parser.problem != NULL ? fy->fy_parser.problem : "unknown error",
		DP_RC(-DER_INVAL));
	return -DER_INVAL;
}

static int
fy_bad(struct fi_yaml *fy, const yaml_event_t *ev, const char *what)
{
	if (ev->type == YAML_SCALAR_EVENT)
		D_ERROR("%s:%zu: %s \"%.*s\": " DF_RC "\n", fy->fy_path, fy_line(ev), what,
			(int)(ev->data.scalar.length < FI_QUOTE_MAX ? ev->data.scalar.length
								    : FI_QUOTE_MAX),
			(const char *)ev->data.scalar.value, DP_RC(-DER_INVAL));
	else
		D_ERROR("%s:%zu: %s: " DF_RC "\n", fy->fy_path, fy_line(ev), what,
			DP_RC(-DER_INVAL));
	return -DER_INVAL;
}

/* Is @ev the scalar @str? (Scalars may hold NULs, so compare lengths too.) */
static bool
fy_is(const yaml_event_t *ev, const char *str)
{
	return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.length == strlen(str) &&
	       memcmp(ev->data.scalar.value, str, ev->data.scalar.length) == 0;
}

static bool
fy_is_null(const yaml_event_t *ev)
{
	return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (fy_is(ev, "") || fy_is(ev, "~") || fy_is(ev, "null"));
}

/* A scalar value into *@ev, or -DER_INVAL (nothing left to delete). */
static int
fy_scalar(struct fi_yaml *fy, yaml_event_t *ev)
{
	int rc;

	rc = fy_next(fy, ev);
	if (rc != 0)
		return rc;
	if (ev->type == YAML_SCALAR_EVENT)
		return 0;
	rc = fy_bad(fy, ev, "expected a single value");
	yaml_event_delete(ev);
	return rc;
}

enum fy_key {
	FY_ID,
	FY_PROB_X,
	FY_PROB_Y,
	FY_INTERVAL,
	FY_MAX_FAULTS,
	FY_ERR_CODE,
	FY_ARGUMENT,
	FY_NR_KEYS,
};

static const char *const fy_keys[FY_NR_KEYS] = {
    [FY_ID] = "id",
    [FY_PROB_X] = "probability_x",
    [FY_PROB_Y] = "probability_y",
    [FY_INTERVAL] = "interval",
    [FY_MAX_FAULTS] = "max_faults",
    [FY_ERR_CODE] = "err_code",
    [FY_ARGUMENT] = "argument",
};

/* Set key @k of @attr from scalar @ev. */
static int
fy_entry_value(struct fi_yaml *fy, enum fy_key k, const yaml_event_t *ev, struct d_fault_attr *attr)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	uint64_t v;
	bool ok;

	switch (k) {
	case FY_ID:
		ok = fi_u64_parse(s, len, D_FI_MAX_ID - 1, &v);
		attr->fa_id = (uint32_t)v;
		break;
	case FY_PROB_X:
		ok = fi_u32_parse(s, len, &attr->fa_probability_x);
		break;
	case FY_PROB_Y:
		ok = fi_u32_parse(s, len, &attr->fa_probability_y);
		break;
	case FY_INTERVAL:
		ok = fi_u32_parse(s, len, &attr->fa_interval);
		break;
	case FY_MAX_FAULTS:
		ok = fi_u64_parse(s, len, UINT64_MAX, &attr->fa_max_faults);
		break;
	case FY_ERR_CODE:
		ok = fi_err_parse(s, len, &attr->fa_err_code);
		break;
	default:
		ok = fi_u64_parse(s, len, UINT64_MAX, &attr->fa_argument);
		break;
	}
	if (ok)
		return 0;
	return fy_bad(fy, ev, k == FY_ID ? "bad value (an id below 4096)" : "bad value");
}

/* One fault_config entry, after its MAPPING_START @start. */
static int
fy_entry_parse(struct fi_yaml *fy, const yaml_event_t *start)
{
	struct d_fault_attr attr = {.fa_probability_x = 1, .fa_probability_y = 1};
	unsigned int seen = 0;
	yaml_event_t key;
	yaml_event_t val;
	unsigned int k;
	int rc;

	for (;;) {
		rc = fy_next(fy, &key);
		if (rc != 0)
			return rc;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			break;
		}
		if (key.type != YAML_SCALAR_EVENT) {
			rc = fy_bad(fy, &key, "expected a key");
			goto out_key;
		}
		for (k = 0; k < FY_NR_KEYS; k++)
			if (fy_is(&key, fy_keys[k]))
				break;
		if (k == FY_NR_KEYS) {
			rc = fy_bad(fy, &key, "unknown key");
			goto out_key;
		}
		if (seen & (1U << k)) {
			rc = fy_bad(fy, &key, "duplicate key");
			goto out_key;
		}
		seen |= 1U << k;
		rc = fy_scalar(fy, &val);
		if (rc != 0)
			goto out_key;
		rc = fy_entry_value(fy, (enum fy_key)k, &val, &attr);
		yaml_event_delete(&val);
	out_key:
		yaml_event_delete(&key);
		if (rc != 0)
			return rc;
	}

	if (!(seen & (1U << FY_ID)))
		return fy_bad(fy, start, "fault_config entry without an id");
	/* DAOS: x 0 never fires, whatever y is. */
	if (attr.fa_probability_x == 0)
		attr.fa_probability_y = 1;
	if (!fi_attr_valid(&attr))
		return fy_bad(fy, start, "probability_x greater than probability_y");

	if (fy->fy_nr == fy->fy_cap) {
		size_t cap = fy->fy_cap == 0 ? 16 : fy->fy_cap * 2;
		struct d_fault_attr *attrs = realloc(fy->fy_attrs, cap * sizeof(*attrs));

		if (attrs == NULL)
			return -DER_NOMEM;
		fy->fy_attrs = attrs;
		fy->fy_cap = cap;
	}
	fy->fy_attrs[fy->fy_nr++] = attr;
	return 0;
}

/* The value of fault_config: a sequence of entries, or nothing. */
static int
fy_config_parse(struct fi_yaml *fy)
{
	yaml_event_t ev;
	int rc;

	rc = fy_next(fy, &ev);
	if (rc != 0)
		return rc;
	if (fy_is_null(&ev))
		goto out_ev;
	if (ev.type != YAML_SEQUENCE_START_EVENT) {
		rc = fy_bad(fy, &ev, "fault_config: expected a list of entries");
		goto out_ev;
	}
	for (;;) {
		yaml_event_delete(&ev);
		rc = fy_next(fy, &ev);
		if (rc != 0)
			return rc;
		if (ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (ev.type != YAML_MAPPING_START_EVENT) {
			rc = fy_bad(fy, &ev, "fault_config: expected an entry (id: ...)");
			break;
		}
		rc = fy_entry_parse(fy, &ev);
		if (rc != 0)
			break;
	}
out_ev:
	yaml_event_delete(&ev);
	return rc;
}

/* The top-level mapping of one document, after its MAPPING_START. */
static int
fy_top_parse(struct fi_yaml *fy)
{
	yaml_event_t key;
	yaml_event_t val;
	int rc;

	for (;;) {
		rc = fy_next(fy, &key);
		if (rc != 0)
			return rc;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			return 0;
		}
		if (key.type != YAML_SCALAR_EVENT) {
			rc = fy_bad(fy, &key, "expected a key");
			goto out_key;
		}
		if (fy_is(&key, "fault_config")) {
			rc = fy_config_parse(fy);
		} else if (fy_is(&key, "seed")) {
			rc = fy_scalar(fy, &val);
			if (rc != 0)
				goto out_key;
			if (fi_u64_parse((const char *)val.data.scalar.value,
					 val.data.scalar.length, UINT64_MAX, &fy->fy_seed))
				fy->fy_has_seed = true;
			else
				rc = fy_bad(fy, &val, "bad seed");
			yaml_event_delete(&val);
		} else if (fy_is(&key, "thread_default")) {
			/* DAOS can leave threads out unless enabled; here every thread is in. */
			rc = fy_scalar(fy, &val);
			if (rc != 0)
				goto out_key;
			if (!fy_is(&val, "true") && !fy_is(&val, "True") && !fy_is(&val, "TRUE"))
				rc =
				    fy_bad(fy, &val, "thread_default: only true is supported, not");
			yaml_event_delete(&val);
		} else {
			rc = fy_bad(fy, &key, "unknown key");
		}
	out_key:
		yaml_event_delete(&key);
		if (rc != 0)
			return rc;
	}
}

/* The whole stream: any number of documents, each a mapping or empty. */
static int
fy_stream_parse(struct fi_yaml *fy)
{
	yaml_event_t ev;
	int rc;

	for (;;) {
		rc = fy_next(fy, &ev);
		if (rc != 0)
			return rc;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_MAPPING_START_EVENT:
			rc = fy_top_parse(fy);
			break;
		default:
			if (!fy_is_null(&ev))
				rc = fy_bad(fy, &ev, "expected a mapping (fault_config: ...)");
			break;
		}
		yaml_event_delete(&ev);
		if (rc != 0)
			return rc;
	}
}

int
d_fault_config_load(const char *path)
{
	struct fi_yaml fy = {.fy_path = path};
	FILE *fp;
	size_t i;
	int err;
	int rc;

	if (path == NULL) {
		D_ERROR("no fault config path: " DF_RC "\n", DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	fp = fopen(path, "r");
	if (fp == NULL) {
		err = errno;
		rc = err == ENOENT ? -DER_NONEXIST : d_errno2der(err);
		D_ERROR("cannot open fault config %s: %s: " DF_RC "\n", path, strerror(err),
			DP_RC(rc));
		return rc;
	}
	if (!yaml_parser_initialize(&fy.fy_parser)) {
		rc = -DER_NOMEM;
		D_ERROR("cannot initialise the YAML parser: " DF_RC "\n", DP_RC(rc));
		goto out_close;
	}
	yaml_parser_set_input_file(&fy.fy_parser, fp);

	rc = fy_stream_parse(&fy);
	if (rc == 0) {
		pthread_mutex_lock(&fi_lock);
		if (fy.fy_has_seed)
			fi_seed = fy.fy_seed;
		for (i = 0; i < fy.fy_nr; i++)
			fi_arm_locked(&fy.fy_attrs[i]);
		pthread_mutex_unlock(&fi_lock);
		D_DEBUG("%s: armed %zu faults\n", path, fy.fy_nr);
	}

	free(fy.fy_attrs);
	yaml_parser_delete(&fy.fy_parser);
out_close:
	fclose(fp);
	return rc;
}

/* Environment and start-up. */

static int
fi_seed_init(void)
{
	const char *env = getenv("D_FI_SEED");
	uint64_t seed;

	if (env == NULL || env[0] == '\0')
		return 0;
	if (!fi_u64_parse(env, strlen(env), UINT64_MAX, &seed)) {
		D_ERROR("D_FI_SEED=\"%.*s\" is not an unsigned number: " DF_RC "\n", FI_QUOTE_MAX,
			env, DP_RC(-DER_INVAL));
		return -DER_INVAL;
	}
	pthread_mutex_lock(&fi_lock);
	fi_seed = seed;
	pthread_mutex_unlock(&fi_lock);
	return 0;
}

int
d_fault_inject_init(void)
{
	const char *config = getenv("D_FI_CONFIG");
	const char *faults = getenv("D_FAULTS");
	uint64_t seed;
	int rc;
	int rc2;

	rc = fi_seed_init();
	if (config != NULL && config[0] != '\0') {
		rc2 = d_fault_config_load(config);
		if (rc == 0)
			rc = rc2;
	}
	if (faults != NULL && faults[0] != '\0') {
		rc2 = d_fault_parse(faults);
		if (rc == 0)
			rc = rc2;
	}
	if ((config != NULL && config[0] != '\0') || (faults != NULL && faults[0] != '\0')) {
		pthread_mutex_lock(&fi_lock);
		seed = fi_seed;
		pthread_mutex_unlock(&fi_lock);
		D_INFO("fault injection seed %" PRIu64 " (set D_FI_SEED to repeat)\n", seed);
	}
	return rc;
}

/* Arm the environment's faults before main(); errors are logged and the process goes on. */
__attribute__((constructor)) static void
fi_init_at_load(void)
{
	struct timespec ts;
	uint64_t state;

	clock_gettime(CLOCK_REALTIME, &ts);
	state = (uint64_t)ts.tv_sec * D_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	state ^= (uint64_t)getpid() << 32;
	pthread_mutex_lock(&fi_lock);
	fi_seed = fi_rand_next(&state);
	pthread_mutex_unlock(&fi_lock);

	(void)d_fault_inject_init();
}
