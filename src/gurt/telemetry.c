/*
 * telemetry.c: the in-process metrics registry of gurt/telemetry.h and its Prometheus text
 * export. Sits on gurt's allocation and logging only.
 *
 * The registry is tm_fams, an array of families sorted by Prometheus name; each family
 * lists its nodes (one per label set) in creation order. tm_lock guards the array, the
 * lists and every field of a node below its hot line; creation, deletion, lookup and
 * export take it. Value updates never do. Why that is safe:
 *
 *  1. A node's type, buckets and labels are fixed when it is created and the node is freed
 *     only by d_tm_del_metric() or d_tm_fini(), whose callers guarantee that nobody updates
 *     it any more. So an updater only ever touches a live node's value words.
 *  2. Each value is one naturally aligned 64-bit word changed by one relaxed atomic (a CAS
 *     loop for min/max): no update is lost and no reader sees a torn value. Relaxed is
 *     enough because no reader infers anything about other memory from a metric.
 *  3. The only cross-word consistency Prometheus demands is that a histogram's +Inf bucket
 *     equals its _count. The count is therefore not stored: readers sum the bucket words
 *     they read, so the two agree by construction. _sum may differ from the buckets by the
 *     observations in flight, which Prometheus tolerates.
 *  4. Every node starts on its own cache line and keeps what the update paths touch in that
 *     line, so the targets' threads, each updating its own nodes, never share a line.
 */
#define D_LOGFAC gurt

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <gurt/common.h>
#include <gurt/telemetry.h>

#define TM_CACHE_LINE 64
/* Prometheus name: prefix, then the path. */
#define TM_PROM_MAX (sizeof(D_TM_PROM_PREFIX) - 1 + D_TM_MAX_NAME_LEN)
/* The longest family suffix ("_samples"). */
#define TM_SUFFIX_MAX 8
/* Canonical (sorted, escaped) label string. */
#define TM_LABELS_MAX D_TM_MAX_FULL_LEN
#define TM_DUMP_INIT 4096

struct tm_family {
	char *tf_name; /* Prometheus name; stored after the struct */
	char *tf_help; /* escaped HELP text; stored after the name */
	int tf_type;
	d_list_t tf_nodes; /* struct d_tm_node_t, by tn_link */
};

/*
 * A node sits at a 64-byte aligned address (tm_node_alloc) and keeps everything the update
 * paths touch in its first cache line. The type itself asks for no more than 8-byte
 * alignment, so that the list macros may form the (never dereferenced) entry of a family's
 * list head, which is not 64-byte aligned.
 */
struct d_tm_node_t {
	union {
		struct {
			union {
				uint64_t tn_counter; /* D_TM_COUNTER */
				int64_t tn_gauge;    /* gauges and D_TM_TIMESTAMP */
				uint64_t tn_sum;     /* histograms */
			};
			union {
				struct { /* D_TM_STATS_GAUGE */
					int64_t tn_min;
					int64_t tn_max;
					int64_t tn_gsum;
					uint64_t tn_samples;
				};
				struct {                           /* histograms */
					uint64_t *tn_buckets;      /* tn_nr_bounds + 1, last +Inf */
					const uint64_t *tn_bounds; /* inclusive upper bounds */
				};
			};
			int tn_type;
			int tn_nr_bounds;
			int tn_shift; /* bounds are 2^tn_shift, 2^(tn_shift+1)...; -1 if not */
		};
		char tn_hot_line[TM_CACHE_LINE];
	};
	/* Cold: read and written under tm_lock only. */
	d_list_t tn_link;
	struct tm_family *tn_family;
	char *tn_labels; /* canonical labels without braces, "" if none */
	void *tn_mem;    /* the allocation the node sits in: free this */
};

D_CASSERT(offsetof(struct d_tm_node_t, tn_link) == TM_CACHE_LINE);

/* A parsed metric name. */
struct tm_key {
	char tk_name[TM_PROM_MAX + 1];
	char tk_labels[TM_LABELS_MAX + 1];
	size_t tk_labels_len;
};

struct tm_label {
	const char *tl_name;
	size_t tl_name_len;
	const char *tl_val;
	size_t tl_val_len;
};

/* An output buffer with a sticky error. */
struct tm_buf {
	char *tb_data;
	size_t tb_len;
	size_t tb_cap;
	int tb_rc;
};

static pthread_mutex_t tm_lock = PTHREAD_MUTEX_INITIALIZER;
static int tm_refs;                /* d_tm_init() calls not yet matched by d_tm_fini() */
static struct tm_family **tm_fams; /* sorted by tf_name */
static int tm_nr_fams;
static int tm_cap_fams;

static const char *const tm_hist_suffixes[] = {"_bucket", "_sum", "_count"};
static const char *const tm_stats_suffixes[] = {"_min", "_max", "_mean", "_samples"};
static const char *const tm_stats_help[] = {" (minimum)", " (maximum)", " (mean)",
					    " (number of samples)"};

static bool
tm_type_is_hist(int type)
{
	return type == D_TM_DURATION || type == D_TM_HISTOGRAM;
}

