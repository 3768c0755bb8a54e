/*
 * daos_cmd_fs.c: `daos filesystem copy --src A --dst B` (README.md): copies a tree of
 * directories, regular files and symbolic links between a local file system and POSIX
 * containers (libdfs), in any direction, keeping modes and times. Each end is a local path,
 * `daos://POOL/CONT[/path]`, or a local path inside a directory linked to a container by
 * libduns (`user.daos`).
 *
 * The calling thread walks the source, creates directories and symbolic links as it goes
 * and queues regular files; -t threads copy the queued files, each with its own file
 * handles (one dfs_t per end, shared: libdfs is thread-safe per mount), in chunks of the
 * file's chunk size (1 MiB for local-only copies). Chunks that read as zeros are not
 * written: the destination gets the same size through a final truncate, so holes stay
 * holes (and zeros written by the source become holes). Directory modes and times are set
 * last, deepest first, so that the files written into them do not change them again.
 *
 * Every helper returns 0 or a positive errno (the DFS currency); the command turns the
 * first failure into -DER_* and a message. Context: the daos tool's thread plus the
 * workers it starts here; all block in libdaos or the kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <daos.h>
#include <daos_fs.h>
#include <daos_uns.h>
#include <gurt/common.h>

#include "daos_internal.h"

#define FC_CHUNK_DEFAULT (1ULL << 20)
#define FC_CHUNK_MAX (64ULL << 20)
#define FC_THREADS_DEFAULT 4
#define FC_THREADS_MAX 64
#define FC_READDIR_BATCH 64

/* One end of the copy. */
struct fc_end {
	const char *fe_arg; /* as the user wrote it */
	bool fe_daos;
	char fe_pool[DAOS_PROP_LABEL_MAX_LEN + 1];
	char fe_cont[DAOS_PROP_LABEL_MAX_LEN + 1];
	dfs_t *fe_dfs;
	char *fe_root; /* local: the path; DAOS: absolute in the container, "/" at least */
};

/* A regular file to copy: its paths below each end's root ("" is the root itself). */
struct fc_job {
	struct fc_job *fj_next;
	char *fj_src;
	char *fj_dst;
	struct stat fj_st;
};

/* A directory whose mode and times are set at the end. */
struct fc_dir {
	struct fc_dir *fd_next;
	char *fd_rel;
	struct stat fd_st;
};

struct fc_run {
	struct dt_ctx *fr_ctx;
	struct fc_end fr_src;
	struct fc_end fr_dst;
	pthread_mutex_t fr_lock;
	pthread_cond_t fr_cond;      /* work queued, walk over, or a failure */
	pthread_cond_t fr_prog_cond; /* the progress thread is told to stop */
	struct fc_job *fr_head;
	struct fc_job *fr_tail;
	bool fr_walk_done;
	bool fr_stop_progress;
	struct fc_dir *fr_dirs; /* newest first: deepest before its parents */
	/* the first failure */
	int fr_err; /* positive errno */
	char fr_msg[400];
	/* counters (atomic) */
	uint64_t fr_nfiles;
	uint64_t fr_ndirs;
	uint64_t fr_nlinks;
	uint64_t fr_bytes;
	uint64_t fr_t0_ns;
};

static uint64_t
fc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Record the first failure (later ones are dropped: the copy stops at the first). */
static int fc_fail(struct fc_run *run, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fc_fail(struct fc_run *run, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&run->fr_lock);
	if (run->fr_err == 0) {
		run->fr_err = err;
		va_start(ap, fmt);
		vsnprintf(run->fr_msg, sizeof(run->fr_msg), fmt, ap);
		va_end(ap);
	}
	pthread_cond_broadcast(&run->fr_cond);
	pthread_mutex_unlock(&run->fr_lock);
	return err;
}

static bool
fc_failed(struct fc_run *run)
{
	return __atomic_load_n(&run->fr_err, __ATOMIC_RELAXED) != 0;
}

/* @root joined with @rel (malloc'd); "" is the root itself. */
static char *
fc_join(const char *root, const char *rel)
{
	char *p;

	if (rel[0] == '\0')
		return strdup(root);
	if (asprintf(&p, "%s/%s", strcmp(root, "/") == 0 ? "" : root, rel) < 0)
		return NULL;
	return p;
}

/* "a/b" + "c" -> "a/b/c"; "" + "c" -> "c" */
static char *
fc_child(const char *rel, const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s%s", rel, rel[0] != '\0' ? "/" : "", name) < 0)
		return NULL;
	return p;
}

/* Split absolute DFS path @full into a newly allocated parent path and a name in it. */
static int
fc_split(const char *full, char **parent, const char **name)
{
	const char *slash = strrchr(full, '/');

	if (slash == NULL || slash[1] == '\0')
		return EINVAL;
	*name = slash + 1;
	*parent = slash == full ? strdup("/") : strndup(full, (size_t)(slash - full));
	return *parent == NULL ? ENOMEM : 0;
}

