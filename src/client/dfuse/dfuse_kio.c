/*
 * dfuse's own read/writev on /dev/fuse (libfuse's custom I/O), to ask the kernel for what
 * libfuse 3.14 cannot: FUSE_HANDLE_KILLPRIV_V2 in the FUSE_INIT reply. With it the kernel
 * marks the mount SB_NOSEC and stops asking for security.capability before every write()
 * system call (a synchronous round trip that queued behind the write-back requests); the
 * daemon clears setuid/setgid itself when the kernel says so in a request (README.md).
 *
 * The requests are read whole by one worker, which processes them next on the same thread:
 * the flag of the request just read is a thread-local.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fuse.h>

#include "dfuse_internal.h"

/*
 * FUSE_INIT is read, processed and answered by one worker before the kernel sends any other
 * request; the others only read these after that (atomics all the same).
 */
/*
 * FUSE_DIRECT_IO_ALLOW_MMAP (Linux 6.6, protocol 7.39; the C library's header may predate
 * it): shared mmap of a file opened with direct_io, through the page cache. In flags2.
 */
#define KIO_DIRECT_IO_ALLOW_MMAP2 (1U << (36 - 32))
static bool kio_want_v2;         /* asked for at attach */
static bool kio_want_mmap;       /* asked for at attach */
static bool kio_init_mmap;       /* the kernel offered DIRECT_IO_ALLOW_MMAP */
static uint64_t kio_init_unique; /* the FUSE_INIT request's id, 0 once answered */
static bool kio_init_v2;         /* the kernel offered KILLPRIV_V2 in FUSE_INIT */
static bool kio_v2;              /* KILLPRIV_V2 was put in the INIT reply */
static __thread bool kio_kill;   /* the request this thread read last kills suid/sgid */

/* the kill flag of one request: a write, a setattr, an open or a create */
static bool
kio_req_kill(const char *buf, size_t len)
{
	const struct fuse_in_header *ih = (const void *)buf;
	const char *arg = buf + sizeof(*ih);
	size_t alen = len - sizeof(*ih);

	switch (ih->opcode) {
	case FUSE_WRITE: {
		struct fuse_write_in wi;

		if (alen < sizeof(wi))
			return false;
		memcpy(&wi, arg, sizeof(wi));
		return (wi.write_flags & FUSE_WRITE_KILL_SUIDGID) != 0;
	}
	case FUSE_SETATTR: {
		struct fuse_setattr_in si;

		if (alen < sizeof(si))
			return false;
		memcpy(&si, arg, sizeof(si));
		return (si.valid & FATTR_KILL_SUIDGID) != 0;
	}
	case FUSE_OPEN: {
		struct fuse_open_in oi;

		if (alen < sizeof(oi))
			return false;
		memcpy(&oi, arg, sizeof(oi));
		return (oi.open_flags & FUSE_OPEN_KILL_SUIDGID) != 0;
	}
	case FUSE_CREATE: {
		struct fuse_create_in ci;

		if (alen < sizeof(ci))
			return false;
		memcpy(&ci, arg, sizeof(ci));
		return (ci.open_flags & FUSE_OPEN_KILL_SUIDGID) != 0;
	}
	default:
		return false;
	}
}

static ssize_t
kio_read(int fd, void *buf, size_t len, void *userdata)
{
	const struct fuse_in_header *ih = buf;
	ssize_t n;

	(void)userdata;
	n = read(fd, buf, len);
	kio_kill = false;
	if (n < (ssize_t)sizeof(*ih))
		return n;
	if (ih->opcode == FUSE_INIT && (size_t)n >= sizeof(*ih) + 16) {
		struct fuse_init_in ii = {0};

		/* major, minor, max_readahead, flags: the older, 16-byte request is enough */
		memcpy(&ii, (const char *)buf + sizeof(*ih),
		       (size_t)n - sizeof(*ih) < sizeof(ii) ? (size_t)n - sizeof(*ih) : sizeof(ii));
		__atomic_store_n(&kio_init_v2, (ii.flags & FUSE_HANDLE_KILLPRIV_V2) != 0,
				 __ATOMIC_RELAXED);
		/* flags2 only counts in an extended request (the copy above zeroed the rest) */
		__atomic_store_n(&kio_init_mmap,
				 (ii.flags & FUSE_INIT_EXT) &&
				     (ii.flags2 & KIO_DIRECT_IO_ALLOW_MMAP2) != 0,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&kio_init_unique, ih->unique, __ATOMIC_RELEASE);
		return n;
	}
	kio_kill = dfuse_kio_v2() && kio_req_kill(buf, (size_t)n);
	return n;
}

static ssize_t
kio_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	/* libfuse's INIT reply: the out header, then the fuse_init_out (flags at byte 12) */
	uint64_t init = __atomic_load_n(&kio_init_unique, __ATOMIC_ACQUIRE);

	if (init != 0 && count >= 2 && iov[0].iov_len >= sizeof(struct fuse_out_header)) {
		struct fuse_out_header *oh = iov[0].iov_base;

		if (oh->unique == init) {
			__atomic_store_n(&kio_init_unique, 0, __ATOMIC_RELAXED);
			if (oh->error == 0 && kio_want_v2 &&
			    __atomic_load_n(&kio_init_v2, __ATOMIC_RELAXED) &&
			    iov[1].iov_len >= offsetof(struct fuse_init_out, flags) + 4) {
				struct fuse_init_out *io = iov[1].iov_base;

				io->flags |= FUSE_HANDLE_KILLPRIV_V2;
				__atomic_store_n(&kio_v2, true, __ATOMIC_RELEASE);
				fprintf(stderr, "dfuse: FUSE_HANDLE_KILLPRIV_V2 on\n");
			}
			if (oh->error == 0 && kio_want_mmap &&
			    __atomic_load_n(&kio_init_mmap, __ATOMIC_RELAXED) &&
			    iov[1].iov_len >= offsetof(struct fuse_init_out, flags2) + 4) {
				struct fuse_init_out *io = iov[1].iov_base;

				/* libfuse answers an extended request with FUSE_INIT_EXT */
				if (io->flags & FUSE_INIT_EXT) {
					io->flags2 |= KIO_DIRECT_IO_ALLOW_MMAP2;
					fprintf(stderr, "dfuse: FUSE_DIRECT_IO_ALLOW_MMAP on\n");
				}
			}
		}
	}
	return writev(fd, iov, count);
}

int
dfuse_kio_attach(struct fuse_session *se, bool killpriv_v2, bool direct_mmap)
{
	static const struct fuse_custom_io io = {.read = kio_read, .writev = kio_writev};

	kio_want_v2 = killpriv_v2;
	kio_want_mmap = direct_mmap;
	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}

bool
dfuse_kio_v2(void)
{
	return __atomic_load_n(&kio_v2, __ATOMIC_ACQUIRE);
}

bool
dfuse_kio_kill(void)
{
	return kio_kill;
}
