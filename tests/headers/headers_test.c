/*
 * headers_test.c: compiled (never linked) by check.sh to prove that an application written for
 * DAOS 2.x builds against our public headers: the names it defines for itself do not clash,
 * and the layouts, constants and signatures it compiles in are DAOS's.
 */

/* Names DAOS applications commonly define themselves; the headers must leave them alone. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))

#include <daos.h>
#include <daos_fs.h>
#include <daos_fs_sys.h>
#include <daos_uns.h>
#include <daos_task.h>

#include <limits.h>
#include <stddef.h>

/* Globals applications name this way (ior, mdtest, the daos tools, many examples). */
daos_handle_t poh;
daos_handle_t coh;
daos_oclass_id_t cid;
int rank;
int verbose;

#define T_ASSERT(cond) _Static_assert(cond, #cond)
#define T_OFF(type, member, off) T_ASSERT(offsetof(type, member) == (off))

/* The renaming macros: pasting a prefix onto the macro's expansion must give the "2" name. */
#define T_CAT_(a, b) a##b
#define T_CAT(a, b) T_CAT_(a, b)
enum {
	T_CAT(t_, daos_pool_connect) = 1,
	T_CAT(t_, daos_cont_open) = 2,
	T_CAT(t_, daos_cont_destroy) = 3,
	T_CAT(t_, daos_cont_create) = 4,
	T_CAT(t_, daos_obj_generate_oid) = 5,
};
enum {
	t_renamed = t_daos_pool_connect2 + t_daos_cont_open2 + t_daos_cont_destroy2 +
		    t_daos_cont_create2 + t_daos_obj_generate_oid2,
};
T_ASSERT(t_renamed == 15);

/* Versions */
T_ASSERT(DAOS_API_VERSION_MAJOR == 2);
T_ASSERT(DAOS_API_VERSION_MINOR == 8);
T_ASSERT(DAOS_API_VERSION_FIX == 0);

/* Errors applications compile in */
T_ASSERT(DER_NO_PERM == 1001);
T_ASSERT(DER_NO_HDL == 1002);
T_ASSERT(DER_INVAL == 1003);
T_ASSERT(DER_EXIST == 1004);
T_ASSERT(DER_NONEXIST == 1005);
T_ASSERT(DER_UNREACH == 1006);
T_ASSERT(DER_NOSPACE == 1007);
T_ASSERT(DER_ALREADY == 1008);
T_ASSERT(DER_NOMEM == 1009);
T_ASSERT(DER_NOSYS == 1010);
T_ASSERT(DER_TIMEDOUT == 1011);
T_ASSERT(DER_BUSY == 1012);
T_ASSERT(DER_AGAIN == 1013);
T_ASSERT(DER_UNINIT == 1015);
T_ASSERT(DER_NOTDIR == 1027);
T_ASSERT(DER_IO == 2001);
T_ASSERT(DER_ENOENT == 2003);

/* Handles, keys, vectors */
T_ASSERT(sizeof(daos_handle_t) == 8);
T_OFF(daos_handle_t, cookie, 0);
T_OFF(d_iov_t, iov_buf, 0);
T_OFF(d_iov_t, iov_buf_len, 8);
T_OFF(d_iov_t, iov_len, 16);
T_ASSERT(sizeof(d_iov_t) == 24);
T_ASSERT(sizeof(daos_key_t) == sizeof(d_iov_t));
T_OFF(d_sg_list_t, sg_nr, 0);
T_OFF(d_sg_list_t, sg_nr_out, 4);
T_OFF(d_sg_list_t, sg_iovs, 8);
T_ASSERT(sizeof(d_sg_list_t) == 16);
T_OFF(d_rank_list_t, rl_ranks, 0);
T_OFF(d_rank_list_t, rl_nr, 8);

/* Events: embedded by applications, so the size is ABI */
T_ASSERT(sizeof(daos_event_t) == 176);
T_OFF(daos_event_t, ev_error, 0);
T_ASSERT(DAOS_EQ_NOWAIT == 0);
T_ASSERT(DAOS_EQ_WAIT == -1);
T_ASSERT(DAOS_EQ_DESTROY_FORCE == 1);

/* Anchors */
T_ASSERT(sizeof(daos_anchor_t) == 120);
T_OFF(daos_anchor_t, da_type, 0);
T_ASSERT(DAOS_ANCHOR_TYPE_EOF == 3);

