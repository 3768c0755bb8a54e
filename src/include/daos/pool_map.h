/*
 * daos/pool_map.h: the pool map (src/common/pool_map.c). Not installed.
 *
 * A pool map is a tree: the root, fault domains (nodes), ranks (engines), and the targets of
 * each rank as leaves. Every component has a state; the map has a version that goes up with
 * every change, so that clients and servers can tell which of two maps is newer. The map is
 * sent to clients and stored by the pool service in one compact, checksummed encoding
 * (pool_map_encode / pool_map_decode).
 *
 * Target states and the operations that move them (as DAOS):
 *
 *            EXTEND            ADD_IN
 *      NEW ---------> UP -------------> UPIN ---DRAIN---> DRAIN
 *                     ^ |                 |                 |
 *                REINT| |EXCLUDE   EXCLUDE|          EXCLUDE|  EXCLUDE_OUT
 *                     | v                 v                 v  (drain done)
 *      DOWNOUT <----- DOWN <--------------+-----------------+--------> DOWNOUT
 *              EXCLUDE_OUT (rebuild done)
 *
 * DOWN and DOWNOUT go back UP by REINT; FINISH_REBUILD is ADD_IN for UP targets and
 * EXCLUDE_OUT for DOWN and DRAIN ones. Operations that do not apply to a state are no-ops
 * (EXCLUDE of a DOWN target) or errors (-DER_BUSY: DRAIN of a NEW or UP target, REINT of a
 * NEW or DRAIN one, EXTEND of a DOWN one; -DER_NOSYS: EXCLUDE of a NEW target). Each target
 * that changes takes a new map version (stored in co_fseq when it fails, co_in_ver when it
 * comes in). A domain (rank, node, root) takes the state of its healthiest child, in the
 * order UPIN, DRAIN, UP, NEW, DOWN, DOWNOUT, so a rank whose targets all failed is DOWN.
 *
 * Context: a map is not locked; its owner serializes changes against readers (the pool
 * service applies changes to a copy and publishes it).
 */
#ifndef D_DAOS_POOL_MAP_H
#define D_DAOS_POOL_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <daos_types.h>

/* Component types; the values of the fault-domain levels match DAOS_PROP_CO_REDUN_*. */
enum pool_comp_type {
	PO_COMP_TP_TARGET = 0,
	PO_COMP_TP_RANK = 1,
	PO_COMP_TP_NODE = 2,
	PO_COMP_TP_ROOT = 255,
};

/* Component states (one bit each, so that sets of states are masks). */
enum pool_comp_state {
	PO_COMP_ST_UNKNOWN = 0,
	/** added by an extension, not in the pool yet */
	PO_COMP_ST_NEW = 1 << 0,
	/** healthy, being (re)integrated: rebuild is filling it */
	PO_COMP_ST_UP = 1 << 1,
	/** healthy and in the pool */
	PO_COMP_ST_UPIN = 1 << 2,
	/** failed; its data is being rebuilt elsewhere */
	PO_COMP_ST_DOWN = 1 << 3,
	/** failed, and its data has been rebuilt elsewhere */
	PO_COMP_ST_DOWNOUT = 1 << 4,
	/** being drained: its data is being moved elsewhere while it still serves */
	PO_COMP_ST_DRAIN = 1 << 5,
};

#define PO_COMP_ST_ALL                                                                             \
	(PO_COMP_ST_NEW | PO_COMP_ST_UP | PO_COMP_ST_UPIN | PO_COMP_ST_DOWN | PO_COMP_ST_DOWNOUT | \
	 PO_COMP_ST_DRAIN)

/* Operations on target states (pool_map_update). */
enum pool_map_op {
	POOL_MAP_EXCLUDE,
	POOL_MAP_DRAIN,
	POOL_MAP_REINT,
	POOL_MAP_EXTEND,
	POOL_MAP_ADD_IN,
	POOL_MAP_EXCLUDE_OUT,
	POOL_MAP_FINISH_REBUILD,
};

/* What every node of the tree has. */
struct pool_component {
	/** enum pool_comp_type */
	uint16_t co_type;
	/** enum pool_comp_state */
	uint8_t co_status;
	/** targets: index inside the rank */
	uint8_t co_index;
	/** immutable ID, unique among the components of its type */
	uint32_t co_id;
	/** ranks and targets: the engine's rank */
	uint32_t co_rank;
	/** map version that added it */
	uint32_t co_ver;
	/** map version of its last (re)integration */
	uint32_t co_in_ver;
	/** map version of its last failure (or drain) */
	uint32_t co_fseq;
	/** reserved flags */
	uint32_t co_flags;
	/** domains: children (domains, or targets for a rank) */
	uint32_t co_nr;
};

struct pool_target {
	struct pool_component ta_comp;
	/** index of its rank in pm_doms */
	uint32_t ta_dom;
};

struct pool_domain {
	struct pool_component do_comp;
	/** depth in the tree: 0 for the root */
	uint32_t do_level;
	/** index of the parent in pm_doms (the root: 0) */
	uint32_t do_parent;
	/** children: pm_doms[do_child .. + co_nr) (not for ranks) */
	uint32_t do_child;
	/** targets below it: pm_tgts[do_tgt .. + do_tgt_nr) */
	uint32_t do_tgt;
	uint32_t do_tgt_nr;
};

/** Most levels of domains (root, fault domains..., ranks). */
#define POOL_MAP_LEVEL_MAX 8

