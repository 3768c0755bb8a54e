/*
 * daos_kv.h: a flat key-value store over one DAOS object (type DAOS_OT_KV_*). Each key is a
 * NUL-terminated string mapped to a dkey; its value is a single value of any size.
 */
#ifndef D_DAOS_KV_H
#define D_DAOS_KV_H

#include <daos_types.h>
#include <daos_event.h>
#include <daos_obj.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** Conditional KV operations (flags of put, get, remove). */
/** put: insert the key if it does not exist, fail with -DER_EXIST otherwise */
#define DAOS_COND_KEY_INSERT DAOS_COND_DKEY_INSERT
/** put: update the key if it exists, fail with -DER_NONEXIST otherwise */
#define DAOS_COND_KEY_UPDATE DAOS_COND_DKEY_UPDATE
/** get: fail with -DER_NONEXIST if the key does not exist */
#define DAOS_COND_KEY_GET DAOS_COND_DKEY_FETCH
/** remove: fail with -DER_NONEXIST if the key does not exist */
#define DAOS_COND_KEY_REMOVE DAOS_COND_PUNCH

/** Open KV object @oid with mode DAOS_OO_RO/RW; close with daos_kv_close(). */
int daos_kv_open(daos_handle_t coh, daos_obj_id_t oid, unsigned int mode, daos_handle_t *oh,
		 daos_event_t *ev);

int daos_kv_close(daos_handle_t oh, daos_event_t *ev);

/** Punch every key of the KV; @oh must still be closed. */
int daos_kv_destroy(daos_handle_t oh, daos_handle_t th, daos_event_t *ev);

/** Set @key to the @size bytes at @buf, replacing any previous value. */
int daos_kv_put(daos_handle_t oh, daos_handle_t th, uint64_t flags, const char *key,
		daos_size_t size, const void *buf, daos_event_t *ev);

/**
 * Read the value of @key into @buf (*@size bytes); *@size returns the value size. With @buf
 * NULL only the size is returned. A missing key gives size 0 (or -DER_NONEXIST with
 * DAOS_COND_KEY_GET); a value larger than *@size gives -DER_REC2BIG.
 */
int daos_kv_get(daos_handle_t oh, daos_handle_t th, uint64_t flags, const char *key,
		daos_size_t *size, void *buf, daos_event_t *ev);

/** Remove @key and its value. */
int daos_kv_remove(daos_handle_t oh, daos_handle_t th, uint64_t flags, const char *key,
		   daos_event_t *ev);

/** Enumerate keys as daos_obj_list_dkey(). */
int daos_kv_list(daos_handle_t oh, daos_handle_t th, uint32_t *nr, daos_key_desc_t *kds,
		 d_sg_list_t *sgl, daos_anchor_t *anchor, daos_event_t *ev);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_KV_H */
