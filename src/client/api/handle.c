/*
 * handle.c: pool and container handles of libdaos (daos/client.h): creation, references,
 * lookup by cookie, address lookup, and disconnect/close.
 *
 * Handles live in the library's handle table (event.c creates it at daos_init). The table
 * holds one reference from creation until disconnect/close; each lookup takes another.
 */
#define D_LOGFAC client

#include <string.h>

#include <daos.h>
#include <daos/client.h>
#include <daos/event.h>
#include <gurt/common.h>

#include "client_internal.h"

void
dc_rank_uris_free(struct dc_rank_uris *ranks, uint32_t nr)
{
	uint32_t i;
	uint32_t j;

	if (ranks == NULL)
		return;
	for (i = 0; i < nr; i++) {
		for (j = 0; ranks[i].ru_uris != NULL && j < ranks[i].ru_nr; j++)
			D_FREE(ranks[i].ru_uris[j]);
		D_FREE(ranks[i].ru_uris);
	}
	D_FREE(ranks);
}

static int
rank_uris_dup(const struct dc_rank_uris *src, uint32_t nr, struct dc_rank_uris **dstp)
{
	struct dc_rank_uris *dst;
	uint32_t i;
	uint32_t j;

	D_ALLOC_ARRAY(dst, nr > 0 ? nr : 1);
	if (dst == NULL)
		return -DER_NOMEM;
	for (i = 0; i < nr; i++) {
		dst[i].ru_rank = src[i].ru_rank;
		D_ALLOC_ARRAY(dst[i].ru_uris, src[i].ru_nr > 0 ? src[i].ru_nr : 1);
		if (dst[i].ru_uris == NULL)
			goto nomem;
		dst[i].ru_nr = src[i].ru_nr;
		for (j = 0; j < src[i].ru_nr; j++) {
			if (src[i].ru_uris[j] == NULL)
				continue;
			D_STRNDUP(dst[i].ru_uris[j], src[i].ru_uris[j], 4096);
			if (dst[i].ru_uris[j] == NULL)
				goto nomem;
		}
	}
	*dstp = dst;
	return 0;
nomem:
	dc_rank_uris_free(dst, nr);
	return -DER_NOMEM;
}

static void
pool_free(struct d_hlink *hlink)
{
	struct dc_pool *pool = container_of(hlink, struct dc_pool, dp_hlink);

	pool_map_destroy(pool->dp_map);
	dc_rank_uris_free(pool->dp_ranks, pool->dp_rank_nr);
	pthread_rwlock_destroy(&pool->dp_lock);
	D_FREE(pool);
}

static struct d_hlink_ops pool_hlink_ops = {
    .hop_free = pool_free,
};

int
dc_pool_local_create(const uuid_t uuid, uint64_t flags, const struct pool_map *map,
		     const struct dc_rank_uris *ranks, uint32_t nr, daos_handle_t *poh)
{
	struct dc_pool *pool;
	int rc;

	if (!dc_lib_initialized())
		return -DER_UNINIT;
	if (map == NULL || poh == NULL || (nr > 0 && ranks == NULL))
		return -DER_INVAL;
	D_ALLOC_PTR(pool);
	if (pool == NULL)
		return -DER_NOMEM;
	uuid_copy(pool->dp_uuid, uuid);
	uuid_generate(pool->dp_hdl);
	pool->dp_flags = flags;
	pthread_rwlock_init(&pool->dp_lock, NULL);
	rc = pool_map_dup(map, &pool->dp_map);
	if (rc == 0)
		rc = rank_uris_dup(ranks, nr, &pool->dp_ranks);
	if (rc != 0) {
		pool_map_destroy(pool->dp_map);
		pthread_rwlock_destroy(&pool->dp_lock);
		D_FREE(pool);
		return rc;
	}
	pool->dp_rank_nr = nr;
	pool->dp_local = true;
	d_hhash_hlink_init(&pool->dp_hlink, &pool_hlink_ops);
	d_hhash_link_insert(dc_hhash(), &pool->dp_hlink, DC_HTYPE_POOL);
	d_hhash_link_key(&pool->dp_hlink, &poh->cookie);
	dc_pool_put(pool);
	return 0;
}

int
dc_pool_create(const uuid_t uuid, const uuid_t hdl, uint64_t flags, struct pool_map *map,
	       struct dc_rank_uris *ranks, uint32_t nr, daos_handle_t *poh, struct dc_pool **poolp)
{
	struct dc_pool *pool;

	if (!dc_lib_initialized()) {
		pool_map_destroy(map);
		dc_rank_uris_free(ranks, nr);
		return -DER_UNINIT;
	}
	D_ALLOC_PTR(pool);
	if (pool == NULL) {
		pool_map_destroy(map);
		dc_rank_uris_free(ranks, nr);
		return -DER_NOMEM;
	}
	uuid_copy(pool->dp_uuid, uuid);
	uuid_copy(pool->dp_hdl, hdl);
	pool->dp_flags = flags;
	pthread_rwlock_init(&pool->dp_lock, NULL);
	pool->dp_map = map;
	pool->dp_ranks = ranks;
	pool->dp_rank_nr = nr;
	d_hhash_hlink_init(&pool->dp_hlink, &pool_hlink_ops);
	d_hhash_link_insert(dc_hhash(), &pool->dp_hlink, DC_HTYPE_POOL);
	d_hhash_link_key(&pool->dp_hlink, &poh->cookie);
	if (poolp != NULL)
		*poolp = pool; /* the creation reference becomes the caller's */
	else
		dc_pool_put(pool);
	return 0;
}