struct pool_map {
	/** version: goes up with every change */
	uint32_t pm_version;
	/** domains in breadth-first order, the root first; children of one domain adjacent */
	uint32_t pm_dom_nr;
	struct pool_domain *pm_doms;
	/** targets, ordered as their ranks in pm_doms, then by index in the rank */
	uint32_t pm_tgt_nr;
	struct pool_target *pm_tgts;
	/** target ID -> index in pm_tgts */
	uint32_t *pm_tgt_by_id;
	/** depth of the tree in domain levels (root = level 0, ranks = pm_level_nr - 1) */
	uint32_t pm_level_nr;
	/** type of the domains of each level */
	uint16_t pm_level_type[POOL_MAP_LEVEL_MAX];
};

/** One engine of a new pool: its rank, its fault domain (node) and its targets. */
struct pool_map_rank_desc {
	d_rank_t rd_rank;
	/** fault domain (node) ID: ranks with the same ID share a node */
	uint32_t rd_node;
	/** targets of the engine (1..255) */
	uint32_t rd_tgt_nr;
};

/**
 * Create the map of a new pool at @version: root, one node per distinct rd_node (ordered by
 * ID), the ranks of each node (ordered by rank), their targets, all UPIN. Target IDs are
 * given in that order from 0. Ranks must be distinct. The caller frees *@mapp with
 * pool_map_destroy(). 0, -DER_INVAL or -DER_NOMEM.
 */
int pool_map_create(const struct pool_map_rank_desc *ranks, uint32_t nr, uint32_t version,
		    struct pool_map **mapp);

/** Free @map (NULL is fine). */
void pool_map_destroy(struct pool_map *map);

/** A copy of @map in *@dupp (free with pool_map_destroy). 0 or -DER_NOMEM. */
int pool_map_dup(const struct pool_map *map, struct pool_map **dupp);

/**
 * Add engines to @map (pool extension): new ranks, in existing or new nodes, their targets
 * NEW with IDs after the existing ones; the version goes up by one. -DER_EXIST if a rank is
 * already in the map. On error the map is unchanged.
 */
int pool_map_extend(struct pool_map *map, const struct pool_map_rank_desc *ranks, uint32_t nr);

/**
 * Apply @op to the targets whose IDs are @tgt_ids[0..nr). Each target whose state changes
 * takes a new version and the domains above it are brought up to date. All or nothing: on error
 * (-DER_NONEXIST for an unknown ID, -DER_BUSY / -DER_NOSYS for a refused transition, see above) the
 * map is unchanged. *@changed (optional) tells whether anything changed.
 */
int pool_map_update(struct pool_map *map, const uint32_t *tgt_ids, uint32_t nr, enum pool_map_op op,
		    bool *changed);

/** Apply @op to every target of @rank (pool_map_update). -DER_NONEXIST if no such rank. */
int pool_map_update_rank(struct pool_map *map, d_rank_t rank, enum pool_map_op op, bool *changed);

/** The target with ID @id (borrowed), or NULL. */
struct pool_target *pool_map_find_target(const struct pool_map *map, uint32_t id);

/** Target @idx of @rank (borrowed), or NULL. */
struct pool_target *pool_map_find_target_by_rank_idx(const struct pool_map *map, d_rank_t rank,
						     uint32_t idx);

/** The domain of @rank (borrowed), or NULL. */
struct pool_domain *pool_map_find_rank(const struct pool_map *map, d_rank_t rank);

/**
 * The ranks whose state is in @status_mask, ascending, in a new list in *@ranksp (the caller
 * frees it with d_rank_list_free). 0 or -DER_NOMEM.
 */
int pool_map_get_ranks(const struct pool_map *map, unsigned int status_mask,
		       d_rank_list_t **ranksp);

/** Number of domains of @type (PO_COMP_TP_NODE, _RANK...). */
uint32_t pool_map_domain_nr(const struct pool_map *map, enum pool_comp_type type);

/** Number of targets whose state is in @status_mask. */
uint32_t pool_map_target_nr(const struct pool_map *map, unsigned int status_mask);

static inline uint32_t
pool_map_get_version(const struct pool_map *map)
{
	return map->pm_version;
}

/** Does a target in state @status hold no data to serve (failed or not yet added)? */
static inline bool
pool_comp_unavailable(uint8_t status)
{
	return (status & (PO_COMP_ST_DOWN | PO_COMP_ST_DOWNOUT | PO_COMP_ST_NEW)) != 0;
}

/** Name of a state ("UPIN"), or "UNKNOWN". */
const char *pool_comp_state2str(unsigned int status);

/*
 * Encoding: a 32-byte header then one 32-byte record per component, domains first
 * (breadth-first, as pm_doms), then targets (as pm_tgts); all integers little-endian.
 *
 *   header: magic "PMAP" (0x50414D50) u32, format u16 (1), levels u16, version u32,
 *           domains u32, targets u32, crc32c u32 (of the whole buffer with this field 0),
 *           size u64 (of the whole buffer)
 *   record: type u16, status u8, index u8, id, rank, ver, in_ver, fseq, flags, nr (u32 each)
 */
#define POOL_MAP_MAGIC 0x50414D50U
#define POOL_MAP_FORMAT 1
#define POOL_MAP_HDR_SIZE 32
#define POOL_MAP_REC_SIZE 32

/** Bytes pool_map_encode() needs for @map. */
size_t pool_map_encoded_size(const struct pool_map *map);

/**
 * Encode @map into @buf (@size bytes, at least pool_map_encoded_size()). Returns the number
 * of bytes written, or -DER_OVERFLOW.
 */
ssize_t pool_map_encode(const struct pool_map *map, void *buf, size_t size);

/**
 * Decode @size bytes at @buf into a new map in *@mapp (free with pool_map_destroy). Any byte
 * string is safe to pass: anything but a well-formed map of this format is -DER_INVAL
 * (-DER_MISMATCH for an unknown format version, -DER_NOMEM on allocation failure).
 */
int pool_map_decode(const void *buf, size_t size, struct pool_map **mapp);

#endif /* D_DAOS_POOL_MAP_H */
