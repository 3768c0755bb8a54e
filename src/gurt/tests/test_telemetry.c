/*
 * test_telemetry.c: unit tests of the metrics registry (gurt/telemetry.h): values of each
 * metric type, histogram bucket placement at the bounds, the Prometheus export parsed back
 * line by line, name and label validation, concurrency, allocation failures, and a small
 * informational benchmark of the update paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gurt/common.h>
#include <gurt/telemetry.h>
#include <d_test.h>

static int
setup(void **state)
{
	(void)state;
	return d_tm_init();
}

static int
teardown(void **state)
{
	(void)state;
	d_tm_fini();
	return 0;
}

/* Prometheus text parsed back. */

#define P_MAX_LABELS 4
#define P_MAX_LINES 1024

struct p_sample {
	char ps_name[300];
	int ps_nr_labels;
	char ps_lname[P_MAX_LABELS][32];
	char ps_lval[P_MAX_LABELS][128];
	char ps_value[64];
};

struct p_family {
	char pf_name[320];
	char pf_type[16];
	char pf_help[1200]; /* as written (escaped) */
};

struct p_dump {
	int pd_nr_samples;
	int pd_nr_fams;
	struct p_sample pd_samples[P_MAX_LINES];
	struct p_family pd_fams[P_MAX_LINES / 4];
};

static bool
p_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == ':';
}

/* Parse one sample line "name{l="v",...} value"; returns 0 or -1. */
static int
p_parse_sample(const char *line, struct p_sample *s)
{
	const char *p = line;
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	while (p_word(*p) && n < sizeof(s->ps_name) - 1)
		s->ps_name[n++] = *p++;
	if (n == 0)
		return -1;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t ln = 0, lv = 0;

			if (s->ps_nr_labels == P_MAX_LABELS)
				return -1;
			while (p_word(*p) && ln < sizeof(s->ps_lname[0]) - 1)
				s->ps_lname[s->ps_nr_labels][ln++] = *p++;
			if (ln == 0 || *p++ != '=' || *p++ != '"')
				return -1;
			while (*p != '"') {
				char c = *p++;

				if (c == '\0' || c == '\n' || lv == sizeof(s->ps_lval[0]) - 1)
					return -1;
				if (c == '\\') {
					c = *p++;
					if (c == 'n')
						c = '\n';
					else if (c != '\\' && c != '"')
						return -1;
				}
				s->ps_lval[s->ps_nr_labels][lv++] = c;
			}
			p++;
			s->ps_nr_labels++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return -1;
		}
		p++;
	}
	if (*p++ != ' ')
		return -1;
	n = strlen(p);
	if (n == 0 || n >= sizeof(s->ps_value) || strchr(p, ' ') != NULL)
		return -1;
	memcpy(s->ps_value, p, n + 1);
	return 0;
}

static struct p_family *
p_family_find(struct p_dump *d, const char *name)
{
	int i;

	for (i = 0; i < d->pd_nr_fams; i++)
		if (strcmp(d->pd_fams[i].pf_name, name) == 0)
			return &d->pd_fams[i];
	return NULL;
}

static bool
p_has_suffix(const char *name, const char *sfx, char *base)
{
	size_t n = strlen(name), m = strlen(sfx);

	if (n <= m || strcmp(name + n - m, sfx) != 0)
		return false;
	memcpy(base, name, n - m);
	base[n - m] = '\0';
	return true;
}

static const char *
p_label(const struct p_sample *s, const char *name)
{
	int i;

	for (i = 0; i < s->ps_nr_labels; i++)
		if (strcmp(s->ps_lname[i], name) == 0)
			return s->ps_lval[i];
	return NULL;
}

/* The labels of @s other than "le", as one comparable string. */
static void
p_series_key(const struct p_sample *s, char *key, size_t len)
{
	size_t pos = 0;
	int i;

	key[0] = '\0';
	for (i = 0; i < s->ps_nr_labels; i++)
		if (strcmp(s->ps_lname[i], "le") != 0)
			pos += (size_t)snprintf(key + pos, len - pos, "%s=%s;", s->ps_lname[i],
						s->ps_lval[i]);
}

/*
 * Parse @text and check the rules of the exposition format on the way: every line is a
 * HELP, a TYPE or a sample; HELP then TYPE open a family, once; a sample belongs to the
 * family opened last (a histogram's by its _bucket/_sum/_count names); histogram series are
 * buckets with increasing le and non-decreasing counts, then +Inf, _sum and _count equal
 * to +Inf.
 */
