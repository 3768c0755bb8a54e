/*
 * misc.c: scatter-gather lists, rank lists and environment readers.
 */
#define D_LOGFAC gurt

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <strings.h>

#include <gurt/common.h>

int
d_sgl_init(d_sg_list_t *sgl, uint32_t nr)
{
	sgl->sg_nr = nr;
	sgl->sg_nr_out = 0;
	sgl->sg_iovs = NULL;
	if (nr == 0)
		return 0;
	D_ALLOC_ARRAY(sgl->sg_iovs, nr);
	if (sgl->sg_iovs == NULL) {
		sgl->sg_nr = 0;
		return -DER_NOMEM;
	}
	return 0;
}

void
d_sgl_fini(d_sg_list_t *sgl, bool free_iovs)
{
	uint32_t i;

	if (sgl == NULL || sgl->sg_iovs == NULL)
		return;
	if (free_iovs)
		for (i = 0; i < sgl->sg_nr; i++)
			D_FREE(sgl->sg_iovs[i].iov_buf);
	D_FREE(sgl->sg_iovs);
	sgl->sg_nr = 0;
	sgl->sg_nr_out = 0;
}

size_t
d_sgl_buf_size(const d_sg_list_t *sgl)
{
	size_t size = 0;
	uint32_t i;

	for (i = 0; i < sgl->sg_nr; i++)
		size += sgl->sg_iovs[i].iov_len;
	return size;
}

size_t
d_sgl_buf_capacity(const d_sg_list_t *sgl)
{
	size_t size = 0;
	uint32_t i;

	for (i = 0; i < sgl->sg_nr; i++)
		size += sgl->sg_iovs[i].iov_buf_len;
	return size;
}

