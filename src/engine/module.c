/*
 * module.c: the table of server modules and their life (init, setup, cleanup, fini), and the
 * published running engine. Sits on libgurt only: the engine main (server.c) drives it, the
 * fabric integration walks it with dss_module_foreach. See daos_srv/daos_engine.h.
 */
#define D_LOGFAC server

#include <string.h>

#include <gurt/common.h>
#include <daos_errno.h>
#include <daos_srv/daos_engine.h>

D_LOG_FAC_DEFINE(server);

/* The loaded table and how far its modules got. Main thread only. */
static struct dss_module *const *mod_tab;
static uint32_t mod_inited; /* modules [0, mod_inited) passed sm_init */
static uint32_t mod_setup;  /* modules [0, mod_setup) passed sm_setup */

static const struct dss_engine *engine_cur;

int
dss_modules_init(struct dss_module *const *mods, uint32_t nr)
{
	uint32_t i, j;
	int rc;

	if (mod_tab != NULL) {
		D_ERROR("modules are already loaded\n");
		return -DER_INVAL;
	}
	for (i = 0; i < nr; i++) {
		if (mods[i] == NULL || mods[i]->sm_name == NULL ||
		    strnlen(mods[i]->sm_name, DSS_MODULE_NAME_MAX + 1) > DSS_MODULE_NAME_MAX) {
			D_ERROR("module %u has no valid name\n", i);
			return -DER_INVAL;
		}
		for (j = 0; j < i; j++)
			if (strcmp(mods[i]->sm_name, mods[j]->sm_name) == 0) {
				D_ERROR("module name %s is used twice\n", mods[i]->sm_name);
				return -DER_INVAL;
			}
	}
	mod_tab = mods;
	mod_inited = 0;
	mod_setup = 0;
	for (i = 0; i < nr; i++) {
		if (mods[i]->sm_init != NULL) {
			rc = mods[i]->sm_init();
			if (rc != 0) {
				D_ERROR("module %s: init failed: " DF_RC "\n", mods[i]->sm_name,
					DP_RC(rc));
				dss_modules_fini();
				return rc;
			}
		}
		mod_inited = i + 1;
		D_DEBUG("module %s initialised\n", mods[i]->sm_name);
	}
	return 0;
}

int
dss_modules_setup(void)
{
	uint32_t i;
	int rc;

	for (i = mod_setup; i < mod_inited; i++) {
		if (mod_tab[i]->sm_setup != NULL) {
			rc = mod_tab[i]->sm_setup();
			if (rc != 0) {
				D_ERROR("module %s: setup failed: " DF_RC "\n", mod_tab[i]->sm_name,
					DP_RC(rc));
				dss_modules_cleanup();
				return rc;
			}
		}
		mod_setup = i + 1;
	}
	return 0;
}

void
dss_modules_cleanup(void)
{
	int rc;

	while (mod_setup > 0) {
		struct dss_module *m = mod_tab[--mod_setup];

		if (m->sm_cleanup == NULL)
			continue;
		rc = m->sm_cleanup();
		if (rc != 0)
			D_ERROR("module %s: cleanup failed: " DF_RC "\n", m->sm_name, DP_RC(rc));
	}
}

void
dss_modules_fini(void)
{
	int rc;

	dss_modules_cleanup();
	while (mod_inited > 0) {
		struct dss_module *m = mod_tab[--mod_inited];

		if (m->sm_fini == NULL)
			continue;
		rc = m->sm_fini();
		if (rc != 0)
			D_ERROR("module %s: fini failed: " DF_RC "\n", m->sm_name, DP_RC(rc));
	}
	mod_tab = NULL;
}

struct dss_module *
dss_module_find(const char *name)
{
	uint32_t i;

	for (i = 0; i < mod_inited; i++)
		if (strcmp(mod_tab[i]->sm_name, name) == 0)
			return mod_tab[i];
	return NULL;
}

int
dss_module_foreach(int (*cb)(struct dss_module *mod, void *arg), void *arg)
{
	uint32_t i;
	int rc;

	for (i = 0; i < mod_inited; i++) {
		rc = cb(mod_tab[i], arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
dss_engine_set(const struct dss_engine *eng)
{
	__atomic_store_n(&engine_cur, eng, __ATOMIC_RELEASE);
}

const struct dss_engine *
dss_engine_get(void)
{
	return __atomic_load_n(&engine_cur, __ATOMIC_ACQUIRE);
}
