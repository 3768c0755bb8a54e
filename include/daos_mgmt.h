/*
 * daos_mgmt.h: what a client may ask of the management side of a DAOS system: the system
 * description from the agent, the list of pools, and test hooks.
 */
#ifndef D_DAOS_MGMT_H
#define D_DAOS_MGMT_H

#include <uuid/uuid.h>

#include <daos_types.h>
#include <daos_event.h>
#include <daos_pool.h>
#include <daos_cont.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * The description of system @sys (NULL: the default one) in a new *@info, freed with
 * daos_mgmt_put_sys_info(). Returns 0, -DER_INVAL, -DER_NOMEM, -DER_AGENT_COMM (no agent),
 * -DER_NO_PERM (agent socket not accessible).
 */
int daos_mgmt_get_sys_info(const char *sys, struct daos_sys_info **info);

void daos_mgmt_put_sys_info(struct daos_sys_info *info);

/** A pool of the system (daos_mgmt_list_pools()). */
typedef struct {
	uuid_t mgpi_uuid;
	/** ranks of the pool service replicas; the caller frees it with d_rank_list_free() */
	d_rank_list_t *mgpi_svc;
	/** rank of the pool service leader */
	d_rank_t mgpi_ldr;
} daos_mgmt_pool_info_t;

/**
 * List the pools of system @group (NULL: default): *@npools holds the capacity of @pools on
 * entry and the number of pools on return (@pools NULL: count only). -DER_TRUNC if @pools is
 * too small.
 */
int daos_mgmt_list_pools(const char *group, daos_size_t *npools, daos_mgmt_pool_info_t *pools,
			 daos_event_t *ev);

/** Make the pool service leader of @poh step down (tests). */
int daos_pool_stop_svc(daos_handle_t poh, daos_event_t *ev);

/**
 * Set debug parameter @key_id to @value (and @value_extra) on engine @rank of system @grp, or
 * on every engine if @rank is (d_rank_t)-1 (tests: fault injection).
 */
int daos_debug_set_params(const char *grp, d_rank_t rank, unsigned int key_id, uint64_t value,
			  uint64_t value_extra, daos_event_t *ev);

/** Write @mark into the engines' debug logs. */
int daos_debug_add_mark(const char *mark);

/** State of blobstore @blobstore_uuid in system @group, in *@blobstore_state. */
int daos_mgmt_get_bs_state(const char *group, uuid_t blobstore_uuid, int *blobstore_state,
			   daos_event_t *ev);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_MGMT_H */