/* Epochs */
T_ASSERT(sizeof(daos_epoch_t) == 8);
T_ASSERT(DAOS_EPOCH_MAX == ~0ULL);
T_OFF(daos_epoch_range_t, epr_lo, 0);
T_OFF(daos_epoch_range_t, epr_hi, 8);

/* Pools */
T_ASSERT(DAOS_PC_RO == 1);
T_ASSERT(DAOS_PC_RW == 2);
T_ASSERT(DAOS_PC_EX == 4);
T_ASSERT(DPI_SPACE == 1);
T_ASSERT(DPI_REBUILD_STATUS == 2);
T_ASSERT(DPI_ENGINES_ENABLED == 4);
T_ASSERT(DAOS_MEDIA_SCM == 0);
T_ASSERT(DAOS_MEDIA_NVME == 1);
T_OFF(daos_pool_info_t, pi_uuid, 0);
T_OFF(daos_pool_info_t, pi_ntargets, 16);
T_OFF(daos_pool_info_t, pi_nnodes, 20);
T_OFF(daos_pool_info_t, pi_ndisabled, 24);
T_OFF(daos_pool_info_t, pi_map_ver, 28);
T_OFF(daos_pool_info_t, pi_leader, 32);
T_OFF(daos_pool_info_t, pi_bits, 40);
T_OFF(daos_pool_info_t, pi_space, 48);
T_OFF(daos_pool_info_t, pi_space.ps_space.s_total[DAOS_MEDIA_SCM], 48);
T_OFF(daos_pool_info_t, pi_space.ps_space.s_total[DAOS_MEDIA_NVME], 56);
T_OFF(daos_pool_info_t, pi_space.ps_space.s_free[DAOS_MEDIA_SCM], 64);
T_OFF(daos_pool_info_t, pi_space.ps_space.s_free[DAOS_MEDIA_NVME], 72);
T_OFF(daos_pool_info_t, pi_space.ps_ntargets, 128);
T_OFF(daos_pool_info_t, pi_rebuild_st, 136);
T_OFF(daos_pool_info_t, pi_rebuild_st.rs_version, 136);
T_OFF(daos_pool_info_t, pi_rebuild_st.rs_errno, 144);
T_OFF(daos_pool_info_t, pi_rebuild_st.rs_state, 148);
T_OFF(daos_pool_info_t, pi_rebuild_st.rs_done, 148);
T_OFF(daos_pool_info_t, pi_rebuild_st.rs_fail_rank, 156);
T_OFF(daos_pool_info_t, pi_rebuild_st.rs_toberb_obj_nr, 160);
T_OFF(daos_pool_info_t, pi_rebuild_st.rs_size, 184);
T_ASSERT(sizeof(daos_pool_info_t) == 192);
T_OFF(struct daos_pool_cont_info, pci_label, 16);
T_ASSERT(sizeof(((struct daos_pool_cont_info *)0)->pci_label) == DAOS_PROP_LABEL_MAX_LEN + 1);

/* Containers */
T_ASSERT(DAOS_COO_RO == 1);
T_ASSERT(DAOS_COO_RW == 2);
T_ASSERT(DAOS_COO_EX == 4);
T_ASSERT(DAOS_COO_FORCE == 8);
T_ASSERT(DAOS_COO_RO_MDSTATS == 16);
T_ASSERT(DAOS_COO_EVICT == 32);
T_ASSERT(DAOS_COO_EVICT_ALL == 64);
T_OFF(daos_cont_info_t, ci_uuid, 0);
T_OFF(daos_cont_info_t, ci_lsnapshot, 16);
T_OFF(daos_cont_info_t, ci_nhandles, 24);
T_OFF(daos_cont_info_t, ci_nsnapshots, 28);
T_OFF(daos_cont_info_t, ci_md_otime, 32);
T_OFF(daos_cont_info_t, ci_md_mtime, 40);
T_ASSERT(sizeof(daos_cont_info_t) == 48);

