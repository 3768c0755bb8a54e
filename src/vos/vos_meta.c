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
 * Invariants:
 * 1. A checkpoint writes only the older slot, in this order: its header invalidated (seq 0)
 *    and synced, its pages and CRC table written and synced, its new header written and
 *    synced. A crash anywhere leaves that slot unloadable and the newer one untouched.
 * 2. Each slot is rewritten with every page dirtied since that slot was last written:
 *    pages dirtied before a checkpoint of one slot stay pending for the other.
 * 3. The WAL is trimmed only up to the older slot's LSN, so if the newest image is damaged
 *    the older one plus a longer WAL replay still gives the full state.
 * 4. Nothing read from the file is trusted before its CRC is checked.
 */
#define D_LOGFAC vos

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <isa-l.h>

#include <gurt/common.h>

#include "vos_internal.h"
#include "vos_meta.h"

#define META_MAGIC 0x4154454d534f5644ULL /* "DVOSMETA" */
#define META_VERSION 1
#define META_HDR_SZ 4096UL

struct vos_meta_hdr_df {
	uint64_t mh_magic;
	uint32_t mh_version;
	uint32_t mh_slot;
	uint64_t mh_seq; /* 0: the slot holds no valid checkpoint */
	uint64_t mh_lsn;
	uint64_t mh_img_size;
	uint32_t mh_crc_table; /* CRC32C of the slot's CRC table */
	uint32_t mh_csum;      /* CRC32C of this header with mh_csum = 0 */
};
D_CASSERT(sizeof(struct vos_meta_hdr_df) == 48);

struct vos_meta {
	int vm_fd;
	size_t vm_img_size;
	uint64_t vm_npages;
	uint64_t vm_crc_bytes;
	uint32_t *vm_crcs[2];
	uint64_t *vm_pending[2]; /* pages slot s must write at its next checkpoint */
	uint64_t vm_seq[2];
	uint64_t vm_lsn[2];
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

static int
meta_hdr_write(struct vos_meta *vm, int slot, uint64_t seq, uint64_t lsn)
{
	char buf[META_HDR_SZ] = {0};
	struct vos_meta_hdr_df *h = (struct vos_meta_hdr_df *)buf;

	h->mh_magic = META_MAGIC;
	h->mh_version = META_VERSION;
	h->mh_slot = (uint32_t)slot;
	h->mh_seq = seq;
	h->mh_lsn = lsn;
	h->mh_img_size = vm->vm_img_size;
	h->mh_crc_table = meta_crc(vm->vm_crcs[slot], vm->vm_crc_bytes);
	h->mh_csum = meta_crc(h, sizeof(*h));
	return meta_pwrite(vm->vm_fd, buf, sizeof(buf), (uint64_t)slot * META_HDR_SZ);
}

static struct vos_meta *
meta_alloc(size_t img_size)
{
	struct vos_meta *vm;
	int s;

	D_ALLOC_PTR(vm);
	if (vm == NULL)
		return NULL;
	vm->vm_fd = -1;
	vm->vm_img_size = img_size;
	vm->vm_npages = img_size / UMEM_PAGE_SIZE;
	vm->vm_crc_bytes =
	    (vm->vm_npages * sizeof(uint32_t) + UMEM_PAGE_SIZE - 1) & ~(UMEM_PAGE_SIZE - 1);
	for (s = 0; s < 2; s++) {
		D_ALLOC(vm->vm_crcs[s], vm->vm_crc_bytes);
		D_ALLOC_ARRAY(vm->vm_pending[s], (vm->vm_npages + 63) / 64);
		if (vm->vm_crcs[s] == NULL || vm->vm_pending[s] == NULL) {
			vos_meta_close(vm);
			return NULL;
		}
	}
	return vm;
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
	if (h->mh_magic != META_MAGIC || meta_crc(h, sizeof(*h)) != csum) {
		D_DEBUG("meta slot %d: header damaged or unwritten\n", slot);
		return -DER_CSUM;
	}
	h->mh_csum = csum;
	if (h->mh_version != META_VERSION || h->mh_slot != (uint32_t)slot || h->mh_seq == 0)
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

int
vos_meta_open(const char *path, struct vos_meta **metap, void **imagep, size_t *img_sizep,
	      uint64_t *lsnp)
{
	struct vos_meta_hdr_df h[2];
	struct vos_meta *vm = NULL;
	int hrc[2], order[2], i, fd, rc;
	size_t img_size = 0;
	void *image;
	struct stat st;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -DER_NONEXIST : d_errno2der(errno);
	/* the geometry comes from whichever header is intact */
	for (i = 0; i < 2; i++) {
		rc = meta_pread(fd, &h[i], sizeof(h[i]), (uint64_t)i * META_HDR_SZ);
		if (rc != 0) {
			close(fd);
			return rc;
		}
	}
	{
		struct vos_meta probe = {.vm_fd = fd};

		for (i = 0; i < 2; i++)
			hrc[i] = meta_hdr_read(&probe, i, &h[i]);
	}
	for (i = 0; i < 2 && img_size == 0; i++)
		if (hrc[i] == 0)
			img_size = h[i].mh_img_size;
	if (img_size == 0 || img_size % UMEM_PAGE_SIZE != 0 || fstat(fd, &st) != 0) {
		D_ERROR("%s: no valid checkpoint header\n", path);
		close(fd);
		return -DER_CSUM;
	}
	vm = meta_alloc(img_size);
	if (vm == NULL) {
		close(fd);
		return -DER_NOMEM;
	}
	vm->vm_fd = fd;
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
			/* the other slot is rewritten in full; this one is current */
			meta_pending_all(vm, 1 - s);
			*lsnp = h[s].mh_lsn;
			break;
		}
	}
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
vos_meta_checkpoint(struct vos_meta *vm, struct umem_instance *umm, uint64_t lsn)
{
	uint64_t p = 0, seq;
	int t;

	D_ASSERT(umem_size(umm) == vm->vm_img_size);
	/* the older (or invalid) slot */
	t = vm->vm_seq[0] <= vm->vm_seq[1] ? 0 : 1;
	seq = (vm->vm_seq[0] > vm->vm_seq[1] ? vm->vm_seq[0] : vm->vm_seq[1]) + 1;
	while (umem_dirty_next(umm, &p)) {
		vm->vm_pending[0][p / 64] |= 1ULL << (p % 64);
		vm->vm_pending[1][p / 64] |= 1ULL << (p % 64);
		p++;
	}
	return meta_slot_write(vm, t, umem_base(umm), seq, lsn);
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
	int s;

	if (vm == NULL)
		return;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	for (s = 0; s < 2; s++) {
		D_FREE(vm->vm_crcs[s]);
		D_FREE(vm->vm_pending[s]);
	}
	D_FREE(vm);
}