static void
p_parse(const char *text, size_t len, struct p_dump *d)
{
	const char *p = text, *end = text + len;
	struct p_family *cur = NULL;
	char line[2048], base[320], key[2048], hkey[2048] = "";
	double prev_le = -1;
	uint64_t prev_cum = 0, inf = 0;
	bool in_hist = false, seen_inf = false, seen_sum = false;

	memset(d, 0, sizeof(*d));
	assert_true(len == 0 || text[len - 1] == '\n');
	assert_int_equal(strlen(text), len);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);
		struct p_sample *s;

		assert_non_null(nl);
		assert_true(n > 0 && n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;

		if (strncmp(line, "# HELP ", 7) == 0) {
			struct p_family *f = &d->pd_fams[d->pd_nr_fams];
			const char *sp;

			assert_false(in_hist);
			assert_true(d->pd_nr_fams < (int)D_ARRAY_SIZE(d->pd_fams));
			sp = strchr(line + 7, ' ');
			n = sp != NULL ? (size_t)(sp - line - 7) : strlen(line + 7);
			assert_true(n > 0 && n < sizeof(f->pf_name));
			memcpy(f->pf_name, line + 7, n);
			f->pf_name[n] = '\0';
			assert_null(p_family_find(d, f->pf_name));
			snprintf(f->pf_help, sizeof(f->pf_help), "%s", sp != NULL ? sp + 1 : "");
			d->pd_nr_fams++;
			cur = NULL;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			struct p_family *f;
			char tname[320], type[16];

			assert_true(d->pd_nr_fams > 0 && cur == NULL);
			f = &d->pd_fams[d->pd_nr_fams - 1];
			assert_int_equal(sscanf(line + 7, "%319s %15s", tname, type), 2);
			assert_string_equal(tname, f->pf_name);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
				    strcmp(type, "histogram") == 0);
			strcpy(f->pf_type, type);
			cur = f;
			continue;
		}
		assert_true(line[0] != '#');
		assert_non_null(cur);
		assert_true(d->pd_nr_samples < P_MAX_LINES);
		s = &d->pd_samples[d->pd_nr_samples++];
		assert_int_equal(p_parse_sample(line, s), 0);
		if (strcmp(cur->pf_type, "histogram") != 0) {
			char *e;

			assert_string_equal(s->ps_name, cur->pf_name);
			strtod(s->ps_value, &e);
			assert_true(*e == '\0');
			continue;
		}
		p_series_key(s, key, sizeof(key));
		if (p_has_suffix(s->ps_name, "_bucket", base)) {
			const char *le = p_label(s, "le");
			uint64_t cum = strtoull(s->ps_value, NULL, 10);

			assert_string_equal(base, cur->pf_name);
			assert_non_null(le);
			if (!in_hist || strcmp(key, hkey) != 0) {
				/* A new series starts only after the previous one closed. */
				assert_false(in_hist);
				in_hist = true;
				seen_inf = seen_sum = false;
				prev_le = -1;
				prev_cum = 0;
				snprintf(hkey, sizeof(hkey), "%s", key);
			}
			assert_false(seen_inf);
			assert_true(cum >= prev_cum);
			prev_cum = cum;
			if (strcmp(le, "+Inf") == 0) {
				seen_inf = true;
				inf = cum;
			} else {
				double v = strtod(le, NULL);

				assert_true(v > prev_le);
				prev_le = v;
			}
		} else if (p_has_suffix(s->ps_name, "_sum", base)) {
			assert_string_equal(base, cur->pf_name);
			assert_true(in_hist && seen_inf && !seen_sum);
			assert_string_equal(key, hkey);
			seen_sum = true;
		} else {
			assert_true(p_has_suffix(s->ps_name, "_count", base));
			assert_string_equal(base, cur->pf_name);
			assert_true(in_hist && seen_sum);
			assert_string_equal(key, hkey);
			assert_int_equal(strtoull(s->ps_value, NULL, 10), inf);
			in_hist = false;
		}
	}
	assert_false(in_hist);
}

/* @name without a stats gauge suffix if its base is a family; @name otherwise. */
static const char *
p_stats_base(struct p_dump *d, const char *name)
{
	static const char *const sfx[] = {"_min", "_max", "_mean", "_samples"};
	static char base[320];
	size_t i;

	for (i = 0; i < D_ARRAY_SIZE(sfx); i++)
		if (p_has_suffix(name, sfx[i], base) && p_family_find(d, base) != NULL)
			return p_family_find(d, base)->pf_name;
	return name;
}

/* The sample @name whose label @lname (NULL: no labels) is @lval. */
static const struct p_sample *
p_find(const struct p_dump *d, const char *name, const char *lname, const char *lval)
{
	int i;

	for (i = 0; i < d->pd_nr_samples; i++) {
		const struct p_sample *s = &d->pd_samples[i];
		const char *v;

		if (strcmp(s->ps_name, name) != 0)
			continue;
		if (lname == NULL && s->ps_nr_labels == 0)
			return s;
		if (lname != NULL && (v = p_label(s, lname)) != NULL && strcmp(v, lval) == 0)
			return s;
	}
	return NULL;
}

static struct p_dump *
p_dump_take(void)
{
	struct p_dump *d = malloc(sizeof(*d));
	char *buf;
	size_t len;

	assert_non_null(d);
	assert_int_equal(d_tm_print_prometheus(&buf, &len), 0);
	p_parse(buf, len, d);
	D_FREE(buf);
	return d;
}

/* Values of each type */

static void
t_counter(void **state)
{
	struct d_tm_node_t *c, *g;
	uint64_t v = 1;
	int64_t gv;

	(void)state;
	assert_int_equal(d_tm_add_metric(&c, D_TM_COUNTER, "ops", "ops", "t/ops"), 0);
	assert_non_null(c);
	assert_int_equal(d_tm_get_counter(c, &v), 0);
	assert_int_equal(v, 0);
	d_tm_inc_counter(c, 1);
	d_tm_inc_counter(c, 41);
	assert_int_equal(d_tm_get_counter(c, &v), 0);
	assert_int_equal(v, 42);
	d_tm_set_counter(c, 1000);
	assert_int_equal(d_tm_get_counter(c, &v), 0);
	assert_int_equal(v, 1000);

	/* A NULL node is a no-op for every update; readers refuse it and other types. */
	d_tm_inc_counter(NULL, 1);
	d_tm_set_counter(NULL, 1);
	d_tm_set_gauge(NULL, 1);
	d_tm_inc_gauge(NULL, 1);
	d_tm_dec_gauge(NULL, 1);
	d_tm_observe(NULL, 1);
	d_tm_record_timestamp(NULL);
	assert_int_equal(d_tm_mark_duration_start(NULL), 0);
	d_tm_mark_duration_end(NULL, 5);
	assert_int_equal(d_tm_get_counter(NULL, &v), -DER_INVAL);
	assert_int_equal(d_tm_get_gauge(c, &gv, NULL), -DER_INVAL);
	assert_int_equal(d_tm_add_metric(&g, D_TM_GAUGE, NULL, NULL, "t/g"), 0);
	assert_int_equal(d_tm_get_counter(g, &v), -DER_INVAL);
	assert_int_equal(d_tm_get_histogram(g, &(struct d_tm_histogram_t){0}), -DER_INVAL);
}