void
dc_pool_map_replace(struct dc_pool *pool, struct pool_map *map, struct dc_rank_uris *ranks,
		    uint32_t nr)
{
	struct pool_map *old_map = NULL;
	struct dc_rank_uris *old_ranks = NULL;
	uint32_t old_nr = 0;

	pthread_rwlock_wrlock(&pool->dp_lock);
	if (pool->dp_map == NULL ||
	    pool_map_get_version(map) > pool_map_get_version(pool->dp_map)) {
		old_map = pool->dp_map;
		old_ranks = pool->dp_ranks;
		old_nr = pool->dp_rank_nr;
		pool->dp_map = map;
		pool->dp_ranks = ranks;
		pool->dp_rank_nr = nr;
	} else {
		old_map = map;
		old_ranks = ranks;
		old_nr = nr;
	}
	pthread_rwlock_unlock(&pool->dp_lock);
	pool_map_destroy(old_map);
	dc_rank_uris_free(old_ranks, old_nr);
}

uint32_t
dc_pool_map_version(struct dc_pool *pool)
{
	uint32_t v;

	pthread_rwlock_rdlock(&pool->dp_lock);
	v = pool->dp_map == NULL ? 0 : pool_map_get_version(pool->dp_map);
	pthread_rwlock_unlock(&pool->dp_lock);
	return v;
}

struct dc_pool *
dc_pool_get(daos_handle_t poh)
{
	struct d_hlink *hlink;

	if (dc_hhash() == NULL || d_hhash_key_type(poh.cookie) != DC_HTYPE_POOL)
		return NULL;
	hlink = d_hhash_link_lookup(dc_hhash(), poh.cookie);
	return hlink == NULL ? NULL : container_of(hlink, struct dc_pool, dp_hlink);
}

void
dc_pool_put(struct dc_pool *pool)
{
	d_hhash_link_putref(dc_hhash(), &pool->dp_hlink);
}

int
dc_pool_tgt_addr(struct dc_pool *pool, d_rank_t rank, uint32_t idx, char *buf, size_t len)
{
	int rc = -DER_NONEXIST;
	uint32_t i;

	pthread_rwlock_rdlock(&pool->dp_lock);
	for (i = 0; i < pool->dp_rank_nr; i++) {
		struct dc_rank_uris *ru = &pool->dp_ranks[i];

		if (ru->ru_rank != rank)
			continue;
		if (idx + 1 < ru->ru_nr && ru->ru_uris[idx + 1] != NULL &&
		    strlen(ru->ru_uris[idx + 1]) < len) {
			strcpy(buf, ru->ru_uris[idx + 1]);
			rc = 0;
		}
		break;
	}
	pthread_rwlock_unlock(&pool->dp_lock);
	return rc;
}

static void
cont_free(struct d_hlink *hlink)
{
	struct dc_cont *cont = container_of(hlink, struct dc_cont, dc_hlink);

	dc_pool_put(cont->dc_pool);
	D_FREE(cont);
}

static struct d_hlink_ops cont_hlink_ops = {
    .hop_free = cont_free,
};

static int
cont_hdl_insert(daos_handle_t poh, const uuid_t uuid, const uuid_t hdl, uint64_t flags, uint32_t rf,
		uint64_t capas, bool local, daos_handle_t *coh)
{
	struct dc_cont *cont;
	struct dc_pool *pool;

	if (coh == NULL || uuid_is_null(uuid))
		return -DER_INVAL;
	pool = dc_pool_get(poh);
	if (pool == NULL)
		return -DER_NO_HDL;
	D_ALLOC_PTR(cont);
	if (cont == NULL) {
		dc_pool_put(pool);
		return -DER_NOMEM;
	}
	uuid_copy(cont->dc_uuid, uuid);
	uuid_copy(cont->dc_hdl, hdl);
	cont->dc_flags = flags;
	cont->dc_rf = rf;
	cont->dc_capas = capas;
	cont->dc_local = local;
	cont->dc_pool = pool; /* the lookup's reference is the container's */
	d_hhash_hlink_init(&cont->dc_hlink, &cont_hlink_ops);
	d_hhash_link_insert(dc_hhash(), &cont->dc_hlink, DC_HTYPE_CO);
	d_hhash_link_key(&cont->dc_hlink, &coh->cookie);
	dc_cont_put(cont);
	return 0;
}

int
dc_cont_local_open(daos_handle_t poh, const uuid_t uuid, uint64_t flags, daos_handle_t *coh)
{
	uuid_t hdl;

	uuid_generate(hdl);
	return cont_hdl_insert(poh, uuid, hdl, flags, 0, UINT64_MAX, true, coh);
}

int
dc_cont_hdl_create(daos_handle_t poh, const uuid_t uuid, const uuid_t hdl, uint64_t flags,
		   uint32_t rf, uint64_t capas, daos_handle_t *coh)
{
	return cont_hdl_insert(poh, uuid, hdl, flags, rf, capas, false, coh);
}

void
dc_cont_hdl_delete(struct dc_cont *cont)
{
	d_hhash_link_delete(dc_hhash(), &cont->dc_hlink);
}

struct dc_cont *
dc_cont_get(daos_handle_t coh)
{
	struct d_hlink *hlink;

	if (dc_hhash() == NULL || d_hhash_key_type(coh.cookie) != DC_HTYPE_CO)
		return NULL;
	hlink = d_hhash_link_lookup(dc_hhash(), coh.cookie);
	return hlink == NULL ? NULL : container_of(hlink, struct dc_cont, dc_hlink);
}

void
dc_cont_put(struct dc_cont *cont)
{
	d_hhash_link_putref(dc_hhash(), &cont->dc_hlink);
}