size_t
d_sgl_copy_out(const d_sg_list_t *sgl, size_t off, void *dst, size_t len)
{
	size_t done = 0;
	uint32_t i;

	for (i = 0; i < sgl->sg_nr && done < len; i++) {
		const d_iov_t *iov = &sgl->sg_iovs[i];
		size_t n;

		if (off >= iov->iov_len) {
			off -= iov->iov_len;
			continue;
		}
		n = iov->iov_len - off;
		if (n > len - done)
			n = len - done;
		memcpy((char *)dst + done, (char *)iov->iov_buf + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t
d_sgl_copy_in(d_sg_list_t *sgl, size_t off, const void *src, size_t len)
{
	size_t done = 0;
	uint32_t i;

	for (i = 0; i < sgl->sg_nr && done < len; i++) {
		d_iov_t *iov = &sgl->sg_iovs[i];
		size_t n;

		if (off >= iov->iov_buf_len) {
			off -= iov->iov_buf_len;
			continue;
		}
		n = iov->iov_buf_len - off;
		if (n > len - done)
			n = len - done;
		memcpy((char *)iov->iov_buf + off, (const char *)src + done, n);
		if (off + n > iov->iov_len)
			iov->iov_len = off + n;
		done += n;
		off = 0;
		sgl->sg_nr_out = i + 1;
	}
	return done;
}

int
d_iov_dup(d_iov_t *dst, const d_iov_t *src)
{
	void *buf = NULL;

	if (src->iov_len > 0) {
		D_ALLOC_NZ(buf, src->iov_len);
		if (buf == NULL)
			return -DER_NOMEM;
		memcpy(buf, src->iov_buf, src->iov_len);
	}
	d_iov_set(dst, buf, src->iov_len);
	return 0;
}

d_rank_list_t *
d_rank_list_alloc(uint32_t nr)
{
	d_rank_list_t *list;

	D_ALLOC_PTR(list);
	if (list == NULL)
		return NULL;
	if (nr > 0) {
		D_ALLOC_ARRAY(list->rl_ranks, nr);
		if (list->rl_ranks == NULL) {
			D_FREE(list);
			return NULL;
		}
	}
	list->rl_nr = nr;
	return list;
}

void
d_rank_list_free(d_rank_list_t *list)
{
	if (list == NULL)
		return;
	D_FREE(list->rl_ranks);
	D_FREE(list);
}

int
d_rank_list_copy(d_rank_list_t *dst, const d_rank_list_t *src)
{
	d_rank_t *ranks = NULL;

	if (src->rl_nr > 0) {
		D_ALLOC_ARRAY(ranks, src->rl_nr);
		if (ranks == NULL)
			return -DER_NOMEM;
		memcpy(ranks, src->rl_ranks, src->rl_nr * sizeof(*ranks));
	}
	D_FREE(dst->rl_ranks);
	dst->rl_ranks = ranks;
	dst->rl_nr = src->rl_nr;
	return 0;
}

int
d_rank_list_dup(d_rank_list_t **dst, const d_rank_list_t *src)
{
	d_rank_list_t *list;
	int rc;

	*dst = NULL;
	if (src == NULL)
		return 0;
	list = d_rank_list_alloc(0);
	if (list == NULL)
		return -DER_NOMEM;
	rc = d_rank_list_copy(list, src);
	if (rc != 0) {
		d_rank_list_free(list);
		return rc;
	}
	*dst = list;
	return 0;
}

static int
rank_cmp(const void *a, const void *b)
{
	d_rank_t x = *(const d_rank_t *)a, y = *(const d_rank_t *)b;

	return x < y ? -1 : x > y;
}

void
d_rank_list_sort(d_rank_list_t *list)
{
	if (list != NULL && list->rl_nr > 1)
		qsort(list->rl_ranks, list->rl_nr, sizeof(d_rank_t), rank_cmp);
}

void
d_rank_list_dedup(d_rank_list_t *list)
{
	uint32_t i, n = 0;

	if (list == NULL || list->rl_nr == 0)
		return;
	d_rank_list_sort(list);
	for (i = 0; i < list->rl_nr; i++)
		if (n == 0 || list->rl_ranks[n - 1] != list->rl_ranks[i])
			list->rl_ranks[n++] = list->rl_ranks[i];
	list->rl_nr = n;
}

bool
d_rank_list_find(const d_rank_list_t *list, d_rank_t rank, int *idx)
{
	uint32_t i;

	if (list == NULL)
		return false;
	for (i = 0; i < list->rl_nr; i++) {
		if (list->rl_ranks[i] == rank) {
			if (idx != NULL)
				*idx = (int)i;
			return true;
		}
	}
	return false;
}

int
d_rank_list_append(d_rank_list_t *list, d_rank_t rank)
{
	d_rank_t *ranks;

	D_REALLOC_ARRAY(ranks, list->rl_ranks, (size_t)list->rl_nr + 1);
	if (ranks == NULL)
		return -DER_NOMEM;
	ranks[list->rl_nr] = rank;
	list->rl_ranks = ranks;
	list->rl_nr++;
	return 0;
}

void
d_rank_list_del(d_rank_list_t *list, d_rank_t rank)
{
	int idx;

	if (!d_rank_list_find(list, rank, &idx))
		return;
	memmove(&list->rl_ranks[idx], &list->rl_ranks[idx + 1],
		(list->rl_nr - (uint32_t)idx - 1) * sizeof(d_rank_t));
	list->rl_nr--;
}

bool
d_rank_list_identical(const d_rank_list_t *a, const d_rank_list_t *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->rl_nr != b->rl_nr)
		return false;
	return a->rl_nr == 0 || memcmp(a->rl_ranks, b->rl_ranks, a->rl_nr * sizeof(d_rank_t)) == 0;
}

/* Parse a decimal rank at *p, advancing it. */
static int
rank_parse_one(const char **p, d_rank_t *rank)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)**p))
		return -DER_INVAL;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno != 0 || v >= UINT32_MAX) /* UINT32_MAX is CRT_NO_RANK in DAOS */
		return -DER_INVAL;
	*p = end;
	*rank = (d_rank_t)v;
	return 0;
}

/* Largest number of ranks one string may expand to: a typo like 0-4000000000 is an error. */
#define RANK_LIST_MAX (1U << 20)