static bool
tm_type_is_gauge(int type)
{
	return type == D_TM_GAUGE || type == D_TM_STATS_GAUGE;
}

static bool
tm_type_valid(int type)
{
	return type == D_TM_COUNTER || type == D_TM_TIMESTAMP || tm_type_is_gauge(type) ||
	       tm_type_is_hist(type);
}

/* The names a family of @type owns besides its own, by suffix. */
static const char *const *
tm_type_suffixes(int type, int *nr)
{
	if (tm_type_is_hist(type)) {
		*nr = (int)D_ARRAY_SIZE(tm_hist_suffixes);
		return tm_hist_suffixes;
	}
	if (type == D_TM_STATS_GAUGE) {
		*nr = (int)D_ARRAY_SIZE(tm_stats_suffixes);
		return tm_stats_suffixes;
	}
	*nr = 0;
	return NULL;
}

static bool
tm_is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/*
 * Append @len bytes of @s to @out (of @cap bytes, *@pos < @cap) at *@pos, escaping '\\' and
 * newlines, and '"' too if @quote. Always NUL-terminates; -DER_INVAL if it had to cut.
 */
static int
tm_escape(char *out, size_t cap, size_t *pos, const char *s, size_t len, bool quote)
{
	size_t i;

	for (i = 0; i < len; i++) {
		const char *rep = NULL;
		size_t rlen = 1;

		if (s[i] == '\\')
			rep = "\\\\";
		else if (s[i] == '\n')
			rep = "\\n";
		else if (s[i] == '"' && quote)
			rep = "\\\"";
		if (rep != NULL)
			rlen = 2;
		if (*pos + rlen >= cap) {
			out[*pos] = '\0';
			return -DER_INVAL;
		}
		if (rep != NULL)
			memcpy(out + *pos, rep, 2);
		else
			out[*pos] = s[i];
		*pos += rlen;
	}
	out[*pos] = '\0';
	return 0;
}

static int
tm_label_cmp(const struct tm_label *a, const struct tm_label *b)
{
	size_t n = a->tl_name_len < b->tl_name_len ? a->tl_name_len : b->tl_name_len;
	int c = memcmp(a->tl_name, b->tl_name, n);

	if (c != 0)
		return c;
	return a->tl_name_len < b->tl_name_len ? -1 : a->tl_name_len > b->tl_name_len;
}

/* Parse the label block at @p ("{...}" or "") into @lbls; unescapes values in place. */
static int
tm_labels_parse(char *p, int type, struct tm_label *lbls, int *nr)
{
	int n = 0;

	if (*p == '\0')
		goto out;
	if (*p++ != '{')
		return -DER_INVAL;
	while (*p != '}') {
		struct tm_label *l = &lbls[n];
		char *out;

		if (n == D_TM_MAX_LABELS)
			return -DER_INVAL;
		l->tl_name = p;
		while (tm_is_word_char(*p))
			p++;
		l->tl_name_len = (size_t)(p - l->tl_name);
		if (l->tl_name_len == 0 || (l->tl_name[0] >= '0' && l->tl_name[0] <= '9') ||
		    (l->tl_name_len >= 2 && l->tl_name[0] == '_' && l->tl_name[1] == '_'))
			return -DER_INVAL;
		if (tm_type_is_hist(type) && l->tl_name_len == 2 &&
		    memcmp(l->tl_name, "le", 2) == 0)
			return -DER_INVAL;
		if (*p++ != '=' || *p++ != '"')
			return -DER_INVAL;
		l->tl_val = out = p;
		while (*p != '"') {
			if (*p == '\0')
				return -DER_INVAL;
			if (*p == '\\') {
				p++;
				if (*p == 'n')
					*p = '\n';
				else if (*p != '\\' && *p != '"')
					return -DER_INVAL;
			}
			*out++ = *p++;
		}
		l->tl_val_len = (size_t)(out - l->tl_val);
		if (l->tl_val_len == 0)
			return -DER_INVAL;
		p++;
		n++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return -DER_INVAL;
	}
	if (p[1] != '\0')
		return -DER_INVAL;
out:
	*nr = n;
	return 0;
}

/*
 * Parse @str ("path{labels}", modified in place) into @key: the Prometheus name and the
 * canonical label string (sorted by name, escaped). @type only forbids "le" on histograms.
 */