/* Properties */
T_ASSERT(DAOS_PROP_PO_LABEL == 1);
T_ASSERT(DAOS_PROP_PO_ACL == 2);
T_ASSERT(DAOS_PROP_PO_EC_CELL_SZ == 9);
T_ASSERT(DAOS_PROP_PO_REDUN_FAC == 11);
T_ASSERT(DAOS_PROP_PO_REINT_MODE == 25);
T_ASSERT(DAOS_PROP_PO_SVC_OPS_ENTRY_AGE == 27);
T_ASSERT(DAOS_PROP_CO_MIN == 0x1000);
T_ASSERT(DAOS_PROP_CO_LABEL == 0x1001);
T_ASSERT(DAOS_PROP_CO_LAYOUT_TYPE == 0x1002);
T_ASSERT(DAOS_PROP_CO_CSUM == 0x1004);
T_ASSERT(DAOS_PROP_CO_REDUN_FAC == 0x1007);
T_ASSERT(DAOS_PROP_CO_ACL == 0x100a);
T_ASSERT(DAOS_PROP_CO_OWNER == 0x100d);
T_ASSERT(DAOS_PROP_CO_ROOTS == 0x1011);
T_ASSERT(DAOS_PROP_CO_EC_CELL_SZ == 0x1014);
T_ASSERT(DAOS_PROP_CO_PERF_DOMAIN == 0x101a);
T_ASSERT(DAOS_PROP_CO_LAYOUT_UNKNOWN == 0);
T_ASSERT(DAOS_PROP_CO_LAYOUT_POSIX == 1);
T_ASSERT(DAOS_PROP_CO_LAYOUT_HDF5 == 2);
T_ASSERT(DAOS_PROP_CO_LAYOUT_PYTHON == 3);
T_ASSERT(DAOS_PROP_CO_CSUM_OFF == 0);
T_ASSERT(DAOS_PROP_CO_CSUM_CRC32 == 2);
T_ASSERT(DAOS_PROP_CO_CSUM_SHA512 == 6);
T_ASSERT(DAOS_PROP_CO_REDUN_RF0 == 0);
T_ASSERT(DAOS_PROP_CO_REDUN_RF2 == 2);
T_ASSERT(DAOS_PROP_CO_REDUN_RANK == 1);
T_ASSERT(DAOS_PROP_CO_REDUN_NODE == 2);
T_ASSERT(DAOS_PROP_LABEL_MAX_LEN == 127);
T_OFF(struct daos_prop_entry, dpe_type, 0);
T_OFF(struct daos_prop_entry, dpe_flags, 4);
T_OFF(struct daos_prop_entry, dpe_val, 8);
T_OFF(struct daos_prop_entry, dpe_str, 8);
T_OFF(struct daos_prop_entry, dpe_val_ptr, 8);
T_ASSERT(sizeof(struct daos_prop_entry) == 16);
T_OFF(daos_prop_t, dpp_nr, 0);
T_OFF(daos_prop_t, dpp_entries, 8);

/* Objects */
T_OFF(daos_obj_id_t, lo, 0);
T_OFF(daos_obj_id_t, hi, 8);
T_ASSERT(DAOS_OO_RO == 2);
T_ASSERT(DAOS_OO_RW == 4);
T_ASSERT(DAOS_OO_EXCL == 8);
T_ASSERT(DAOS_IOD_NONE == 0);
T_ASSERT(DAOS_IOD_SINGLE == 1);
T_ASSERT(DAOS_IOD_ARRAY == 2);
T_ASSERT(DAOS_REC_ANY == 0);
T_ASSERT(DAOS_COND_PUNCH == 1);
T_ASSERT(DAOS_COND_DKEY_INSERT == 2);
T_ASSERT(DAOS_COND_DKEY_UPDATE == 4);
T_ASSERT(DAOS_COND_DKEY_FETCH == 8);
T_ASSERT(DAOS_COND_AKEY_INSERT == 16);
T_ASSERT(DAOS_COND_AKEY_UPDATE == 32);
T_ASSERT(DAOS_COND_AKEY_FETCH == 64);
T_ASSERT(DAOS_COND_PER_AKEY == 128);
T_ASSERT(DAOS_COND_KEY_INSERT == DAOS_COND_DKEY_INSERT);
T_ASSERT(DAOS_COND_KEY_REMOVE == DAOS_COND_PUNCH);
T_ASSERT(DAOS_GET_MAX == 1 && DAOS_GET_MIN == 2 && DAOS_GET_DKEY == 4);
T_ASSERT(DAOS_GET_AKEY == 8 && DAOS_GET_RECX == 16);
T_ASSERT(DAOS_OT_MULTI_HASHED == 0);
T_ASSERT(DAOS_OT_OIT == 1);
T_ASSERT(DAOS_OT_DKEY_UINT64 == 2);
T_ASSERT(DAOS_OT_AKEY_UINT64 == 3);
T_ASSERT(DAOS_OT_MULTI_UINT64 == 4);
T_ASSERT(DAOS_OT_DKEY_LEXICAL == 5);
T_ASSERT(DAOS_OT_AKEY_LEXICAL == 6);
T_ASSERT(DAOS_OT_MULTI_LEXICAL == 7);
T_ASSERT(DAOS_OT_KV_HASHED == 8);
T_ASSERT(DAOS_OT_KV_UINT64 == 9);
T_ASSERT(DAOS_OT_KV_LEXICAL == 10);
T_ASSERT(DAOS_OT_ARRAY == 11);
T_ASSERT(DAOS_OT_ARRAY_ATTR == 12);
T_ASSERT(DAOS_OT_ARRAY_BYTE == 13);
T_ASSERT(DAOS_OID_FMT_TYPE_SHIFT == 56);
T_ASSERT(DAOS_OID_FMT_CLASS_SHIFT == 48);
T_ASSERT(DAOS_OID_FMT_META_SHIFT == 32);
T_OFF(daos_iod_t, iod_name, 0);
T_OFF(daos_iod_t, iod_type, 24);
T_OFF(daos_iod_t, iod_size, 32);
T_OFF(daos_iod_t, iod_flags, 40);
T_OFF(daos_iod_t, iod_nr, 48);
T_OFF(daos_iod_t, iod_recxs, 56);
T_ASSERT(sizeof(daos_iod_t) == 64);
T_OFF(daos_recx_t, rx_idx, 0);
T_OFF(daos_recx_t, rx_nr, 8);
T_OFF(daos_key_desc_t, kd_key_len, 0);
T_OFF(daos_key_desc_t, kd_val_type, 8);
T_ASSERT(sizeof(daos_key_desc_t) == 16);
T_OFF(daos_iom_t, iom_size, 16);
T_OFF(daos_iom_t, iom_recxs, 56);

