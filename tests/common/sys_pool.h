/*
 * sys_pool.h: what the system tests of libdaos share: a pool on every target of a running
 * daos_server and a container in it, with handles built locally (see sys_pool.c).
 */
#ifndef TESTS_SYS_POOL_H
#define TESTS_SYS_POOL_H

#include <daos_types.h>

/**
 * daos_init, create a pool on every target of the server whose management port is at
 * @mgmt_addr (TgtCreate), learn the targets' fabric addresses (GetAttachInfo) and build a
 * pool handle *@poh and a container handle *@coh (new uuids) locally. Prints what failed;
 * returns 0 or a -DER_* error.
 */
int sys_pool_setup(const char *mgmt_addr, daos_handle_t *poh, daos_handle_t *coh);

/** Create pool @uuid on every target of the server at @mgmt_addr (TgtCreate). */
int sys_pool_create(const char *mgmt_addr, const uuid_t uuid);

/** The same with @scm and @nvme bytes in all (divided among the targets; sys_pool_create:
 *  256 MiB and 1 GiB). */
int sys_pool_create_size(const char *mgmt_addr, const uuid_t uuid, uint64_t scm, uint64_t nvme);

/**
 * A pool handle for pool @uuid over every target of the server at @mgmt_addr (its fabric
 * addresses from GetAttachInfo), as daos_pool_connect will give. daos_init must have run.
 */
int sys_pool_connect(const char *mgmt_addr, const uuid_t uuid, daos_handle_t *poh);

/** Close the handles of sys_pool_setup and daos_fini. */
void sys_pool_teardown(daos_handle_t poh, daos_handle_t coh);

#endif /* TESTS_SYS_POOL_H */