/* The end's path of @rel: local stat / DFS lookup, following the last link if @follow. */
static int
fc_stat(struct fc_end *e, const char *rel, bool follow, struct stat *st)
{
	dfs_obj_t *obj;
	char *full;
	int rc;

	full = fc_join(e->fe_root, rel);
	if (full == NULL)
		return ENOMEM;
	if (!e->fe_daos) {
		rc = (follow ? stat(full, st) : lstat(full, st)) == 0 ? 0 : errno;
	} else {
		rc = dfs_lookup(e->fe_dfs, full, O_RDONLY | (follow ? 0 : O_NOFOLLOW), &obj, NULL,
				st);
		if (rc == 0)
			dfs_release(obj);
	}
	free(full);
	return rc;
}

/* Open the parent directory of DFS path @full: *parent (release) and the name in it. */
static int
fc_dfs_parent(struct fc_end *e, const char *full, dfs_obj_t **parent, const char **name)
{
	char *ppath;
	int rc;

	rc = fc_split(full, &ppath, name);
	if (rc != 0)
		return rc;
	rc = dfs_lookup(e->fe_dfs, ppath, O_RDWR, parent, NULL, NULL);
	free(ppath);
	return rc;
}

/* The names in directory @rel of @e: *names (each and the array freed by the caller). */
static int
fc_list(struct fc_end *e, const char *rel, char ***namesp, size_t *np)
{
	char **names = NULL;
	size_t n = 0;
	size_t cap = 0;
	char *full;
	int rc = 0;

	full = fc_join(e->fe_root, rel);
	if (full == NULL)
		return ENOMEM;
	if (!e->fe_daos) {
		struct dirent *de;
		DIR *d = opendir(full);

		if (d == NULL) {
			rc = errno;
			goto out;
		}
		errno = 0;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (n == cap) {
				char **more = realloc(names, (cap = cap * 2 + 16) * sizeof(*names));

				if (more == NULL) {
					rc = ENOMEM;
					break;
				}
				names = more;
			}
			names[n] = strdup(de->d_name);
			if (names[n] == NULL) {
				rc = ENOMEM;
				break;
			}
			n++;
			errno = 0;
		}
		if (rc == 0 && errno != 0)
			rc = errno;
		closedir(d);
	} else {
		struct dirent ents[FC_READDIR_BATCH];
		daos_anchor_t anchor = {0};
		dfs_obj_t *dir;
		uint32_t nr;
		uint32_t i;

		rc = dfs_lookup(e->fe_dfs, full, O_RDONLY, &dir, NULL, NULL);
		if (rc != 0)
			goto out;
		while (rc == 0 && !daos_anchor_is_eof(&anchor)) {
			nr = FC_READDIR_BATCH;
			rc = dfs_readdir(e->fe_dfs, dir, &anchor, &nr, ents);
			for (i = 0; rc == 0 && i < nr; i++) {
				if (n == cap) {
					char **more =
					    realloc(names, (cap = cap * 2 + 16) * sizeof(*names));

					if (more == NULL) {
						rc = ENOMEM;
						break;
					}
					names = more;
				}
				names[n] = strdup(ents[i].d_name);
				if (names[n] == NULL)
					rc = ENOMEM;
				else
					n++;
			}
		}
		dfs_release(dir);
	}
out:
	free(full);
	if (rc != 0) {
		while (n > 0)
			free(names[--n]);
		free(names);
		return rc;
	}
	*namesp = names;
	*np = n;
	return 0;
}

/* Make directory @rel of @e (0700 until its own mode is set at the end); one that exists is
 * fine, anything else there is ENOTDIR. */
static int
fc_mkdir(struct fc_end *e, const char *rel)
{
	struct stat st;
	char *full;
	int rc;

	full = fc_join(e->fe_root, rel);
	if (full == NULL)
		return ENOMEM;
	if (!e->fe_daos) {
		rc = mkdir(full, 0700) == 0 ? 0 : errno;
	} else {
		dfs_obj_t *parent;
		const char *name;

		rc = strcmp(full, "/") == 0 ? EEXIST : fc_dfs_parent(e, full, &parent, &name);
		if (rc == 0) {
			rc = dfs_mkdir(e->fe_dfs, parent, name, S_IFDIR | 0700, 0);
			dfs_release(parent);
		}
	}
	free(full);
	if (rc == EEXIST) {
		rc = fc_stat(e, rel, true, &st);
		if (rc == 0 && !S_ISDIR(st.st_mode))
			rc = ENOTDIR;
	}
	return rc;
}

/* Set the mode and times of directory @rel of @e from @st. */
static int
fc_dir_attrs(struct fc_end *e, const char *rel, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	struct stat s = *st;
	dfs_obj_t *obj;
	char *full;
	int rc;

	full = fc_join(e->fe_root, rel);
	if (full == NULL)
		return ENOMEM;
	if (!e->fe_daos) {
		rc = chmod(full, st->st_mode & 07777) == 0 ? 0 : errno;
		if (rc == 0)
			rc = utimensat(AT_FDCWD, full, ts, 0) == 0 ? 0 : errno;
	} else {
		rc = dfs_lookup(e->fe_dfs, full, O_RDWR, &obj, NULL, NULL);
		if (rc == 0) {
			rc = dfs_osetattr(e->fe_dfs, obj, &s,
					  DFS_SET_ATTR_MODE | DFS_SET_ATTR_ATIME |
					      DFS_SET_ATTR_MTIME);
			dfs_release(obj);
		}
	}
	free(full);
	return rc;
}

