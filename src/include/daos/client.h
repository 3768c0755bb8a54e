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
#include <stdbool.h>

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
	uint64_t dp_capas;        /* the handle's capabilities (POOL_CAPA_*), from the service */
	char dp_label[128];       /* the pool's label ("" if none) */
	char dp_sys[128];         /* the system name given to connect ("" : the default) */
	bool dp_local;            /* built locally (dc_pool_local_create): no service handle */
	bool dp_g2l;              /* from daos_pool_global2local: disconnect is local only */
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
	bool dc_g2l;       /* made by daos_cont_global2local: closed locally only */
	uint64_t dc_capas; /* CONT_CAPA_* the service granted (daos/security.h) */
	struct dc_pool *dc_pool;
};

/**
 * Make a pool handle for pool @uuid whose map is @map and whose ranks have the addresses in
 * @ranks (@nr of them; all borrowed and copied). Returns 0, -DER_INVAL, -DER_NOMEM.
 */
int dc_pool_local_create(const uuid_t uuid, uint64_t flags, const struct pool_map *map,
			 const struct dc_rank_uris *ranks, uint32_t nr, daos_handle_t *poh);

/**
 * Make a pool handle for the service handle @hdl of pool @uuid from @map and @ranks (@nr),
 * which the new handle takes over (freed here on failure too). *@poolp (may be NULL)
 * receives the pool, referenced (dc_pool_put). Returns 0, -DER_INVAL, -DER_NOMEM.
 */
int dc_pool_create(const uuid_t uuid, const uuid_t hdl, uint64_t flags, struct pool_map *map,
		   struct dc_rank_uris *ranks, uint32_t nr, daos_handle_t *poh,
		   struct dc_pool **poolp);

/** Free @nr rank address entries of @ranks (NULL is fine). */
void dc_rank_uris_free(struct dc_rank_uris *ranks, uint32_t nr);

/**
 * Replace @pool's map and addresses by @map and @ranks (@nr; taken over) if @map is newer
 * than the current one (else they are freed). Context: any thread (the write lock).
 */
void dc_pool_map_replace(struct dc_pool *pool, struct pool_map *map, struct dc_rank_uris *ranks,
			 uint32_t nr);

/**
 * Fetch @pool's current map from the service (METHOD_POOL_MAP_GET) and install it if it is
 * newer. Returns 0 or the call's error. Context: a thread that may block (pool.c).
 */
int dc_pool_map_refresh(struct dc_pool *pool);

/** The map version of @pool. Context: any thread (the read lock). */
uint32_t dc_pool_map_version(struct dc_pool *pool);

/* From "mgmt/cont.pb-c.h". */
struct Mgmt__ClientHeader;

/** Strings a ClientHeader filled by dc_pool_hdr_fill points to. */
struct dc_pool_hdr_bufs {
	char hb_pool[37];
	char hb_hdl[37];
};

/**
 * Fill @hdr (initialised by the caller) with @pool's system, uuid and handle, whose strings
 * live in @bufs. The credential is left empty (only connect sends one).
 */
void dc_pool_hdr_fill(struct dc_pool *pool, struct Mgmt__ClientHeader *hdr,
		      struct dc_pool_hdr_bufs *bufs);

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
