/*
 * daos/prop.h: property-list helpers the client and server internals share
 * (src/common/prop.c), beyond the public ones of daos_prop.h. Not installed.
 */
#ifndef D_DAOS_PROP_INTERNAL_H
#define D_DAOS_PROP_INTERNAL_H

#include <daos_prop.h>

/**
 * A deep copy of @prop (values included), or NULL on allocation failure or if @prop holds a
 * type of no known kind. The caller frees it with daos_prop_free().
 */
daos_prop_t *daos_prop_dup(const daos_prop_t *prop);

/**
 * Fill the entries @prop_req asks for from @prop_reply (a query's answer), deep-copying the
 * values; an entry @prop_reply lacks gets DAOS_PROP_ENTRY_NOT_SET. With dpp_nr == 0,
 * @prop_req receives every entry of @prop_reply. 0 or -DER_NOMEM.
 */
int daos_prop_copy(daos_prop_t *prop_req, const daos_prop_t *prop_reply);

/** Is @type a known pool or container property type? */
bool daos_prop_type_valid(uint32_t type);

#endif /* D_DAOS_PROP_INTERNAL_H */
