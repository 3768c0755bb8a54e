/*
 * daos/obj_rpc.h: the object I/O protocol between libdaos and the targets (module obj).
 *
 * Every request addresses one shard of one object on one target, in a container of a pool,
 * and carries the client's pool map version (a stale one is answered -DER_STALE) and an
 * epoch (0 on an update: the target stamps it with its HLC and returns it; on a read,
 * DAOS_EPOCH_MAX reads the latest). Room for the next phases: a DTX id and a forward list
 * (replicas the leader must forward to) travel in every modifying request and must be empty
 * today.
 *
 * Lists inside a request (I/O descriptors, keys, capacities) travel as byte strings in a
 * fixed little-endian layout, parsed and validated by obj_*_decode below, so the generated
 * codecs stay flat and zero-copy:
 *
 *	iods:	per iod: u32 name_len, name bytes, u8 type, u8 pad[3], u64 size, u64 flags,
 *		u32 nr, then nr x (u64 rx_idx, u64 rx_nr)        (type DAOS_IOD_SINGLE: nr 1,
 *		one recx {0, 1} is implied and not sent: nr is 0 on the wire)
 *	keys:	per key: u32 len, bytes
 *	u64s:	per value: u64
 *
 * Value data follow the iods in order as one byte stream: iod i contributes iod_size bytes
 * (single value) or iod_size x sum(rx_nr) bytes (array). Up to the context's inline limit the
 * stream travels in the message; beyond it the client registers its buffers as a bulk handle
 * and the target reads (update) or writes (fetch) them by RMA. For a fetch by bulk, the
 * client also sends the capacity of each iod's buffers so the target writes each iod's data
 * at the right remote offset.
 */
#ifndef DAOS_OBJ_RPC_H
#define DAOS_OBJ_RPC_H

#include <daos/net.h>
#include <daos/object.h>
#include <gurt/debug.h>

#define NET_MODULE_OBJ 2

D_LOG_FAC_DECLARE(object);

enum {
	OBJ_OPC_UPDATE = NET_OPC(NET_MODULE_OBJ, 0),
	OBJ_OPC_FETCH = NET_OPC(NET_MODULE_OBJ, 1),
	OBJ_OPC_PUNCH = NET_OPC(NET_MODULE_OBJ, 2),
	OBJ_OPC_LIST = NET_OPC(NET_MODULE_OBJ, 3),
	OBJ_OPC_QUERY_KEY = NET_OPC(NET_MODULE_OBJ, 4),
	OBJ_OPC_QUERY_COLL = NET_OPC(NET_MODULE_OBJ, 5),
	OBJ_OPC_FETCH_QUERY = NET_OPC(NET_MODULE_OBJ, 6),
};

/* Limits enforced by the decoders. */
#define OBJ_KEY_MAX 4096U                /* bytes of one dkey or akey (as DAOS) */
#define OBJ_IOD_MAX 1024U                /* iods per request */
#define OBJ_RECX_MAX (64U * 1024)        /* extents per request, all iods together */
#define OBJ_IODS_BLOB_MAX (2U << 20)     /* the encoded iods */
#define OBJ_KEYS_MAX 1024U               /* keys of a punch */
#define OBJ_LIST_NR_MAX 4096U            /* keys or extents per list call */
#define OBJ_LIST_BUF_MAX (1U << 20)      /* bytes of keys per list call */
#define OBJ_DATA_MAX (NET_PING_DATA_MAX) /* inline value bytes */
#define OBJ_FWD_MAX 0U                   /* forward list: not yet */
#define OBJ_IO_MAX (256ULL << 20)        /* value bytes of one update or fetch */
#define OBJ_COLL_MAX 64U                 /* shards of one collective query */

/* oh_flags: the DAOS_COND_* flags of the call, plus: */
#define OBJ_F_BULK (1ULL << 48) /* the data travel by bulk */

