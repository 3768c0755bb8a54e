/*
 * dmg_test_json.h: a small strict JSON parser for the dmg tests (header-only): parses a whole
 * document into a tree so that tests check that dmg's output is valid JSON and look up
 * members by path. Not a general library: no \u escapes beyond ASCII, depth limited.
 */
#ifndef DMG_TEST_JSON_H
#define DMG_TEST_JSON_H

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum tj_type { TJ_NULL, TJ_BOOL, TJ_NUM, TJ_STR, TJ_ARR, TJ_OBJ };

struct tj {
	enum tj_type t_type;
	char *t_key;  /* member name inside an object */
	char *t_str;  /* TJ_STR */
	double t_num; /* TJ_NUM, TJ_BOOL */
	struct tj *t_kids;
	size_t t_nkids;
};

struct tj_parser {
	const char *p;
	int depth;
};

static void
tj_free(struct tj *v)
{
	size_t i;

	for (i = 0; i < v->t_nkids; i++)
		tj_free(&v->t_kids[i]);
	free(v->t_kids);
	free(v->t_key);
	free(v->t_str);
	memset(v, 0, sizeof(*v));
}

static void
tj_ws(struct tj_parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r')
		ps->p++;
}

static int
tj_string(struct tj_parser *ps, char **out)
{
	size_t cap = 16;
	size_t n = 0;
	char *s;

	if (*ps->p != '"')
		return -1;
	ps->p++;
	s = malloc(cap);
	if (s == NULL)
		return -1;
	while (*ps->p != '"') {
		char c = *ps->p++;

		if (c == '\0' || (unsigned char)c < 0x20)
			goto bad;
		if (c == '\\') {
			c = *ps->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'u': {
				char hex[5] = {0};

				memcpy(hex, ps->p, 4);
				if (strlen(hex) != 4 || strspn(hex, "0123456789abcdefABCDEF") != 4)
					goto bad;
				c = (char)strtol(hex, NULL, 16);
				ps->p += 4;
				break;
			}
			default:
				goto bad;
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);

			if (t == NULL)
				goto bad;
			s = t;
		}
		s[n++] = c;
	}
	ps->p++;
	s[n] = '\0';
	*out = s;
	return 0;
bad:
	free(s);
	return -1;
}

static int tj_value(struct tj_parser *ps, struct tj *v);

static int
tj_add(struct tj *v, struct tj *kid)
{
	struct tj *k = realloc(v->t_kids, sizeof(*k) * (v->t_nkids + 1));

	if (k == NULL)
		return -1;
	v->t_kids = k;
	k[v->t_nkids++] = *kid;
	return 0;
}

static int
tj_value(struct tj_parser *ps, struct tj *v)
{
	memset(v, 0, sizeof(*v));
	tj_ws(ps);
	if (++ps->depth > 64)
		return -1;
	if (*ps->p == '{' || *ps->p == '[') {
		bool obj = *ps->p == '{';
		char close = obj ? '}' : ']';

		v->t_type = obj ? TJ_OBJ : TJ_ARR;
		ps->p++;
		tj_ws(ps);
		if (*ps->p == close) {
			ps->p++;
			goto done;
		}
		for (;;) {
			struct tj kid;
			char *key = NULL;

			tj_ws(ps);
			if (obj) {
				if (tj_string(ps, &key) != 0)
					return -1;
				tj_ws(ps);
				if (*ps->p++ != ':') {
					free(key);
					return -1;
				}
			}
			if (tj_value(ps, &kid) != 0) {
				free(key);
				tj_free(&kid);
				return -1;
			}
			kid.t_key = key;
			if (tj_add(v, &kid) != 0) {
				tj_free(&kid);
				return -1;
			}
			tj_ws(ps);
			if (*ps->p == ',') {
				ps->p++;
				continue;
			}
			if (*ps->p++ != close)
				return -1;
			break;
		}
	} else if (*ps->p == '"') {
		v->t_type = TJ_STR;
		if (tj_string(ps, &v->t_str) != 0)
			return -1;
	} else if (strncmp(ps->p, "null", 4) == 0) {
		v->t_type = TJ_NULL;
		ps->p += 4;
	} else if (strncmp(ps->p, "true", 4) == 0) {
		v->t_type = TJ_BOOL;
		v->t_num = 1;
		ps->p += 4;
	} else if (strncmp(ps->p, "false", 5) == 0) {
		v->t_type = TJ_BOOL;
		ps->p += 5;
	} else if (*ps->p == '-' || isdigit((unsigned char)*ps->p)) {
		char *end;

		v->t_type = TJ_NUM;
		v->t_num = strtod(ps->p, &end);
		if (end == ps->p)
			return -1;
		ps->p = end;
	} else {
		return -1;
	}
done:
	ps->depth--;
	return 0;
}

/* Parse the whole of @text into *@v (free with tj_free). 0, or -1 if it is not JSON. */
static int
tj_parse(const char *text, struct tj *v)
{
	struct tj_parser ps = {text, 0};

	if (tj_value(&ps, v) != 0) {
		tj_free(v);
		return -1;
	}
	tj_ws(&ps);
	if (*ps.p != '\0') {
		tj_free(v);
		return -1;
	}
	return 0;
}

/*
 * The member at the dotted @path ("response.pools.0.uuid"); NULL if absent. A number also
 * picks the n-th member of an object whose keys hold dots ("host_storage.0": the first host).
 */
static struct tj *
tj_get(struct tj *v, const char *path)
{
	char buf[256];
	char *save = NULL;
	char *tok;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && v != NULL;
	     tok = strtok_r(NULL, ".", &save)) {
		struct tj *next = NULL;

		if (v->t_type == TJ_ARR && isdigit((unsigned char)tok[0])) {
			size_t idx = strtoul(tok, NULL, 10);

			next = idx < v->t_nkids ? &v->t_kids[idx] : NULL;
		} else if (v->t_type == TJ_OBJ) {
			for (i = 0; i < v->t_nkids; i++) {
				if (strcmp(v->t_kids[i].t_key, tok) == 0)
					next = &v->t_kids[i];
			}
			/* no such key: a number is the index of a member (keys with dots) */
			if (next == NULL && tok[strspn(tok, "0123456789")] == '\0') {
				size_t idx = strtoul(tok, NULL, 10);

				next = idx < v->t_nkids ? &v->t_kids[idx] : NULL;
			}
		}
		v = next;
	}
	return v;
}

#endif /* DMG_TEST_JSON_H */