static void
t_gauge(void **state)
{
	struct d_tm_node_t *g, *sg, *ts;
	struct d_tm_stats_t st;
	int64_t v;
	time_t now;

	(void)state;
	assert_int_equal(d_tm_add_metric(&g, D_TM_GAUGE, "depth", NULL, "t/depth"), 0);
	d_tm_set_gauge(g, 10);
	d_tm_inc_gauge(g, 5);
	d_tm_dec_gauge(g, 20);
	assert_int_equal(d_tm_get_gauge(g, &v, &st), 0);
	assert_int_equal(v, -5);
	assert_int_equal(st.sample_size, 0); /* a plain gauge keeps no statistics */
	d_tm_set_gauge(g, INT64_MIN);
	assert_int_equal(d_tm_get_gauge(g, &v, NULL), 0);
	assert_true(v == INT64_MIN);

	assert_int_equal(d_tm_add_metric(&sg, D_TM_STATS_GAUGE, "size", "B", "t/size"), 0);
	assert_int_equal(d_tm_get_gauge(sg, &v, &st), 0);
	assert_int_equal(v, 0);
	assert_int_equal(st.sample_size, 0);
	assert_int_equal(st.dtm_min, 0);
	assert_int_equal(st.dtm_max, 0);
	d_tm_set_gauge(sg, 4);  /* 4 */
	d_tm_inc_gauge(sg, 6);  /* 10 */
	d_tm_dec_gauge(sg, 13); /* -3 */
	d_tm_set_gauge(sg, 7);  /* 7 */
	assert_int_equal(d_tm_get_gauge(sg, &v, &st), 0);
	assert_int_equal(v, 7);
	assert_int_equal(st.sample_size, 4);
	assert_int_equal(st.dtm_min, -3);
	assert_int_equal(st.dtm_max, 10);
	assert_int_equal(st.dtm_sum, 18);
	assert_true(st.mean == 4.5);

	assert_int_equal(d_tm_add_metric(&ts, D_TM_TIMESTAMP, "start", NULL, "t/started_at"), 0);
	now = time(NULL);
	d_tm_record_timestamp(ts);
	assert_int_equal(d_tm_get_gauge(ts, &v, NULL), 0);
	assert_true(v >= now && v <= now + 2);
}

/* Histograms */

static void
hist_check(struct d_tm_node_t *h, const uint64_t *expect, int nr, uint64_t sum)
{
	struct d_tm_histogram_t snap;
	uint64_t count = 0;
	int i;

	assert_int_equal(d_tm_get_histogram(h, &snap), 0);
	assert_int_equal(snap.dth_nr_buckets + 1, nr);
	for (i = 0; i < nr; i++) {
		if (snap.dth_counts[i] != expect[i])
			fail_msg("bucket %d: %" PRIu64 " observations, expected %" PRIu64, i,
				 snap.dth_counts[i], expect[i]);
		count += expect[i];
	}
	assert_int_equal(snap.dth_count, count);
	assert_int_equal(snap.dth_sum, sum);
}

static void
t_hist_default(void **state)
{
	enum { NR = D_TM_POW2_LAST - D_TM_POW2_FIRST + 1 };
	/* value, the bucket it belongs in (NR is +Inf) */
	static const struct {
		uint64_t v;
		int b;
	} cases[] = {
	    {0, 0},
	    {1, 0},
	    {1ULL << D_TM_POW2_FIRST, 0},
	    {(1ULL << D_TM_POW2_FIRST) + 1, 1},
	    {2ULL << D_TM_POW2_FIRST, 1},
	    {(2ULL << D_TM_POW2_FIRST) + 1, 2},
	    {3ULL << D_TM_POW2_FIRST, 2},
	    {(1ULL << D_TM_POW2_LAST) - 1, NR - 1},
	    {1ULL << D_TM_POW2_LAST, NR - 1},
	    {(1ULL << D_TM_POW2_LAST) + 1, NR},
	    {UINT64_MAX / 2, NR},
	};
	struct d_tm_histogram_t snap;
	struct d_tm_node_t *h;
	uint64_t expect[NR + 1] = {0}, sum = 0, start;
	size_t i;

	(void)state;
	assert_int_equal(d_tm_add_metric(&h, D_TM_DURATION, "lat", D_TM_NANOSECOND, "t/lat"), 0);
	assert_int_equal(d_tm_get_histogram(h, &snap), 0);
	assert_int_equal(snap.dth_nr_buckets, NR);
	for (i = 0; i < (size_t)NR; i++)
		assert_int_equal(snap.dth_le[i], 1ULL << (D_TM_POW2_FIRST + i));
	for (i = 0; i < D_ARRAY_SIZE(cases); i++) {
		d_tm_observe(h, cases[i].v);
		expect[cases[i].b]++;
		sum += cases[i].v;
		hist_check(h, expect, NR + 1, sum);
	}

	/* A timed section lands somewhere and adds to the sum. */
	start = d_tm_mark_duration_start(h);
	assert_true(start != 0);
	d_tm_mark_duration_end(h, start);
	assert_int_equal(d_tm_get_histogram(h, &snap), 0);
	assert_int_equal(snap.dth_count, D_ARRAY_SIZE(cases) + 1);
	assert_true(snap.dth_sum >= sum);
}

/* Reference: the first bound >= v, or nr. */
static int
ref_bucket(const uint64_t *bounds, int nr, uint64_t v)
{
	int i;

	for (i = 0; i < nr; i++)
		if (v <= bounds[i])
			return i;
	return nr;
}

static void
hist_random(struct d_tm_node_t *h, const uint64_t *bounds, int nr, uint64_t *rnd)
{
	uint64_t expect[D_TM_MAX_BUCKETS + 1] = {0}, sum = 0;
	int i;

	for (i = 0; i < 20000; i++) {
		uint64_t v = d_test_rand(rnd);
		int j = (int)(v % (uint64_t)nr);

		/* Mostly right at or next to a bound, sometimes anywhere. */
		switch ((v >> 32) % 4) {
		case 0:
			v = bounds[j];
			break;
		case 1:
			v = bounds[j] + 1;
			break;
		case 2:
			v = bounds[j] - 1;
			break;
		default:
			v >>= (v & 63);
		}
		d_tm_observe(h, v);
		expect[ref_bucket(bounds, nr, v)]++;
		sum += v;
	}
	hist_check(h, expect, nr + 1, sum);
}

