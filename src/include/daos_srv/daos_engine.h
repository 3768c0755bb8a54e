/*
 * daos_srv/daos_engine.h: the engine as modules see it: the module table through which a
 * server module (VOS, object, pool, container, management...) plugs into daos_server, and
 * the running engine (its configuration and xstreams).
 *
 * Life of the module table, driven by daos_server's start and stop (src/engine/server.c):
 *
 *   dss_modules_init     sm_init of each module, in table order (xstreams not running yet)
 *   ... xstreams start, VOS shards open, fabric starts ...
 *   dss_modules_setup    sm_setup of each module, in order (xstreams running, nothing served)
 *   ... serving ...
 *   dss_modules_cleanup  sm_cleanup in reverse order (fabric stopped, xstreams running)
 *   ... xstreams stop ...
 *   dss_modules_fini     sm_fini in reverse order
 *
 * A failure in sm_init or sm_setup unwinds exactly the modules that succeeded, in reverse.
 */
#ifndef DAOS_SRV_DAOS_ENGINE_H
#define DAOS_SRV_DAOS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <uuid/uuid.h>

struct dss_config;
struct dss_engine_config;
struct dss_xstream;
struct net_proto;
struct net_handler_ent;

/** Longest module name. */
#define DSS_MODULE_NAME_MAX 32

/**
 * A server module. Hooks may be NULL (nothing to do). A module's table entry is static and
 * outlives the engine; the engine never writes to it.
 */
struct dss_module {
	/** Short name, unique in the table ("vos", "obj", "pool"...). */
	const char *sm_name;
	/** Module number of its opcodes (NET_OPC(sm_mod_id, i)); ignored without sm_proto. */
	uint32_t sm_mod_id;
	/** Engine-wide set-up before any xstream runs. Returns 0 or -DER_*. */
	int (*sm_init)(void);
	/** Undoes sm_init. Returns 0 or -DER_* (logged; the stop goes on). */
	int (*sm_fini)(void);
	/** Once every module is initialised and the xstreams run: start ULTs, timers. */
	int (*sm_setup)(void);
	/** Undoes sm_setup, with the xstreams still running. */
	int (*sm_cleanup)(void);
	/** Codecs of the module's opcodes (registered with the fabric), or NULL. */
	const struct net_proto *sm_proto;
	/** Server handlers of those opcodes, installed on every target's context, or NULL. */
	const struct net_handler_ent *sm_handlers;
	uint32_t sm_handler_nr;
};

/*
 * The modules daos_server runs, in init order, NULL-terminated. Integration adds entries
 * to this table in module.c.
 */
extern struct dss_module *const dss_module_table[];

/**
 * Initialise the @nr modules of @mods (borrowed; kept until dss_modules_fini) in order.
 * On failure the modules already initialised are finalised in reverse order and the error
 * of the failing sm_init (logged with the module's name) is returned. Returns 0,
 * -DER_INVAL (a module without a name, a name used twice, or a table already loaded), or
 * the error of an sm_init.
 *
 * Context: the engine's main thread, at start.
 */
int dss_modules_init(struct dss_module *const *mods, uint32_t nr);

/**
 * Run sm_setup of every loaded module, in order; on failure, sm_cleanup of those already
 * set up, in reverse, and return the error.
 *
 * Context: the engine's main thread, once the xstreams run.
 */
int dss_modules_setup(void);

/** sm_cleanup of every module that was set up, in reverse order. Context: main thread. */
void dss_modules_cleanup(void);

/**
 * sm_fini of every loaded module, in reverse order (after dss_modules_cleanup, which it
 * runs first if needed), then forget the table.
 *
 * Context: the engine's main thread, at stop.
 */
void dss_modules_fini(void);

/** The loaded module called @name, or NULL. Context: any thread after init. */
struct dss_module *dss_module_find(const char *name);

/**
 * Call @cb(module, @arg) for each loaded module in order until one returns non-zero, which
 * is returned (the fabric integration registers each module's sm_proto and sm_handlers
 * this way). Context: any thread after init.
 */
int dss_module_foreach(int (*cb)(struct dss_module *mod, void *arg), void *arg);

/** The running engine: what daos_server started. Read-only once published. */
struct dss_engine {
	const struct dss_config *de_cfg;         /* the whole configuration */
	const struct dss_engine_config *de_ecfg; /* the engine this process runs */
	uint32_t de_idx;                         /* its index in de_cfg's engines */
	struct dss_xstream *de_sys_xs;           /* the system xstream */
	struct dss_xstream **de_tgt_xs;          /* one per target */
	uint32_t de_tgt_nr;
	struct dss_xstream **de_hlp_xs; /* helper xstreams (nr_xs_helpers) */
	uint32_t de_hlp_nr;
	uuid_t de_uuid;   /* the engine's uuid, from its superblock (made at format) */
	uint32_t de_rank; /* its rank from the superblock, UINT32_MAX if not known yet */
};

/**
 * Publish @eng (borrowed; NULL to withdraw) for dss_engine_get. Context: main thread, before
 * dss_modules_init and after dss_modules_fini.
 */
void dss_engine_set(const struct dss_engine *eng);

/** The running engine, or NULL outside daos_server. Context: any thread. */
const struct dss_engine *dss_engine_get(void);

#endif /* DAOS_SRV_DAOS_ENGINE_H */