/* Object classes: (redundancy << 24) | groups, groups 0xffff for "X" */
T_ASSERT(OC_UNKNOWN == 0);
T_ASSERT(OC_REDUN_SHIFT == 24);
T_ASSERT(OC_TINY == 51 && OC_SMALL == 52 && OC_LARGE == 53 && OC_MAX == 54);
T_ASSERT(OC_RP_XSF == 80 && OC_EC_TINY == 100);
T_ASSERT(OC_S1 == 0x01000001);
T_ASSERT(OC_S2 == 0x01000002);
T_ASSERT(OC_S32 == 0x01000020);
T_ASSERT(OC_SX == 0x0100ffff);
T_ASSERT(OC_RP_2G1 == 0x08000001);
T_ASSERT(OC_RP_2GX == 0x0800ffff);
T_ASSERT(OC_RP_3G1 == 0x09000001);
T_ASSERT(OC_RP_3GX == 0x0900ffff);
T_ASSERT(OC_RP_6G32 == 0x0c000020);
T_ASSERT(OC_RP_128G1 == 0x14000001);
T_ASSERT(OC_EC_2P1G1 == 0x20000001);
T_ASSERT(OC_EC_2P1GX == 0x2000ffff);
T_ASSERT(OC_EC_4P2G1 == 0x23000001);
T_ASSERT(OC_EC_4P2GX == 0x2300ffff);
T_ASSERT(OC_EC_8P2G1 == 0x25000001);
T_ASSERT(OC_EC_4P3G1 == 0x28000001);
T_ASSERT(OC_EC_16P3GX == 0x2a00ffff);
T_ASSERT(OC_RESERVED == 0x40000000);
T_ASSERT(sizeof(daos_oclass_id_t) == 4);
T_ASSERT(sizeof(daos_oclass_hints_t) == 2);

/* Arrays */
T_OFF(daos_range_t, rg_idx, 0);
T_OFF(daos_range_t, rg_len, 8);
T_OFF(daos_array_iod_t, arr_nr, 0);
T_OFF(daos_array_iod_t, arr_rgs, 8);
T_OFF(daos_array_iod_t, arr_nr_short_read, 16);
T_OFF(daos_array_iod_t, arr_nr_read, 24);

/* Transactions */
T_ASSERT(DAOS_TF_RDONLY == 1 && DAOS_TF_ZERO_COPY == 2);

