/*
 * daos/client.h: libdaos's pool and container handles as the object layer sees them
 * (src/client/api/handle.c).
 *
 * A pool handle holds the pool map (placement) and the fabric address of every target of
 * every rank in it; a container handle references its pool handle. Today they are built
 * locally (dc_pool_local_create, dc_cont_local_open) from what the caller learnt elsewhere;
 * daos_pool_connect and daos_cont_open will build them from the management service's
 * answers. Handles are reference counted: an object handle holds its container's, which
 * holds its pool's.
 */
#ifndef DAOS_CLIENT_H
#define DAOS_CLIENT_H

#include <pthread.h>

#include <daos_types.h>
#include <daos/pool_map.h>
#include <gurt/hash.h>

/** The fabric addresses of one rank: ru_uris[0] its system context, ru_uris[1 + i] target i. */
struct dc_rank_uris {
	d_rank_t ru_rank;
	uint32_t ru_nr;
	char **ru_uris;
};

struct dc_pool {
	struct d_hlink dp_hlink;
	uuid_t dp_uuid;
	uuid_t dp_hdl;
	uint64_t dp_flags;        /* DAOS_PC_* */
	pthread_rwlock_t dp_lock; /* the map and the addresses */
	struct pool_map *dp_map;
	uint32_t dp_rank_nr;
	struct dc_rank_uris *dp_ranks;
};

struct dc_cont {
	struct d_hlink dc_hlink;
	uuid_t dc_uuid;
	uuid_t dc_hdl;
	uint64_t dc_flags; /* DAOS_COO_* */
	uint32_t dc_rf;    /* redundancy factor */
	bool dc_local;     /* made by dc_cont_local_open: the service does not know it */
	uint64_t dc_capas; /* CONT_CAPA_* the service granted (daos/security.h) */
	struct dc_pool *dc_pool;
};

/**
 * Make a pool handle for pool @uuid whose map is @map and whose ranks have the addresses in
 * @ranks (@nr of them; all borrowed and copied). Returns 0, -DER_INVAL, -DER_NOMEM.
 */
int dc_pool_local_create(const uuid_t uuid, uint64_t flags, const struct pool_map *map,
			 const struct dc_rank_uris *ranks, uint32_t nr, daos_handle_t *poh);

/** The pool of @poh, referenced (put with dc_pool_put), or NULL. */
struct dc_pool *dc_pool_get(daos_handle_t poh);
void dc_pool_put(struct dc_pool *pool);

/**
 * Copy the fabric address of target @idx of rank @rank of @pool into @buf (@len bytes).
 * Returns 0 or -DER_NONEXIST. Context: any thread (takes the pool's read lock).
 */
int dc_pool_tgt_addr(struct dc_pool *pool, d_rank_t rank, uint32_t idx, char *buf, size_t len);

/**
 * Open container @uuid of the pool of @poh locally, without the management service (tests
 * that build their pool handles with dc_pool_local_create). daos_cont_close of such a
 * handle only frees it.
 */
int dc_cont_local_open(daos_handle_t poh, const uuid_t uuid, uint64_t flags, daos_handle_t *coh);

/**
 * Make a container handle for container @uuid of the pool of @poh, whose service handle is
 * @hdl (daos_cont_open, daos_cont_global2local): flags, redundancy factor and capabilities
 * as the service answered. Returns 0, -DER_INVAL, -DER_NO_HDL (@poh), -DER_NOMEM.
 */
int dc_cont_hdl_create(daos_handle_t poh, const uuid_t uuid, const uuid_t hdl, uint64_t flags,
		       uint32_t rf, uint64_t capas, daos_handle_t *coh);

/** Drop the handle table's reference of @cont (its handle no longer resolves). */
void dc_cont_hdl_delete(struct dc_cont *cont);

/** The container of @coh, referenced (put with dc_cont_put), or NULL. */
struct dc_cont *dc_cont_get(daos_handle_t coh);
void dc_cont_put(struct dc_cont *cont);

/** The library's handle table (created by daos_init). */
struct d_hhash *dc_hhash(void);

#endif /* DAOS_CLIENT_H */
