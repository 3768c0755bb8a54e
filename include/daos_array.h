/*
 * daos_array.h: a one-dimensional array of fixed-size cells over one DAOS object. The array is
 * cut into chunks of chunk_size cells, one dkey per chunk, so chunks spread over the object's
 * shards. Cell size and chunk size are stored in the object (type DAOS_OT_ARRAY) or supplied
 * by the application at every open (DAOS_OT_ARRAY_ATTR, DAOS_OT_ARRAY_BYTE).
 */
#ifndef D_DAOS_ARRAY_H
#define D_DAOS_ARRAY_H

#include <daos_types.h>
#include <daos_event.h>
#include <daos_obj.h>

#pragma GCC visibility push(default)

#if defined(__cplusplus)
extern "C" {
#endif

/** A range of rg_len cells starting at index rg_idx. */
typedef struct {
	daos_off_t rg_idx;
	daos_size_t rg_len;
} daos_range_t;

/** The ranges of one array read, write or punch. */
typedef struct {
	/** number of ranges in arr_rgs */
	daos_size_t arr_nr;
	daos_range_t *arr_rgs;
	/**
	 * Read only, out: cells of the requested ranges beyond the end of the data found in the
	 * last chunk(s) read. Non-zero means the read may be short: compare with
	 * daos_array_get_size().
	 */
	daos_size_t arr_nr_short_read;
	/** Read only, out: cells actually read. */
	daos_size_t arr_nr_read;
} daos_array_iod_t;

/** Array size and modification time. */
typedef struct {
	/** size in cells */
	daos_size_t st_size;
	/** epoch of the last modification */
	daos_epoch_t st_max_epoch;
} daos_array_stbuf_t;

/**
 * Set the DAOS bits of @oid for an array: type DAOS_OT_ARRAY if @add_attr (cell and chunk
 * size kept in the object), DAOS_OT_ARRAY_ATTR otherwise. @cid, @hints, @args as for
 * daos_obj_generate_oid().
 */
static inline int
daos_array_generate_oid(daos_handle_t coh, daos_obj_id_t *oid, bool add_attr, daos_oclass_id_t cid,
			daos_oclass_hints_t hints, uint32_t args)
{
	enum daos_otype_t type = add_attr ? DAOS_OT_ARRAY : DAOS_OT_ARRAY_ATTR;

	return daos_obj_generate_oid(coh, oid, type, cid, hints, args);
}

/**
 * Create array @oid (type DAOS_OT_ARRAY) with @cell_size-byte cells and @chunk_size cells per
 * dkey, and open it (*@oh). Returns 0, -DER_EXIST, -DER_NO_HDL, -DER_INVAL...
 */
int daos_array_create(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th, daos_size_t cell_size,
		      daos_size_t chunk_size, daos_handle_t *oh, daos_event_t *ev);

/**
 * Open existing array @oid (type DAOS_OT_ARRAY) with mode DAOS_OO_RO/RW, returning its cell
 * and chunk size. -DER_NONEXIST if it was never created.
 */
int daos_array_open(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th, unsigned int mode,
		    daos_size_t *cell_size, daos_size_t *chunk_size, daos_handle_t *oh,
		    daos_event_t *ev);

/**
 * Open array @oid (type DAOS_OT_ARRAY_ATTR or DAOS_OT_ARRAY_BYTE) with sizes the caller
 * remembers; nothing is written. Opening with other sizes than before corrupts the array.
 */
int daos_array_open_with_attr(daos_handle_t coh, daos_obj_id_t oid, daos_handle_t th,
			      unsigned int mode, daos_size_t cell_size, daos_size_t chunk_size,
			      daos_handle_t *oh, daos_event_t *ev);

/**
 * Serialise open array @oh for another process. With glob->iov_buf NULL, only the size needed
 * is returned in glob->iov_buf_len. Local; does not block.
 */
int daos_array_local2global(daos_handle_t oh, d_iov_t *glob);

/** Rebuild an array handle from @glob in container @coh; @mode 0 keeps the original mode. */
int daos_array_global2local(daos_handle_t coh, d_iov_t glob, unsigned int mode, daos_handle_t *oh);

int daos_array_close(daos_handle_t oh, daos_event_t *ev);

/** Read the ranges of @iod into @sgl (whose total length must match). Holes read as zero. */
int daos_array_read(daos_handle_t oh, daos_handle_t th, daos_array_iod_t *iod, d_sg_list_t *sgl,
		    daos_event_t *ev);

/** Write @sgl into the ranges of @iod. */
int daos_array_write(daos_handle_t oh, daos_handle_t th, daos_array_iod_t *iod, d_sg_list_t *sgl,
		     daos_event_t *ev);

/** Size of the array in cells (one past the highest cell written), in *@size. */
int daos_array_get_size(daos_handle_t oh, daos_handle_t th, daos_size_t *size, daos_event_t *ev);

/** Size and modification epoch of the array. */
int daos_array_stat(daos_handle_t oh, daos_handle_t th, daos_array_stbuf_t *stbuf,
		    daos_event_t *ev);

/**
 * Truncate or extend the array to @size cells: shrinking punches the cells above, growing
 * makes the size visible without allocating.
 */
int daos_array_set_size(daos_handle_t oh, daos_handle_t th, daos_size_t size, daos_event_t *ev);

/** Punch the whole array including its metadata; @oh must still be closed. */
int daos_array_destroy(daos_handle_t oh, daos_handle_t th, daos_event_t *ev);

/** Punch the ranges of @iod (they read as zero afterwards). */
int daos_array_punch(daos_handle_t oh, daos_handle_t th, daos_array_iod_t *iod, daos_event_t *ev);

/** Chunk size and cell size of open array @oh. */
int daos_array_get_attr(daos_handle_t oh, daos_size_t *chunk_size, daos_size_t *cell_size);

#if defined(__cplusplus)
}
#endif

#pragma GCC visibility pop

#endif /* D_DAOS_ARRAY_H */
