/*
 * vos_common.c: things every file of the module shares.
 */
#include "vos_internal.h"

D_LOG_FAC_DEFINE(vos);
