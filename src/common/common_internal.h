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

#endif /* D_COMMON_INTERNAL_H */
