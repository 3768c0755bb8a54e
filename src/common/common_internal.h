/*
 * common_internal.h: private to src/common. The module's public faces are
 * src/include/daos/{oclass,pool_map,placement}.h and the public headers in include/.
 */
#ifndef D_COMMON_INTERNAL_H
#define D_COMMON_INTERNAL_H

#include <string.h>

#include <gurt/common.h>
#include <daos_errno.h>
#include <daos_obj.h>
#include <daos_prop.h>
#include <daos/object.h>
#include <daos/oclass.h>

D_LOG_FAC_DECLARE(common);

/* Seed of DAOS's dkey hash (murmur64); fixed: it decides which group holds a dkey. */
#define DAOS_DKEY_HASH_SEED 5731

/* Most components of one kind in a pool map, and targets per rank (co_index is 8 bits). */
#define POOL_MAP_COMP_MAX (1U << 20)
#define POOL_MAP_TGT_PER_RANK_MAX 256

struct pool_component;
struct pool_map;

/* pool_map.c: build a map from its components, checking every invariant. */
int pm_build(const struct pool_component *doms, uint32_t dom_nr, const struct pool_component *tgts,
	     uint32_t tgt_nr, uint32_t version, struct pool_map **mapp);

/*
 * pool_map_codec.c: make @size bytes at @buf carry a consistent size and checksum field (tests
 * and fuzzers use it to reach the structural checks behind the checksum). @size >= 32.
 */
void pm_encode_fixup(void *buf, size_t size);

#endif /* D_COMMON_INTERNAL_H */