int
d_rank_list_parse(const char *str, d_rank_list_t **listp)
{
	d_rank_list_t *list;
	const char *p = str;
	bool bracket;
	int rc = 0;

	*listp = NULL;
	if (str == NULL)
		return -DER_INVAL;
	list = d_rank_list_alloc(0);
	if (list == NULL)
		return -DER_NOMEM;
	/* Accept an optional surrounding [ ] as dmg prints and takes rank sets. */
	while (isspace((unsigned char)*p))
		p++;
	bracket = *p == '[';
	if (bracket)
		p++;
	if (*p == '\0' || *p == ']') { /* nothing to parse: an error, not an empty set */
		rc = -DER_INVAL;
		goto out_free;
	}
	while (*p != '\0' && *p != ']') {
		d_rank_t lo, hi, r;

		while (isspace((unsigned char)*p))
			p++;
		rc = rank_parse_one(&p, &lo);
		if (rc != 0)
			goto out_free;
		hi = lo;
		if (*p == '-') {
			p++;
			rc = rank_parse_one(&p, &hi);
			if (rc != 0 || hi < lo) {
				rc = -DER_INVAL;
				goto out_free;
			}
		}
		if (hi - lo >= RANK_LIST_MAX || list->rl_nr + (hi - lo) >= RANK_LIST_MAX) {
			rc = -DER_INVAL;
			goto out_free;
		}
		for (r = lo;; r++) {
			rc = d_rank_list_append(list, r);
			if (rc != 0)
				goto out_free;
			if (r == hi)
				break;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ',')
			p++;
		else if (*p != '\0' && *p != ']') {
			rc = -DER_INVAL;
			goto out_free;
		}
	}
	if (bracket != (*p == ']') || (bracket && p[1] != '\0')) {
		rc = -DER_INVAL;
		goto out_free;
	}
	d_rank_list_dedup(list);
	*listp = list;
	return 0;

out_free:
	d_rank_list_free(list);
	return rc;
}

int
d_rank_list_to_str(const d_rank_list_t *list, char *buf, size_t len)
{
	size_t total = 0;
	uint32_t i = 0;

	if (len > 0)
		buf[0] = '\0';
	while (list != NULL && i < list->rl_nr) {
		uint32_t j = i;
		char tmp[32];
		int n;

		while (j + 1 < list->rl_nr && list->rl_ranks[j + 1] == list->rl_ranks[j] + 1)
			j++;
		if (j > i)
			n = snprintf(tmp, sizeof(tmp), "%s%u-%u", i ? "," : "", list->rl_ranks[i],
				     list->rl_ranks[j]);
		else
			n = snprintf(tmp, sizeof(tmp), "%s%u", i ? "," : "", list->rl_ranks[i]);
		if (total + (size_t)n < len)
			memcpy(buf + total, tmp, (size_t)n + 1);
		else if (total < len)
			buf[total] = '\0';
		total += (size_t)n;
		i = j + 1;
	}
	return (int)total;
}

const char *
d_uuid_str(const unsigned char *uuid, char *buf)
{
	uuid_unparse_lower(uuid, buf);
	return buf;
}

int
d_getenv_bool(const char *name, bool *val)
{
	static const char *const yes[] = {"1", "true", "yes", "on", "y"};
	static const char *const no[] = {"0", "false", "no", "off", "n"};
	const char *s = getenv(name);
	size_t i;

	if (s == NULL)
		return -DER_NONEXIST;
	for (i = 0; i < D_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*val = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*val = false;
			return 0;
		}
	}
	return -DER_INVAL;
}

bool
d_getenv_is_once(int *cache, const char *name, const char *value)
{
	int v = __atomic_load_n(cache, __ATOMIC_RELAXED);

	if (v < 0) {
		const char *s = getenv(name);

		/* racing first callers read the same environment: the same answer */
		v = s != NULL && strcmp(s, value) == 0;
		__atomic_store_n(cache, v, __ATOMIC_RELAXED);
	}
	return v != 0;
}

int
d_getenv_uint64_t(const char *name, uint64_t *val)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (s == NULL)
		return -DER_NONEXIST;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -DER_INVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return -DER_INVAL;
	*val = v;
	return 0;
}

int
d_getenv_uint(const char *name, unsigned int *val)
{
	uint64_t v;
	int rc;

	rc = d_getenv_uint64_t(name, &v);
	if (rc != 0)
		return rc;
	if (v > UINT_MAX)
		return -DER_INVAL;
	*val = (unsigned int)v;
	return 0;
}
