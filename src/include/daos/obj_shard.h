/*
 * daos/obj_shard.h: object I/O on one shard of an object on one target (libdaos,
 * src/object/cli_shard.c). Every call is asynchronous on @ev (NULL: blocking) like the public
 * API, and every pointer argument is borrowed until the event completes. The object layer
 * (placement over the pool map) calls these for each shard it addresses.
 */
#ifndef DAOS_OBJ_SHARD_H
#define DAOS_OBJ_SHARD_H

#include <daos_event.h>
#include <daos/object.h>

/** Where a shard operation goes, and what it carries in its header. */
struct dc_obj_shard {
	const char *sh_addr; /* fabric address of the target's context */
	uuid_t sh_pool;
	uuid_t sh_cont;
	uuid_t sh_coh; /* the container handle (capability), null until services */
	daos_unit_oid_t sh_oid;
	uint32_t sh_map_ver;
	uint32_t sh_timeout_ms; /* 0: the default */
	daos_epoch_t sh_epoch;  /* update: 0 = the target's HLC; read: 0 = the latest */
	/*
	 * Part of a larger operation: if set, @ev is that operation's event (launched already;
	 * only its queue is used) and the outcome goes to sh_cb(sh_cb_arg, rc) instead of
	 * completing @ev, from the queue's progress (or at once if the request cannot start).
	 */
	void (*sh_cb)(void *arg, int rc);
	void *sh_cb_arg;
};

/**
 * Object RPCs (OBJ_OPC_UPDATE .. OBJ_OPC_QUERY_KEY, by NET_OPC_INDEX) this process sent; a
 * collective query (OBJ_OPC_QUERY_COLL) counts as a QUERY_KEY.
 */
#define DC_OBJ_RPC_NR 5

/**
 * Copy the counts of object RPCs sent so far by every thread of this process (one per
 * request handed to the network, retries included) into @counts[DC_OBJ_RPC_NR]. For
 * benchmarks (dfs_perf -v): the difference across an operation is its RPCs.
 */
void dc_obj_rpc_counts(uint64_t counts[DC_OBJ_RPC_NR]);

/**
 * Write @nr iods under @dkey (DAOS_COND_* @flags): @sgls[i] holds exactly iod i's bytes
 * (iov_len of each iov). *@epoch (may be NULL) receives the epoch applied. Returns (or
 * completes with) 0 or what vos_obj_update returns on the target, or a transport error.
 */
int dc_obj_shard_update(const struct dc_obj_shard *sh, uint64_t flags, daos_key_t *dkey,
			uint32_t nr, daos_iod_t *iods, d_sg_list_t *sgls, daos_epoch_t *epoch,
			daos_event_t *ev);

/**
 * Read @nr iods under @dkey into @sgls (capacity iov_buf_len; iov_len and sg_nr_out are set),
 * setting each iods[i].iod_size to the stored size. @sgls may be NULL to ask sizes only.
 * -DER_REC2BIG: a single value did not fit (the sizes are set).
 */
int dc_obj_shard_fetch(const struct dc_obj_shard *sh, uint64_t flags, daos_key_t *dkey, uint32_t nr,
		       daos_iod_t *iods, d_sg_list_t *sgls, daos_epoch_t *epoch, daos_event_t *ev);

/**
 * Punch (OBJ_PUNCH_OBJ / _DKEYS / _AKEYS of daos/obj_rpc.h) the object, @nr dkeys @keys, or
 * @nr akeys @keys of @dkey. @flags: DAOS_COND_PUNCH.
 */
int dc_obj_shard_punch(const struct dc_obj_shard *sh, uint32_t kind, uint64_t flags,
		       daos_key_t *dkey, uint32_t nr, daos_key_t *keys, daos_epoch_t *epoch,
		       daos_event_t *ev);

/**
 * List (OBJ_LIST_DKEY / _AKEY / _RECX) from @anchor: up to *@nr keys into @kds and @sgl, or
 * extents into @recxs (*@rsize their record size); *@nr how many; @anchor moves on.
 * -DER_KEY2BIG: kds[0].kd_key_len is the size the next key needs.
 */
int dc_obj_shard_list(const struct dc_obj_shard *sh, uint32_t kind, daos_key_t *dkey,
		      daos_key_t *akey, uint32_t *nr, daos_key_desc_t *kds, d_sg_list_t *sgl,
		      daos_recx_t *recxs, daos_size_t *rsize, daos_anchor_t *anchor,
		      daos_event_t *ev);

struct obj_coll_shard;

/** Query key (DAOS_GET_* @flags): found keys are copied into @dkey / @akey's buffers. */
int dc_obj_shard_query_key(const struct dc_obj_shard *sh, uint32_t flags, daos_key_t *dkey,
			   daos_key_t *akey, daos_recx_t *recx, daos_event_t *ev);

/**
 * Collective query key (OBJ_OPC_QUERY_COLL): the shards @cs[0 .. @nr) of the object, all held
 * by the engine of @sh's target, asked in one request; the best answer as a query's.
 */
int dc_obj_shard_query_coll(const struct dc_obj_shard *sh, uint32_t flags, daos_key_t *dkey,
			    daos_key_t *akey, daos_recx_t *recx, const struct obj_coll_shard *cs,
			    uint32_t nr, daos_event_t *ev);

/**
 * Fetch @nr iods of @dkey (flags 0, inline values only) and, on the same target right after,
 * the collective dkey query @qflags (DAOS_GET_DKEY and MAX or MIN, optionally RECX) of object
 * @qoid's shards @cs[0 .. @cs_nr), all on the engine of @sh's target, akey @qakey: one request
 * (OBJ_OPC_FETCH_QUERY). Completes with the fetch's outcome; when it is 0 and the fetch found
 * something, *@qrc is the query's (0: @qdkey, @qrecx set; -DER_NONEXIST: no key), else
 * -DER_NONEXIST. -DER_NOSYS: the values would need bulk (nothing sent), or the engine does
 * not serve the opcode (-DER_UNREG from an older engine).
 */
int dc_obj_shard_fetch_query(const struct dc_obj_shard *sh, daos_key_t *dkey, uint32_t nr,
			     daos_iod_t *iods, d_sg_list_t *sgls, daos_obj_id_t qoid,
			     uint32_t qflags, daos_key_t *qdkey, daos_key_t *qakey,
			     daos_recx_t *qrecx, const struct obj_coll_shard *cs, uint32_t cs_nr,
			     int *qrc, daos_event_t *ev);

/**
 * Has an engine refused a fetch and query (answered -DER_NOSYS, or -DER_UNREG: no such
 * opcode)? Set by the reply, blocking or not, for the rest of the process; a -DER_NOSYS
 * made here (values too large for one inline request) does not set it.
 */
bool dc_obj_fetch_query_refused(void);

#endif /* DAOS_OBJ_SHARD_H */