static void
t_hist_custom(void **state)
{
	static const uint64_t dec[] = {10, 100, 1000};
	static const uint64_t pow2[] = {1, 2, 4, 8};
	static const uint64_t odd[] = {1, 3, 7, 1000, 1001, UINT64_MAX - 1};
	uint64_t many[D_TM_MAX_BUCKETS + 1];
	struct d_tm_node_t *h, *p, *o, *m, *bad;
	uint64_t rnd = d_test_rand_seed(d_test_seed("t_hist_custom"));
	int i;

	(void)state;
	assert_int_equal(d_tm_add_histogram(&h, D_TM_HISTOGRAM, "size", D_TM_BYTE, dec, 3,
					    "t/size{target=\"%d\"}", 1),
			 0);
	d_tm_observe(h, 10);
	d_tm_observe(h, 11);
	d_tm_observe(h, 100);
	d_tm_observe(h, 1000);
	d_tm_observe(h, 1001);
	d_tm_observe(h, 0);
	hist_check(h, (const uint64_t[]){2, 2, 1, 1}, 4, 10 + 11 + 100 + 1000 + 1001);

	/* Consecutive powers of two take the shift path: same placement rule. */
	assert_int_equal(d_tm_add_histogram(&p, D_TM_HISTOGRAM, NULL, NULL, pow2, 4, "t/p2"), 0);
	d_tm_observe(p, 0);
	d_tm_observe(p, 1);
	d_tm_observe(p, 2);
	d_tm_observe(p, 3);
	d_tm_observe(p, 8);
	d_tm_observe(p, 9);
	hist_check(p, (const uint64_t[]){2, 1, 1, 1, 1}, 5, 23);

	/* Random values at and around the bounds, against a linear reference. */
	assert_int_equal(d_tm_add_histogram(&o, D_TM_DURATION, NULL, NULL, odd, 6, "t/odd"), 0);
	hist_random(o, odd, 6, &rnd);
	for (i = 0; i < D_TM_MAX_BUCKETS; i++)
		many[i] = 1ULL << i;
	assert_int_equal(
	    d_tm_add_histogram(&m, D_TM_DURATION, NULL, NULL, many, D_TM_MAX_BUCKETS, "t/many"), 0);
	hist_random(m, many, D_TM_MAX_BUCKETS, &rnd);
	assert_int_equal(d_tm_add_metric(&m, D_TM_DURATION, NULL, NULL, "t/dflt"), 0);
	for (i = 0; i <= D_TM_POW2_LAST - D_TM_POW2_FIRST; i++)
		many[i] = 1ULL << (D_TM_POW2_FIRST + i);
	hist_random(m, many, D_TM_POW2_LAST - D_TM_POW2_FIRST + 1, &rnd);

	/* Bad bounds: none, too many, not increasing, or on a type that is no histogram. */
	many[D_TM_MAX_BUCKETS] = UINT64_MAX;
	bad = h;
	assert_int_equal(d_tm_add_histogram(&bad, D_TM_DURATION, NULL, NULL, dec, 0, "t/b0"),
			 -DER_INVAL);
	assert_null(bad);
	assert_int_equal(d_tm_add_histogram(&bad, D_TM_DURATION, NULL, NULL, NULL, 3, "t/b1"),
			 -DER_INVAL);
	assert_int_equal(
	    d_tm_add_histogram(&bad, D_TM_DURATION, NULL, NULL, many, D_TM_MAX_BUCKETS + 1, "t/b2"),
	    -DER_INVAL);
	assert_int_equal(d_tm_add_histogram(&bad, D_TM_DURATION, NULL, NULL,
					    (const uint64_t[]){5, 5}, 2, "t/b3"),
			 -DER_INVAL);
	assert_int_equal(d_tm_add_histogram(&bad, D_TM_DURATION, NULL, NULL,
					    (const uint64_t[]){5, 4}, 2, "t/b4"),
			 -DER_INVAL);
	assert_int_equal(d_tm_add_histogram(&bad, D_TM_COUNTER, NULL, NULL, dec, 3, "t/b5"),
			 -DER_INVAL);
	assert_null(d_tm_find_metric("t/b0"));
}

/* Names */

static void
t_names(void **state)
{
	static const char *const bad[] = {
	    "",
	    "/a",
	    "a/",
	    "a//b",
	    "a-b",
	    "a b",
	    "a.b",
	    "a{",
	    "a{}x",
	    "a{x}",
	    "a{x=1}",
	    "a{x=\"1}",
	    "a{x=\"\"}",
	    "a{x=\"1\"",
	    "a{x=\"1\"}x",
	    "a{x=\"1\" }",
	    "a{,}",
	    "a{x=\"1\",,y=\"2\"}",
	    "a{__x=\"1\"}",
	    "a{1x=\"1\"}",
	    "a{x-y=\"1\"}",
	    "a{x=\"1\",x=\"2\"}",
	    "a{x=\"\\q\"}",
	    "a{x=\"\\\"}",
	    "{x=\"1\"}",
	    "a{a=\"1\",b=\"1\",c=\"1\",d=\"1\",e=\"1\",f=\"1\",g=\"1\",h=\"1\",i=\"1\"}",
	};
	static const char *const good[] = {
	    "a",
	    "A_b/c_D/0/9",
	    "_x/y",
	    "b{x=\"1\",}",
	    "c{}",
	    "d{_x=\"\\\\\",y2=\"\\n\",z=\"\\\"\"}",
	    "e{a=\"1\",b=\"1\",c=\"1\",d=\"1\",e=\"1\",f=\"1\",g=\"1\",h=\"1\"}",
	};
	char longname[D_TM_MAX_NAME_LEN + 2];
	struct d_tm_node_t *n;
	size_t i;

	(void)state;
	for (i = 0; i < D_ARRAY_SIZE(bad); i++) {
		n = (struct d_tm_node_t *)&n; /* not NULL: it must be cleared */
		if (d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "%s", bad[i]) != -DER_INVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_null(n);
		assert_null(d_tm_find_metric(bad[i]));
	}
	for (i = 0; i < D_ARRAY_SIZE(good); i++) {
		if (d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "%s", good[i]) != 0)
			fail_msg("'%s' refused", good[i]);
		assert_ptr_equal(d_tm_find_metric(good[i]), n);
	}

	/* Path length: D_TM_MAX_NAME_LEN is fine, one more is not. */
	memset(longname, 'x', sizeof(longname));
	longname[D_TM_MAX_NAME_LEN] = '\0';
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "%s", longname), 0);
	longname[D_TM_MAX_NAME_LEN] = 'y';
	longname[D_TM_MAX_NAME_LEN + 1] = '\0';
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "%s", longname), -DER_INVAL);

	/* A histogram may not carry "le"; other types may. Bad types and arguments. */
	assert_int_equal(d_tm_add_metric(&n, D_TM_DURATION, NULL, NULL, "h{le=\"1\"}"), -DER_INVAL);
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "g{le=\"1\"}"), 0);
	assert_int_equal(d_tm_add_metric(&n, 0, NULL, NULL, "t0"), -DER_INVAL);
	assert_int_equal(d_tm_add_metric(&n, 0x8, NULL, NULL, "t8"), -DER_INVAL);
	assert_int_equal(d_tm_add_metric(NULL, D_TM_COUNTER, NULL, NULL, "t9"), -DER_INVAL);
	assert_null(d_tm_find_metric(NULL));
}