static int
tm_key_parse(char *str, int type, struct tm_key *key)
{
	struct tm_label lbls[D_TM_MAX_LABELS];
	size_t plen = strcspn(str, "{");
	size_t i, pos;
	char prev = '/';
	int nr, j, k, rc;

	if (plen == 0 || plen > D_TM_MAX_NAME_LEN)
		return -DER_INVAL;
	for (i = 0; i < plen; i++) {
		if (str[i] == '/' ? prev == '/' : !tm_is_word_char(str[i]))
			return -DER_INVAL;
		prev = str[i];
	}
	if (prev == '/')
		return -DER_INVAL;
	memcpy(key->tk_name, D_TM_PROM_PREFIX, sizeof(D_TM_PROM_PREFIX) - 1);
	pos = sizeof(D_TM_PROM_PREFIX) - 1;
	for (i = 0; i < plen; i++)
		key->tk_name[pos++] = str[i] == '/' ? '_' : str[i];
	key->tk_name[pos] = '\0';

	rc = tm_labels_parse(str + plen, type, lbls, &nr);
	if (rc != 0)
		return rc;
	/* Insertion sort: there are at most D_TM_MAX_LABELS. */
	for (j = 1; j < nr; j++) {
		struct tm_label l = lbls[j];

		for (k = j; k > 0 && tm_label_cmp(&lbls[k - 1], &l) > 0; k--)
			lbls[k] = lbls[k - 1];
		lbls[k] = l;
	}
	pos = 0;
	key->tk_labels[0] = '\0';
	for (j = 0; j < nr; j++) {
		if (j > 0 && tm_label_cmp(&lbls[j - 1], &lbls[j]) == 0)
			return -DER_INVAL;
		/* name, =", value (escaped), ", and a comma */
		if (pos + lbls[j].tl_name_len + 4 > TM_LABELS_MAX)
			return -DER_INVAL;
		if (j > 0)
			key->tk_labels[pos++] = ',';
		memcpy(key->tk_labels + pos, lbls[j].tl_name, lbls[j].tl_name_len);
		pos += lbls[j].tl_name_len;
		key->tk_labels[pos++] = '=';
		key->tk_labels[pos++] = '"';
		rc = tm_escape(key->tk_labels, TM_LABELS_MAX, &pos, lbls[j].tl_val,
			       lbls[j].tl_val_len, true);
		if (rc != 0)
			return rc;
		key->tk_labels[pos++] = '"';
		key->tk_labels[pos] = '\0';
	}
	key->tk_labels_len = pos;
	return 0;
}

/* Binary search for family @name; *@pos (may be NULL) is where it is or would go. */
static struct tm_family *
tm_fam_find(const char *name, int *pos)
{
	int lo = 0, hi = tm_nr_fams;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		int c = strcmp(tm_fams[mid]->tf_name, name);

		if (c == 0) {
			lo = mid;
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos != NULL)
		*pos = lo;
	if (lo < tm_nr_fams && strcmp(tm_fams[lo]->tf_name, name) == 0)
		return tm_fams[lo];
	return NULL;
}

/* Would a new family @name of @type clash with names another family owns (or vice versa)? */
static bool
tm_fam_clashes(const char *name, int type)
{
	static const char *const *const lists[] = {tm_hist_suffixes, tm_stats_suffixes};
	static const int lens[] = {D_ARRAY_SIZE(tm_hist_suffixes), D_ARRAY_SIZE(tm_stats_suffixes)};
	char buf[TM_PROM_MAX + TM_SUFFIX_MAX + 1];
	const char *const *sfx;
	size_t len = strlen(name);
	int nr, i, l;

	sfx = tm_type_suffixes(type, &nr);
	for (i = 0; i < nr; i++) {
		snprintf(buf, sizeof(buf), "%s%s", name, sfx[i]);
		if (tm_fam_find(buf, NULL) != NULL)
			return true;
	}
	for (l = 0; l < (int)D_ARRAY_SIZE(lists); l++) {
		for (i = 0; i < lens[l]; i++) {
			size_t slen = strlen(lists[l][i]);
			struct tm_family *base;
			const char *const *owned;
			int j, nr_owned;

			if (len <= slen || strcmp(name + len - slen, lists[l][i]) != 0)
				continue;
			memcpy(buf, name, len - slen);
			buf[len - slen] = '\0';
			base = tm_fam_find(buf, NULL);
			if (base == NULL)
				continue;
			owned = tm_type_suffixes(base->tf_type, &nr_owned);
			for (j = 0; j < nr_owned; j++)
				if (owned[j] == lists[l][i])
					return true;
		}
	}
	return false;
}

/* A family with its name and escaped help in one allocation. */
static struct tm_family *
tm_fam_create(const char *name, int type, const char *desc, const char *units)
{
	char help[2 * (D_TM_MAX_FULL_LEN + D_TM_MAX_NAME_LEN) + 8];
	struct tm_family *fam;
	size_t nlen = strlen(name), hlen = 0;

	/* An over-long description is cut rather than refused: it is only help text. */
	tm_escape(help, D_TM_MAX_FULL_LEN, &hlen, desc, strlen(desc), false);
	if (units[0] != '\0') {
		help[hlen++] = ' ';
		help[hlen++] = '[';
		tm_escape(help, sizeof(help) - 2, &hlen, units, strnlen(units, D_TM_MAX_NAME_LEN),
			  false);
		help[hlen++] = ']';
		help[hlen] = '\0';
	}
	D_ALLOC(fam, sizeof(*fam) + nlen + 1 + hlen + 1);
	if (fam == NULL)
		return NULL;
	fam->tf_name = (char *)(fam + 1);
	memcpy(fam->tf_name, name, nlen + 1);
	fam->tf_help = fam->tf_name + nlen + 1;
	memcpy(fam->tf_help, help, hlen + 1);
	fam->tf_type = type;
	D_INIT_LIST_HEAD(&fam->tf_nodes);
	return fam;
}