/* What every object request starts with. */
#define OBJ_HDR_FIELDS(F)                                                                          \
	F(uuid, oh_pool, 0)                                                                        \
	F(uuid, oh_cont, 0)                                                                        \
	F(uuid, oh_coh, 0)                                                                         \
	F(u64, oh_oid_lo, 0)                                                                       \
	F(u64, oh_oid_hi, 0)                                                                       \
	F(u32, oh_shard, 0)                                                                        \
	F(u32, oh_map_ver, 0)                                                                      \
	F(u64, oh_epoch, 0)                                                                        \
	F(u64, oh_flags, 0)                                                                        \
	F(bytes, oh_dti, 32)                                                                       \
	F(bytes, oh_fwd, OBJ_FWD_MAX)

#define OBJ_UPDATE_IN_FIELDS(F)                                                                    \
	OBJ_HDR_FIELDS(F)                                                                          \
	F(bytes, ui_dkey, OBJ_KEY_MAX)                                                             \
	F(u32, ui_iod_nr, 0)                                                                       \
	F(bytes, ui_iods, OBJ_IODS_BLOB_MAX)                                                       \
	F(u64, ui_data_len, 0)                                                                     \
	F(bytes, ui_data, OBJ_DATA_MAX)
#define OBJ_UPDATE_OUT_FIELDS(F)                                                                   \
	F(u64, uo_epoch, 0)                                                                        \
	F(u32, uo_map_ver, 0)

#define OBJ_FETCH_IN_FIELDS(F)                                                                     \
	OBJ_HDR_FIELDS(F)                                                                          \
	F(bytes, fi_dkey, OBJ_KEY_MAX)                                                             \
	F(u32, fi_iod_nr, 0)                                                                       \
	F(bytes, fi_iods, OBJ_IODS_BLOB_MAX)                                                       \
	F(bytes, fi_caps, OBJ_IOD_MAX * 8)
#define OBJ_FETCH_OUT_FIELDS(F)                                                                    \
	F(u64, fo_epoch, 0)                                                                        \
	F(u32, fo_map_ver, 0)                                                                      \
	F(bytes, fo_sizes, OBJ_IOD_MAX * 8)                                                        \
	F(bytes, fo_lens, OBJ_IOD_MAX * 8)                                                         \
	F(bytes, fo_data, OBJ_DATA_MAX)

/* pi_kind */
enum { OBJ_PUNCH_OBJ = 1, OBJ_PUNCH_DKEYS = 2, OBJ_PUNCH_AKEYS = 3 };

#define OBJ_PUNCH_IN_FIELDS(F)                                                                     \
	OBJ_HDR_FIELDS(F)                                                                          \
	F(u32, pi_kind, 0)                                                                         \
	F(bytes, pi_dkey, OBJ_KEY_MAX)                                                             \
	F(u32, pi_key_nr, 0)                                                                       \
	F(bytes, pi_keys, OBJ_KEYS_MAX *(OBJ_KEY_MAX + 4))
#define OBJ_PUNCH_OUT_FIELDS(F)                                                                    \
	F(u64, po_epoch, 0)                                                                        \
	F(u32, po_map_ver, 0)

/* li_kind */
enum { OBJ_LIST_DKEY = 1, OBJ_LIST_AKEY = 2, OBJ_LIST_RECX = 3 };

#define OBJ_LIST_IN_FIELDS(F)                                                                      \
	OBJ_HDR_FIELDS(F)                                                                          \
	F(u32, li_kind, 0)                                                                         \
	F(bytes, li_dkey, OBJ_KEY_MAX)                                                             \
	F(bytes, li_akey, OBJ_KEY_MAX)                                                             \
	F(bytes, li_anchor, sizeof(daos_anchor_t))                                                 \
	F(u32, li_nr, 0)                                                                           \
	F(u32, li_buf_len, 0)