/* The target of symbolic link @rel of @e into @buf (NUL-terminated). */
static int
fc_readlink(struct fc_end *e, const char *rel, char *buf, size_t size)
{
	daos_size_t len = size;
	dfs_obj_t *obj;
	char *full;
	ssize_t n;
	int rc;

	full = fc_join(e->fe_root, rel);
	if (full == NULL)
		return ENOMEM;
	if (!e->fe_daos) {
		n = readlink(full, buf, size - 1);
		rc = n < 0 ? errno : 0;
		if (n >= 0)
			buf[n] = '\0';
	} else {
		rc = dfs_lookup(e->fe_dfs, full, O_RDONLY | O_NOFOLLOW, &obj, NULL, NULL);
		if (rc == 0) {
			rc = dfs_get_symlink_value(obj, buf, &len);
			if (rc == 0 && len > size)
				rc = ENAMETOOLONG;
			dfs_release(obj);
		}
	}
	free(full);
	return rc;
}

/* Make symbolic link @rel of @e pointing at @target (replacing an entry that is not a
 * directory), with the times of @st. */
static int
fc_symlink(struct fc_end *e, const char *rel, const char *target, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	struct stat s = *st;
	char *full;
	int rc;

	full = fc_join(e->fe_root, rel);
	if (full == NULL)
		return ENOMEM;
	if (!e->fe_daos) {
		rc = symlink(target, full) == 0 ? 0 : errno;
		if (rc == EEXIST && unlink(full) == 0)
			rc = symlink(target, full) == 0 ? 0 : errno;
		if (rc == 0)
			rc = utimensat(AT_FDCWD, full, ts, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
	} else {
		dfs_obj_t *parent;
		dfs_obj_t *obj;
		const char *name;

		rc = fc_dfs_parent(e, full, &parent, &name);
		if (rc != 0)
			goto out;
		rc = dfs_open(e->fe_dfs, parent, name, S_IFLNK | 0777, O_RDWR | O_CREAT | O_EXCL, 0,
			      0, target, &obj);
		if (rc == EEXIST && dfs_remove(e->fe_dfs, parent, name, false, NULL) == 0)
			rc = dfs_open(e->fe_dfs, parent, name, S_IFLNK | 0777,
				      O_RDWR | O_CREAT | O_EXCL, 0, 0, target, &obj);
		if (rc == 0) {
			rc = dfs_osetattr(e->fe_dfs, obj, &s,
					  DFS_SET_ATTR_ATIME | DFS_SET_ATTR_MTIME);
			dfs_release(obj);
		}
		dfs_release(parent);
	}
out:
	free(full);
	return rc;
}

/* An open regular file of either kind. */
struct fc_file {
	struct fc_end *ff_end;
	int ff_fd;
	dfs_obj_t *ff_obj;
};

/* Open @rel of @e to read (@write false) or create/truncate it to write with @chunk (DFS;
 * 0: the container's default). */
static int
fc_open(struct fc_end *e, const char *rel, bool write, daos_size_t chunk, struct fc_file *f)
{
	char *full;
	int rc;

	f->ff_end = e;
	f->ff_fd = -1;
	f->ff_obj = NULL;
	full = fc_join(e->fe_root, rel);
	if (full == NULL)
		return ENOMEM;
	if (!e->fe_daos) {
		/* 0600 while writing: the source's mode (maybe read-only) is set at the end */
		int wflags = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC;

		f->ff_fd = write ? open(full, wflags, 0600) : open(full, O_RDONLY | O_CLOEXEC);
		rc = f->ff_fd < 0 ? errno : 0;
		/* a link where the file goes is replaced, not written through */
		if (write && rc == ELOOP && unlink(full) == 0) {
			f->ff_fd = open(full, wflags, 0600);
			rc = f->ff_fd < 0 ? errno : 0;
		}
	} else if (!write) {
		rc = dfs_lookup(e->fe_dfs, full, O_RDONLY, &f->ff_obj, NULL, NULL);
		if (rc == 0) {
			mode_t mode = 0;
			struct stat st;

			rc = dfs_ostat(e->fe_dfs, f->ff_obj, &st);
			mode = st.st_mode;
			if (rc == 0 && !S_ISREG(mode))
				rc = S_ISDIR(mode) ? EISDIR : EINVAL;
		}
	} else {
		dfs_obj_t *parent;
		const char *name;

		rc = fc_dfs_parent(e, full, &parent, &name);
		if (rc == 0) {
			rc = dfs_open(e->fe_dfs, parent, name, S_IFREG | 0600,
				      O_RDWR | O_CREAT | O_TRUNC, 0, chunk, NULL, &f->ff_obj);
			dfs_release(parent);
		}
	}
	free(full);
	if (rc != 0 && f->ff_obj != NULL) {
		dfs_release(f->ff_obj);
		f->ff_obj = NULL;
	}
	return rc;
}

static void
fc_close(struct fc_file *f)
{
	if (f->ff_fd >= 0)
		close(f->ff_fd);
	if (f->ff_obj != NULL)
		dfs_release(f->ff_obj);
	f->ff_fd = -1;
	f->ff_obj = NULL;
}

/* Read up to @len bytes at @off: *@got is 0 at the end. */
static int
fc_pread(struct fc_file *f, void *buf, size_t len, uint64_t off, size_t *got)
{
	if (f->ff_fd >= 0) {
		ssize_t n;

		do {
			n = pread(f->ff_fd, buf, len, (off_t)off);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno;
		*got = (size_t)n;
		return 0;
	} else {
		daos_size_t n = 0;
		d_sg_list_t sgl;
		d_iov_t iov;
		int rc;

		d_iov_set(&iov, buf, len);
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		rc = dfs_read(f->ff_end->fe_dfs, f->ff_obj, &sgl, off, &n, NULL);
		*got = (size_t)n;
		return rc;
	}
}

static int
fc_pwrite(struct fc_file *f, const void *buf, size_t len, uint64_t off)
{
	if (f->ff_fd >= 0) {
		const char *p = buf;

		while (len > 0) {
			ssize_t n = pwrite(f->ff_fd, p, len, (off_t)off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? errno : EIO;
			p += n;
			off += (uint64_t)n;
			len -= (size_t)n;
		}
		return 0;
	} else {
		d_sg_list_t sgl;
		d_iov_t iov;

		d_iov_set(&iov, (void *)buf, len);
		sgl = (d_sg_list_t){.sg_nr = 1, .sg_iovs = &iov};
		return dfs_write(f->ff_end->fe_dfs, f->ff_obj, &sgl, off, NULL);
	}
}

/* Give the written file its final size (chunks of zeros were skipped), mode and times. */
static int
fc_finish(struct fc_file *f, uint64_t size, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	struct stat s = *st;
	int rc;

	if (f->ff_fd >= 0) {
		if (ftruncate(f->ff_fd, (off_t)size) != 0 || fchmod(f->ff_fd, st->st_mode & 07777))
			return errno;
		return futimens(f->ff_fd, ts) == 0 ? 0 : errno;
	}
	rc = dfs_punch(f->ff_end->fe_dfs, f->ff_obj, size, DFS_MAX_FSIZE);
	if (rc == 0)
		rc = dfs_osetattr(f->ff_end->fe_dfs, f->ff_obj, &s,
				  DFS_SET_ATTR_MODE | DFS_SET_ATTR_ATIME | DFS_SET_ATTR_MTIME);
	return rc;
}

static bool
fc_all_zero(const char *buf, size_t len)
{
	static const char zeros[4096];
	size_t n;

	while (len > 0) {
		n = len < sizeof(zeros) ? len : sizeof(zeros);
		if (memcmp(buf, zeros, n) != 0)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

/* Copy one regular file. @bufp/@cap: the worker's buffer, grown to the chunk size. */
static void
fc_copy_file(struct fc_run *run, struct fc_job *job, char **bufp, size_t *cap)
{
	struct fc_file src;
	struct fc_file dst;
	daos_size_t chunk = 0;
	uint64_t off = 0;
	size_t got = 0;
	int rc;

	rc = fc_open(&run->fr_src, job->fj_src, false, 0, &src);
	if (rc != 0) {
		fc_fail(run, rc, "cannot open source file %s: %s",
			job->fj_src[0] ? job->fj_src : run->fr_src.fe_arg, strerror(rc));
		return;
	}
	/* keep a container file's chunk size when copying into a container */
	if (src.ff_obj != NULL && run->fr_dst.fe_daos)
		dfs_get_chunk_size(src.ff_obj, &chunk);
	rc = fc_open(&run->fr_dst, job->fj_dst, true, chunk, &dst);
	if (rc != 0) {
		fc_fail(run, rc, "cannot create %s in the destination: %s",
			job->fj_dst[0] ? job->fj_dst : run->fr_dst.fe_arg, strerror(rc));
		goto out_src;
	}
	if (dst.ff_obj != NULL)
		dfs_get_chunk_size(dst.ff_obj, &chunk);
	else if (src.ff_obj != NULL)
		dfs_get_chunk_size(src.ff_obj, &chunk);
	if (chunk == 0)
		chunk = FC_CHUNK_DEFAULT;
	if (chunk > FC_CHUNK_MAX)
		chunk = FC_CHUNK_MAX;
	if (*cap < chunk) {
		char *nb = realloc(*bufp, chunk);

		if (nb == NULL) {
			fc_fail(run, ENOMEM, "no memory for a %" PRIu64 "-byte buffer", chunk);
			goto out_dst;
		}
		*bufp = nb;
		*cap = chunk;
	}
	for (;;) {
		/* read chunk-aligned pieces, so that each write fills whole chunks */
		size_t want = (size_t)(chunk - off % chunk);

		if (fc_failed(run))
			goto out_dst;
		rc = fc_pread(&src, *bufp, want, off, &got);
		if (rc != 0) {
			fc_fail(run, rc, "cannot read %s: %s", job->fj_src, strerror(rc));
			goto out_dst;
		}
		if (got == 0)
			break;
		if (!fc_all_zero(*bufp, got)) {
			rc = fc_pwrite(&dst, *bufp, got, off);
			if (rc != 0) {
				fc_fail(run, rc, "cannot write %s: %s", job->fj_dst, strerror(rc));
				goto out_dst;
			}
		}
		off += got;
		__atomic_fetch_add(&run->fr_bytes, got, __ATOMIC_RELAXED);
	}
	rc = fc_finish(&dst, off, &job->fj_st);
	if (rc != 0) {
		fc_fail(run, rc, "cannot set the size, mode or times of %s: %s", job->fj_dst,
			strerror(rc));
		goto out_dst;
	}
	__atomic_fetch_add(&run->fr_nfiles, 1, __ATOMIC_RELAXED);
out_dst:
	fc_close(&dst);
out_src:
	fc_close(&src);
}

static void
fc_job_free(struct fc_job *job)
{
	free(job->fj_src);
	free(job->fj_dst);
	free(job);
}

static void *
fc_worker(void *arg)
{
	struct fc_run *run = arg;
	struct fc_job *job;
	char *buf = NULL;
	size_t cap = 0;

	for (;;) {
		pthread_mutex_lock(&run->fr_lock);
		while (run->fr_head == NULL && !run->fr_walk_done)
			pthread_cond_wait(&run->fr_cond, &run->fr_lock);
		job = run->fr_head;
		if (job != NULL) {
			run->fr_head = job->fj_next;
			if (run->fr_head == NULL)
				run->fr_tail = NULL;
		}
		pthread_mutex_unlock(&run->fr_lock);
		if (job == NULL)
			break;
		if (!fc_failed(run))
			fc_copy_file(run, job, &buf, &cap);
		fc_job_free(job);
	}
	free(buf);
	return NULL;
}

static int
fc_enqueue(struct fc_run *run, const char *src, const char *dst, const struct stat *st)
{
	struct fc_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		return ENOMEM;
	job->fj_src = strdup(src);
	job->fj_dst = strdup(dst);
	if (job->fj_src == NULL || job->fj_dst == NULL) {
		fc_job_free(job);
		return ENOMEM;
	}
	job->fj_st = *st;
	pthread_mutex_lock(&run->fr_lock);
	if (run->fr_tail != NULL)
		run->fr_tail->fj_next = job;
	else
		run->fr_head = job;
	run->fr_tail = job;
	pthread_cond_signal(&run->fr_cond);
	pthread_mutex_unlock(&run->fr_lock);
	return 0;
}

static int
fc_dir_push(struct fc_run *run, const char *rel, const struct stat *st)
{
	struct fc_dir *d = calloc(1, sizeof(*d));

	if (d == NULL || (d->fd_rel = strdup(rel)) == NULL) {
		free(d);
		return ENOMEM;
	}
	d->fd_st = *st;
	d->fd_next = run->fr_dirs;
	run->fr_dirs = d;
	return 0;
}

/* Copy the entries of source directory @rel (its destination exists) into the same @rel. */
static int
fc_walk(struct fc_run *run, const char *rel)
{
	char target[PATH_MAX + 1];
	struct stat st;
	char **names;
	size_t n;
	size_t i;
	int rc;

	rc = fc_list(&run->fr_src, rel, &names, &n);
	if (rc != 0)
		return fc_fail(run, rc, "cannot read directory %s: %s",
			       rel[0] ? rel : run->fr_src.fe_arg, strerror(rc));
	for (i = 0; i < n && rc == 0 && !fc_failed(run); i++) {
		char *child = fc_child(rel, names[i]);

		if (child == NULL) {
			rc = fc_fail(run, ENOMEM, "no memory");
			break;
		}
		rc = fc_stat(&run->fr_src, child, false, &st);
		if (rc != 0) {
			rc = fc_fail(run, rc, "cannot stat %s: %s", child, strerror(rc));
		} else if (S_ISDIR(st.st_mode)) {
			rc = fc_mkdir(&run->fr_dst, child);
			if (rc != 0)
				rc = fc_fail(run, rc, "cannot create directory %s: %s", child,
					     strerror(rc));
			if (rc == 0)
				rc = fc_dir_push(run, child, &st);
			if (rc == 0) {
				__atomic_fetch_add(&run->fr_ndirs, 1, __ATOMIC_RELAXED);
				rc = fc_walk(run, child);
			}
		} else if (S_ISREG(st.st_mode)) {
			rc = fc_enqueue(run, child, child, &st);
			if (rc != 0)
				rc = fc_fail(run, rc, "no memory");
		} else if (S_ISLNK(st.st_mode)) {
			rc = fc_readlink(&run->fr_src, child, target, sizeof(target));
			if (rc != 0)
				rc = fc_fail(run, rc, "cannot read link %s: %s", child,
					     strerror(rc));
			if (rc == 0) {
				rc = fc_symlink(&run->fr_dst, child, target, &st);
				if (rc != 0)
					rc = fc_fail(run, rc, "cannot create link %s: %s", child,
						     strerror(rc));
			}
			if (rc == 0)
				__atomic_fetch_add(&run->fr_nlinks, 1, __ATOMIC_RELAXED);
		} else {
			fprintf(run->fr_ctx->tx_err,
				"WARNING: daos: skipping %s: not a file, directory or link\n",
				child);
		}
		free(child);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Where @arg points: daos://, a libduns link (on it or a parent), or a local path. */
static int
fc_end_parse(struct dt_ctx *ctx, const char *arg, struct fc_end *e)
{
	struct duns_attr_t attr;
	int rc;

	memset(e, 0, sizeof(*e));
	e->fe_arg = arg;
	if (arg[0] == '\0')
		return dt_fail(ctx, -DER_INVAL, "an empty path");
	memset(&attr, 0, sizeof(attr));
	rc = duns_resolve_path(arg, &attr);
	if (rc == 0) {
		e->fe_daos = true;
		strcpy(e->fe_pool, attr.da_pool);
		strcpy(e->fe_cont, attr.da_cont);
		e->fe_root = strdup(attr.da_rel_path != NULL ? attr.da_rel_path : "/");
		duns_destroy_attr(&attr);
	} else if (strncmp(arg, "daos://", 7) == 0) {
		return dt_fail(ctx, d_errno2der(rc),
			       "bad DAOS path %s (want daos://POOL/CONT[/PATH])", arg);
	} else if (rc == ENODATA || rc == ENOENT || rc == ENOTSUP || rc == EACCES) {
		e->fe_root = strdup(arg);
	} else {
		return dt_fail(ctx, d_errno2der(rc), "cannot resolve %s: %s", arg, strerror(rc));
	}
	if (e->fe_root == NULL)
		return dt_fail(ctx, -DER_NOMEM, "no memory");
	/* no trailing slashes (but keep "/") */
	while (strlen(e->fe_root) > 1 && e->fe_root[strlen(e->fe_root) - 1] == '/')
		e->fe_root[strlen(e->fe_root) - 1] = '\0';
	return 0;
}

static int
fc_end_connect(struct dt_ctx *ctx, const struct dt_opts *o, struct fc_end *e, bool dst)
{
	int rc;

	if (!e->fe_daos)
		return 0;
	/* a missing destination container (named by a label) is created, POSIX */
	rc = dfs_connect(e->fe_pool, o->o_sys, e->fe_cont, dst ? O_RDWR | O_CREAT : O_RDONLY, NULL,
			 &e->fe_dfs);
	if (rc != 0)
		return dt_fail(ctx, d_errno2der(rc), "cannot open %s container %s/%s: %s",
			       dst ? "destination" : "source", e->fe_pool, e->fe_cont,
			       strerror(rc));
	return 0;
}

static void
fc_end_fini(struct fc_end *e)
{
	if (e->fe_dfs != NULL)
		dfs_disconnect(e->fe_dfs);
	e->fe_dfs = NULL;
	free(e->fe_root);
	e->fe_root = NULL;
}

static double
fc_seconds(struct fc_run *run)
{
	return (double)(fc_now_ns() - run->fr_t0_ns) / 1e9;
}

static void *
fc_progress(void *arg)
{
	struct fc_run *run = arg;
	struct timespec until;
	FILE *f = run->fr_ctx->tx_err;

	pthread_mutex_lock(&run->fr_lock);
	while (!run->fr_stop_progress) {
		double s = fc_seconds(run);
		uint64_t b = __atomic_load_n(&run->fr_bytes, __ATOMIC_RELAXED);

		fprintf(f,
			"\r%" PRIu64 " files, %" PRIu64 " dirs, %" PRIu64
			" links, %.1f MiB, %.1f MB/s  ",
			__atomic_load_n(&run->fr_nfiles, __ATOMIC_RELAXED),
			__atomic_load_n(&run->fr_ndirs, __ATOMIC_RELAXED),
			__atomic_load_n(&run->fr_nlinks, __ATOMIC_RELAXED), (double)b / 1048576.0,
			s > 0 ? (double)b / 1e6 / s : 0.0);
		fflush(f);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&run->fr_prog_cond, &run->fr_lock, &until);
	}
	pthread_mutex_unlock(&run->fr_lock);
	fputc('\n', f);
	fflush(f);
	return NULL;
}

/* Is the destination inside the source tree (same container, or same local file system
 * path after resolving links)? Labels and uuids naming one container are not matched. */
static bool
fc_inside(struct fc_end *src, struct fc_end *dst)
{
	char *rs = NULL;
	char *rd = NULL;
	bool in = false;
	size_t n;

	if (src->fe_daos != dst->fe_daos)
		return false;
	if (src->fe_daos) {
		if (strcmp(src->fe_pool, dst->fe_pool) != 0 ||
		    strcmp(src->fe_cont, dst->fe_cont) != 0)
			return false;
		rs = strdup(src->fe_root);
		rd = strdup(dst->fe_root);
	} else {
		char *copy = strdup(dst->fe_root);
		char *slash;

		rs = realpath(src->fe_root, NULL);
		rd = realpath(dst->fe_root, NULL);
		/* a destination not made yet: its parent, resolved, and its name */
		if (rd == NULL && copy != NULL && (slash = strrchr(copy, '/')) != NULL) {
			char *parent;

			*slash = '\0';
			parent = realpath(copy[0] != '\0' ? copy : "/", NULL);
			if (parent != NULL && asprintf(&rd, "%s/%s", parent, slash + 1) < 0)
				rd = NULL;
			free(parent);
		} else if (rd == NULL && copy != NULL) {
			char *cwd = getcwd(NULL, 0);

			if (cwd != NULL && asprintf(&rd, "%s/%s", cwd, copy) < 0)
				rd = NULL;
			free(cwd);
		}
		free(copy);
	}
	if (rs != NULL && rd != NULL) {
		n = strlen(rs);
		in = strcmp(rs, "/") == 0 ||
		     (strncmp(rs, rd, n) == 0 && (rd[n] == '\0' || rd[n] == '/'));
	}
	free(rs);
	free(rd);
	return in;
}

/* Copy the source (a directory's contents, or one file or link) to the destination. */
static int
fc_copy_top(struct fc_run *run)
{
	struct fc_end *src = &run->fr_src;
	struct fc_end *dst = &run->fr_dst;
	char target[PATH_MAX + 1];
	struct stat sst;
	struct stat dst_st;
	const char *base;
	char *dst_rel = NULL;
	bool dst_exists;
	int rc;

	/* the source itself is followed if it is a link, as cp and rsync do with arguments */
	rc = fc_stat(src, "", true, &sst);
	if (rc == ENOENT)
		return fc_fail(run, rc, "source %s does not exist", src->fe_arg);
	if (rc != 0)
		return fc_fail(run, rc, "cannot stat source %s: %s", src->fe_arg, strerror(rc));
	rc = fc_stat(dst, "", true, &dst_st);
	if (rc != 0 && rc != ENOENT)
		return fc_fail(run, rc, "cannot stat destination %s: %s", dst->fe_arg,
			       strerror(rc));
	dst_exists = rc == 0;
	if (S_ISDIR(sst.st_mode)) {
		if (fc_inside(src, dst))
			return fc_fail(run, EINVAL, "cannot copy %s into itself (%s)", src->fe_arg,
				       dst->fe_arg);
		if (dst_exists && !S_ISDIR(dst_st.st_mode))
			return fc_fail(run, ENOTDIR, "destination %s exists and is not a directory",
				       dst->fe_arg);
		if (!dst_exists) {
			rc = fc_mkdir(dst, "");
			if (rc != 0)
				return fc_fail(run, rc,
					       "cannot create destination directory %s: %s",
					       dst->fe_arg, strerror(rc));
		}
		rc = fc_dir_push(run, "", &sst);
		if (rc != 0)
			return fc_fail(run, rc, "no memory");
		__atomic_fetch_add(&run->fr_ndirs, 1, __ATOMIC_RELAXED);
		return fc_walk(run, "");
	}
	if (!S_ISREG(sst.st_mode) && !S_ISLNK(sst.st_mode))
		return fc_fail(run, EINVAL, "source %s is not a file, directory or link",
			       src->fe_arg);
	/* one file: into an existing directory under its own name, else at the path given */
	if (dst_exists && S_ISDIR(dst_st.st_mode)) {
		base = strrchr(src->fe_root, '/');
		base = base != NULL ? base + 1 : src->fe_root;
		if (base[0] == '\0')
			return fc_fail(run, EINVAL, "source %s has no name", src->fe_arg);
		dst_rel = strdup(base);
	} else {
		dst_rel = strdup("");
	}
	if (dst_rel == NULL)
		return fc_fail(run, ENOMEM, "no memory");
	if (S_ISREG(sst.st_mode)) {
		rc = fc_enqueue(run, "", dst_rel, &sst);
		if (rc != 0)
			fc_fail(run, rc, "no memory");
	} else {
		rc = fc_readlink(src, "", target, sizeof(target));
		if (rc == 0)
			rc = fc_symlink(dst, dst_rel, target, &sst);
		if (rc != 0)
			fc_fail(run, rc, "cannot copy link %s: %s", src->fe_arg, strerror(rc));
		else
			__atomic_fetch_add(&run->fr_nlinks, 1, __ATOMIC_RELAXED);
	}
	free(dst_rel);
	return rc;
}

static void
fc_report(struct dt_ctx *ctx, struct fc_run *run, double secs)
{
	double mbs = secs > 0 ? (double)run->fr_bytes / 1e6 / secs : 0.0;

	if (ctx->tx_opts.o_json) {
		dt_json_begin(ctx);
		dj_obj_begin(ctx, "response");
		dj_str(ctx, "src", run->fr_src.fe_arg);
		dj_str(ctx, "dst", run->fr_dst.fe_arg);
		dj_u64(ctx, "num_dirs", run->fr_ndirs);
		dj_u64(ctx, "num_files", run->fr_nfiles);
		dj_u64(ctx, "num_links", run->fr_nlinks);
		dj_u64(ctx, "bytes", run->fr_bytes);
		dj_f64(ctx, "seconds", secs);
		dj_f64(ctx, "mb_per_sec", mbs);
		dj_obj_end(ctx);
		dt_json_end(ctx, NULL, 0);
		return;
	}
	fprintf(ctx->tx_out, "Successfully copied to %s: %s\n",
		run->fr_dst.fe_daos ? "DAOS" : "POSIX", run->fr_dst.fe_arg);
	fprintf(ctx->tx_out, "    Directories: %" PRIu64 "\n", run->fr_ndirs);
	fprintf(ctx->tx_out, "    Files:       %" PRIu64 "\n", run->fr_nfiles);
	fprintf(ctx->tx_out, "    Links:       %" PRIu64 "\n", run->fr_nlinks);
	fprintf(ctx->tx_out, "    Bytes:       %" PRIu64 "\n", run->fr_bytes);
	fprintf(ctx->tx_out, "    Seconds:     %.3f\n", secs);
	fprintf(ctx->tx_out, "    MB/s:        %.1f\n", mbs);
}

static int
fs_copy(struct dt_ctx *ctx, const struct dt_opts *o)
{
	pthread_t th[FC_THREADS_MAX];
	pthread_t prog;
	struct fc_run run;
	struct fc_dir *d;
	uint64_t nthreads = FC_THREADS_DEFAULT;
	bool progress;
	double secs;
	int started = 0;
	int rc;
	int i;

	if (o->o_src == NULL || o->o_dst == NULL)
		return dt_fail(ctx, -DER_INVAL, "both --src and --dst are required");
	if (o->o_threads != NULL && (dt_u64_parse(o->o_threads, &nthreads) != 0 || nthreads == 0 ||
				     nthreads > FC_THREADS_MAX))
		return dt_fail(ctx, -DER_INVAL, "--threads must be a number from 1 to %d",
			       FC_THREADS_MAX);
	memset(&run, 0, sizeof(run));
	run.fr_ctx = ctx;
	pthread_mutex_init(&run.fr_lock, NULL);
	pthread_cond_init(&run.fr_cond, NULL);
	pthread_cond_init(&run.fr_prog_cond, NULL);
	rc = fc_end_parse(ctx, o->o_src, &run.fr_src);
	if (rc == 0)
		rc = fc_end_parse(ctx, o->o_dst, &run.fr_dst);
	if (rc == 0)
		rc = fc_end_connect(ctx, o, &run.fr_src, false);
	if (rc == 0)
		rc = fc_end_connect(ctx, o, &run.fr_dst, true);
	if (rc != 0)
		goto out;

	run.fr_t0_ns = fc_now_ns();
	progress = isatty(fileno(ctx->tx_err)) && !o->o_json;
	if (progress && pthread_create(&prog, NULL, fc_progress, &run) != 0)
		progress = false;
	for (i = 0; i < (int)nthreads; i++) {
		if (pthread_create(&th[i], NULL, fc_worker, &run) != 0)
			break;
		started++;
	}
	if (started == 0)
		fc_fail(&run, EAGAIN, "cannot start a copy thread");
	else
		fc_copy_top(&run);
	pthread_mutex_lock(&run.fr_lock);
	run.fr_walk_done = true;
	pthread_cond_broadcast(&run.fr_cond);
	pthread_mutex_unlock(&run.fr_lock);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	/* when no thread ran, the queue may still hold work: drop it */
	while (run.fr_head != NULL) {
		struct fc_job *job = run.fr_head;

		run.fr_head = job->fj_next;
		fc_job_free(job);
	}
	/* directories last, deepest first */
	for (d = run.fr_dirs; d != NULL && run.fr_err == 0; d = d->fd_next) {
		rc = fc_dir_attrs(&run.fr_dst, d->fd_rel, &d->fd_st);
		if (rc != 0)
			fc_fail(&run, rc, "cannot set the mode or times of directory %s: %s",
				d->fd_rel[0] ? d->fd_rel : run.fr_dst.fe_arg, strerror(rc));
	}
	secs = fc_seconds(&run);
	if (progress) {
		pthread_mutex_lock(&run.fr_lock);
		run.fr_stop_progress = true;
		pthread_cond_broadcast(&run.fr_prog_cond);
		pthread_mutex_unlock(&run.fr_lock);
		pthread_join(prog, NULL);
	}
	if (run.fr_err != 0) {
		rc = dt_fail(ctx, d_errno2der(run.fr_err), "%s", run.fr_msg);
	} else {
		rc = 0;
		fc_report(ctx, &run, secs);
	}
out:
	while (run.fr_dirs != NULL) {
		d = run.fr_dirs;
		run.fr_dirs = d->fd_next;
		free(d->fd_rel);
		free(d);
	}
	fc_end_fini(&run.fr_src);
	fc_end_fini(&run.fr_dst);
	pthread_cond_destroy(&run.fr_cond);
	pthread_cond_destroy(&run.fr_prog_cond);
	pthread_mutex_destroy(&run.fr_lock);
	return rc;
}

const struct dt_cmd dt_cmd_fs_copy = {
    "filesystem",
    "copy",
    NULL,
    "Copy files, directories and links between POSIX containers and local paths",
    "--src SRC --dst DST",
    0,
    0,
    "src,dst,threads",
    fs_copy};