/* Insert @fam at @pos of the sorted array. Caller holds tm_lock. */
static int
tm_fam_insert(struct tm_family *fam, int pos)
{
	if (tm_nr_fams == tm_cap_fams) {
		int cap = tm_cap_fams == 0 ? 64 : tm_cap_fams * 2;
		struct tm_family **fams;

		D_REALLOC_ARRAY(fams, tm_fams, cap);
		if (fams == NULL)
			return -DER_NOMEM;
		tm_fams = fams;
		tm_cap_fams = cap;
	}
	memmove(&tm_fams[pos + 1], &tm_fams[pos], (size_t)(tm_nr_fams - pos) * sizeof(*tm_fams));
	tm_fams[pos] = fam;
	tm_nr_fams++;
	return 0;
}

/* Remove @fam (now empty) from the array and free it. Caller holds tm_lock. */
static void
tm_fam_destroy(struct tm_family *fam)
{
	int pos;

	D_ASSERT(d_list_empty(&fam->tf_nodes));
	if (tm_fam_find(fam->tf_name, &pos) == fam) {
		memmove(&tm_fams[pos], &tm_fams[pos + 1],
			(size_t)(tm_nr_fams - pos - 1) * sizeof(*tm_fams));
		tm_nr_fams--;
	}
	D_FREE(fam);
}

/* If @bounds are consecutive powers of two, the exponent of the first; otherwise -1. */
static int
tm_bounds_shift(const uint64_t *bounds, int nr)
{
	int shift, i;

	if ((bounds[0] & (bounds[0] - 1)) != 0)
		return -1;
	shift = __builtin_ctzll(bounds[0]);
	if (shift + nr > 64)
		return -1;
	for (i = 1; i < nr; i++)
		if (bounds[i] != 1ULL << (shift + i))
			return -1;
	return shift;
}

/*
 * Allocate a node of @type, 64-byte aligned, with room after it for the buckets, the
 * bounds and the labels. Returns NULL on ENOMEM.
 */
static struct d_tm_node_t *
tm_node_alloc(int type, const uint64_t *bounds, int nr_bounds, const struct tm_key *key)
{
	struct d_tm_node_t *node;
	size_t size = sizeof(*node);
	uintptr_t addr;
	char *mem, *tail;

	if (tm_type_is_hist(type))
		size += (2 * (size_t)nr_bounds + 1) * sizeof(uint64_t);
	size += key->tk_labels_len + 1;
	/* D_ALLOC aligns for the basic types only: round up by hand. */
	D_ALLOC(mem, size + TM_CACHE_LINE - 1);
	if (mem == NULL)
		return NULL;
	addr = ((uintptr_t)mem + TM_CACHE_LINE - 1) & ~(uintptr_t)(TM_CACHE_LINE - 1);
	node = (struct d_tm_node_t *)addr;
	node->tn_mem = mem;
	node->tn_type = type;
	node->tn_shift = -1;
	tail = (char *)(node + 1);
	if (tm_type_is_hist(type)) {
		uint64_t *b;

		node->tn_buckets = (uint64_t *)tail;
		b = node->tn_buckets + nr_bounds + 1;
		memcpy(b, bounds, (size_t)nr_bounds * sizeof(*b));
		node->tn_bounds = b;
		node->tn_nr_bounds = nr_bounds;
		node->tn_shift = tm_bounds_shift(bounds, nr_bounds);
		tail = (char *)(b + nr_bounds);
	} else if (type == D_TM_STATS_GAUGE) {
		node->tn_min = INT64_MAX;
		node->tn_max = INT64_MIN;
	}
	node->tn_labels = tail;
	memcpy(node->tn_labels, key->tk_labels, key->tk_labels_len + 1);
	D_INIT_LIST_HEAD(&node->tn_link);
	return node;
}

/* The node lives inside tn_mem: D_FREE(node->tn_mem) would write to freed memory. */
static void
tm_node_free(struct d_tm_node_t *node)
{
	void *mem = node->tn_mem;

	D_FREE(mem);
}