/*
 * lo_anchor: where to resume; lo_nr: keys or extents returned; lo_kds: per key u64 len and
 * u32 val_type (12 bytes each); lo_keys: the keys back to back; lo_recxs: extents (16 bytes
 * each), lo_rsize their record size. -DER_KEY2BIG: lo_nr is 0 and lo_kds holds one entry,
 * the size the next key needs.
 */
#define OBJ_LIST_OUT_FIELDS(F)                                                                     \
	F(u32, lo_map_ver, 0)                                                                      \
	F(bytes, lo_anchor, sizeof(daos_anchor_t))                                                 \
	F(u32, lo_nr, 0)                                                                           \
	F(bytes, lo_kds, OBJ_LIST_NR_MAX * 12)                                                     \
	F(bytes, lo_keys, OBJ_LIST_BUF_MAX)                                                        \
	F(u64, lo_rsize, 0)                                                                        \
	F(bytes, lo_recxs, OBJ_LIST_NR_MAX * 16)

#define OBJ_QUERY_IN_FIELDS(F)                                                                     \
	OBJ_HDR_FIELDS(F)                                                                          \
	F(u32, qi_qflags, 0)                                                                       \
	F(bytes, qi_dkey, OBJ_KEY_MAX)                                                             \
	F(bytes, qi_akey, OBJ_KEY_MAX)
#define OBJ_QUERY_OUT_FIELDS(F)                                                                    \
	F(u32, qo_map_ver, 0)                                                                      \
	F(bytes, qo_dkey, OBJ_KEY_MAX)                                                             \
	F(bytes, qo_akey, OBJ_KEY_MAX)                                                             \
	F(u64, qo_rx_idx, 0)                                                                       \
	F(u64, qo_rx_nr, 0)

/*
 * A collective query: the query key of several shards of one object held by the engine that
 * receives it (the header's oh_shard is ignored). qi_shards: qi_shard_nr pairs of
 * little-endian u32 (shard, target index in the engine), decoded by obj_coll_decode. The
 * reply is a query's: the best of the shards' answers (max or min dkey), -DER_NONEXIST if
 * none has one, else the first shard's error.
 */
#define OBJ_QUERY_COLL_IN_FIELDS(F)                                                                \
	OBJ_QUERY_IN_FIELDS(F)                                                                     \
	F(u32, qi_shard_nr, 0)                                                                     \
	F(bytes, qi_shards, OBJ_COLL_MAX * 8)

/*
 * A fetch and, after it on the same target, a collective dkey query of another object of the
 * container (libdfs's stat: a directory entry and the size of the file it names, one round
 * trip). The fetch's fields (inline only: no OBJ_F_BULK), then the query: the object
 * (fqi_oid_*), its flags (DAOS_GET_DKEY and MAX or MIN, optionally RECX, never AKEY: the
 * dkeys are uint64), the akey and the (shard, target) pairs of its groups on this engine, as
 * a collective query's. The reply is the fetch's (status and fields); when the fetch
 * succeeded and found something, fqo_qrc is the query's outcome (0, -DER_NONEXIST for no
 * key, or an error) and fqo_dkey/rx_* its answer; otherwise fqo_qrc is -DER_NONEXIST
 * and the query did not run. An engine without this opcode answers -DER_UNREG; one told not
 * to serve it (DAOS_OBJ_FETCH_QUERY=0) -DER_NOSYS: the client then asks the two apart.
 */
#define OBJ_FETCH_QUERY_IN_FIELDS(F)                                                               \
	OBJ_FETCH_IN_FIELDS(F)                                                                     \
	F(u64, fqi_oid_lo, 0)                                                                      \
	F(u64, fqi_oid_hi, 0)                                                                      \
	F(u32, fqi_qflags, 0)                                                                      \
	F(bytes, fqi_akey, OBJ_KEY_MAX)                                                            \
	F(u32, fqi_shard_nr, 0)                                                                    \
	F(bytes, fqi_shards, OBJ_COLL_MAX * 8)
