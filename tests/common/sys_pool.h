/*
 * sys_pool.h: what the system tests of libdaos share: a pool on every target of a running
 * daos_server and a container in it, made and opened through the management service (see
 * sys_pool.c). The server must accept insecure credentials and a daos_agent must run for it
 * (DAOS_AGENT_DRPC_DIR): tests/common/with_server.sh starts both.
 */
#ifndef TESTS_SYS_POOL_H
#define TESTS_SYS_POOL_H

#include <daos_types.h>

/**
 * daos_init, create a pool on every joined engine of the system whose management service
 * answers at @mgmt_addr (PoolCreate), connect it RW (*@poh, daos_pool_connect) and create
 * and open RW a container in it (*@coh, daos_cont_create / daos_cont_open). Prints what
 * failed; returns 0 or a -DER_* error.
 */
int sys_pool_setup(const char *mgmt_addr, daos_handle_t *poh, daos_handle_t *coh);

/**
 * Create pool @uuid on every joined engine through the management service at @mgmt_addr
 * (PoolCreate, as dmg pool create; retried up to 60 s while the service elects itself and
 * the engine joins), owned by the caller's user and group.
 */
int sys_pool_create(const char *mgmt_addr, const uuid_t uuid);

/** The same with @scm and @nvme bytes per engine (divided among its targets;
 *  sys_pool_create: 256 MiB and 1 GiB). */
int sys_pool_create_size(const char *mgmt_addr, const uuid_t uuid, uint64_t scm, uint64_t nvme);

/**
 * Connect pool @uuid RW through the service (daos_pool_connect by uuid, through the
 * agent); @mgmt_addr is not used (kept for the callers). daos_init must have run.
 */
int sys_pool_connect(const char *mgmt_addr, const uuid_t uuid, daos_handle_t *poh);

/** Create a container in @poh through the service; its uuid in @cuuid. Prints a failure. */
int sys_cont_create(daos_handle_t poh, uuid_t cuuid);

/** Open container @cuuid of @poh through the service with @flags (DAOS_COO_*). */
int sys_cont_open(daos_handle_t poh, const uuid_t cuuid, unsigned int flags, daos_handle_t *coh);

/**
 * A pool handle built on the client only for pool @uuid (which need not exist) over every
 * target of the server at @mgmt_addr (GetAttachInfo): for tests of service calls through
 * the engines (svc_call_test). The targets serve no I/O through it: they refuse container
 * handles the service did not give.
 */
int sys_pool_local_handle(const char *mgmt_addr, const uuid_t uuid, daos_handle_t *poh);

/** Close the handles of sys_pool_setup and daos_fini. */
void sys_pool_teardown(daos_handle_t poh, daos_handle_t coh);

#endif /* TESTS_SYS_POOL_H */