/* DFS */
T_ASSERT(DFS_RDONLY == O_RDONLY);
T_ASSERT(DFS_RDWR == O_RDWR);
T_ASSERT(DFS_BALANCED == 4);
T_ASSERT(DFS_RELAXED == 0);
T_ASSERT(DFS_MAX_NAME == NAME_MAX);
T_ASSERT(DFS_MAX_PATH == PATH_MAX);
T_ASSERT(DFS_DEFAULT_CHUNK_SIZE == 1048576);
T_ASSERT(DFS_SET_ATTR_MODE == 1 && DFS_SET_ATTR_GID == 32);
T_OFF(dfs_iod_t, iod_nr, 0);
T_OFF(dfs_iod_t, iod_rgs, 8);
T_OFF(dfs_attr_t, da_id, 0);
T_OFF(dfs_attr_t, da_chunk_size, 8);
T_OFF(dfs_attr_t, da_oclass_id, 16);
T_OFF(dfs_attr_t, da_props, 24);
T_OFF(dfs_attr_t, da_mode, 32);
T_OFF(dfs_obj_info_t, doi_oclass_id, 0);
T_OFF(dfs_obj_info_t, doi_chunk_size, 8);
T_ASSERT(DFS_SYS_NO_CACHE == 1 && DFS_SYS_NO_LOCK == 2);

/* UNS */
T_ASSERT(sizeof(((struct duns_attr_t *)0)->da_pool) == DAOS_PROP_LABEL_MAX_LEN + 1);

/* Tasks */
T_ASSERT(DAOS_OPC_POOL_CONNECT == 5);
T_ASSERT(DAOS_OPC_CONT_CREATE == 18);
T_ASSERT(DAOS_OPC_OBJ_FETCH == 54);
T_ASSERT(DAOS_OPC_ARRAY_CREATE == 60);
T_ASSERT(DAOS_OPC_KV_OPEN == 70);

/*
 * Signatures: each pointer has the exact type DAOS declares, so a prototype that differs in
 * any parameter fails to compile.
 */
int (*t_init)(void) = daos_init;
int (*t_fini)(void) = daos_fini;
int (*t_eq_create)(daos_handle_t *) = daos_eq_create;
int (*t_eq_destroy)(daos_handle_t, int) = daos_eq_destroy;
int (*t_eq_poll)(daos_handle_t, int, int64_t, unsigned int, daos_event_t **) = daos_eq_poll;
int (*t_eq_query)(daos_handle_t, daos_eq_query_t, unsigned int, daos_event_t **) = daos_eq_query;
int (*t_ev_init)(daos_event_t *, daos_handle_t, daos_event_t *) = daos_event_init;
int (*t_ev_fini)(daos_event_t *) = daos_event_fini;
int (*t_ev_test)(daos_event_t *, int64_t, bool *) = daos_event_test;
daos_event_t *(*t_ev_next)(daos_event_t *, daos_event_t *) = daos_event_next;
int (*t_ev_barrier)(daos_event_t *) = daos_event_parent_barrier;
int (*t_ev_abort)(daos_event_t *) = daos_event_abort;
int (*t_pool_connect)(const char *, const char *, unsigned int, daos_handle_t *, daos_pool_info_t *,
		      daos_event_t *) = daos_pool_connect;
int (*t_pool_disconnect)(daos_handle_t, daos_event_t *) = daos_pool_disconnect;
int (*t_pool_query)(daos_handle_t, d_rank_list_t **, daos_pool_info_t *, daos_prop_t *,
		    daos_event_t *) = daos_pool_query;
int (*t_pool_query_target)(daos_handle_t, uint32_t, d_rank_t, daos_target_info_t *,
			   daos_event_t *) = daos_pool_query_target;
int (*t_pool_list_cont)(daos_handle_t, daos_size_t *, struct daos_pool_cont_info *,
			daos_event_t *) = daos_pool_list_cont;
int (*t_pool_l2g)(daos_handle_t, d_iov_t *) = daos_pool_local2global;
int (*t_pool_g2l)(d_iov_t, daos_handle_t *) = daos_pool_global2local;
int (*t_pool_get_attr)(daos_handle_t, int, char const *const[], void *const[], size_t[],
		       daos_event_t *) = daos_pool_get_attr;
int (*t_mgmt_list_pools)(const char *, daos_size_t *, daos_mgmt_pool_info_t *,
			 daos_event_t *) = daos_mgmt_list_pools;
int (*t_cont_create)(daos_handle_t, uuid_t *, daos_prop_t *, daos_event_t *) = daos_cont_create;
int (*t_cont_create_label)(daos_handle_t, const char *, daos_prop_t *, uuid_t *,
			   daos_event_t *) = daos_cont_create_with_label;