#define OBJ_FETCH_QUERY_OUT_FIELDS(F)                                                              \
	OBJ_FETCH_OUT_FIELDS(F)                                                                    \
	F(i32, fqo_qrc, 0)                                                                         \
	F(u64, fqo_dkey, 0)                                                                        \
	F(u64, fqo_rx_idx, 0)                                                                      \
	F(u64, fqo_rx_nr, 0)

NET_STRUCT(obj_update_in, OBJ_UPDATE_IN_FIELDS);
NET_STRUCT(obj_update_out, OBJ_UPDATE_OUT_FIELDS);
NET_STRUCT(obj_fetch_in, OBJ_FETCH_IN_FIELDS);
NET_STRUCT(obj_fetch_out, OBJ_FETCH_OUT_FIELDS);
NET_STRUCT(obj_punch_in, OBJ_PUNCH_IN_FIELDS);
NET_STRUCT(obj_punch_out, OBJ_PUNCH_OUT_FIELDS);
NET_STRUCT(obj_list_in, OBJ_LIST_IN_FIELDS);
NET_STRUCT(obj_list_out, OBJ_LIST_OUT_FIELDS);
NET_STRUCT(obj_query_in, OBJ_QUERY_IN_FIELDS);
NET_STRUCT(obj_query_out, OBJ_QUERY_OUT_FIELDS);
NET_STRUCT(obj_query_coll_in, OBJ_QUERY_COLL_IN_FIELDS);
NET_STRUCT(obj_fetch_query_in, OBJ_FETCH_QUERY_IN_FIELDS);
NET_STRUCT(obj_fetch_query_out, OBJ_FETCH_QUERY_OUT_FIELDS);

/* The request header as one struct: every *_in begins with these fields, in this order. */
NET_STRUCT(obj_hdr, OBJ_HDR_FIELDS);

#define OBJ_RPCS(X)                                                                                \
	X(OBJ_OPC_UPDATE, obj_update, obj_update_in, obj_update_out, ds_obj_update_handler)        \
	X(OBJ_OPC_FETCH, obj_fetch, obj_fetch_in, obj_fetch_out, ds_obj_fetch_handler)             \
	X(OBJ_OPC_PUNCH, obj_punch, obj_punch_in, obj_punch_out, ds_obj_punch_handler)             \
	X(OBJ_OPC_LIST, obj_list, obj_list_in, obj_list_out, ds_obj_list_handler)                  \
	X(OBJ_OPC_QUERY_KEY, obj_query_key, obj_query_in, obj_query_out, ds_obj_query_handler)     \
	X(OBJ_OPC_QUERY_COLL, obj_query_coll, obj_query_coll_in, obj_query_out,                    \
	  ds_obj_query_coll_handler)                                                               \
	X(OBJ_OPC_FETCH_QUERY, obj_fetch_query, obj_fetch_query_in, obj_fetch_query_out,           \
	  ds_obj_fetch_query_handler)

/** The object protocol's codecs (src/object/obj_rpc.c). */
extern const struct net_proto obj_proto;

/*
 * Lists inside requests. An encoder returns the bytes written, or -DER_OVERFLOW if @buf (of
 * @len bytes; NULL with len 0 to measure) is too small: call it once to size, once to write.
 * A decoder validates everything against the limits above and the bytes present and
 * returns 0, -DER_PROTO (truncated or trailing bytes) or -DER_INVAL (a value out of range).
 */

/** Bytes of the data stream of @iods (what the iods read or write), or -DER_INVAL. */
int64_t obj_iods_data_len(const daos_iod_t *iods, uint32_t nr);

/** Encode @nr iods (borrowed) into @buf. */
int64_t obj_iods_encode(const daos_iod_t *iods, uint32_t nr, void *buf, size_t len);

/**
 * Decode @nr iods from @blob. On success *@iods (caller frees with obj_iods_free) holds them;
 * their names point into @blob (borrowed: keep the message), their recxs are allocated.
 */
