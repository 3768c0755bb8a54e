/*
 * vos_meta.c: checkpoints of a VOS heap in its meta file.
 *
 * File layout (all offsets multiples of 4 KiB):
 *
 *	[0, 4K)        header of slot 0
 *	[4K, 8K)       header of slot 1
 *	[8K, ...)      slot 0: the heap image, then its CRC table (a CRC32C per page)
 *	[..., end)     slot 1: likewise
 *
 * A checkpoint runs in the background of the heap's thread (vos_meta_ckpt_begin, then
 * vos_meta_ckpt_step from the pool's poller until it returns 0). Each step copies at most
 * a slice of the pages the slot must write into an aligned staging buffer, computes their
 * CRCs and submits O_DIRECT writes through the meta file's own io_uring; the heap goes on
 * changing between steps. So an image is *fuzzy*: each page holds the heap as it was at
 * some LSN between the checkpoint's start LSN (in its header) and its end LSN (the last
 * transaction committed before the last copy). Redo records are after-images applied in
 * LSN order, so replaying the WAL from the start LSN over such an image gives exactly the
 * heap: a byte no record after the start LSN touched has the same value in every copy; a
 * byte some record touched ends with the last record's after-image.
 *
 *	begin:  header of the older slot invalidated (written, fsync)
 *	step:   copy a slice of pending pages, CRC them, submit their writes   (repeat)
 *	        CRC table written, fsync
 *	        wait until the WAL is durable up to the end LSN
 *	        new header (seq, start LSN) written, fsync       -> done: the slot is current
 *
 * Invariants:
 * 1. A checkpoint writes only the older slot, and its header is invalidated (seq 0) and
 *    synced before any of its pages is overwritten (IOSQE_IO_DRAIN orders the ring); its
 *    new header goes out only after its pages and CRC table are synced. A crash anywhere
 *    leaves that slot unloadable and the newer one untouched.
 * 2. The header goes out only once the WAL is durable up to the end LSN of the copies, so
 *    the image never holds a transaction the WAL could lose; the header names the start
 *    LSN, from which the replay must begin.
 * 3. Each slot is rewritten with every page dirtied since that slot was last written:
 *    pages dirtied before a checkpoint of one slot stay pending for the other; pages
 *    dirtied during a checkpoint stay dirty in the heap for the next one; a failed
 *    checkpoint keeps its slot's pending pages.
 * 4. The WAL is trimmed only up to the older slot's LSN, so if the newest image is damaged
 *    the older one plus a longer WAL replay still gives the full state.
 * 5. Copies happen only between transactions (the heap's thread, outside any open one),
 *    and a staging buffer is reused only after the kernel completed every write from it.
 * 6. Nothing read from the file is trusted before its CRC is checked.
 */
#define D_LOGFAC vos

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <isa-l.h>
#include <liburing.h>

#include <gurt/common.h>

#include "vos_internal.h"
#include "vos_meta.h"

#define META_MAGIC 0x4154454d534f5644ULL /* "DVOSMETA" */
/* Version 2 added mh_flags; version 1 headers (48 bytes under their CRC) still load. */
#define META_VERSION 2
#define META_VERSION_1 1
#define META_HDR_V1_SZ 48UL
#define META_HDR_SZ 4096UL

struct vos_meta_hdr_df {
	uint64_t mh_magic;
	uint32_t mh_version;
	uint32_t mh_slot;
	uint64_t mh_seq; /* 0: the slot holds no valid checkpoint */
	uint64_t mh_lsn;
	uint64_t mh_img_size;
	uint32_t mh_crc_table; /* CRC32C of the slot's CRC table */
	uint32_t mh_csum;      /* CRC32C of this header (48 bytes in version 1) with mh_csum = 0 */
	uint32_t mh_flags;     /* META_HF_* (version 2) */
	uint32_t mh_pad;
};
D_CASSERT(sizeof(struct vos_meta_hdr_df) == 56);
D_CASSERT(offsetof(struct vos_meta_hdr_df, mh_flags) == META_HDR_V1_SZ);

/*
 * mh_flags: the pool is open without its WAL (VOS_POF_NO_WAL): written to both headers,
 * synced, before the open returns; cleared the same way at the end of a clean close. A
 * header with a good CRC carrying it, whether or not its slot is valid, makes the open fail.
 */
#define META_HF_NO_WAL 1U

/* A background checkpoint: staging slices, ring depth, and what one step may copy. */
#define CK_SLICE_PAGES 512U /* 2 MiB: the longest copy (and stall) one step makes */
#define CK_NSLICE 4U
#define CK_QD 256U

/* Requests in io_uring user_data: the op in the low byte, the slice above it. */
enum ck_op {
	CK_OP_PAGES = 1, /* page writes from a slice */
	CK_OP_WRITE = 2, /* header or CRC table write */
	CK_OP_SYNC = 3,
};

enum ck_phase {
	CK_IDLE = 0,
	CK_PAGES,  /* copying and writing pages */
	CK_SYNCED, /* CRC table written and fsync submitted; then wait for the WAL */
	CK_HDR,    /* new header written and fsync submitted */
};

struct ck_slice {
	char *cs_buf;
	uint32_t cs_pending; /* requests in flight from it */
};

