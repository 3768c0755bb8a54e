/*
 * cont_internal.h: the container half of libdaos (container.c, cont_prop.c), private to
 * src/client/api. Containers live in the management service; libdaos reaches it with
 * dc_svc_call (daos/svc_rpc.h) and the messages of src/proto/mgmt/cont.proto.
 */
#ifndef CONT_INTERNAL_H
#define CONT_INTERNAL_H

#include <daos_prop.h>

#include "mgmt/cont.pb-c.h"

/*
 * daos_prop_t <-> mgmt.ContProperty, the one place where the two meet.
 *
 * Strings (label, owner, group) travel in strval, the ACL in acl (one short-form ACE per
 * string, daos_acl_to_strs), the container roots (DAOS_PROP_CO_ROOTS) in strval as four
 * "hi.lo" pairs of 16 hex digits separated by ':', every other property in numval.
 */

/**
 * Convert the entries of @prop (borrowed; NULL or empty gives none) into a new array *@pbs
 * of *@nr messages (free with dc_cont_prop_pb_free). With @numbers_only, only the types
 * are sent (a query). Returns 0, -DER_INVAL (a type that is not a container property, a
 * string or ACL entry without a value), -DER_NOMEM.
 */
int dc_cont_prop2pb(const daos_prop_t *prop, bool numbers_only, Mgmt__ContProperty ***pbs,
		    size_t *nr);

/** Free what dc_cont_prop2pb allocated (NULL is fine). */
void dc_cont_prop_pb_free(Mgmt__ContProperty **pbs, size_t nr);

/**
 * Convert @nr messages (borrowed) into a new property list *@prop (daos_prop_free).
 * Numbers that are not container properties are skipped (a newer service). Returns 0,
 * -DER_PROTO (an ACL or roots value that does not parse), -DER_NOMEM.
 */
int dc_cont_pb2prop(Mgmt__ContProperty *const *pbs, size_t nr, daos_prop_t **prop);

#endif /* CONT_INTERNAL_H */