int obj_iods_decode(const d_iov_t *blob, uint32_t nr, daos_iod_t **iods);

/** Free what obj_iods_decode allocated (NULL is fine). */
void obj_iods_free(daos_iod_t *iods, uint32_t nr);

/** Encode @nr keys (borrowed) into @buf. */
int64_t obj_keys_encode(const daos_key_t *keys, uint32_t nr, void *buf, size_t len);

/** Decode @nr keys from @blob into *@keys (allocated, caller frees with D_FREE; the keys
 *  point into @blob). */
int obj_keys_decode(const d_iov_t *blob, uint32_t nr, daos_key_t **keys);

/** Decode exactly @nr u64 values from @blob into @vals (caller-sized). */
int obj_u64s_decode(const d_iov_t *blob, uint32_t nr, uint64_t *vals);

/** One shard of a collective query and the target (index in its engine) that holds it. */
struct obj_coll_shard {
	uint32_t cs_shard;
	uint32_t cs_tgt;
};

/**
 * Encode @nr pairs into @buf (8 * @nr bytes). Decode: @blob must hold exactly @nr pairs,
 * 1 <= @nr <= OBJ_COLL_MAX (-DER_PROTO for a wrong length, -DER_INVAL for a bad count or
 * a target not below @tgt_nr, or a shard named twice).
 */
void obj_coll_encode(const struct obj_coll_shard *cs, uint32_t nr, void *buf);
int obj_coll_decode(const d_iov_t *blob, uint32_t nr, uint32_t tgt_nr, struct obj_coll_shard *cs);

/**
 * Check the query half of a fetch-and-query request: its flags (a uint64 dkey query, see
 * OBJ_FETCH_QUERY_IN_FIELDS), a non-empty akey, and its pairs (obj_coll_decode into @cs,
 * targets below @tgt_nr). 0, -DER_INVAL or -DER_PROTO.
 */
struct obj_fetch_query_in;
int obj_fetch_query_check(const struct obj_fetch_query_in *in, uint32_t tgt_nr,
			  struct obj_coll_shard *cs);

/* Flags a query may carry: one of MAX/MIN, at least one of DKEY/AKEY/RECX, nothing else. */
static inline bool
obj_qflags_valid(uint32_t f)
{
	return ((f & DAOS_GET_MAX) != 0) != ((f & DAOS_GET_MIN) != 0) &&
	       (f & (DAOS_GET_DKEY | DAOS_GET_AKEY | DAOS_GET_RECX)) != 0 &&
	       (f & ~(DAOS_GET_MAX | DAOS_GET_MIN | DAOS_GET_DKEY | DAOS_GET_AKEY |
		      DAOS_GET_RECX)) == 0;
}

/*
 * One answer of a query key (a shard's, a group's, an engine's): its status and, when 0, the
 * uint64 keys found (qa_dkey/qa_akey: the keys asked for; arrays' keys are uint64) and the
 * extent (qa_recx).
 */
struct obj_qans {
	int qa_rc;
	uint64_t qa_dkey;
	uint64_t qa_akey;
	daos_recx_t qa_recx;
};

/*
 * Fold answer @a into *@acc for flags @f (obj_qflags_valid), answers taken in order; start
 * *@acc at qa_rc = -DER_NONEXIST. The client merges its groups (or engines) with it, the
 * engine the shards of a collective query. The result: the first error other than
 * -DER_NONEXIST if any answer has one; else -DER_NONEXIST if no answer found anything; else
 * the best answer, compared on the dkey (if asked), then the akey (if asked), then the end
 * of the extent (idx + nr, if asked): the greatest for DAOS_GET_MAX, the least for
 * DAOS_GET_MIN, the earliest of equals.
 */
void obj_query_merge(uint32_t f, struct obj_qans *acc, const struct obj_qans *a);

#endif /* DAOS_OBJ_RPC_H */