struct vos_meta {
	int vm_fd;  /* buffered: create, open, reads */
	int vm_dfd; /* O_DIRECT if the file system has it (else buffered): checkpoint writes */
	size_t vm_img_size;
	uint64_t vm_npages;
	uint64_t vm_crc_bytes;
	uint32_t *vm_crcs[2];    /* page-aligned: written by O_DIRECT */
	uint64_t *vm_pending[2]; /* pages slot s must write at its next checkpoint */
	uint64_t vm_seq[2];
	uint64_t vm_lsn[2];

	/* the background checkpoint */
	struct io_uring vm_ring;
	bool vm_ring_ok;
	int vm_ck_phase;
	int vm_ck_slot;
	int vm_ck_rc;            /* first error; the checkpoint fails when its I/O drained */
	uint32_t vm_ck_inflight; /* requests submitted, not completed */
	uint32_t vm_ck_queued;   /* SQEs prepared, not submitted */
	bool vm_broken;          /* a submission failed: no more checkpoints (reopen) */
	uint64_t vm_ck_seq;
	uint64_t vm_ck_lsn;  /* start LSN: the header's, where the replay begins */
	uint64_t vm_ck_end;  /* end LSN: last transaction any copy holds */
	uint64_t vm_ck_next; /* next page to look at */
	struct ck_slice vm_ck_slices[CK_NSLICE];
	char *vm_ck_hdr;                  /* one aligned block for header writes */
	uint32_t vm_flags;                /* mh_flags of every header written */
	struct vos_meta_hdr_df vm_hdr[2]; /* each slot's header as last read or written */
	struct vos_meta_ckpt_stats vm_ck_stats;
};

static uint32_t
meta_crc(const void *buf, size_t len)
{
	return crc32_iscsi((unsigned char *)buf, (int)len, 0xffffffff);
}

static uint64_t
meta_slot_off(struct vos_meta *vm, int slot)
{
	return 2 * META_HDR_SZ + (uint64_t)slot * (vm->vm_img_size + vm->vm_crc_bytes);
}