static void
t_duplicates(void **state)
{
	struct d_tm_node_t *a, *b, *n;

	(void)state;
	assert_int_equal(
	    d_tm_add_metric(&a, D_TM_COUNTER, NULL, NULL, "x/y{rank=\"0\",target=\"1\"}"), 0);
	n = a;
	assert_int_equal(
	    d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "x/y{rank=\"0\",target=\"1\"}"),
	    -DER_EXIST);
	assert_null(n);
	/* Label order does not matter; '/' and '_' name the same family. */
	assert_int_equal(
	    d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "x/y{target=\"1\",rank=\"0\"}"),
	    -DER_EXIST);
	assert_int_equal(
	    d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "x_y{rank=\"0\",target=\"1\"}"),
	    -DER_EXIST);
	assert_ptr_equal(d_tm_find_metric("x_y{target=\"1\",rank=\"0\"}"), a);
	/* Another label set is another series of the family; another type is refused. */
	assert_int_equal(
	    d_tm_add_metric(&b, D_TM_COUNTER, NULL, NULL, "x/y{rank=\"0\",target=\"2\"}"), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "x/y"), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "x/y{target=\"3\"}"),
			 -DER_EXIST);
	assert_null(d_tm_find_metric("x/y{target=\"3\"}"));
	assert_ptr_not_equal(a, b);

	/* Names a histogram or a stats gauge owns, both ways round. */
	assert_int_equal(d_tm_add_metric(&n, D_TM_DURATION, NULL, NULL, "h"), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "h/count"), -DER_EXIST);
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "h_sum"), -DER_EXIST);
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "h/bucket"), -DER_EXIST);
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "h/min"), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "s/max"), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_STATS_GAUGE, NULL, NULL, "s"), -DER_EXIST);
	assert_int_equal(d_tm_add_metric(&n, D_TM_STATS_GAUGE, NULL, NULL, "u"), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "u/samples"), -DER_EXIST);
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "u/count"), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, NULL, NULL, "v/sum"), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_HISTOGRAM, NULL, NULL, "v"), -DER_EXIST);
}

static void
t_find_del(void **state)
{
	struct d_tm_node_t *a, *b;
	struct p_dump *d;

	(void)state;
	assert_null(d_tm_find_metric("f/a"));
	assert_int_equal(d_tm_add_metric(&a, D_TM_COUNTER, "A", NULL, "f/a{t=\"0\"}"), 0);
	assert_int_equal(d_tm_add_metric(&b, D_TM_COUNTER, "A", NULL, "f/a{t=\"1\"}"), 0);
	assert_ptr_equal(d_tm_find_metric("f/a{t=\"0\"}"), a);
	assert_ptr_equal(d_tm_find_metric("f/a{t=\"1\"}"), b);
	assert_null(d_tm_find_metric("f/a"));
	assert_null(d_tm_find_metric("f/a{t=\"2\"}"));
	d_tm_inc_counter(b, 7);

	d_tm_del_metric(a);
	assert_null(d_tm_find_metric("f/a{t=\"0\"}"));
	assert_ptr_equal(d_tm_find_metric("f/a{t=\"1\"}"), b);
	d = p_dump_take();
	assert_int_equal(d->pd_nr_fams, 1);
	assert_int_equal(d->pd_nr_samples, 1);
	assert_string_equal(p_find(d, "daos_f_a", "t", "1")->ps_value, "7");
	free(d);

	/* The last series gone, the family goes, and its name may take another type. */
	d_tm_del_metric(b);
	d_tm_del_metric(NULL);
	d = p_dump_take();
	assert_int_equal(d->pd_nr_fams, 0);
	free(d);
	assert_int_equal(d_tm_add_metric(&a, D_TM_GAUGE, NULL, NULL, "f/a{t=\"0\"}"), 0);
	assert_ptr_equal(d_tm_find_metric("f_a{t=\"0\"}"), a);
}

static void
t_init_fini(void **state)
{
	struct d_tm_node_t *n;
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "i/c"), -DER_UNINIT);
	assert_null(n);
	assert_int_equal(d_tm_print_prometheus(&buf, &len), -DER_UNINIT);
	assert_null(buf);
	assert_int_equal(d_tm_dump_prometheus(stdout), -DER_UNINIT);
	assert_null(d_tm_find_metric("i/c"));
	d_tm_fini(); /* unmatched: harmless */

	/* Two references: the registry survives the first fini. */
	assert_int_equal(d_tm_init(), 0);
	assert_int_equal(d_tm_init(), 0);
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "i/c"), 0);
	d_tm_fini();
	assert_ptr_equal(d_tm_find_metric("i/c"), n);
	d_tm_fini();
	assert_null(d_tm_find_metric("i/c"));
	assert_int_equal(d_tm_init(), 0);
	assert_null(d_tm_find_metric("i/c"));
	assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "i/c"), 0);
	d_tm_fini();
}

