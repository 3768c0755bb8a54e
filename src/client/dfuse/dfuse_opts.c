/*
 * dfuse_opts.c: the command line shared by dfuse and the test launcher, and running in the
 * background (fork before libdaos starts any thread; the parent exits when the child has
 * mounted).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dfuse_internal.h"

enum {
	OPT_POOL = 256,
	OPT_CONT,
	OPT_SYS,
	OPT_MGMT,
	OPT_CREATE,
	OPT_ATTR_TO,
	OPT_DENTRY_TO,
	OPT_DENTRY_DIR_TO,
	OPT_NDENTRY_TO,
	OPT_NOCACHE,
	OPT_CACHE,
	OPT_WB,
	OPT_NOWB,
	OPT_RA,
	OPT_RDONLY,
	OPT_DREAD,
	OPT_DWRITE,
	OPT_NODWRITE,
	OPT_PF,
};

static const struct option dfuse_longopts[] = {
    {"mountpoint", required_argument, NULL, 'm'},
    {"pool", required_argument, NULL, OPT_POOL},
    {"cont", required_argument, NULL, OPT_CONT},
    {"container", required_argument, NULL, OPT_CONT},
    {"sys-name", required_argument, NULL, OPT_SYS},
    {"mgmt", required_argument, NULL, OPT_MGMT},
    {"create", no_argument, NULL, OPT_CREATE},
    {"foreground", no_argument, NULL, 'f'},
    {"singlethread", no_argument, NULL, 'S'},
    {"thread-count", required_argument, NULL, 't'},
    {"attr-timeout", required_argument, NULL, OPT_ATTR_TO},
    {"dentry-timeout", required_argument, NULL, OPT_DENTRY_TO},
    {"dentry-dir-timeout", required_argument, NULL, OPT_DENTRY_DIR_TO},
    {"ndentry-timeout", required_argument, NULL, OPT_NDENTRY_TO},
    {"disable-caching", no_argument, NULL, OPT_NOCACHE},
    {"enable-caching", no_argument, NULL, OPT_CACHE},
    {"enable-wb-cache", no_argument, NULL, OPT_WB},
    {"disable-wb-cache", no_argument, NULL, OPT_NOWB},
    {"readahead-kib", required_argument, NULL, OPT_RA},
    {"read-only", no_argument, NULL, OPT_RDONLY},
    {"direct-read", no_argument, NULL, OPT_DREAD},
    {"direct-write", no_argument, NULL, OPT_DWRITE},
    {"no-direct-write", no_argument, NULL, OPT_NODWRITE},
    {"prefetch-mib", required_argument, NULL, OPT_PF},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void
dfuse_usage(FILE *out, const char *prog, bool launcher)
{
	fprintf(out,
		"usage: %s -m MOUNTPOINT --pool POOL --cont CONT [options]\n"
		"  -m, --mountpoint DIR     where to mount (or the first positional argument)\n"
		"      --pool P             pool label or UUID\n"
		"      --cont, --container C  container label or UUID\n"
		"      --sys-name S         DAOS system name\n"
		"  -f, --foreground         stay in the foreground\n"
		"  -S, --singlethread       serve requests on one thread\n"
		"  -t, --thread-count N     worker threads (default %u)\n"
		"      --attr-timeout S     seconds the kernel caches attributes (default 1)\n"
		"      --dentry-timeout S   seconds the kernel caches names (default 1)\n"
		"      --dentry-dir-timeout S  the same for names of directories (default 5)\n"
		"      --ndentry-timeout S  seconds the kernel caches missing names (default 1)\n"
		"      --enable-caching     attribute, name and page caching (default)\n"
		"      --disable-caching    no attribute, name or page caching (direct I/O)\n"
		"      --enable-wb-cache    the kernel's write-back cache when caching (default)\n"
		"      --disable-wb-cache   write-through: every write() reaches DAOS\n"
		"      --readahead-kib N    the kernel's read-ahead for the mount (default %u,\n"
		"                           0: leave the kernel's)\n"
		"      --direct-read        read-only opens bypass the page cache, dfuse\n"
		"                           prefetches sequential reads (see README)\n"
		"      --direct-write       writing opens bypass the page cache, dfuse\n"
		"                           writes behind (errors at fsync/close; README)\n"
		"      --no-direct-write    writes through the page cache\n"
		"      --prefetch-mib N     dfuse's read-ahead of a direct-I/O file handle\n"
		"                           (default %u, 0: none)\n"
		"      --read-only          mount read-only\n"
		"  -o OPTS                  more mount options for libfuse\n",
		prog, DFUSE_DEF_THREADS, DFUSE_DEF_RA_KIB, DFUSE_DEF_PF_MIB);
	if (launcher)
		fprintf(out,
			"      --mgmt ADDR          management address of the daos_server (test "
			"launcher)\n"
			"      --create             create pool POOL (a UUID) first (test "
			"launcher)\n");
}

static int
parse_seconds(const char *name, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 86400.0 * 365) {
		fprintf(stderr, "dfuse: --%s wants seconds, not '%s'\n", name, s);
		return EINVAL;
	}
	*out = v;
	return 0;
}

int
dfuse_opts_parse(int argc, char **argv, bool launcher, struct dfuse_opts *o)
{
	char *end;
	long n;
	int c;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	o->do_threads = DFUSE_DEF_THREADS;
	o->do_attr_to = 1.0;
	o->do_dentry_to = 1.0;
	o->do_dentry_dir_to = 5.0;
	o->do_ndentry_to = 1.0;
	o->do_wb_cache = true;
	o->do_ra_kib = DFUSE_DEF_RA_KIB;
	o->do_pf_mib = DFUSE_DEF_PF_MIB;
	optind = 1;
	while (rc == 0 && (c = getopt_long(argc, argv, "m:fSt:o:h", dfuse_longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->do_mnt = optarg;
			break;
		case OPT_POOL:
			o->do_pool = optarg;
			break;
		case OPT_CONT:
			o->do_cont = optarg;
			break;
		case OPT_SYS:
			o->do_sys = optarg;
			break;
		case OPT_MGMT:
			o->do_mgmt = optarg;
			break;
		case OPT_CREATE:
			o->do_create = true;
			break;
		case 'f':
			o->do_foreground = true;
			break;
		case 'S':
			o->do_single = true;
			break;
		case 't':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 || n > 256) {
				fprintf(stderr, "dfuse: --thread-count wants 1..256, not '%s'\n",
					optarg);
				rc = EINVAL;
			}
			o->do_threads = (unsigned)n;
			break;
		case 'o':
			o->do_fuse_opts = optarg;
			break;
		case OPT_ATTR_TO:
			rc = parse_seconds("attr-timeout", optarg, &o->do_attr_to);
			break;
		case OPT_DENTRY_TO:
			rc = parse_seconds("dentry-timeout", optarg, &o->do_dentry_to);
			break;
		case OPT_DENTRY_DIR_TO:
			rc = parse_seconds("dentry-dir-timeout", optarg, &o->do_dentry_dir_to);
			break;
		case OPT_NDENTRY_TO:
			rc = parse_seconds("ndentry-timeout", optarg, &o->do_ndentry_to);
			break;
		case OPT_NOCACHE:
			o->do_direct_io = true;
			o->do_wb_cache = false;
			o->do_attr_to = o->do_dentry_to = o->do_dentry_dir_to = 0;
			o->do_ndentry_to = 0;
			break;
		case OPT_CACHE:
			o->do_direct_io = false;
			o->do_wb_cache = true;
			o->do_attr_to = o->do_dentry_to = o->do_ndentry_to = 1.0;
			o->do_dentry_dir_to = 5.0;
			break;
		case OPT_WB:
			o->do_wb_cache = true;
			break;
		case OPT_NOWB:
			o->do_wb_cache = false;
			break;
		case OPT_RA:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || n < 0 || n > 65536) {
				fprintf(stderr, "dfuse: --readahead-kib wants 0..65536, not '%s'\n",
					optarg);
				rc = EINVAL;
			}
			o->do_ra_kib = (unsigned)n;
			break;
		case OPT_RDONLY:
			o->do_rdonly = true;
			break;
		case OPT_DREAD:
			o->do_direct_read = true;
			break;
		case OPT_DWRITE:
			o->do_direct_write = true;
			break;
		case OPT_NODWRITE:
			o->do_direct_write = false;
			break;
		case OPT_PF:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || n < 0 ||
			    n > DFUSE_MAX_PF_MIB) {
				fprintf(stderr, "dfuse: --prefetch-mib wants 0..%d, not '%s'\n",
					DFUSE_MAX_PF_MIB, optarg);
				rc = EINVAL;
			}
			o->do_pf_mib = (unsigned)n;
			break;
		case 'h':
			dfuse_usage(stdout, argv[0], launcher);
			return -1;
		default:
			rc = EINVAL;
			break;
		}
	}
	if (rc != 0)
		goto usage;
	if (optind < argc && o->do_mnt == NULL)
		o->do_mnt = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "dfuse: unexpected argument '%s'\n", argv[optind]);
		goto usage;
	}
	if (o->do_mnt == NULL || o->do_pool == NULL || o->do_cont == NULL) {
		fprintf(stderr, "dfuse: a mount point, --pool and --cont are required\n");
		goto usage;
	}
	if (!launcher && (o->do_mgmt != NULL || o->do_create)) {
		fprintf(stderr, "dfuse: --mgmt and --create belong to the test launcher\n");
		goto usage;
	}
	if (o->do_direct_io || o->do_direct_write)
		o->do_wb_cache = false; /* no page cache at all, or no writer that uses it */
	if (launcher && o->do_mgmt == NULL) {
		fprintf(stderr, "dfuse: --mgmt is required\n");
		goto usage;
	}
	return 0;