static int tm_add(struct d_tm_node_t **nodep, int type, const char *desc, const char *units,
		  const uint64_t *bounds, int nr_bounds, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

static int
tm_add(struct d_tm_node_t **nodep, int type, const char *desc, const char *units,
       const uint64_t *bounds, int nr_bounds, const char *fmt, va_list ap)
{
	uint64_t pow2[D_TM_POW2_LAST - D_TM_POW2_FIRST + 1];
	char full[D_TM_MAX_FULL_LEN + 1];
	struct d_tm_node_t *node, *other;
	struct tm_family *fam, *new_fam = NULL;
	struct tm_key key;
	int n, i, pos, rc;

	if (nodep == NULL || fmt == NULL)
		return -DER_INVAL;
	*nodep = NULL;
	n = vsnprintf(full, sizeof(full), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(full)) {
		D_ERROR("metric name too long (%d bytes, at most %d)\n", n, D_TM_MAX_FULL_LEN);
		return -DER_INVAL;
	}
	if (!tm_type_valid(type) || (bounds != NULL && !tm_type_is_hist(type))) {
		D_ERROR("metric %s: bad type %#x\n", full, type);
		return -DER_INVAL;
	}
	if (tm_type_is_hist(type) && bounds == NULL) {
		for (i = 0; i < (int)D_ARRAY_SIZE(pow2); i++)
			pow2[i] = 1ULL << (D_TM_POW2_FIRST + i);
		bounds = pow2;
		nr_bounds = (int)D_ARRAY_SIZE(pow2);
	}
	if (bounds != NULL) {
		bool sorted = nr_bounds >= 1 && nr_bounds <= D_TM_MAX_BUCKETS;

		for (i = 1; sorted && i < nr_bounds; i++)
			sorted = bounds[i - 1] < bounds[i];
		if (!sorted) {
			D_ERROR("metric %s: %d bucket bounds, not 1..%d increasing ones\n", full,
				nr_bounds, D_TM_MAX_BUCKETS);
			return -DER_INVAL;
		}
	}
	rc = tm_key_parse(full, type, &key);
	if (rc != 0) {
		D_ERROR("bad metric name %s: " DF_RC "\n", full, DP_RC(rc));
		return rc;
	}

	node = tm_node_alloc(type, bounds, nr_bounds, &key);
	if (node == NULL) {
		D_ERROR("metric %s: " DF_RC "\n", key.tk_name, DP_RC(-DER_NOMEM));
		return -DER_NOMEM;
	}

	pthread_mutex_lock(&tm_lock);
	if (tm_refs == 0) {
		rc = -DER_UNINIT;
		goto out_unlock;
	}
	fam = tm_fam_find(key.tk_name, &pos);
	if (fam != NULL) {
		if (fam->tf_type != type) {
			D_ERROR("metric %s: family has type %#x, not %#x\n", key.tk_name,
				fam->tf_type, type);
			rc = -DER_EXIST;
			goto out_unlock;
		}
		d_list_for_each_entry (other, &fam->tf_nodes, tn_link) {
			if (strcmp(other->tn_labels, key.tk_labels) == 0) {
				D_DEBUG("metric %s{%s} exists\n", key.tk_name, key.tk_labels);
				rc = -DER_EXIST;
				goto out_unlock;
			}
		}
	} else {
		if (tm_fam_clashes(key.tk_name, type)) {
			D_ERROR("metric %s: name clashes with a histogram's or stats gauge's\n",
				key.tk_name);
			rc = -DER_EXIST;
			goto out_unlock;
		}
		new_fam = tm_fam_create(key.tk_name, type, desc != NULL ? desc : "",
					units != NULL ? units : "");
		if (new_fam == NULL) {
			rc = -DER_NOMEM;
			goto out_unlock;
		}
		rc = tm_fam_insert(new_fam, pos);
		if (rc != 0)
			goto out_fam;
		fam = new_fam;
	}
	node->tn_family = fam;
	d_list_add_tail(&node->tn_link, &fam->tf_nodes);
	pthread_mutex_unlock(&tm_lock);
	*nodep = node;
	return 0;

out_fam:
	D_FREE(new_fam);
out_unlock:
	pthread_mutex_unlock(&tm_lock);
	if (rc == -DER_NOMEM)
		D_ERROR("metric %s: " DF_RC "\n", key.tk_name, DP_RC(rc));
	tm_node_free(node);
	return rc;
}

int
d_tm_init(void)
{
	pthread_mutex_lock(&tm_lock);
	tm_refs++;
	pthread_mutex_unlock(&tm_lock);
	return 0;
}

void
d_tm_fini(void)
{
	struct d_tm_node_t *node, *tmp;
	int i;

	pthread_mutex_lock(&tm_lock);
	if (tm_refs == 0 || --tm_refs > 0)
		goto out_unlock;
	for (i = 0; i < tm_nr_fams; i++) {
		d_list_for_each_entry_safe (node, tmp, &tm_fams[i]->tf_nodes, tn_link) {
			d_list_del(&node->tn_link);
			tm_node_free(node);
		}
		D_FREE(tm_fams[i]);
	}
	D_FREE(tm_fams);
	tm_nr_fams = 0;
	tm_cap_fams = 0;
out_unlock:
	pthread_mutex_unlock(&tm_lock);
}

int
d_tm_add_metric(struct d_tm_node_t **node, int metric_type, const char *desc, const char *units,
		const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = tm_add(node, metric_type, desc, units, NULL, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int
d_tm_add_histogram(struct d_tm_node_t **node, int metric_type, const char *desc, const char *units,
		   const uint64_t *bounds, int nr_bounds, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (bounds == NULL || !tm_type_is_hist(metric_type)) {
		if (node != NULL)
			*node = NULL;
		D_ERROR("histogram %s: no bounds or type %#x\n", fmt != NULL ? fmt : "(null)",
			metric_type);
		return -DER_INVAL;
	}
	va_start(ap, fmt);
	rc = tm_add(node, metric_type, desc, units, bounds, nr_bounds, fmt, ap);
	va_end(ap);
	return rc;
}

void
d_tm_del_metric(struct d_tm_node_t *node)
{
	struct tm_family *fam;

	if (node == NULL)
		return;
	pthread_mutex_lock(&tm_lock);
	fam = node->tn_family;
	d_list_del(&node->tn_link);
	if (d_list_empty(&fam->tf_nodes))
		tm_fam_destroy(fam);
	pthread_mutex_unlock(&tm_lock);
	tm_node_free(node);
}

struct d_tm_node_t *
d_tm_find_metric(const char *path)
{
	char buf[D_TM_MAX_FULL_LEN + 1];
	struct d_tm_node_t *node, *found = NULL;
	struct tm_family *fam;
	struct tm_key key;
	size_t len;

	if (path == NULL)
		return NULL;
	len = strnlen(path, sizeof(buf));
	if (len == sizeof(buf))
		return NULL;
	memcpy(buf, path, len + 1);
	if (tm_key_parse(buf, 0, &key) != 0) {
		D_DEBUG("bad metric path %s\n", path);
		return NULL;
	}
	pthread_mutex_lock(&tm_lock);
	fam = tm_refs > 0 ? tm_fam_find(key.tk_name, NULL) : NULL;
	if (fam != NULL) {
		d_list_for_each_entry (node, &fam->tf_nodes, tn_link) {
			if (strcmp(node->tn_labels, key.tk_labels) == 0) {
				found = node;
				break;
			}
		}
	}
	pthread_mutex_unlock(&tm_lock);
	return found;
}

/* Updates. Each is a few relaxed atomics on the node's hot line; see the top of the file. */

void
d_tm_inc_counter(struct d_tm_node_t *node, uint64_t value)
{
	if (node == NULL)
		return;
	D_ASSERT(node->tn_type == D_TM_COUNTER);
	__atomic_fetch_add(&node->tn_counter, value, __ATOMIC_RELAXED);
}

void
d_tm_set_counter(struct d_tm_node_t *node, uint64_t value)
{
	if (node == NULL)
		return;
	D_ASSERT(node->tn_type == D_TM_COUNTER);
	__atomic_store_n(&node->tn_counter, value, __ATOMIC_RELAXED);
}

/* Account the value @v a stats gauge just took. */
static void
tm_gauge_sample(struct d_tm_node_t *node, int64_t v)
{
	int64_t cur;

	cur = __atomic_load_n(&node->tn_min, __ATOMIC_RELAXED);
	while (v < cur && !__atomic_compare_exchange_n(&node->tn_min, &cur, v, true,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	cur = __atomic_load_n(&node->tn_max, __ATOMIC_RELAXED);
	while (v > cur && !__atomic_compare_exchange_n(&node->tn_max, &cur, v, true,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	__atomic_fetch_add(&node->tn_gsum, v, __ATOMIC_RELAXED);
	__atomic_fetch_add(&node->tn_samples, 1, __ATOMIC_RELAXED);
}

void
d_tm_set_gauge(struct d_tm_node_t *node, int64_t value)
{
	if (node == NULL)
		return;
	D_ASSERT(tm_type_is_gauge(node->tn_type));
	__atomic_store_n(&node->tn_gauge, value, __ATOMIC_RELAXED);
	if (node->tn_type == D_TM_STATS_GAUGE)
		tm_gauge_sample(node, value);
}

void
d_tm_inc_gauge(struct d_tm_node_t *node, int64_t value)
{
	int64_t v;

	if (node == NULL)
		return;
	D_ASSERT(tm_type_is_gauge(node->tn_type));
	v = __atomic_add_fetch(&node->tn_gauge, value, __ATOMIC_RELAXED);
	if (node->tn_type == D_TM_STATS_GAUGE)
		tm_gauge_sample(node, v);
}

void
d_tm_dec_gauge(struct d_tm_node_t *node, int64_t value)
{
	int64_t v;

	if (node == NULL)
		return;
	D_ASSERT(tm_type_is_gauge(node->tn_type));
	v = __atomic_sub_fetch(&node->tn_gauge, value, __ATOMIC_RELAXED);
	if (node->tn_type == D_TM_STATS_GAUGE)
		tm_gauge_sample(node, v);
}

void
d_tm_record_timestamp(struct d_tm_node_t *node)
{
	struct timespec ts;

	if (node == NULL)
		return;
	D_ASSERT(node->tn_type == D_TM_TIMESTAMP);
	clock_gettime(CLOCK_REALTIME, &ts);
	__atomic_store_n(&node->tn_gauge, (int64_t)ts.tv_sec, __ATOMIC_RELAXED);
}

/* The bucket of @v: the first whose bound is >= @v, or nr_bounds (+Inf). */
static inline int
tm_bucket_index(const struct d_tm_node_t *node, uint64_t v)
{
	int lo = 0, hi = node->tn_nr_bounds;

	if (node->tn_shift >= 0) {
		int idx;

		/* Bound i is 2^(shift+i): v <= 2^k for k = ceil(log2(v)). */
		if (v <= 1ULL << node->tn_shift)
			return 0;
		idx = 64 - __builtin_clzll(v - 1) - node->tn_shift;
		return idx < hi ? idx : hi;
	}
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (node->tn_bounds[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
d_tm_observe(struct d_tm_node_t *node, uint64_t value)
{
	if (node == NULL)
		return;
	D_ASSERT(tm_type_is_hist(node->tn_type));
	__atomic_fetch_add(&node->tn_buckets[tm_bucket_index(node, value)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&node->tn_sum, value, __ATOMIC_RELAXED);
}

uint64_t
d_tm_mark_duration_start(const struct d_tm_node_t *node)
{
	return node == NULL ? 0 : d_now_ns();
}

void
d_tm_mark_duration_end(struct d_tm_node_t *node, uint64_t start)
{
	uint64_t now;

	if (node == NULL || start == 0)
		return;
	now = d_now_ns();
	d_tm_observe(node, now > start ? now - start : 0);
}

/* Readers */

int
d_tm_get_counter(const struct d_tm_node_t *node, uint64_t *val)
{
	if (node == NULL || val == NULL || node->tn_type != D_TM_COUNTER)
		return -DER_INVAL;
	*val = __atomic_load_n(&node->tn_counter, __ATOMIC_RELAXED);
	return 0;
}

int
d_tm_get_gauge(const struct d_tm_node_t *node, int64_t *val, struct d_tm_stats_t *stats)
{
	if (node == NULL || val == NULL ||
	    !(tm_type_is_gauge(node->tn_type) || node->tn_type == D_TM_TIMESTAMP))
		return -DER_INVAL;
	*val = __atomic_load_n(&node->tn_gauge, __ATOMIC_RELAXED);
	if (stats == NULL)
		return 0;
	memset(stats, 0, sizeof(*stats));
	if (node->tn_type != D_TM_STATS_GAUGE)
		return 0;
	stats->sample_size = __atomic_load_n(&node->tn_samples, __ATOMIC_RELAXED);
	if (stats->sample_size == 0)
		return 0;
	stats->dtm_min = __atomic_load_n(&node->tn_min, __ATOMIC_RELAXED);
	stats->dtm_max = __atomic_load_n(&node->tn_max, __ATOMIC_RELAXED);
	stats->dtm_sum = __atomic_load_n(&node->tn_gsum, __ATOMIC_RELAXED);
	stats->mean = (double)stats->dtm_sum / (double)stats->sample_size;
	return 0;
}

int
d_tm_get_histogram(const struct d_tm_node_t *node, struct d_tm_histogram_t *hist)
{
	int i;

	if (node == NULL || hist == NULL || !tm_type_is_hist(node->tn_type))
		return -DER_INVAL;
	hist->dth_nr_buckets = node->tn_nr_bounds;
	hist->dth_count = 0;
	for (i = 0; i <= node->tn_nr_bounds; i++) {
		hist->dth_counts[i] = __atomic_load_n(&node->tn_buckets[i], __ATOMIC_RELAXED);
		hist->dth_count += hist->dth_counts[i];
		if (i < node->tn_nr_bounds)
			hist->dth_le[i] = node->tn_bounds[i];
	}
	hist->dth_sum = __atomic_load_n(&node->tn_sum, __ATOMIC_RELAXED);
	return 0;
}

/* Export */

static void tm_buf_add(struct tm_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tm_buf_add(struct tm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	while (b->tb_rc == 0) {
		size_t room = b->tb_cap - b->tb_len;
		size_t cap;
		char *data;

		va_start(ap, fmt);
		n = vsnprintf(b->tb_data + b->tb_len, room, fmt, ap);
		va_end(ap);
		D_ASSERT(n >= 0);
		if ((size_t)n < room) {
			b->tb_len += (size_t)n;
			return;
		}
		cap = b->tb_cap * 2;
		if (cap < b->tb_len + (size_t)n + 1)
			cap = b->tb_len + (size_t)n + 1;
		D_REALLOC(data, b->tb_data, cap);
		if (data == NULL) {
			b->tb_rc = -DER_NOMEM;
			return;
		}
		b->tb_data = data;
		b->tb_cap = cap;
	}
}

/* One sample line: name suffix {labels} value. */
static void
tm_print_sample(struct tm_buf *b, const struct tm_family *fam, const char *sfx,
		const struct d_tm_node_t *node, const char *val)
{
	bool lb = node->tn_labels[0] != '\0';

	tm_buf_add(b, "%s%s%s%s%s %s\n", fam->tf_name, sfx, lb ? "{" : "", node->tn_labels,
		   lb ? "}" : "", val);
}

static void
tm_print_header(struct tm_buf *b, const struct tm_family *fam, const char *sfx,
		const char *help_sfx, const char *type)
{
	bool help = fam->tf_help[0] != '\0' || help_sfx[0] != '\0';

	tm_buf_add(b, "# HELP %s%s%s%s%s\n# TYPE %s%s %s\n", fam->tf_name, sfx, help ? " " : "",
		   fam->tf_help, help_sfx, fam->tf_name, sfx, type);
}

static void
tm_print_histogram(struct tm_buf *b, const struct tm_family *fam, const struct d_tm_node_t *node)
{
	struct d_tm_histogram_t h;
	const char *sep = node->tn_labels[0] != '\0' ? "," : "";
	uint64_t cum = 0;
	char val[32];
	int i;

	d_tm_get_histogram(node, &h);
	for (i = 0; i < h.dth_nr_buckets; i++) {
		cum += h.dth_counts[i];
		tm_buf_add(b, "%s_bucket{%s%sle=\"%" PRIu64 "\"} %" PRIu64 "\n", fam->tf_name,
			   node->tn_labels, sep, h.dth_le[i], cum);
	}
	tm_buf_add(b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", fam->tf_name, node->tn_labels,
		   sep, h.dth_count);
	snprintf(val, sizeof(val), "%" PRIu64, h.dth_sum);
	tm_print_sample(b, fam, "_sum", node, val);
	snprintf(val, sizeof(val), "%" PRIu64, h.dth_count);
	tm_print_sample(b, fam, "_count", node, val);
}

/* The extra families of a stats gauge: min, max, mean, samples. */
static void
tm_print_stats(struct tm_buf *b, const struct tm_family *fam)
{
	const struct d_tm_node_t *node;
	struct d_tm_stats_t st;
	char val[40];
	int64_t v;
	int i;

	for (i = 0; i < (int)D_ARRAY_SIZE(tm_stats_suffixes); i++) {
		tm_print_header(b, fam, tm_stats_suffixes[i], tm_stats_help[i],
				i == 3 ? "counter" : "gauge");
		d_list_for_each_entry (node, &fam->tf_nodes, tn_link) {
			d_tm_get_gauge(node, &v, &st);
			if (i == 0)
				snprintf(val, sizeof(val), "%" PRId64, st.dtm_min);
			else if (i == 1)
				snprintf(val, sizeof(val), "%" PRId64, st.dtm_max);
			else if (i == 2)
				snprintf(val, sizeof(val), "%.17g", st.mean);
			else
				snprintf(val, sizeof(val), "%" PRIu64, st.sample_size);
			tm_print_sample(b, fam, tm_stats_suffixes[i], node, val);
		}
	}
}

static void
tm_print_family(struct tm_buf *b, const struct tm_family *fam)
{
	const struct d_tm_node_t *node;
	const char *type;
	char val[32];

	if (fam->tf_type == D_TM_COUNTER)
		type = "counter";
	else if (tm_type_is_hist(fam->tf_type))
		type = "histogram";
	else
		type = "gauge";
	tm_print_header(b, fam, "", "", type);
	d_list_for_each_entry (node, &fam->tf_nodes, tn_link) {
		if (tm_type_is_hist(fam->tf_type)) {
			tm_print_histogram(b, fam, node);
			continue;
		}
		if (fam->tf_type == D_TM_COUNTER)
			snprintf(val, sizeof(val), "%" PRIu64,
				 __atomic_load_n(&node->tn_counter, __ATOMIC_RELAXED));
		else
			snprintf(val, sizeof(val), "%" PRId64,
				 __atomic_load_n(&node->tn_gauge, __ATOMIC_RELAXED));
		tm_print_sample(b, fam, "", node, val);
	}
	if (fam->tf_type == D_TM_STATS_GAUGE)
		tm_print_stats(b, fam);
}

int
d_tm_print_prometheus(char **buf, size_t *len)
{
	struct tm_buf b = {0};
	int i;

	if (buf == NULL || len == NULL)
		return -DER_INVAL;
	*buf = NULL;
	*len = 0;
	D_ALLOC(b.tb_data, TM_DUMP_INIT);
	if (b.tb_data == NULL)
		return -DER_NOMEM;
	b.tb_cap = TM_DUMP_INIT;
	pthread_mutex_lock(&tm_lock);
	if (tm_refs == 0)
		b.tb_rc = -DER_UNINIT;
	for (i = 0; i < tm_nr_fams && b.tb_rc == 0; i++)
		tm_print_family(&b, tm_fams[i]);
	pthread_mutex_unlock(&tm_lock);
	if (b.tb_rc != 0) {
		if (b.tb_rc == -DER_NOMEM)
			D_ERROR("metrics export: " DF_RC "\n", DP_RC(b.tb_rc));
		D_FREE(b.tb_data);
		return b.tb_rc;
	}
	*buf = b.tb_data;
	*len = b.tb_len;
	return 0;
}

int
d_tm_dump_prometheus(FILE *out)
{
	char *buf;
	size_t len;
	int rc;

	if (out == NULL)
		return -DER_INVAL;
	rc = d_tm_print_prometheus(&buf, &len);
	if (rc != 0)
		return rc;
	if (fwrite(buf, 1, len, out) != len) {
		D_ERROR("metrics export: short write\n");
		rc = -DER_IO;
	}
	D_FREE(buf);
	return rc;
}