int (*t_cont_open)(daos_handle_t, const char *, unsigned int, daos_handle_t *, daos_cont_info_t *,
		   daos_event_t *) = daos_cont_open;
int (*t_cont_close)(daos_handle_t, daos_event_t *) = daos_cont_close;
int (*t_cont_destroy)(daos_handle_t, const char *, int, daos_event_t *) = daos_cont_destroy;
int (*t_cont_query)(daos_handle_t, daos_cont_info_t *, daos_prop_t *,
		    daos_event_t *) = daos_cont_query;
int (*t_cont_set_prop)(daos_handle_t, daos_prop_t *, daos_event_t *) = daos_cont_set_prop;
int (*t_cont_alloc_oids)(daos_handle_t, daos_size_t, uint64_t *,
			 daos_event_t *) = daos_cont_alloc_oids;
int (*t_cont_snap)(daos_handle_t, daos_epoch_t *, char *, daos_event_t *) = daos_cont_create_snap;
int (*t_cont_snap_opt)(daos_handle_t, daos_epoch_t *, char *, enum daos_snapshot_opts,
		       daos_event_t *) = daos_cont_create_snap_opt;
int (*t_cont_list_snap)(daos_handle_t, int *, daos_epoch_t *, char **, daos_anchor_t *,
			daos_event_t *) = daos_cont_list_snap;
int (*t_cont_destroy_snap)(daos_handle_t, daos_epoch_range_t,
			   daos_event_t *) = daos_cont_destroy_snap;
int (*t_cont_get_acl)(daos_handle_t, daos_prop_t **, daos_event_t *) = daos_cont_get_acl;
int (*t_cont_overwrite_acl)(daos_handle_t, struct daos_acl *,
			    daos_event_t *) = daos_cont_overwrite_acl;
int (*t_cont_delete_acl)(daos_handle_t, enum daos_acl_principal_type, d_string_t,
			 daos_event_t *) = daos_cont_delete_acl;
int (*t_cont_set_owner)(daos_handle_t, d_string_t, d_string_t,
			daos_event_t *) = daos_cont_set_owner;
int (*t_cont_l2g)(daos_handle_t, d_iov_t *) = daos_cont_local2global;
int (*t_cont_g2l)(daos_handle_t, d_iov_t, daos_handle_t *) = daos_cont_global2local;
int (*t_cont_aggregate)(daos_handle_t, daos_epoch_t, daos_event_t *) = daos_cont_aggregate;
int (*t_gen_oid)(daos_handle_t, daos_obj_id_t *, enum daos_otype_t, daos_oclass_id_t,
		 daos_oclass_hints_t, uint32_t) = daos_obj_generate_oid;
int (*t_obj_open)(daos_handle_t, daos_obj_id_t, unsigned int, daos_handle_t *,
		  daos_event_t *) = daos_obj_open;
int (*t_obj_close)(daos_handle_t, daos_event_t *) = daos_obj_close;
int (*t_obj_update)(daos_handle_t, daos_handle_t, uint64_t, daos_key_t *, unsigned int,
		    daos_iod_t *, d_sg_list_t *, daos_event_t *) = daos_obj_update;
int (*t_obj_fetch)(daos_handle_t, daos_handle_t, uint64_t, daos_key_t *, unsigned int, daos_iod_t *,
		   d_sg_list_t *, daos_iom_t *, daos_event_t *) = daos_obj_fetch;
int (*t_obj_punch)(daos_handle_t, daos_handle_t, uint64_t, daos_event_t *) = daos_obj_punch;
int (*t_obj_punch_dkeys)(daos_handle_t, daos_handle_t, uint64_t, unsigned int, daos_key_t *,
			 daos_event_t *) = daos_obj_punch_dkeys;
int (*t_obj_punch_akeys)(daos_handle_t, daos_handle_t, uint64_t, daos_key_t *, unsigned int,
			 daos_key_t *, daos_event_t *) = daos_obj_punch_akeys;
int (*t_list_dkey)(daos_handle_t, daos_handle_t, uint32_t *, daos_key_desc_t *, d_sg_list_t *,
		   daos_anchor_t *, daos_event_t *) = daos_obj_list_dkey;
int (*t_list_akey)(daos_handle_t, daos_handle_t, daos_key_t *, uint32_t *, daos_key_desc_t *,
		   d_sg_list_t *, daos_anchor_t *, daos_event_t *) = daos_obj_list_akey;
