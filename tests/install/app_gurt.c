/*
 * app_gurt.c: a program written the way a DAOS application uses libgurt, built against the
 * installed headers and library only (see install_check.sh). It defines the globals and
 * macros applications commonly define, to prove the headers do not clash with them.
 */
#include <stdio.h>
#include <string.h>

/* names applications define for themselves */
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
int poh, coh, cid, rank, verbose;

#include <gurt/common.h>
#include <gurt/hash.h>
#include <gurt/list.h>
#include <daos_errno.h>

struct entry {
	d_list_t e_link;
	int e_ref;
	char e_key[16];
};

static int nfreed;

static struct entry *
link2entry(d_list_t *link)
{
	return container_of(link, struct entry, e_link);
}

static bool
key_cmp(struct d_hash_table *ht, d_list_t *link, const void *key, unsigned int ksize)
{
	(void)ht;
	return strlen(link2entry(link)->e_key) == ksize &&
	       memcmp(link2entry(link)->e_key, key, ksize) == 0;
}

static void
rec_addref(struct d_hash_table *ht, d_list_t *link)
{
	(void)ht;
	link2entry(link)->e_ref++;
}

static bool
rec_decref(struct d_hash_table *ht, d_list_t *link)
{
	(void)ht;
	return --link2entry(link)->e_ref == 0;
}

static void
rec_free(struct d_hash_table *ht, d_list_t *link)
{
	(void)ht;
	nfreed++;
	free(link2entry(link));
}

static d_hash_table_ops_t ops = {
    .hop_key_cmp = key_cmp,
    .hop_rec_addref = rec_addref,
    .hop_rec_decref = rec_decref,
    .hop_rec_free = rec_free,
};

int
main(void)
{
	struct d_hash_table *ht;
	d_list_t *link;
	int i, rc, n = 100;

	rc = d_hash_table_create(D_HASH_FT_EPHEMERAL | D_HASH_FT_MUTEX, 4, NULL, &ops, &ht);
	if (rc != 0) {
		printf("create: %s\n", d_errstr(rc));
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct entry *e = calloc(1, sizeof(*e));

		/* the creator's reference: an ephemeral table holds none of its own */
		e->e_ref = 1;
		snprintf(e->e_key, sizeof(e->e_key), "key-%d", i);
		rc = d_hash_rec_insert(ht, e->e_key, (unsigned int)strlen(e->e_key), &e->e_link,
				       true);
		if (rc != 0) {
			printf("insert: %s\n", d_errstr(rc));
			return 1;
		}
	}
	link = d_hash_rec_find(ht, "key-7", 5);
	if (link == NULL || strcmp(link2entry(link)->e_key, "key-7") != 0) {
		printf("find failed\n");
		return 1;
	}
	d_hash_rec_decref(ht, link);
	if (d_hash_rec_insert(ht, "key-7", 5, &(struct entry){0}.e_link, true) != -DER_EXIST) {
		printf("exclusive insert of an existing key did not fail with -DER_EXIST\n");
		return 1;
	}
	/* drain as applications do: the last reference frees an ephemeral record */
	while ((link = d_hash_rec_first(ht)) != NULL)
		d_hash_rec_decref(ht, link);
	if (nfreed != n || !d_hash_table_is_empty(ht)) {
		printf("drain freed %d of %d\n", nfreed, n);
		return 1;
	}
	d_hash_table_destroy(ht, false);

	printf("%s: %s\n", d_errstr(-DER_NONEXIST), d_errdesc(-DER_NONEXIST));
	printf("min %d max %d\n", min(poh, 3), max(rank, 1));
	printf("hash: ok\n");
	return 0;
}
