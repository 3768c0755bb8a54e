/*
 * srv_modules.c: the modules daos_server runs, in init order, after its built-in ones (the
 * engine's own `srv` module). Linked into the daos_server executable only, so that the
 * engine library does not depend on the modules built on top of it.
 */
#include <daos_srv/daos_engine.h>

extern struct dss_module obj_module;
extern struct dss_module svc_relay_module;

struct dss_module *const dss_module_table[] = {
    &obj_module,
    &svc_relay_module,
    NULL,
};
