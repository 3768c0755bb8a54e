/*
 * client_internal.h: what the files of src/client/api share (private to libdaos).
 */
#ifndef CLIENT_INTERNAL_H
#define CLIENT_INTERNAL_H

#include <stdbool.h>

#include <gurt/debug.h>

D_LOG_FAC_DECLARE(client);

/* Handle types in the library's handle table (odd: see gurt/hash.h). */
enum {
	DC_HTYPE_EQ = 1,
	DC_HTYPE_POOL = 3,
	DC_HTYPE_CO = 5,
	DC_HTYPE_OBJ = 7,
};

/** Has daos_init been called (and not undone by as many daos_fini) in this process? */
bool dc_lib_initialized(void);

/** Forget the attach info cached by dc_svc_call (svc_call.c). Context: daos_fini. */
void dc_svc_fini(void);

/** Forget the event queues of the parent process in a forked child. */
void dc_ev_lib_forget(void);

#endif /* CLIENT_INTERNAL_H */
