/*
 * sec_internal.h: private to src/security (ACL helpers shared by its files).
 */
#ifndef SEC_INTERNAL_H
#define SEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <daos_security.h>
#include <gurt/common.h>

D_LOG_FAC_DECLARE(security);

/* Does the principal type carry a name (user, group)? */
static inline bool
sec_type_needs_name(unsigned int type)
{
	return type == DAOS_ACL_USER || type == DAOS_ACL_GROUP;
}

/* Is the principal type a group (named group or owner group)? */
static inline bool
sec_type_is_group(unsigned int type)
{
	return type == DAOS_ACL_GROUP || type == DAOS_ACL_OWNER_GROUP;
}

static inline bool
sec_type_is_valid(unsigned int type)
{
	return type <= DAOS_ACL_EVERYONE;
}

#endif /* SEC_INTERNAL_H */
