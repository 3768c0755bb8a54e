/*
 * init.c: daos_init and daos_fini, the reference-counted setup of libdaos.
 *
 * A process forked from one that called daos_init starts with nothing initialised: the
 * parent's network contexts and queues cannot be used from the child (libfabric state is
 * per process), so the first daos_init in the child forgets them and starts afresh.
 */
#define D_LOGFAC client

#include <pthread.h>
#include <unistd.h>

#include <daos.h>
#include <daos/event.h>
#include <daos/obj_rpc.h>
#include <daos/svc_rpc.h>
#include <gurt/debug.h>

#include "client_internal.h"

D_LOG_FAC_DEFINE(client);

static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int lib_refs;
static pid_t lib_pid;

bool
dc_lib_initialized(void)
{
	return __atomic_load_n(&lib_refs, __ATOMIC_ACQUIRE) > 0 && lib_pid == getpid();
}

int
daos_init(void)
{
	int rc = 0;

	pthread_mutex_lock(&lib_lock);
	if (lib_refs > 0 && lib_pid != getpid()) {
		/* a forked child: the parent's state is not ours */
		lib_refs = 0;
		dc_ev_lib_forget();
	}
	if (lib_refs == 0) {
		/* the protocols this library speaks (a repeated registration is a no-op) */
		rc = net_proto_register(&obj_proto);
		if (rc != 0) {
			D_ERROR("cannot register the object protocol: " DF_RC "\n", DP_RC(rc));
			goto out;
		}
		rc = net_proto_register(&svc_proto);
		if (rc != 0) {
			D_ERROR("cannot register the service protocol: " DF_RC "\n", DP_RC(rc));
			goto out;
		}
		rc = dc_ev_lib_init();
		if (rc != 0) {
			D_ERROR("cannot initialise the event engine: " DF_RC "\n", DP_RC(rc));
			goto out;
		}
		lib_pid = getpid();
	}
	__atomic_store_n(&lib_refs, lib_refs + 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&lib_lock);
	return rc;
}

int
daos_fini(void)
{
	int rc = 0;

	pthread_mutex_lock(&lib_lock);
	if (lib_refs == 0 || lib_pid != getpid()) {
		rc = -DER_UNINIT;
		goto out;
	}
	if (lib_refs == 1) {
		dc_ev_lib_fini();
		dc_svc_fini();
	}
	__atomic_store_n(&lib_refs, lib_refs - 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&lib_lock);
	return rc;
}