/* Export */

static void
t_prom_exact(void **state)
{
	static const char expect[] = "# HELP daos_engine_lat Latency [ns]\n"
				     "# TYPE daos_engine_lat histogram\n"
				     "daos_engine_lat_bucket{le=\"10\"} 1\n"
				     "daos_engine_lat_bucket{le=\"100\"} 2\n"
				     "daos_engine_lat_bucket{le=\"+Inf\"} 3\n"
				     "daos_engine_lat_sum 555\n"
				     "daos_engine_lat_count 3\n"
				     "# HELP daos_engine_ops Operations [ops]\n"
				     "# TYPE daos_engine_ops counter\n"
				     "daos_engine_ops{rank=\"0\",target=\"1\"} 5\n"
				     "daos_engine_ops{rank=\"0\",target=\"0\"} 2\n"
				     "# HELP daos_engine_queue\n"
				     "# TYPE daos_engine_queue gauge\n"
				     "daos_engine_queue -3\n";
	struct d_tm_node_t *h, *c0, *c1, *g;
	char *buf, *mem;
	size_t len, mlen;
	FILE *f;

	(void)state;
	assert_int_equal(d_tm_add_metric(&g, D_TM_GAUGE, NULL, NULL, "engine/queue"), 0);
	assert_int_equal(d_tm_add_metric(&c1, D_TM_COUNTER, "Operations", "ops",
					 "engine/ops{target=\"%d\",rank=\"%d\"}", 1, 0),
			 0);
	assert_int_equal(d_tm_add_metric(&c0, D_TM_COUNTER, "Ignored: the family has help", NULL,
					 "engine/ops{rank=\"%d\",target=\"%d\"}", 0, 0),
			 0);
	assert_int_equal(d_tm_add_histogram(&h, D_TM_DURATION, "Latency", D_TM_NANOSECOND,
					    (const uint64_t[]){10, 100}, 2, "engine/lat"),
			 0);
	d_tm_inc_counter(c1, 5);
	d_tm_inc_counter(c0, 2);
	d_tm_dec_gauge(g, 3);
	d_tm_observe(h, 5);
	d_tm_observe(h, 50);
	d_tm_observe(h, 500);

	assert_int_equal(d_tm_print_prometheus(&buf, &len), 0);
	assert_int_equal(len, strlen(expect));
	assert_string_equal(buf, expect);

	/* The FILE variant writes the same bytes. */
	f = open_memstream(&mem, &mlen);
	assert_non_null(f);
	assert_int_equal(d_tm_dump_prometheus(f), 0);
	fclose(f);
	assert_int_equal(mlen, len);
	assert_memory_equal(mem, buf, len);
	free(mem);
	D_FREE(buf);
	assert_int_equal(d_tm_print_prometheus(NULL, &len), -DER_INVAL);
	assert_int_equal(d_tm_dump_prometheus(NULL), -DER_INVAL);
}

static void
t_prom_parse(void **state)
{
	struct d_tm_node_t *n, *h[3], *sg;
	const struct p_sample *s;
	struct p_dump *d;
	int i, t;

	(void)state;
	/* Per-target metrics, as the engine makes them. */
	for (t = 0; t < 3; t++) {
		assert_int_equal(d_tm_add_metric(&n, D_TM_COUNTER, "Updates", "ops",
						 "engine/io/update/ops{rank=\"2\",target=\"%d\"}",
						 t),
				 0);
		d_tm_inc_counter(n, (uint64_t)(t + 1) * 100);
		assert_int_equal(
		    d_tm_add_metric(&h[t], D_TM_DURATION, "Update latency", D_TM_NANOSECOND,
				    "engine/io/update/latency{rank=\"2\",target=\"%d\"}", t),
		    0);
		for (i = 0; i < 100 * (t + 1); i++)
			d_tm_observe(h[t], (uint64_t)i * 1000 * (uint64_t)(t + 1));
	}
	assert_int_equal(d_tm_add_metric(&sg, D_TM_STATS_GAUGE, "Queue", NULL, "engine/q"), 0);
	d_tm_set_gauge(sg, 1);
	d_tm_set_gauge(sg, 2);
	assert_int_equal(d_tm_add_metric(&n, D_TM_TIMESTAMP, "Start", NULL, "engine/started"), 0);
	d_tm_record_timestamp(n);
	/* Escaping: label values with a quote, a backslash and a newline; a HELP with both. */
	assert_int_equal(d_tm_add_metric(&n, D_TM_GAUGE, "a\\b\nc \"q\"", NULL,
					 "esc{v=\"a\\\"b\\\\c\\nd\",w=\"{}=,\"}"),
			 0);
	d_tm_set_gauge(n, 42);

	d = p_dump_take();
	/* 3 counters, 3 x (26 + 1 buckets + sum + count), 1 + 4 stats, timestamp, escaped */
	assert_int_equal(d->pd_nr_samples, 3 + 3 * (D_TM_POW2_LAST - D_TM_POW2_FIRST + 4) + 5 + 2);
	assert_int_equal(d->pd_nr_fams, 1 + 5 + 1 + 1 + 1);
	/* Families come sorted, a stats gauge's own families right after it. */
	for (i = 1; i < d->pd_nr_fams; i++)
		assert_true(strcmp(p_stats_base(d, d->pd_fams[i - 1].pf_name),
				   p_stats_base(d, d->pd_fams[i].pf_name)) <= 0);

	assert_string_equal(p_family_find(d, "daos_engine_io_update_ops")->pf_type, "counter");
	assert_string_equal(p_family_find(d, "daos_engine_io_update_ops")->pf_help,
			    "Updates [ops]");
	assert_string_equal(p_family_find(d, "daos_engine_io_update_latency")->pf_type,
			    "histogram");
	assert_string_equal(p_family_find(d, "daos_engine_q")->pf_type, "gauge");
	assert_string_equal(p_family_find(d, "daos_engine_q_samples")->pf_type, "counter");
	assert_string_equal(p_family_find(d, "daos_engine_q_mean")->pf_help, "Queue (mean)");
	assert_string_equal(p_family_find(d, "daos_engine_started")->pf_type, "gauge");
	assert_string_equal(p_family_find(d, "daos_esc")->pf_help, "a\\\\b\\nc \"q\"");

	for (t = 0; t < 3; t++) {
		char tgt[4], want[32];
		uint64_t sum = 0;

		snprintf(tgt, sizeof(tgt), "%d", t);
		s = p_find(d, "daos_engine_io_update_ops", "target", tgt);
		assert_non_null(s);
		assert_string_equal(p_label(s, "rank"), "2");
		snprintf(want, sizeof(want), "%d", (t + 1) * 100);
		assert_string_equal(s->ps_value, want);
		for (i = 0; i < 100 * (t + 1); i++)
			sum += (uint64_t)i * 1000 * (uint64_t)(t + 1);
		snprintf(want, sizeof(want), "%" PRIu64, sum);
		assert_string_equal(
		    p_find(d, "daos_engine_io_update_latency_sum", "target", tgt)->ps_value, want);
		snprintf(want, sizeof(want), "%d", 100 * (t + 1));
		assert_string_equal(
		    p_find(d, "daos_engine_io_update_latency_count", "target", tgt)->ps_value,
		    want);
	}
	/* Target 0 observed 0, 1000, ..., 99000: 2 values <= 1024, 3 <= 2048, 99 <= 2^17. */
	for (i = 0; i < d->pd_nr_samples; i++) {
		const struct p_sample *b = &d->pd_samples[i];
		const char *le = p_label(b, "le");

		if (le == NULL || strcmp(p_label(b, "target"), "0") != 0)
			continue;
		if (strcmp(le, "1024") == 0)
			assert_string_equal(b->ps_value, "2");
		if (strcmp(le, "2048") == 0)
			assert_string_equal(b->ps_value, "3");
		if (strcmp(le, "65536") == 0)
			assert_string_equal(b->ps_value, "66");
		if (strcmp(le, "131072") == 0)
			assert_string_equal(b->ps_value, "100");
	}

	assert_string_equal(p_find(d, "daos_engine_q", NULL, NULL)->ps_value, "2");
	assert_string_equal(p_find(d, "daos_engine_q_min", NULL, NULL)->ps_value, "1");
	assert_string_equal(p_find(d, "daos_engine_q_max", NULL, NULL)->ps_value, "2");
	assert_string_equal(p_find(d, "daos_engine_q_mean", NULL, NULL)->ps_value, "1.5");
	assert_string_equal(p_find(d, "daos_engine_q_samples", NULL, NULL)->ps_value, "2");

	s = p_find(d, "daos_esc", "v", "a\"b\\c\nd");
	assert_non_null(s);
	assert_string_equal(p_label(s, "w"), "{}=,");
	assert_string_equal(s->ps_value, "42");
	free(d);
}

