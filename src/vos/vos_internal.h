/*
 * vos_internal.h: private to src/vos.
 */
#ifndef D_VOS_INTERNAL_H
#define D_VOS_INTERNAL_H

#include <gurt/common.h>

D_LOG_FAC_DECLARE(vos);

/* Fault ids of this module: 100..199. */
#define D_FI_UMEM_ALLOC 100 /* umem_alloc fails with -DER_NOSPACE */
#define D_FI_META_WRITE 110 /* a meta file write or sync fails with -DER_IO */
#define D_FI_META_CRASH 111 /* a checkpoint stops before its header, as in a crash */

/*
 * Zero every free slot and free chunk of a heap image (for tests that compare images:
 * bytes in free space are not part of the heap's state). 0, -DER_INVAL or -DER_CSUM.
 */
int umem_image_zero_free(void *image, size_t size);

#endif /* D_VOS_INTERNAL_H */