int (*t_list_recx)(daos_handle_t, daos_handle_t, daos_key_t *, daos_key_t *, daos_size_t *,
		   uint32_t *, daos_recx_t *, daos_epoch_range_t *, daos_anchor_t *, bool,
		   daos_event_t *) = daos_obj_list_recx;
int (*t_query_key)(daos_handle_t, daos_handle_t, uint64_t, daos_key_t *, daos_key_t *,
		   daos_recx_t *, daos_event_t *) = daos_obj_query_key;
int (*t_name2id)(const char *) = daos_oclass_name2id;
int (*t_id2name)(daos_oclass_id_t, char *) = daos_oclass_id2name;
ssize_t (*t_names_list)(size_t, char *) = daos_oclass_names_list;
int (*t_tx_open)(daos_handle_t, daos_handle_t *, uint64_t, daos_event_t *) = daos_tx_open;
int (*t_tx_open_snap)(daos_handle_t, daos_epoch_t, daos_handle_t *,
		      daos_event_t *) = daos_tx_open_snap;
int (*t_tx_commit)(daos_handle_t, daos_event_t *) = daos_tx_commit;
int (*t_tx_abort)(daos_handle_t, daos_event_t *) = daos_tx_abort;
int (*t_tx_restart)(daos_handle_t, daos_event_t *) = daos_tx_restart;
int (*t_tx_close)(daos_handle_t, daos_event_t *) = daos_tx_close;
int (*t_tx_hdl2epoch)(daos_handle_t, daos_epoch_t *) = daos_tx_hdl2epoch;
int (*t_kv_open)(daos_handle_t, daos_obj_id_t, unsigned int, daos_handle_t *,
		 daos_event_t *) = daos_kv_open;
int (*t_kv_put)(daos_handle_t, daos_handle_t, uint64_t, const char *, daos_size_t, const void *,
		daos_event_t *) = daos_kv_put;
int (*t_kv_get)(daos_handle_t, daos_handle_t, uint64_t, const char *, daos_size_t *, void *,
		daos_event_t *) = daos_kv_get;
int (*t_kv_remove)(daos_handle_t, daos_handle_t, uint64_t, const char *,
		   daos_event_t *) = daos_kv_remove;
int (*t_kv_list)(daos_handle_t, daos_handle_t, uint32_t *, daos_key_desc_t *, d_sg_list_t *,
		 daos_anchor_t *, daos_event_t *) = daos_kv_list;
int (*t_kv_destroy)(daos_handle_t, daos_handle_t, daos_event_t *) = daos_kv_destroy;
int (*t_array_create)(daos_handle_t, daos_obj_id_t, daos_handle_t, daos_size_t, daos_size_t,
		      daos_handle_t *, daos_event_t *) = daos_array_create;
int (*t_array_open)(daos_handle_t, daos_obj_id_t, daos_handle_t, unsigned int, daos_size_t *,
		    daos_size_t *, daos_handle_t *, daos_event_t *) = daos_array_open;
int (*t_array_open_attr)(daos_handle_t, daos_obj_id_t, daos_handle_t, unsigned int, daos_size_t,
			 daos_size_t, daos_handle_t *, daos_event_t *) = daos_array_open_with_attr;
int (*t_array_read)(daos_handle_t, daos_handle_t, daos_array_iod_t *, d_sg_list_t *,
		    daos_event_t *) = daos_array_read;
int (*t_array_write)(daos_handle_t, daos_handle_t, daos_array_iod_t *, d_sg_list_t *,
		     daos_event_t *) = daos_array_write;
int (*t_array_get_size)(daos_handle_t, daos_handle_t, daos_size_t *,
			daos_event_t *) = daos_array_get_size;
int (*t_array_set_size)(daos_handle_t, daos_handle_t, daos_size_t,
			daos_event_t *) = daos_array_set_size;
int (*t_array_stat)(daos_handle_t, daos_handle_t, daos_array_stbuf_t *,
		    daos_event_t *) = daos_array_stat;
int (*t_array_punch)(daos_handle_t, daos_handle_t, daos_array_iod_t *,
		     daos_event_t *) = daos_array_punch;