static int
meta_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (D_FAIL_CHECK(D_FI_META_WRITE))
		return -DER_IO;
	while (len > 0) {
		n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = errno == ENOSPC ? -DER_NOSPACE : -DER_IO;

			D_ERROR("meta write of %zu bytes at %" PRIu64 " failed: %s\n", len, off,
				strerror(errno));
			return rc;
		}
		buf = (const char *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int
meta_pread(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			D_ERROR("meta read at %" PRIu64 " failed: %s\n", off, strerror(errno));
			return -DER_IO;
		}
		if (n == 0)
			return -DER_INVAL; /* short file */
		buf = (char *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int
meta_sync(int fd)
{
	if (D_FAIL_CHECK(D_FI_META_WRITE) || fdatasync(fd) != 0) {
		D_ERROR("meta fdatasync failed: %s\n", strerror(errno));
		return -DER_IO;
	}
	return 0;
}

/* Fill @h, the header of @slot (@seq 0: invalid), with the flags of @vm; remember it. */
static void
meta_hdr_fill(struct vos_meta *vm, struct vos_meta_hdr_df *h, int slot, uint64_t seq, uint64_t lsn)
{
	memset(h, 0, sizeof(*h));
	h->mh_magic = META_MAGIC;
	h->mh_version = META_VERSION;
	h->mh_slot = (uint32_t)slot;
	h->mh_seq = seq;
	h->mh_lsn = lsn;
	h->mh_img_size = vm->vm_img_size;
	h->mh_crc_table = meta_crc(vm->vm_crcs[slot], vm->vm_crc_bytes);
	h->mh_flags = vm->vm_flags;
	h->mh_csum = meta_crc(h, sizeof(*h));
	vm->vm_hdr[slot] = *h;
}

static int
meta_hdr_write(struct vos_meta *vm, int slot, uint64_t seq, uint64_t lsn)
{
	char buf[META_HDR_SZ] = {0};

	meta_hdr_fill(vm, (struct vos_meta_hdr_df *)buf, slot, seq, lsn);
	return meta_pwrite(vm->vm_fd, buf, sizeof(buf), (uint64_t)slot * META_HDR_SZ);
}

static void *
meta_buf_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
meta_buf_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}

static struct vos_meta *
meta_alloc(size_t img_size)
{
	struct vos_meta *vm;
	unsigned int i;
	int s;

	D_ALLOC_PTR(vm);
	if (vm == NULL)
		return NULL;
	vm->vm_fd = -1;
	vm->vm_dfd = -1;
	vm->vm_img_size = img_size;
	vm->vm_npages = img_size / UMEM_PAGE_SIZE;
	vm->vm_crc_bytes =
	    (vm->vm_npages * sizeof(uint32_t) + UMEM_PAGE_SIZE - 1) & ~(UMEM_PAGE_SIZE - 1);
	for (s = 0; s < 2; s++) {
		vm->vm_crcs[s] = meta_buf_alloc(vm->vm_crc_bytes);
		D_ALLOC_ARRAY(vm->vm_pending[s], (vm->vm_npages + 63) / 64);
		if (vm->vm_crcs[s] == NULL || vm->vm_pending[s] == NULL)
			goto fail;
	}
	for (i = 0; i < CK_NSLICE; i++) {
		vm->vm_ck_slices[i].cs_buf = meta_buf_alloc(CK_SLICE_PAGES * UMEM_PAGE_SIZE);
		if (vm->vm_ck_slices[i].cs_buf == NULL)
			goto fail;
	}
	vm->vm_ck_hdr = meta_buf_alloc(META_HDR_SZ);
	if (vm->vm_ck_hdr == NULL)
		goto fail;
	return vm;
fail:
	vos_meta_close(vm);
	return NULL;
}

/*
 * The O_DIRECT descriptor of the background checkpoints, locked (bio_file_lock): a
 * killed owner's checkpoint writes still in flight hold their file description, so the
 * lock is ours only once they landed; nothing of the file is read before that.
 */
static int
meta_dfd_open(const char *path, int *dfdp)
{
	int dfd, rc;

	dfd = open(path, O_RDWR | O_CLOEXEC | O_DIRECT);
	if (dfd < 0 && errno == EINVAL) /* no O_DIRECT here (tmpfs): buffered */
		dfd = open(path, O_RDWR | O_CLOEXEC);
	if (dfd < 0) {
		rc = errno == ENOENT ? -DER_NONEXIST : d_errno2der(errno);
		if (rc != -DER_NONEXIST)
			D_ERROR("cannot open %s for checkpoints: %s\n", path, strerror(errno));
		return rc;
	}
	rc = bio_file_lock(dfd, "meta file", path);
	if (rc != 0) {
		close(dfd);
		return rc;
	}
	*dfdp = dfd;
	return 0;
}

/* The ring of the background checkpoints (on vm_dfd). */
static int
meta_async_init(struct vos_meta *vm, const char *path)
{
	int rc;

	rc = io_uring_queue_init(CK_QD, &vm->vm_ring, 0);
	if (rc < 0) {
		D_ERROR("io_uring for %s: %s\n", path, strerror(-rc));
		return d_errno2der(-rc);
	}
	vm->vm_ring_ok = true;
	return 0;
}

static void
meta_pending_all(struct vos_meta *vm, int slot)
{
	uint64_t p;

	for (p = 0; p < vm->vm_npages; p++)
		vm->vm_pending[slot][p / 64] |= 1ULL << (p % 64);
}

/*
 * Write the pending pages of @slot from @image, its CRC table and, after a sync, its
 * header. The slot's header is invalidated first, so a crash half way never leaves a
 * header that describes pages partly overwritten.
 */
static int
meta_slot_write(struct vos_meta *vm, int slot, const char *image, uint64_t seq, uint64_t lsn)
{
	uint64_t base = meta_slot_off(vm, slot), p = 0;
	int rc;

	rc = meta_hdr_write(vm, slot, 0, 0);
	if (rc == 0)
		rc = meta_sync(vm->vm_fd);
	while (rc == 0 && p < vm->vm_npages) {
		uint64_t start, end;

		if (!(vm->vm_pending[slot][p / 64] & (1ULL << (p % 64)))) {
			p++;
			continue;
		}
		/* one write for a run of pending pages */
		for (start = p, end = p;
		     end < vm->vm_npages && (vm->vm_pending[slot][end / 64] & (1ULL << (end % 64)));
		     end++)
			vm->vm_crcs[slot][end] =
			    meta_crc(image + end * UMEM_PAGE_SIZE, UMEM_PAGE_SIZE);
		rc = meta_pwrite(vm->vm_fd, image + start * UMEM_PAGE_SIZE,
				 (end - start) * UMEM_PAGE_SIZE, base + start * UMEM_PAGE_SIZE);
		p = end;
	}
	if (rc == 0)
		rc = meta_pwrite(vm->vm_fd, vm->vm_crcs[slot], vm->vm_crc_bytes,
				 base + vm->vm_img_size);
	if (rc == 0)
		rc = meta_sync(vm->vm_fd);
	if (rc == 0 && D_FAIL_CHECK(D_FI_META_CRASH))
		rc = -DER_IO; /* stands for a crash before the header: the slot stays invalid */
	if (rc == 0)
		rc = meta_hdr_write(vm, slot, seq, lsn);
	if (rc == 0)
		rc = meta_sync(vm->vm_fd);
	if (rc != 0) {
		vm->vm_seq[slot] = 0;
		return rc;
	}
	memset(vm->vm_pending[slot], 0, (vm->vm_npages + 63) / 64 * sizeof(uint64_t));
	vm->vm_seq[slot] = seq;
	vm->vm_lsn[slot] = lsn;
	return 0;
}

int
vos_meta_create(const char *path, const void *image, size_t img_size, uint64_t lsn)
{
	struct vos_meta *vm;
	int rc;

	if (img_size == 0 || img_size % UMEM_PAGE_SIZE != 0)
		return -DER_INVAL;
	vm = meta_alloc(img_size);
	if (vm == NULL)
		return -DER_NOMEM;
	vm->vm_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (vm->vm_fd < 0) {
		rc = errno == EEXIST ? -DER_EXIST : d_errno2der(errno);
		D_ERROR("cannot create %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (fallocate(vm->vm_fd, 0, 0, (off_t)meta_slot_off(vm, 2)) != 0) {
		rc = errno == ENOSPC ? -DER_NOSPACE : -DER_IO;
		D_ERROR("cannot allocate %" PRIu64 " bytes for %s: %s\n", meta_slot_off(vm, 2),
			path, strerror(errno));
		goto out_unlink;
	}
	meta_pending_all(vm, 0);
	meta_pending_all(vm, 1);
	rc = meta_slot_write(vm, 0, image, 1, lsn);
	if (rc == 0)
		rc = meta_slot_write(vm, 1, image, 2, lsn);
	if (rc == 0)
		goto out;
out_unlink:
	unlink(path);
out:
	vos_meta_close(vm);
	return rc;
}

/* Read and check the header of @slot; 0 if it describes a valid checkpoint. */
static int
meta_hdr_read(struct vos_meta *vm, int slot, struct vos_meta_hdr_df *h)
{
	uint32_t csum;
	int rc;

	rc = meta_pread(vm->vm_fd, h, sizeof(*h), (uint64_t)slot * META_HDR_SZ);
	if (rc != 0)
		return rc;
	csum = h->mh_csum;
	h->mh_csum = 0;
	if (h->mh_version == META_VERSION_1)
		h->mh_flags = h->mh_pad = 0; /* not under its CRC: zeros in a version 1 block */
	if (h->mh_magic != META_MAGIC ||
	    meta_crc(h, h->mh_version == META_VERSION_1 ? META_HDR_V1_SZ : sizeof(*h)) != csum) {
		D_DEBUG("meta slot %d: header damaged or unwritten\n", slot);
		h->mh_flags = 0;
		return -DER_CSUM;
	}
	h->mh_csum = csum;
	if ((h->mh_version != META_VERSION && h->mh_version != META_VERSION_1) ||
	    h->mh_slot != (uint32_t)slot || h->mh_seq == 0)
		return -DER_INVAL;
	return 0;
}

/* Load the image of @slot into @image and verify it against its CRCs. */
static int
meta_slot_load(struct vos_meta *vm, int slot, const struct vos_meta_hdr_df *h, char *image)
{
	uint64_t base = meta_slot_off(vm, slot), p;
	int rc;

	rc = meta_pread(vm->vm_fd, vm->vm_crcs[slot], vm->vm_crc_bytes, base + vm->vm_img_size);
	if (rc != 0)
		return rc;
	if (meta_crc(vm->vm_crcs[slot], vm->vm_crc_bytes) != h->mh_crc_table) {
		D_ERROR("meta slot %d: CRC table damaged\n", slot);
		return -DER_CSUM;
	}
	rc = meta_pread(vm->vm_fd, image, vm->vm_img_size, base);
	if (rc != 0)
		return rc;
	for (p = 0; p < vm->vm_npages; p++) {
		if (meta_crc(image + p * UMEM_PAGE_SIZE, UMEM_PAGE_SIZE) != vm->vm_crcs[slot][p]) {
			D_ERROR("meta slot %d: page %" PRIu64 " fails its CRC\n", slot, p);
			return -DER_CSUM;
		}
	}
	return 0;
}

/* vos_meta_open; without @lock: no lock, no checkpoint ring, *@metap only to be closed. */
static int
meta_open(const char *path, bool lock, struct vos_meta **metap, void **imagep, size_t *img_sizep,
	  uint64_t *lsnp)
{
	struct vos_meta_hdr_df h[2];
	struct vos_meta *vm = NULL;
	int hrc[2], order[2], i, fd, dfd = -1, rc;
	size_t img_size = 0;
	void *image;
	struct stat st;

	if (lock) {
		rc = meta_dfd_open(path, &dfd);
		if (rc != 0)
			return rc;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? -DER_NONEXIST : d_errno2der(errno);
		if (dfd >= 0)
			close(dfd);
		return rc;
	}
	/* the geometry comes from whichever header is intact */
	for (i = 0; i < 2; i++) {
		rc = meta_pread(fd, &h[i], sizeof(h[i]), (uint64_t)i * META_HDR_SZ);
		if (rc != 0) {
			close(fd);
			if (dfd >= 0)
				close(dfd);
			return rc;
		}
	}
	{
		struct vos_meta probe = {.vm_fd = fd};

		for (i = 0; i < 2; i++)
			hrc[i] = meta_hdr_read(&probe, i, &h[i]);
	}
	/* a pool that was open without its WAL when its process died: its state is gone */
	for (i = 0; i < 2 && lock; i++) {
		if (hrc[i] != -DER_CSUM && (h[i].mh_flags & META_HF_NO_WAL)) {
			D_ERROR("%s: the pool was open without its WAL (VOS_POF_NO_WAL) when its "
				"process died: what it did since that open is lost and the files "
				"may be inconsistent; refusing to open it: " DF_RC "\n",
				path, DP_RC(-DER_DATA_LOSS));
			close(fd);
			if (dfd >= 0)
				close(dfd);
			return -DER_DATA_LOSS;
		}
	}
	for (i = 0; i < 2 && img_size == 0; i++)
		if (hrc[i] == 0)
			img_size = h[i].mh_img_size;
	if (img_size == 0 || img_size % UMEM_PAGE_SIZE != 0 || fstat(fd, &st) != 0) {
		D_ERROR("%s: no valid checkpoint header\n", path);
		close(fd);
		if (dfd >= 0)
			close(dfd);
		return -DER_CSUM;
	}
	vm = meta_alloc(img_size);
	if (vm == NULL) {
		close(fd);
		if (dfd >= 0)
			close(dfd);
		return -DER_NOMEM;
	}
	vm->vm_fd = fd;
	vm->vm_dfd = dfd;
	for (i = 0; i < 2; i++)
		if (hrc[i] != -DER_CSUM)
			vm->vm_hdr[i] = h[i];
	if ((uint64_t)st.st_size < meta_slot_off(vm, 2)) {
		D_ERROR("%s: file too short for a %zu-byte image\n", path, img_size);
		rc = -DER_INVAL;
		goto out_close;
	}
	image = mmap(NULL, img_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (image == MAP_FAILED) {
		rc = -DER_NOMEM;
		goto out_close;
	}
	for (i = 0; i < 2; i++)
		if (hrc[i] == 0 && h[i].mh_img_size != img_size)
			hrc[i] = -DER_INVAL;
	/* newest first */
	order[0] = (hrc[1] == 0 && (hrc[0] != 0 || h[1].mh_seq > h[0].mh_seq)) ? 1 : 0;
	order[1] = 1 - order[0];
	rc = -DER_CSUM;
	for (i = 0; i < 2; i++) {
		int s = order[i];

		if (hrc[s] != 0)
			continue;
		rc = meta_slot_load(vm, s, &h[s], image);
		if (rc == 0) {
			if (i > 0)
				D_WARN("%s: newest checkpoint damaged; using the older one\n",
				       path);
			vm->vm_seq[s] = h[s].mh_seq;
			vm->vm_lsn[s] = h[s].mh_lsn;
			if (hrc[1 - s] == 0) {
				vm->vm_seq[1 - s] = h[1 - s].mh_seq;
				vm->vm_lsn[1 - s] = h[1 - s].mh_lsn;
			}
			/*
			 * The other slot is rewritten in full; this one is current. Unless both
			 * cover the same LSN: no transaction ran between their checkpoints, so
			 * both hold this image (a replay that changes it invalidates both).
			 */
			if (i > 0 || hrc[1 - s] != 0 || h[1 - s].mh_lsn != h[s].mh_lsn ||
			    meta_pread(fd, vm->vm_crcs[1 - s], vm->vm_crc_bytes,
				       meta_slot_off(vm, 1 - s) + img_size) != 0 ||
			    meta_crc(vm->vm_crcs[1 - s], vm->vm_crc_bytes) != h[1 - s].mh_crc_table)
				meta_pending_all(vm, 1 - s);
			*lsnp = h[s].mh_lsn;
			break;
		}
	}
	if (rc == 0 && lock)
		rc = meta_async_init(vm, path);
	if (rc != 0) {
		D_ERROR("%s: no intact checkpoint: " DF_RC "\n", path, DP_RC(rc));
		munmap(image, img_size);
		goto out_close;
	}
	*metap = vm;
	*imagep = image;
	*img_sizep = img_size;
	return 0;

out_close:
	vos_meta_close(vm);
	return rc;
}

int
vos_meta_open(const char *path, struct vos_meta **metap, void **imagep, size_t *img_sizep,
	      uint64_t *lsnp)
{
	return meta_open(path, true, metap, imagep, img_sizep, lsnp);
}

int
vos_meta_peek(const char *path, void **imagep, size_t *img_sizep, uint64_t *lsnp)
{
	struct vos_meta *vm;
	int rc;

	rc = meta_open(path, false, &vm, imagep, img_sizep, lsnp);
	if (rc == 0)
		vos_meta_close(vm);
	return rc;
}

static bool
meta_page_pending(const struct vos_meta *vm, int slot, uint64_t p)
{
	return (vm->vm_pending[slot][p / 64] >> (p % 64)) & 1;
}

/* Hand the prepared requests to the kernel; a refusal breaks the ring for good. */
static void
ck_submit(struct vos_meta *vm)
{
	int rc;

	if (vm->vm_ck_queued == 0 || vm->vm_broken)
		return;
	rc = io_uring_submit(&vm->vm_ring);
	if (rc > 0) {
		vm->vm_ck_inflight += (uint32_t)rc;
		vm->vm_ck_queued -= (uint32_t)rc;
	}
	if (rc < 0 || vm->vm_ck_queued > 0) {
		/* requests left in the ring would go out with a later checkpoint */
		D_ERROR("checkpoint I/O: io_uring_submit: %s; no more checkpoints until the "
			"pool is reopened\n",
			rc < 0 ? strerror(-rc) : "short");
		vm->vm_broken = true;
		if (vm->vm_ck_rc == 0)
			vm->vm_ck_rc = -DER_IO;
	}
}

static struct io_uring_sqe *
ck_sqe(struct vos_meta *vm)
{
	struct io_uring_sqe *sqe = NULL;

	if (vm->vm_broken)
		return NULL;
	sqe = io_uring_get_sqe(&vm->vm_ring);
	if (sqe == NULL) {
		/* the submission queue is full: hand it to the kernel and take the next one */
		ck_submit(vm);
		if (vm->vm_broken)
			return NULL;
		sqe = io_uring_get_sqe(&vm->vm_ring);
	}
	D_ASSERT(sqe != NULL); /* callers keep the requests outstanding below CK_QD */
	vm->vm_ck_queued++;
	return sqe;
}

static void
ck_write(struct vos_meta *vm, const void *buf, size_t len, uint64_t off, uint64_t udata)
{
	struct io_uring_sqe *sqe = ck_sqe(vm);

	if (sqe == NULL)
		return;
	io_uring_prep_write(sqe, vm->vm_dfd, buf, (unsigned int)len, off);
	io_uring_sqe_set_data64(sqe, udata | (len << 32));
	vm->vm_ck_stats.cs_bytes += len;
}

/* An fsync that starts after every request before it and holds back every one after it. */
static void
ck_sync(struct vos_meta *vm)
{
	struct io_uring_sqe *sqe = ck_sqe(vm);

	if (sqe == NULL)
		return;
	io_uring_prep_fsync(sqe, vm->vm_dfd, IORING_FSYNC_DATASYNC);
	sqe->flags |= IOSQE_IO_DRAIN;
	io_uring_sqe_set_data64(sqe, CK_OP_SYNC);
	vm->vm_ck_stats.cs_syncs++;
}

/* Prepare the header of the checkpoint's slot in the header buffer: @seq 0 invalidates. */
static void
ck_hdr_prep(struct vos_meta *vm, uint64_t seq, uint64_t lsn)
{
	memset(vm->vm_ck_hdr, 0, META_HDR_SZ);
	meta_hdr_fill(vm, (struct vos_meta_hdr_df *)vm->vm_ck_hdr, vm->vm_ck_slot, seq, lsn);
}

/* Reap the completions that are there. */
static void
ck_reap(struct vos_meta *vm)
{
	struct io_uring_cqe *cqe;

	while (vm->vm_ck_inflight > 0 && io_uring_peek_cqe(&vm->vm_ring, &cqe) == 0) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		uint32_t op = ud & 0xff, len = (uint32_t)(ud >> 32);
		int res = cqe->res;

		io_uring_cqe_seen(&vm->vm_ring, cqe);
		vm->vm_ck_inflight--;
		if (op == CK_OP_PAGES)
			vm->vm_ck_slices[(ud >> 8) & 0xff].cs_pending--;
		if (D_FAIL_CHECK(D_FI_META_WRITE))
			res = -EIO;
		if ((res < 0 || (op != CK_OP_SYNC && (uint32_t)res != len)) && vm->vm_ck_rc == 0) {
			vm->vm_ck_rc = res == -ENOSPC ? -DER_NOSPACE : -DER_IO;
			D_ERROR("checkpoint of meta slot %d: %s failed: %s\n", vm->vm_ck_slot,
				op == CK_OP_SYNC ? "fdatasync" : "write",
				res < 0 ? strerror(-res) : "short write");
		}
	}
}

/* A crash point of the checkpoint path (D_FI_META_KILL): the process dies here. */
static void
ck_crash_point(void)
{
	if (D_FAIL_CHECK(D_FI_META_KILL))
		kill(getpid(), SIGKILL);
}

int
vos_meta_ckpt_begin(struct vos_meta *vm, struct umem_instance *umm, uint64_t lsn)
{
	uint64_t p = 0;
	int t;

	D_ASSERT(vm->vm_ck_phase == CK_IDLE && vm->vm_ring_ok);
	D_ASSERT(umem_size(umm) == vm->vm_img_size && !umem_tx_inprogress(umm));
	if (vm->vm_broken)
		return -DER_IO;
	/* the older (or invalid) slot */
	t = vm->vm_seq[0] <= vm->vm_seq[1] ? 0 : 1;
	while (umem_dirty_next(umm, &p)) {
		vm->vm_pending[0][p / 64] |= 1ULL << (p % 64);
		vm->vm_pending[1][p / 64] |= 1ULL << (p % 64);
		p++;
	}
	vm->vm_ck_slot = t;
	vm->vm_ck_seq = (vm->vm_seq[0] > vm->vm_seq[1] ? vm->vm_seq[0] : vm->vm_seq[1]) + 1;
	vm->vm_ck_lsn = lsn;
	vm->vm_ck_end = lsn;
	vm->vm_ck_next = 0;
	vm->vm_ck_rc = 0;
	vm->vm_ck_phase = CK_PAGES;
	vm->vm_ck_stats.cs_started++;
	/* from now on the slot is invalid, in memory at once and on disk before its pages */
	vm->vm_seq[t] = 0;
	ck_hdr_prep(vm, 0, 0);
	ck_write(vm, vm->vm_ck_hdr, META_HDR_SZ, (uint64_t)t * META_HDR_SZ, CK_OP_WRITE);
	ck_sync(vm);
	ck_submit(vm); /* a failure shows in the first step */
	return 0;
}

/* Copy the next run of pending pages into a free slice and submit their writes. */
static void
ck_copy_slice(struct vos_meta *vm, struct umem_instance *umm, struct ck_slice *cs, uint32_t si)
{
	const char *image = umem_base(umm);
	uint64_t base = meta_slot_off(vm, vm->vm_ck_slot);
	int t = vm->vm_ck_slot;
	uint32_t used = 0;

	while (used < CK_SLICE_PAGES && vm->vm_ck_next < vm->vm_npages &&
	       vm->vm_ck_inflight + vm->vm_ck_queued + 4 < CK_QD) {
		uint64_t p = vm->vm_ck_next, start, n;

		if (!meta_page_pending(vm, t, p)) {
			/* skip clear words quickly */
			if (p % 64 == 0 && vm->vm_pending[t][p / 64] == 0)
				vm->vm_ck_next += 64;
			else
				vm->vm_ck_next++;
			continue;
		}
		/* one write for a run of pending pages */
		for (start = p, n = 0;
		     p < vm->vm_npages && used + n < CK_SLICE_PAGES && meta_page_pending(vm, t, p);
		     p++, n++) {
			char *dst = cs->cs_buf + (used + n) * UMEM_PAGE_SIZE;

			memcpy(dst, image + p * UMEM_PAGE_SIZE, UMEM_PAGE_SIZE);
			vm->vm_crcs[t][p] = meta_crc(dst, UMEM_PAGE_SIZE);
		}
		ck_write(vm, cs->cs_buf + used * UMEM_PAGE_SIZE, n * UMEM_PAGE_SIZE,
			 base + start * UMEM_PAGE_SIZE, CK_OP_PAGES | ((uint64_t)si << 8));
		cs->cs_pending++;
		used += (uint32_t)n;
		vm->vm_ck_next = p;
		vm->vm_ck_stats.cs_pages += n;
	}
	if (vm->vm_ck_next > vm->vm_npages)
		vm->vm_ck_next = vm->vm_npages;
}

/* The checkpoint's I/O drained: settle it. */
static int
ck_finish(struct vos_meta *vm)
{
	int t = vm->vm_ck_slot;
	int rc = vm->vm_ck_rc;

	vm->vm_ck_phase = CK_IDLE;
	if (rc != 0) {
		/* the slot stays invalid and keeps its pending pages (invariant 3) */
		vm->vm_seq[t] = 0;
		vm->vm_ck_stats.cs_failed++;
		return rc;
	}
	memset(vm->vm_pending[t], 0, (vm->vm_npages + 63) / 64 * sizeof(uint64_t));
	vm->vm_seq[t] = vm->vm_ck_seq;
	vm->vm_lsn[t] = vm->vm_ck_lsn;
	vm->vm_ck_stats.cs_done++;
	vm->vm_ck_stats.cs_last_fuzzy = vm->vm_ck_end > vm->vm_ck_lsn;
	vm->vm_ck_stats.cs_fuzzy += vm->vm_ck_stats.cs_last_fuzzy;
	return 0;
}

int
vos_meta_ckpt_step(struct vos_meta *vm, struct umem_instance *umm, uint64_t last_lsn,
		   uint64_t durable_lsn, bool hurry, uint64_t *need_lsn)
{
	uint32_t i, copied = 0;

	*need_lsn = 0;
	if (vm->vm_ck_phase == CK_IDLE)
		return 0;
	D_ASSERT(!umem_tx_inprogress(umm));
	ck_reap(vm);
	if (vm->vm_ck_rc != 0) {
		if (vm->vm_ck_inflight > 0)
			return 1; /* what was submitted must complete before the buffers go */
		return ck_finish(vm);
	}

	switch (vm->vm_ck_phase) {
	case CK_PAGES:
		for (i = 0; i < CK_NSLICE && vm->vm_ck_next < vm->vm_npages; i++) {
			struct ck_slice *cs = &vm->vm_ck_slices[i];

			if (cs->cs_pending > 0)
				continue;
			if (copied > 0 && !hurry)
				break; /* one slice per step bounds the stall */
			ck_copy_slice(vm, umm, cs, i);
			copied++;
			/* every copy so far holds the heap at last_lsn or before */
			vm->vm_ck_end = last_lsn;
			if (vm->vm_ck_inflight + vm->vm_ck_queued + 4 >= CK_QD)
				break;
		}
		if (copied > 0)
			ck_crash_point();
		if (vm->vm_ck_next < vm->vm_npages)
			break;
		ck_write(vm, vm->vm_crcs[vm->vm_ck_slot], vm->vm_crc_bytes,
			 meta_slot_off(vm, vm->vm_ck_slot) + vm->vm_img_size, CK_OP_WRITE);
		ck_sync(vm);
		vm->vm_ck_phase = CK_SYNCED;
		break;
	case CK_SYNCED:
		if (vm->vm_ck_inflight > 0)
			break;
		if (durable_lsn < vm->vm_ck_end) {
			*need_lsn = vm->vm_ck_end; /* invariant 2 */
			break;
		}
		ck_crash_point();
		if (D_FAIL_CHECK(D_FI_META_CRASH)) {
			/* stands for a crash before the header: the slot stays invalid */
			vm->vm_ck_rc = -DER_IO;
			return ck_finish(vm);
		}
		ck_hdr_prep(vm, vm->vm_ck_seq, vm->vm_ck_lsn);
		ck_write(vm, vm->vm_ck_hdr, META_HDR_SZ, (uint64_t)vm->vm_ck_slot * META_HDR_SZ,
			 CK_OP_WRITE);
		ck_sync(vm);
		vm->vm_ck_phase = CK_HDR;
		break;
	case CK_HDR:
		if (vm->vm_ck_inflight == 0)
			return ck_finish(vm);
		break;
	}
	ck_submit(vm);
	return 1;
}

bool
vos_meta_ckpt_ready(struct vos_meta *vm, uint64_t durable_lsn)
{
	uint32_t i;

	if (vm->vm_ck_phase == CK_IDLE)
		return false;
	if (io_uring_cq_ready(&vm->vm_ring) > 0)
		return true;
	if (vm->vm_ck_rc != 0 || vm->vm_ck_phase == CK_HDR)
		return vm->vm_ck_inflight == 0;
	if (vm->vm_ck_phase == CK_SYNCED)
		return vm->vm_ck_inflight == 0 && durable_lsn >= vm->vm_ck_end;
	/* CK_PAGES: a slice to copy into, or the CRC table to write */
	if (vm->vm_ck_next >= vm->vm_npages)
		return true;
	for (i = 0; i < CK_NSLICE; i++)
		if (vm->vm_ck_slices[i].cs_pending == 0)
			return true;
	return false;
}

int
vos_meta_set_eventfd(struct vos_meta *vm, int fd)
{
	int rc = io_uring_register_eventfd(&vm->vm_ring, fd);

	if (rc < 0) {
		D_ERROR("cannot register an eventfd with the meta ring: %s\n", strerror(-rc));
		return d_errno2der(-rc);
	}
	return 0;
}

bool
vos_meta_ckpt_busy(struct vos_meta *vm)
{
	return vm->vm_ck_phase != CK_IDLE;
}

int
vos_meta_ckpt_wait_io(struct vos_meta *vm)
{
	struct io_uring_cqe *cqe;
	int rc;

	if (vm->vm_ck_inflight == 0)
		return 0;
	do {
		rc = io_uring_wait_cqe(&vm->vm_ring, &cqe);
	} while (rc == -EINTR);
	return rc == 0 ? 0 : d_errno2der(-rc);
}

void
vos_meta_ckpt_query(struct vos_meta *vm, struct vos_meta_ckpt_stats *st)
{
	*st = vm->vm_ck_stats;
	st->cs_busy = vm->vm_ck_phase != CK_IDLE;
}

int
vos_meta_checkpoint(struct vos_meta *vm, struct umem_instance *umm, uint64_t lsn)
{
	uint64_t need;
	int rc;

	rc = vos_meta_ckpt_begin(vm, umm, lsn);
	while (rc == 0) {
		rc = vos_meta_ckpt_step(vm, umm, lsn, lsn, true, &need);
		if (rc <= 0)
			break;
		rc = vos_meta_ckpt_wait_io(vm);
		if (rc != 0) {
			/* cannot wait: drain what is in flight before giving up */
			while (vm->vm_ck_inflight > 0 && vos_meta_ckpt_wait_io(vm) == 0)
				ck_reap(vm);
			vm->vm_ck_rc = rc;
			rc = ck_finish(vm);
		}
	}
	return rc;
}

int
vos_meta_mark_nowal(struct vos_meta *vm, bool on)
{
	char buf[META_HDR_SZ];
	int slot, rc;

	if (vm->vm_ck_phase != CK_IDLE)
		return -DER_BUSY;
	vm->vm_flags = on ? META_HF_NO_WAL : 0;
	for (slot = 0; slot < 2; slot++) {
		struct vos_meta_hdr_df *h = (struct vos_meta_hdr_df *)buf;

		memset(buf, 0, sizeof(buf));
		if (vm->vm_hdr[slot].mh_magic == META_MAGIC) {
			/* the same header (seq, LSN, CRC table) with the new flags */
			*h = vm->vm_hdr[slot];
			h->mh_version = META_VERSION;
			h->mh_flags = vm->vm_flags;
			h->mh_pad = 0;
			h->mh_csum = 0;
			h->mh_csum = meta_crc(h, sizeof(*h));
			vm->vm_hdr[slot] = *h;
		} else {
			/* damaged or unwritten: an invalid header (seq 0) that carries the flags */
			meta_hdr_fill(vm, h, slot, 0, 0);
		}
		rc = meta_pwrite(vm->vm_fd, buf, sizeof(buf), (uint64_t)slot * META_HDR_SZ);
		if (rc != 0)
			return rc;
	}
	return meta_sync(vm->vm_fd);
}

uint64_t
vos_meta_trim_lsn(struct vos_meta *vm)
{
	if (vm->vm_seq[0] == 0 || vm->vm_seq[1] == 0)
		return 0; /* a slot is invalid until rewritten: keep the whole WAL */
	return vm->vm_lsn[0] < vm->vm_lsn[1] ? vm->vm_lsn[0] : vm->vm_lsn[1];
}

void
vos_meta_invalidate(struct vos_meta *vm)
{
	meta_pending_all(vm, 0);
	meta_pending_all(vm, 1);
}

void
vos_meta_close(struct vos_meta *vm)
{
	unsigned int i;
	int s;

	if (vm == NULL)
		return;
	if (vm->vm_ring_ok) {
		/* the kernel may still read the staging buffers: let it finish */
		while (vm->vm_ck_inflight > 0 && vos_meta_ckpt_wait_io(vm) == 0)
			ck_reap(vm);
		io_uring_queue_exit(&vm->vm_ring);
	}
	if (vm->vm_dfd >= 0)
		close(vm->vm_dfd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	for (s = 0; s < 2; s++) {
		meta_buf_free(vm->vm_crcs[s], vm->vm_crc_bytes);
		D_FREE(vm->vm_pending[s]);
	}
	for (i = 0; i < CK_NSLICE; i++)
		meta_buf_free(vm->vm_ck_slices[i].cs_buf, CK_SLICE_PAGES * UMEM_PAGE_SIZE);
	meta_buf_free(vm->vm_ck_hdr, META_HDR_SZ);
	D_FREE(vm);
}