/* Concurrency */

#define T_THREADS 4
#define T_INCS 1000000

struct t_arg {
	struct d_tm_node_t *ta_counter;
	struct d_tm_node_t *ta_hist;
	int ta_id;
	int ta_rc;
};

static void *
t_worker(void *varg)
{
	struct t_arg *arg = varg;
	struct d_tm_node_t *own;
	int i;

	/* Creation races with the other workers' and with the dumper. */
	arg->ta_rc = d_tm_add_metric(&own, D_TM_COUNTER, "per thread", NULL,
				     "thr/own{target=\"%d\"}", arg->ta_id);
	for (i = 0; i < T_INCS; i++) {
		d_tm_inc_counter(arg->ta_counter, 1);
		d_tm_inc_counter(own, 1);
		if (i % 8 == 0)
			d_tm_observe(arg->ta_hist, (uint64_t)i);
	}
	return NULL;
}

static volatile int t_stop;

static void *
t_dumper(void *varg)
{
	int *nr = varg;

	while (!__atomic_load_n(&t_stop, __ATOMIC_RELAXED)) {
		struct p_dump *d = p_dump_take(); /* checks +Inf == _count on a live registry */

		free(d);
		(*nr)++;
	}
	return NULL;
}

static void
t_threads(void **state)
{
	struct d_tm_histogram_t snap;
	struct t_arg args[T_THREADS];
	pthread_t th[T_THREADS], dumper;
	struct d_tm_node_t *c, *h;
	uint64_t v;
	int i, dumps = 0;

	(void)state;
	assert_int_equal(d_tm_add_metric(&c, D_TM_COUNTER, "shared", NULL, "thr/shared"), 0);
	assert_int_equal(d_tm_add_metric(&h, D_TM_HISTOGRAM, "shared", NULL, "thr/hist"), 0);
	t_stop = 0;
	assert_int_equal(pthread_create(&dumper, NULL, t_dumper, &dumps), 0);
	for (i = 0; i < T_THREADS; i++) {
		args[i] = (struct t_arg){.ta_counter = c, .ta_hist = h, .ta_id = i};
		assert_int_equal(pthread_create(&th[i], NULL, t_worker, &args[i]), 0);
	}
	for (i = 0; i < T_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].ta_rc, 0);
	}
	__atomic_store_n(&t_stop, 1, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(dumper, NULL), 0);

	assert_int_equal(d_tm_get_counter(c, &v), 0);
	assert_int_equal(v, (uint64_t)T_THREADS * T_INCS);
	for (i = 0; i < T_THREADS; i++) {
		char path[64];

		snprintf(path, sizeof(path), "thr/own{target=\"%d\"}", i);
		assert_int_equal(d_tm_get_counter(d_tm_find_metric(path), &v), 0);
		assert_int_equal(v, T_INCS);
	}
	assert_int_equal(d_tm_get_histogram(h, &snap), 0);
	assert_int_equal(snap.dth_count, (uint64_t)T_THREADS * (T_INCS / 8));
	print_message("threads: %d dumps taken during the updates\n", dumps);
}