int (*t_array_destroy)(daos_handle_t, daos_handle_t, daos_event_t *) = daos_array_destroy;
int (*t_array_get_attr)(daos_handle_t, daos_size_t *, daos_size_t *) = daos_array_get_attr;
int (*t_array_close)(daos_handle_t, daos_event_t *) = daos_array_close;
daos_prop_t *(*t_prop_alloc)(uint32_t) = daos_prop_alloc;
void (*t_prop_free)(daos_prop_t *) = daos_prop_free;
void (*t_rank_list_free)(d_rank_list_t *) = d_rank_list_free;
int (*t_dfs_init)(void) = dfs_init;
int (*t_dfs_connect)(const char *, const char *, const char *, int, dfs_attr_t *,
		     dfs_t **) = dfs_connect;
int (*t_dfs_mount)(daos_handle_t, daos_handle_t, int, dfs_t **) = dfs_mount;
int (*t_dfs_cont_create)(daos_handle_t, uuid_t *, dfs_attr_t *, daos_handle_t *,
			 dfs_t **) = dfs_cont_create;
int (*t_dfs_open)(dfs_t *, dfs_obj_t *, const char *, mode_t, int, daos_oclass_id_t, daos_size_t,
		  const char *, dfs_obj_t **) = dfs_open;
int (*t_dfs_open_stat)(dfs_t *, dfs_obj_t *, const char *, mode_t, int, daos_oclass_id_t,
		       daos_size_t, const char *, dfs_obj_t **, struct stat *) = dfs_open_stat;
int (*t_dfs_read)(dfs_t *, dfs_obj_t *, d_sg_list_t *, daos_off_t, daos_size_t *,
		  daos_event_t *) = dfs_read;
int (*t_dfs_write)(dfs_t *, dfs_obj_t *, d_sg_list_t *, daos_off_t, daos_event_t *) = dfs_write;
int (*t_dfs_readx)(dfs_t *, dfs_obj_t *, dfs_iod_t *, d_sg_list_t *, daos_size_t *,
		   daos_event_t *) = dfs_readx;
int (*t_dfs_remove)(dfs_t *, dfs_obj_t *, const char *, bool, daos_obj_id_t *) = dfs_remove;
int (*t_dfs_stat)(dfs_t *, dfs_obj_t *, const char *, struct stat *) = dfs_stat;
int (*t_dfs_lookup)(dfs_t *, const char *, int, dfs_obj_t **, mode_t *, struct stat *) = dfs_lookup;
int (*t_dfs_readdir)(dfs_t *, dfs_obj_t *, daos_anchor_t *, uint32_t *,
		     struct dirent *) = dfs_readdir;
int (*t_dfs_chown)(dfs_t *, dfs_obj_t *, const char *, uid_t, gid_t, int) = dfs_chown;
int (*t_dfs_obj_l2g)(dfs_t *, dfs_obj_t *, d_iov_t *) = dfs_obj_local2global;
int (*t_dfs_obj_g2l)(dfs_t *, int, d_iov_t, dfs_obj_t **) = dfs_obj_global2local;
int (*t_dfs_sys_connect)(const char *, const char *, const char *, int, int, dfs_attr_t *,
			 dfs_sys_t **) = dfs_sys_connect;
int (*t_duns_resolve)(const char *, struct duns_attr_t *) = duns_resolve_path;
int (*t_duns_create)(daos_handle_t, const char *, struct duns_attr_t *) = duns_create_path;
int (*t_duns_destroy)(daos_handle_t, const char *) = duns_destroy_path;

/* Inline helpers an application uses, and the application's own macros, side by side. */
int t_use_helpers(void);

int
t_use_helpers(void)
{
	daos_anchor_t anchor = DAOS_ANCHOR_INIT;
	daos_obj_id_t oid = {.lo = 1, .hi = 0};
	daos_handle_t hdl = DAOS_HDL_INVAL;
	d_iov_t iov;
	char buf[8];
	int n = 0;

	d_iov_set(&iov, buf, sizeof(buf));
	n += daos_anchor_is_eof(&anchor);
	n += daos_handle_is_inval(hdl);
	n += daos_handle_is_inval(DAOS_TX_NONE);
	oid.hi |= (uint64_t)DAOS_OT_ARRAY_BYTE << DAOS_OID_FMT_TYPE_SHIFT;
	n += daos_is_array(oid);
	n += (int)daos_obj_id2class(oid);
	n += daos_label_is_valid("pool_1");
	return max(n, (int)min(iov.iov_len, sizeof(buf))) + rank + verbose + (int)cid +
	       (int)poh.cookie + (int)coh.cookie;
}