usage:
	dfuse_usage(stderr, argv[0], launcher);
	return EINVAL;
}

void
dfuse_env_defaults(void)
{
	if (setenv("DAOS_EQ_SPIN_US", DFUSE_EQ_SPIN_US, 0) != 0)
		perror("dfuse: setenv");
}

/* The write end of the pipe to the waiting parent; -1 in the foreground. */
static int dfuse_bg_fd = -1;

void
dfuse_bg_start(const struct dfuse_opts *o)
{
	int fds[2];
	pid_t pid;
	char c;
	int status;

	if (o->do_foreground)
		return;
	if (pipe(fds) != 0) {
		perror("dfuse: pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("dfuse: fork");
		exit(1);
	}
	if (pid == 0) {
		close(fds[0]);
		dfuse_bg_fd = fds[1];
		if (setsid() < 0)
			perror("dfuse: setsid");
		return;
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) == 1)
		exit(0); /* mounted */
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		exit(WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1);
	exit(1);
}

void
dfuse_bg_ready(void *arg)
{
	char c = 0;

	(void)arg;
	if (dfuse_bg_fd < 0)
		return;
	if (write(dfuse_bg_fd, &c, 1) != 1)
		perror("dfuse: telling the parent");
	close(dfuse_bg_fd);
	dfuse_bg_fd = -1;
	if (chdir("/") != 0)
		perror("dfuse: chdir");
}