/* Allocation failure: fail each allocation in turn until the operation succeeds. */

static void
fi_arm_nth(uint32_t nth)
{
	struct d_fault_attr a = {.fa_id = D_FI_ALLOC, .fa_interval = nth, .fa_max_faults = 1};

	assert_int_equal(d_fault_attr_set(&a), 0);
}

static void
t_alloc_fail(void **state)
{
	struct d_tm_node_t *n, *keep;
	struct p_dump *d;
	uint32_t nth;
	char *buf;
	size_t len;
	int rc, i, failures = 0;

	(void)state;
	assert_int_equal(d_tm_add_metric(&keep, D_TM_COUNTER, NULL, NULL, "fi/keep"), 0);
	d_tm_inc_counter(keep, 3);

	/* New family, new series of an old family, histograms: each allocation in turn. */
	for (i = 0; i < 3; i++) {
		for (nth = 1;; nth++) {
			const char *path = i == 0 ? "fi/new" : i == 1 ? "fi/keep{x=\"1\"}" : "fi/h";
			int type = i == 0 ? D_TM_GAUGE : i == 1 ? D_TM_COUNTER : D_TM_DURATION;

			assert_true(nth < 100);
			fi_arm_nth(nth);
			rc = d_tm_add_metric(&n, type, "help", NULL, "%s", path);
			d_fault_attr_clear(D_FI_ALLOC);
			if (rc == 0) {
				assert_ptr_equal(d_tm_find_metric(path), n);
				break;
			}
			assert_int_equal(rc, -DER_NOMEM);
			assert_null(n);
			assert_null(d_tm_find_metric(path));
			failures++;
		}
	}
	/* The family array grows (at 64, 128... families): fail that too. */
	for (i = 0; i < 200; i++) {
		char path[32];

		snprintf(path, sizeof(path), "fi/g%d", i);
		fi_arm_nth(2); /* the node is first, the family second, the array third */
		rc = d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "%s", path);
		d_fault_attr_clear(D_FI_ALLOC);
		assert_int_equal(rc, -DER_NOMEM);
		fi_arm_nth(3);
		rc = d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "%s", path);
		d_fault_attr_clear(D_FI_ALLOC);
		if (rc == -DER_NOMEM) {
			failures++;
			rc = d_tm_add_metric(&n, D_TM_COUNTER, NULL, NULL, "%s", path);
		}
		assert_int_equal(rc, 0);
	}

	/* The export: the first buffer, then each growth of it. */
	for (nth = 1;; nth++) {
		assert_true(nth < 100);
		fi_arm_nth(nth);
		rc = d_tm_print_prometheus(&buf, &len);
		d_fault_attr_clear(D_FI_ALLOC);
		if (rc == 0)
			break;
		assert_int_equal(rc, -DER_NOMEM);
		assert_null(buf);
		failures++;
	}
	D_FREE(buf);
	print_message("alloc_fail: %d injected failures handled\n", failures);
	assert_true(failures >= 8);

	/* Everything that succeeded is there and intact. */
	d = p_dump_take();
	assert_string_equal(p_find(d, "daos_fi_keep", NULL, NULL)->ps_value, "3");
	assert_non_null(p_find(d, "daos_fi_keep", "x", "1"));
	assert_non_null(p_find(d, "daos_fi_new", NULL, NULL));
	assert_non_null(p_find(d, "daos_fi_h_count", NULL, NULL));
	assert_non_null(p_find(d, "daos_fi_g199", NULL, NULL));
	assert_int_equal(d->pd_nr_fams, 3 + 200);
	free(d);
}

/* Informational: the cost of the update paths (not asserted). */

static double
bench_ns(struct timespec *a, struct timespec *b, long n)
{
	return ((double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec)) /
	       (double)n;
}

static void
t_bench(void **state)
{
	enum { N = 5000000 };
	struct d_tm_node_t *c, *h, *hc, *g;
	struct timespec a, b;
	uint64_t start;
	long i;

	(void)state;
	assert_int_equal(d_tm_add_metric(&c, D_TM_COUNTER, NULL, NULL, "bench/c"), 0);
	assert_int_equal(d_tm_add_metric(&g, D_TM_STATS_GAUGE, NULL, NULL, "bench/g"), 0);
	assert_int_equal(d_tm_add_metric(&h, D_TM_DURATION, NULL, NULL, "bench/h"), 0);
	assert_int_equal(d_tm_add_histogram(&hc, D_TM_DURATION, NULL, NULL,
					    (const uint64_t[]){1000, 5000, 20000, 100000, 500000,
							       1000000, 10000000},
					    7, "bench/hc"),
			 0);

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < N; i++)
		d_tm_inc_counter(c, 1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("bench: counter increment      %6.2f ns\n", bench_ns(&a, &b, N));

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < N; i++)
		d_tm_set_gauge(g, i & 1023);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("bench: stats gauge set        %6.2f ns\n", bench_ns(&a, &b, N));

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < N; i++)
		d_tm_observe(h, (uint64_t)i * 2654435761ULL >> 24);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("bench: histogram observe (2^k) %6.2f ns\n", bench_ns(&a, &b, N));

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < N; i++)
		d_tm_observe(hc, (uint64_t)i * 2654435761ULL >> 40);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("bench: histogram observe (7 bounds) %6.2f ns\n", bench_ns(&a, &b, N));

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < N / 10; i++) {
		start = d_tm_mark_duration_start(h);
		d_tm_mark_duration_end(h, start);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("bench: timed section (2 clock reads) %6.2f ns\n", bench_ns(&a, &b, N / 10));

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < N; i++)
		d_tm_inc_counter(NULL, 1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("bench: update of a NULL node   %6.2f ns\n", bench_ns(&a, &b, N));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_counter, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_gauge, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_hist_default, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_hist_custom, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_find_del, setup, teardown),
	    cmocka_unit_test(t_init_fini),
	    cmocka_unit_test_setup_teardown(t_prom_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_prom_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_alloc_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_bench, setup, teardown),
	};

	return cmocka_run_group_tests_name("gurt_telemetry", tests, NULL, NULL);
}
