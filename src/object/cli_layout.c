/*
 * cli_layout.c: daos_obj_layout_get / daos_obj_layout_free (daos/object.h): an object's
 * shard locations as placement computes them from the container handle's pool map, for
 * tools (`daos object query`). No RPC: the same computation as the object layer's I/O.
 */
#define D_LOGFAC object

#include <daos.h>
#include <daos/client.h>
#include <daos/object.h>
#include <daos/oclass.h>
#include <daos/placement.h>
#include <gurt/common.h>

int
daos_obj_layout_free(struct daos_obj_layout *layout)
{
	uint32_t i;

	if (layout == NULL)
		return 0;
	for (i = 0; i < layout->ol_nr; i++)
		D_FREE(layout->ol_shards[i]);
	D_FREE(layout);
	return 0;
}

int
daos_obj_layout_get(daos_handle_t coh, daos_obj_id_t oid, struct daos_obj_layout **layoutp)
{
	struct daos_oclass_attr attr;
	struct pl_obj_layout *pl = NULL;
	struct daos_obj_layout *layout;
	struct dc_cont *co;
	uint32_t g;
	uint32_t s;
	int rc;

	if (layoutp == NULL || daos_oclass_oid2attr(oid, &attr) != 0)
		return -DER_INVAL;
	co = dc_cont_get(coh);
	if (co == NULL)
		return -DER_NO_HDL;
	pthread_rwlock_rdlock(&co->dc_pool->dp_lock);
	rc = pl_obj_place(co->dc_pool->dp_map, oid, NULL, &pl);
	pthread_rwlock_unlock(&co->dc_pool->dp_lock);
	dc_cont_put(co);
	if (rc != 0)
		return rc;
	D_ALLOC(layout, sizeof(*layout) + pl->ol_grp_nr * sizeof(layout->ol_shards[0]));
	if (layout == NULL) {
		rc = -DER_NOMEM;
		goto out;
	}
	layout->ol_ver = pl->ol_ver;
	layout->ol_class = daos_obj_id2class(oid);
	for (g = 0; g < pl->ol_grp_nr; g++) {
		struct daos_obj_shard *sh;

		D_ALLOC(sh, sizeof(*sh) + pl->ol_grp_size * sizeof(sh->os_shard_loc[0]));
		if (sh == NULL) {
			rc = -DER_NOMEM;
			break;
		}
		layout->ol_shards[g] = sh;
		layout->ol_nr = g + 1;
		sh->os_replica_nr = pl->ol_grp_size;
		for (s = 0; s < pl->ol_grp_size; s++) {
			const struct pl_obj_shard *ps = &pl->ol_shards[g * pl->ol_grp_size + s];

			sh->os_shard_loc[s].sd_rank =
			    ps->po_target == PL_TGT_NONE ? DAOS_TGT_IGNORE : ps->po_rank;
			sh->os_shard_loc[s].sd_tgt_idx = ps->po_index;
		}
	}
	if (rc != 0)
		daos_obj_layout_free(layout);
	else
		*layoutp = layout;
out:
	pl_obj_layout_free(pl);
	return rc;
}
