/*
 * server.c: daos_server, the engine main: the command line (start, config show, version),
 * and the start and stop of one engine (its data directory and lock, logging, signals,
 * xstreams, modules). Sits on config.c, module.c and the xstream scheduler (sched.h).
 *
 * Start: configuration -> data directory and its lock -> environment and logging ->
 * signals -> storage check or format -> modules init (the built-in srv module, then the
 * table) -> xstreams -> VOS shards -> modules setup -> fabric (srv_net.c: a context per
 * xstream) -> control thread (management port, then its services: GetAttachInfo with the
 * fabric addresses, the pool bridge, the relay, the management service) -> "daos_server
 * started" on stdout. Stop, on SIGTERM or SIGINT: the same in reverse (the fabric drains its
 * in-flight requests first), then exit 0.
 *
 * Unformatted storage (no superblock) without auto_format (config) or --auto-format: only
 * the management port starts, serving storage usage and format; "daos_server waiting for
 * storage format" on stdout. dmg storage format then formats, starts the rest of the
 * engine and its services from the main thread, and answers; the engine joins the system.
 *
 * Signals are blocked in every thread and read from a signalfd by the main thread, so no
 * code runs in a signal handler and no xstream is ever interrupted by one.
 */
#define D_LOGFAC server

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_errno.h>
#include <daos_version.h>
#include <daos_srv/ctl.h>
#include <daos_srv/daos_engine.h>
#include <daos_srv/mgmt.h>
#include <daos_srv/sched.h>

#include "config.h"
#include "srv_net.h"
#include "srv_relay.h"
#include "srv_vos.h"
#include "mgmt/storage.pb-c.h"
#include "mgmt/svc.pb-c.h"
#include "mgmt/system.pb-c.h"

D_LOG_FAC_DECLARE(server);

#define SRV_LOCK_FILE "daos_server.lock"

enum {
	SRV_EXIT_OK = 0,
	SRV_EXIT_FAIL = 1,  /* the command failed (configuration, lock, start) */
	SRV_EXIT_USAGE = 2, /* bad command line */
};

static const char *srv_prog = "daos_server";

/* Command line. */

struct srv_opts {
	const char *so_config;   /* -o */
	const char *so_data_dir; /* --data-dir, else $D_DATA_DIR */
	int so_engine;           /* -e, -1 if not given */
	bool so_json;            /* -j */
	bool so_auto_format;     /* --auto-format */
};

static void
usage_main(FILE *fp)
{
	fprintf(fp,
		"Usage: %s [OPTIONS] <command> [ARGS]\n"
		"\n"
		"The DAOS storage server: one engine (its targets and system xstream) and its\n"
		"control thread. With no configuration it runs a single-node system on loopback\n"
		"with all its data under one directory.\n"
		"\n"
		"Commands:\n"
		"  start         run the server in the foreground until SIGTERM or SIGINT\n"
		"  config show   print the effective configuration, defaults filled in\n"
		"  version       print the version\n"
		"\n"
		"Options:\n"
		"  -o, --config=FILE   configuration file (daos_server.yml)\n"
		"  -j, --json          JSON output (config show, version)\n"
		"  -h, --help          show this help\n"
		"\n"
		"Environment:\n"
		"  D_DATA_DIR          data directory (see start --help)\n"
		"  DAOS_SERVER_PORT    management port, overrides port: (a loopback access\n"
		"                      point on the old port follows it)\n"
		"  DAOS_FABRIC_PORT    first fabric port of engine 0, overrides its\n"
		"                      fabric_iface_port:\n"
		"\n"
		"Run '%s <command> --help' for the options of a command.\n",
		srv_prog, srv_prog);
}

static void
usage_start(FILE *fp)
{
	fprintf(
	    fp,
	    "Usage: %s start [-o FILE] [--data-dir DIR] [-e N] [--foreground] [--auto-format]\n"
	    "\n"
	    "Start the server and run until SIGTERM or SIGINT, which stop it cleanly (exit 0);\n"
	    "a second signal during the stop exits at once. SIGHUP reopens the log file.\n"
	    "Prints 'daos_server started: ...' on stdout once it runs. With a configuration\n"
	    "file, storage not formatted yet is formatted by 'dmg storage format': until\n"
	    "then only the management port runs and 'daos_server waiting for storage\n"
	    "format' is printed (the embedded default formats at once).\n"
	    "\n"
	    "Options:\n"
	    "  -o, --config=FILE   configuration file (default: the embedded single-node system)\n"
	    "      --data-dir=DIR  data directory; default $D_DATA_DIR, else data_dir: in the\n"
	    "                      file, else $HOME/.daos-lite. Relative paths in the file\n"
	    "                      live under it. One server per data directory (a lock).\n"
	    "  -e, --engine=N      the engines: entry this process runs (default 0)\n"
	    "      --foreground    stay in the foreground (the default; for service managers)\n"
	    "      --auto-format   format unformatted storage at once, as auto_format: true\n"
	    "  -h, --help          show this help\n",
	    srv_prog);
}

static void
usage_config(FILE *fp)
{
	fprintf(
	    fp,
	    "Usage: %s config show [-o FILE] [--data-dir DIR] [-j]\n"
	    "\n"
	    "Check a configuration and print it as daos_server runs it: defaults filled in,\n"
	    "paths absolute, sizes with units. Warnings about ignored keys go to stderr.\n"
	    "\n"
	    "Options:\n"
	    "  -o, --config=FILE   configuration file (default: the embedded single-node system)\n"
	    "      --data-dir=DIR  data directory (as for start)\n"
	    "  -j, --json          print JSON (sizes in bytes) instead of YAML\n"
	    "  -h, --help          show this help\n",
	    srv_prog);
}

static void
usage_version(FILE *fp)
{
	fprintf(fp,
		"Usage: %s version [-j]\n"
		"\n"
		"Print the version of daos_server.\n"
		"\n"
		"Options:\n"
		"  -j, --json  print JSON\n"
		"  -h, --help  show this help\n",
		srv_prog);
}

static int __attribute__((format(printf, 2, 3))) usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", srv_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun '%s%s%s --help' for usage.\n", srv_prog, cmd != NULL ? " " : "",
		cmd != NULL ? cmd : "");
	return SRV_EXIT_USAGE;
}

enum {
	OPT_DATA_DIR = 256,
	OPT_FOREGROUND,
	OPT_AUTO_FORMAT,
};

/*
 * Parse the options of command @cmd (NULL for the global ones, which stop at the first
 * argument that is not an option). @allowed lists the short options the command takes
 * ("oej"; 'd' for --data-dir, 'f' for --foreground, 'a' for --auto-format). Returns -1 to go on,
 * else the exit code (help printed, or a usage error).
 */
static int
parse_opts(int argc, char **argv, const char *cmd, const char *allowed, void (*usage)(FILE *),
	   struct srv_opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'o'},
	    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
	    {"engine", required_argument, NULL, 'e'},
	    {"foreground", no_argument, NULL, OPT_FOREGROUND},
	    {"auto-format", no_argument, NULL, OPT_AUTO_FORMAT},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *shortopts = cmd == NULL ? "+:o:jh" : ":o:e:jh";
	char *end;
	long v;
	int c;

	optind = 0; /* glibc: a full re-initialisation, argv changes between calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int key = c == OPT_DATA_DIR      ? 'd'
			  : c == OPT_FOREGROUND  ? 'f'
			  : c == OPT_AUTO_FORMAT ? 'a'
						 : c;

		if (c == '?' || c == ':') {
			if (c == ':')
				return usage_err(cmd, "option %s needs a value", argv[optind - 1]);
			if (optopt != 0)
				return usage_err(cmd, "unknown option -%c", optopt);
			return usage_err(cmd, "unknown option %s", argv[optind - 1]);
		}
		if (c == 'h') {
			usage(stdout);
			return SRV_EXIT_OK;
		}
		if (strchr(allowed, key) == NULL)
			return usage_err(cmd, "option %s is not valid here", argv[optind - 1]);
		switch (c) {
		case 'o':
			o->so_config = optarg;
			break;
		case OPT_DATA_DIR:
			if (*optarg == '\0')
				return usage_err(cmd, "--data-dir needs a directory");
			o->so_data_dir = optarg;
			break;
		case 'e':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || v < 0 ||
			    v >= DSS_CFG_ENGINES_MAX)
				return usage_err(cmd, "--engine needs a number 0..%d, got '%s'",
						 DSS_CFG_ENGINES_MAX - 1, optarg);
			o->so_engine = (int)v;
			break;
		case 'j':
			o->so_json = true;
			break;
		case OPT_AUTO_FORMAT:
			o->so_auto_format = true;
			break;
		default:
			break;
		}
	}
	return -1;
}

/* Load the configuration the options name; prints the error or the warnings. */
static int
srv_config_load(const struct srv_opts *o, struct dss_config **cfg)
{
	const char *data_dir = o->so_data_dir;
	char err[1024];
	uint32_t i;
	int rc;

	if (data_dir == NULL) {
		data_dir = getenv("D_DATA_DIR");
		if (data_dir != NULL && *data_dir == '\0')
			data_dir = NULL;
	}
	rc = dss_config_load(o->so_config, data_dir, cfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", srv_prog,
			err[0] != '\0' ? err : "cannot load the configuration");
		return rc;
	}
	for (i = 0; i < (*cfg)->dc_warnings.sv_nr; i++)
		fprintf(stderr, "%s: warning: %s\n", srv_prog, (*cfg)->dc_warnings.sv_v[i]);
	return 0;
}

static int
cmd_version(int argc, char **argv, struct srv_opts *o)
{
	int rc = parse_opts(argc, argv, "version", "j", usage_version, o);

	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_err("version", "unexpected argument '%s'", argv[optind]);
	if (o->so_json)
		printf("{\"name\": \"daos_server\", \"version\": \"%d.%d.%d\"}\n",
		       DAOS_VERSION_MAJOR, DAOS_VERSION_MINOR, DAOS_VERSION_FIX);
	else
		printf("daos_server version %d.%d.%d\n", DAOS_VERSION_MAJOR, DAOS_VERSION_MINOR,
		       DAOS_VERSION_FIX);
	return SRV_EXIT_OK;
}

static int
cmd_config(int argc, char **argv, struct srv_opts *o)
{
	struct dss_config *cfg;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		if (argc < 2)
			return usage_err("config", "missing subcommand (show)");
		usage_config(stdout);
		return SRV_EXIT_OK;
	}
	if (strcmp(argv[1], "show") != 0)
		return usage_err("config", "unknown subcommand '%s' (expected show)", argv[1]);
	rc = parse_opts(argc - 1, argv + 1, "config show", "odj", usage_config, o);
	if (rc >= 0)
		return rc;
	if (optind < argc - 1)
		return usage_err("config show", "unexpected argument '%s'", argv[optind + 1]);
	if (srv_config_load(o, &cfg) != 0)
		return SRV_EXIT_FAIL;
	rc = dss_config_dump(cfg, stdout, o->so_json);
	dss_config_free(cfg);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot write the configuration: %s\n", srv_prog, d_errstr(rc));
		return SRV_EXIT_FAIL;
	}
	return SRV_EXIT_OK;
}

/* The running server. */

/*
 * A request the control thread hands to the main thread: the engine's own administration
 * (storage usage and format, the stop and start of the engine half), which blocks on file
 * systems or waits for xstreams and so may not run on the loop.
 */
struct srv_cmd {
	d_list_t sc_link;
	uint32_t sc_method;
	struct dss_ctl_req *sc_req;
	Mgmt__EngineCtlReq *sc_ectl; /* ENGINE_STOP/START */
	bool sc_reformat;            /* STORAGE_FORMAT */
};

struct srv {
	struct dss_config *sv_cfg;
	struct dss_engine sv_eng;
	struct dss_module **sv_mods; /* built-in modules, then dss_module_table */
	struct dss_ctl *sv_ctl_h;
	struct ds_mgmt *sv_mgmt; /* the management service replica / membership client */
	char sv_fabric_host[INET_ADDRSTRLEN];
	int sv_lock_fd;
	int sv_sig_fd;
	bool sv_auto_format; /* auto_format: or --auto-format */
	bool sv_waiting;     /* storage not formatted: only the management port runs */
	int sv_fatal;        /* the start after a format failed: the main thread exits */
	bool sv_modules;
	bool sv_xstreams;
	bool sv_vos;
	bool sv_fabric;
	bool sv_ctl; /* the management port listens */
	/* methods answered "not formatted" while waiting (srv_ctl_open), bit per method */
	uint8_t sv_unfmt[DSS_CTL_METHOD_MAX / 8];
	/* engine administration queue (control thread -> main thread) */
	pthread_mutex_t sv_cmd_lock;
	d_list_t sv_cmds;
	int sv_cmd_fd;       /* eventfd: commands queued */
	bool sv_cmd_closed;  /* the main thread stopped taking them */
	bool sv_eng_stopped; /* the engine half is stopped (system stop); main thread */
};

/*
 * Format the storage if it is not (@create), else only check it (srv_vos.c): the
 * superblock in the ram tier's scm_mount, the directories of the roles. The engine's uuid
 * and rank come from the superblock. Without @create, -DER_NONEXIST: not formatted. On
 * failure @err (@errlen bytes) says why.
 */
static int
srv_storage_format(struct dss_engine *eng, bool create, char *err, size_t errlen)
{
	struct srv_sb_info sb;
	int rc;

	if (!create) {
		rc = srv_vos_formatted(eng, NULL, err, errlen);
		if (rc != 0)
			return rc;
	}
	/* formatted: the superblock checked, the directories of the roles made again */
	rc = srv_vos_format(eng, &sb, err, errlen);
	if (rc != 0)
		return rc;
	uuid_copy(eng->de_uuid, sb.si_uuid);
	eng->de_rank = sb.si_rank;
	return 0;
}

/*
 * The IPv4 address of fabric_iface @iface: an address as is, else the first IPv4 address of
 * the interface of that name ("lo" -> 127.0.0.1), into @buf (INET_ADDRSTRLEN bytes).
 */
static int
srv_iface_addr(const char *iface, char *buf)
{
	struct ifaddrs *ifa, *it;
	struct in_addr in;
	int rc = -DER_NONEXIST;

	if (inet_pton(AF_INET, iface, &in) == 1) {
		snprintf(buf, INET_ADDRSTRLEN, "%s", iface);
		return 0;
	}
	if (getifaddrs(&ifa) != 0)
		return d_errno2der(errno);
	for (it = ifa; it != NULL; it = it->ifa_next) {
		if (it->ifa_addr == NULL || it->ifa_addr->sa_family != AF_INET ||
		    strcmp(it->ifa_name, iface) != 0)
			continue;
		if (inet_ntop(AF_INET, &((struct sockaddr_in *)it->ifa_addr)->sin_addr, buf,
			      INET_ADDRSTRLEN) != NULL)
			rc = 0;
		break;
	}
	freeifaddrs(ifa);
	return rc;
}

/*
 * Start the fabric (srv_net.c): a net context per target xstream and one for the system
 * xstream, provider dc_fi_provider, on fabric_iface's address, ports fabric_iface_port (the
 * system xstream, tag 0) and up (target i: tag and port offset 1 + i), each created and polled
 * on its xstream, with every loaded module's opcodes.
 */
static int
srv_fabric_start(struct srv *sv)
{
	const struct dss_engine_config *ec = sv->sv_eng.de_ecfg;
	struct srv_net_attr attr = {0};
	const char *shm;
	uint32_t i;
	int rc;

	rc = srv_iface_addr(ec->ec_fabric_iface, sv->sv_fabric_host);
	if (rc != 0) {
		fprintf(stderr, "%s: fabric_iface %s: no IPv4 address: %s\n", srv_prog,
			ec->ec_fabric_iface, d_errstr(rc));
		return rc;
	}
	attr.na_provider = sv->sv_cfg->dc_fi_provider;
	attr.na_host = sv->sv_fabric_host;
	attr.na_port = ec->ec_fabric_iface_port;
	/* DAOS_SHM=1 (environment, or the engine's env_vars): shm beside it for local clients */
	shm = getenv("DAOS_SHM");
	if (shm != NULL && strcmp(shm, "") != 0 && strcmp(shm, "0") != 0 &&
	    (attr.na_provider == NULL || strcmp(attr.na_provider, "shm") != 0))
		attr.na_provider2 = "shm";
	rc = srv_net_start(&sv->sv_eng, &attr);
	if (rc != 0) {
		fprintf(stderr,
			"%s: cannot listen on the fabric (%s, %s ports %u-%u): %s; is another "
			"server using these ports?\n",
			srv_prog, attr.na_provider, attr.na_host, attr.na_port,
			attr.na_port + ec->ec_targets, d_errstr(rc));
		return rc;
	}
	for (i = 0; i < srv_net_ctx_nr(); i++)
		D_NOTE("fabric context %u (%s): %s%s%s\n", i, i == 0 ? "system" : "target",
		       srv_net_ctx_addr(i), srv_net_ctx_addr2(i) != NULL ? " and " : "",
		       srv_net_ctx_addr2(i) != NULL ? srv_net_ctx_addr2(i) : "");
	return 0;
}

/*
 * Stop the fabric: stop accepting new requests, let the in-flight handlers reply (drain, with
 * a deadline), then close the contexts. Returns -DER_TIMEDOUT if requests did not drain.
 */
static int
srv_fabric_stop(struct srv *sv)
{
	int rc;

	(void)sv;
	rc = srv_net_stop();
	if (rc != 0)
		D_ERROR("fabric stop: requests did not drain: " DF_RC "\n", DP_RC(rc));
	return rc;
}

/*
 * GetAttachInfo: the system name, the management port, and the fabric address of every
 * context of this engine: one rank_uris entry per context in tag order (rank 0 for now; the
 * first entry is the rank's first context, as DAOS clients expect, then target i at 1 + i),
 * each with nr_ctxs. Replaces the control thread's placeholder; runs on its loop.
 */
static void
srv_attach_info_handler(struct dss_ctl_req *req, void *arg)
{
	struct srv *sv = arg;
	Mgmt__GetAttachInfoResp out = MGMT__GET_ATTACH_INFO_RESP__INIT;
	Mgmt__BuildInfo build = MGMT__BUILD_INFO__INIT;
	Mgmt__ClientNetHint hint = MGMT__CLIENT_NET_HINT__INIT;
	Mgmt__GetAttachInfoResp__RankUri *uris = NULL;
	Mgmt__GetAttachInfoResp__RankUri **urip = NULL;
	Mgmt__GetAttachInfoReq *in;
	char ap[DSS_CTL_ADDR_LEN];
	char *app = ap;
	uint32_t ms_rank = 0;
	uint32_t nr = srv_net_ctx_nr();
	const void *body;
	size_t len;
	uint32_t i;

	body = dss_ctl_req_body(req, &len);
	in = mgmt__get_attach_info_req__unpack(NULL, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	if (in->sys[0] != '\0' && strcmp(in->sys, sv->sv_cfg->dc_name) != 0)
		out.status = -DER_INVAL;
	mgmt__get_attach_info_req__free_unpacked(in, NULL);
	if (nr > 0) {
		D_ALLOC_ARRAY(uris, nr);
		D_ALLOC_ARRAY(urip, nr);
		if (uris == NULL || urip == NULL) {
			D_FREE(uris);
			D_FREE(urip);
			dss_ctl_reply(req, -DER_NOMEM, NULL, 0);
			return;
		}
	}
	for (i = 0; i < nr; i++) {
		mgmt__get_attach_info_resp__rank_uri__init(&uris[i]);
		uris[i].rank = 0;
		uris[i].uri = (char *)srv_net_ctx_addr(i);
		uris[i].nr_ctxs = nr;
		urip[i] = &uris[i];
	}
	build.major = DAOS_VERSION_MAJOR;
	build.minor = DAOS_VERSION_MINOR;
	build.patch = DAOS_VERSION_FIX;
	hint.provider = sv->sv_cfg->dc_fi_provider;
	hint.interface = sv->sv_eng.de_ecfg->ec_fabric_iface;
	hint.domain = sv->sv_fabric_host;
	hint.timeout = sv->sv_cfg->dc_crt_timeout;
	out.sys = sv->sv_cfg->dc_name;
	out.build_info = &build;
	out.client_net_hint = &hint;
	out.n_rank_uris = nr;
	out.rank_uris = urip;
	out.n_ms_ranks = 1;
	out.ms_ranks = &ms_rank;
	if (dss_ctl_listen_addr(dss_ctl_req_ctl(req), ap, sizeof(ap)) == 0) {
		out.n_access_points = 1;
		out.access_points = &app;
	}
	dss_ctl_reply_msg(req, out.status, &out.base);
	D_FREE(urip);
	D_FREE(uris);
}

/*
 * Where the management port listens: the host of the first access point that is a local
 * address ("localhost", 127.0.0.0/8, or an address of one of our interfaces) with port:,
 * preferring in a first pass one whose own port is port: (servers sharing a host, such as
 * 127.0.0.1..3 on loopback, each find their access point), else 127.0.0.1 (never listen
 * where it is not meant: with allow_insecure the port is plain and unauthenticated).
 */
static void
srv_ctl_listen(const struct dss_config *cfg, char *buf, size_t len)
{
	struct ifaddrs *ifa = NULL, *it;
	uint32_t k, nr = cfg->dc_access_points.sv_nr;

	if (getifaddrs(&ifa) != 0)
		ifa = NULL;
	for (k = 0; k < 2 * nr; k++) {
		const char *ap = cfg->dc_access_points.sv_v[k % nr];
		const char *colon = strrchr(ap, ':');
		size_t n = colon == NULL ? strlen(ap) : (size_t)(colon - ap);
		char host[INET_ADDRSTRLEN];
		struct in_addr in;

		if (n == 0 || n >= sizeof(host))
			continue;
		if (k < nr && (colon == NULL || strtoul(colon + 1, NULL, 10) != cfg->dc_port))
			continue;
		memcpy(host, ap, n);
		host[n] = '\0';
		if (strcmp(host, "localhost") == 0) {
			snprintf(buf, len, "127.0.0.1:%u", cfg->dc_port);
			goto out;
		}
		if (inet_pton(AF_INET, host, &in) != 1)
			continue;
		if ((ntohl(in.s_addr) >> 24) == 127)
			goto found;
		for (it = ifa; it != NULL; it = it->ifa_next)
			if (it->ifa_addr != NULL && it->ifa_addr->sa_family == AF_INET &&
			    ((struct sockaddr_in *)it->ifa_addr)->sin_addr.s_addr == in.s_addr)
				goto found;
		continue;
	found:
		snprintf(buf, len, "%s:%u", host, cfg->dc_port);
		goto out;
	}
	D_WARN("no access point is a local address: management port on 127.0.0.1 only\n");
	snprintf(buf, len, "127.0.0.1:%u", cfg->dc_port);
out:
	if (ifa != NULL)
		freeifaddrs(ifa);
}

/* The MS gave this engine its rank (on the control thread): keep it in the superblock. */
static void
srv_rank_cb(uint32_t rank, void *arg)
{
	struct srv *sv = arg;

	if (sv->sv_eng.de_rank != rank && srv_vos_rank_save(&sv->sv_eng, rank) == 0)
		sv->sv_eng.de_rank = rank;
}

/*
 * Start the management service (src/mgmt, daos_srv/mgmt.h) on the running control thread: a
 * replica if this server is an access point (raft log under control_metadata), and the
 * membership client (join, heartbeats) in every server.
 */
#define SRV_MGMT_URIS_MAX 1024

static int
srv_mgmt_start(struct srv *sv)
{
	const struct dss_config *cfg = sv->sv_cfg;
	struct ds_mgmt_attr attr = {0};
	const char *uris[SRV_MGMT_URIS_MAX];
	char host[256], fd[300];
	uint32_t i;
	int rc;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(fd, sizeof(fd), "/%s", host);
	attr.ma_ctl = sv->sv_ctl_h;
	attr.ma_sys = cfg->dc_name;
	attr.ma_aps = (const char *const *)cfg->dc_access_points.sv_v;
	attr.ma_ap_nr = cfg->dc_access_points.sv_nr;
	attr.ma_db_dir = cfg->dc_control_metadata;
	uuid_copy(attr.ma_uuid, sv->sv_eng.de_uuid);
	attr.ma_rank = sv->sv_eng.de_rank;
	attr.ma_uri = srv_net_ctx_nr() > 0 ? srv_net_ctx_addr(0) : "";
	attr.ma_nctxs = srv_net_ctx_nr();
	attr.ma_uris = uris;
	attr.ma_provider = cfg->dc_fi_provider;
	attr.ma_interface = sv->sv_eng.de_ecfg->ec_fabric_iface;
	attr.ma_domain = sv->sv_fabric_host;
	attr.ma_net_timeout = cfg->dc_crt_timeout;
	attr.ma_client_cert_dir = cfg->dc_client_cert_dir;
	attr.ma_allow_insecure = cfg->dc_allow_insecure;
	attr.ma_ntargets = sv->sv_eng.de_ecfg->ec_targets;
	attr.ma_fault_domain = cfg->dc_fault_path != NULL ? cfg->dc_fault_path : fd;
	attr.ma_rank_cb = srv_rank_cb;
	attr.ma_cb_arg = sv;
	for (i = 0; i < attr.ma_nctxs && i < SRV_MGMT_URIS_MAX; i++)
		uris[i] = srv_net_ctx_addr(i);
	if (attr.ma_nctxs > SRV_MGMT_URIS_MAX)
		attr.ma_nctxs = SRV_MGMT_URIS_MAX;
	rc = ds_mgmt_start(&attr, &sv->sv_mgmt);
	return rc;
}

/*
 * Engine administration. The control thread decodes the request and queues it; the main
 * thread (srv_wait) runs it and answers (dss_ctl_reply works from any thread).
 */

static void
srv_cmd_free(struct srv_cmd *cmd)
{
	if (cmd->sc_ectl != NULL)
		mgmt__engine_ctl_req__free_unpacked(cmd->sc_ectl, NULL);
	D_FREE(cmd);
}

static void
srv_cmd_queue(struct srv *sv, struct srv_cmd *cmd)
{
	uint64_t one = 1;
	bool closed;

	pthread_mutex_lock(&sv->sv_cmd_lock);
	closed = sv->sv_cmd_closed;
	if (!closed)
		d_list_add_tail(&cmd->sc_link, &sv->sv_cmds);
	pthread_mutex_unlock(&sv->sv_cmd_lock);
	if (closed) {
		dss_ctl_reply(cmd->sc_req, -DER_SHUTDOWN, NULL, 0);
		srv_cmd_free(cmd);
		return;
	}
	if (write(sv->sv_cmd_fd, &one, sizeof(one)) != sizeof(one))
		D_ERROR("cannot wake the main thread: %s\n", strerror(errno));
}

/* Handler of methods 108, 109, 200, 201 (on the loop): decode, check, queue. */
static void
srv_cmd_handler(struct dss_ctl_req *req, void *arg)
{
	struct srv *sv = arg;
	uint32_t method = dss_ctl_req_method(req);
	struct srv_cmd *cmd;
	bool ok = false; /* decoded, and for this system */
	const void *body;
	size_t len;

	D_ALLOC_PTR(cmd);
	if (cmd == NULL) {
		dss_ctl_reply(req, -DER_NOMEM, NULL, 0);
		return;
	}
	cmd->sc_method = method;
	cmd->sc_req = req;
	body = dss_ctl_req_body(req, &len);
	if (method == DSS_CTL_ENGINE_STOP || method == DSS_CTL_ENGINE_START) {
		cmd->sc_ectl = mgmt__engine_ctl_req__unpack(NULL, len, body);
		if (cmd->sc_ectl != NULL)
			ok = cmd->sc_ectl->sys[0] == '\0' ||
			     strcmp(cmd->sc_ectl->sys, sv->sv_cfg->dc_name) == 0;
	} else if (method == DSS_CTL_STORAGE_FORMAT) {
		Mgmt__StorageFormatReq *in = mgmt__storage_format_req__unpack(NULL, len, body);

		if (in != NULL) {
			cmd->sc_reformat = in->reformat;
			ok = in->sys[0] == '\0' || strcmp(in->sys, sv->sv_cfg->dc_name) == 0;
			mgmt__storage_format_req__free_unpacked(in, NULL);
		}
	} else {
		Mgmt__StorageUsageReq *in = mgmt__storage_usage_req__unpack(NULL, len, body);

		if (in != NULL) {
			ok = in->sys[0] == '\0' || strcmp(in->sys, sv->sv_cfg->dc_name) == 0;
			mgmt__storage_usage_req__free_unpacked(in, NULL);
		}
	}
	if (!ok) {
		/* garbage, or another system's request */
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		srv_cmd_free(cmd);
		return;
	}
	srv_cmd_queue(sv, cmd);
}

/* Storage usage: every tier of this engine, with its rank and management address. */
static void
srv_cmd_usage(struct srv *sv, struct dss_ctl_req *req)
{
	Mgmt__StorageUsageResp out = MGMT__STORAGE_USAGE_RESP__INIT;
	Mgmt__StorageTierUsage tiers[32];
	Mgmt__StorageTierUsage *tp[32];
	struct srv_tier_usage tu[32];
	char addr[DSS_CTL_ADDR_LEN] = "";
	uint32_t nr = 0, i;
	int rc;

	rc = srv_vos_usage(&sv->sv_eng, tu, D_ARRAY_SIZE(tu), &nr);
	for (i = 0; rc == 0 && i < nr; i++) {
		mgmt__storage_tier_usage__init(&tiers[i]);
		tiers[i].tier = tu[i].tu_tier;
		tiers[i].media_type =
		    tu[i].tu_scm ? MGMT__STORAGE_MEDIA_TYPE__SCM : MGMT__STORAGE_MEDIA_TYPE__NVME;
		tiers[i].tier_class = (char *)tu[i].tu_class;
		tiers[i].path = (char *)tu[i].tu_path;
		tiers[i].total_bytes = tu[i].tu_total;
		tiers[i].avail_bytes = tu[i].tu_avail;
		tiers[i].usable_bytes = tu[i].tu_avail;
		tp[i] = &tiers[i];
	}
	if (rc != 0) {
		D_ERROR("storage usage: " DF_RC "\n", DP_RC(rc));
		nr = 0;
	}
	(void)dss_ctl_listen_addr(dss_ctl_req_ctl(req), addr, sizeof(addr));
	out.status = rc;
	out.n_tiers = nr;
	out.tiers = tp;
	out.rank = sv->sv_eng.de_rank;
	out.addr = addr;
	dss_ctl_reply_msg(req, rc, &out.base);
}

static int srv_engine_up(struct srv *sv);
static int srv_ctl_services(struct srv *sv);
static void srv_started_print(struct srv *sv);

/*
 * Storage format. A server waiting for it (unformatted storage, no auto_format) formats
 * every tier, starts the rest of the engine and its services (srv_engine_up,
 * srv_ctl_services), then answers: each tier's result is the outcome; if the engine does
 * not start after the format, the answer says why and the process exits (sv_fatal). A
 * running server is formatted: as DAOS, each tier answers "already formatted" (-DER_EXIST
 * in its result; the reply's status says the call itself worked) and nothing is touched. A
 * reformat (--force) of a running server would wipe the pool shards under a running engine:
 * refused (-DER_NOTSUPPORTED), see the README.
 */
static void
srv_cmd_format(struct srv *sv, struct dss_ctl_req *req, bool reformat)
{
	const struct dss_engine_config *ec = sv->sv_eng.de_ecfg;
	Mgmt__StorageFormatResp out = MGMT__STORAGE_FORMAT_RESP__INIT;
	Mgmt__StorageTierResult res[DSS_CFG_TIERS_MAX];
	Mgmt__StorageTierResult *rp[DSS_CFG_TIERS_MAX];
	char err[512] = "";
	const char *info;
	bool started = false;
	uint32_t i;
	int rc;

	if (sv->sv_waiting) {
		D_NOTE("storage format asked by %s\n", dss_ctl_req_peer(req));
		rc = srv_storage_format(&sv->sv_eng, true, err, sizeof(err));
		if (rc == 0) {
			rc = srv_engine_up(sv);
			if (rc == 0)
				rc = srv_ctl_services(sv);
			if (rc != 0) {
				snprintf(err, sizeof(err),
					 "formatted, but the engine did not start: %s; the server "
					 "exits (see its log)",
					 d_errstr(rc));
				sv->sv_fatal = rc;
			} else {
				started = true;
			}
		}
		info = rc == 0 ? "formatted" : err;
	} else {
		rc = reformat ? -DER_NOTSUPPORTED : -DER_EXIST;
		info = reformat ? "reformat of a running server is not supported: stop it and "
				  "remove its storage instead"
				: "already formatted";
	}
	for (i = 0; i < ec->ec_tier_nr && i < DSS_CFG_TIERS_MAX; i++) {
		const struct dss_tier_config *tc = &ec->ec_tiers[i];

		mgmt__storage_tier_result__init(&res[i]);
		res[i].tier = i;
		res[i].media_type = tc->tc_class == DSS_TIER_RAM ? MGMT__STORAGE_MEDIA_TYPE__SCM
								 : MGMT__STORAGE_MEDIA_TYPE__NVME;
		res[i].tier_class = tc->tc_class == DSS_TIER_RAM    ? "ram"
				    : tc->tc_class == DSS_TIER_FILE ? "file"
								    : "kdev";
		res[i].path = tc->tc_class == DSS_TIER_RAM ? tc->tc_scm_mount
			      : tc->tc_bdev_list.sv_nr > 0 ? tc->tc_bdev_list.sv_v[0]
							   : "";
		res[i].status = rc;
		res[i].info = (char *)info;
		rp[i] = &res[i];
	}
	/* the call worked: the outcome is per tier (dmg shows each tier's message) */
	out.status = 0;
	out.n_results = i;
	out.results = rp;
	out.engine_idx = sv->sv_eng.de_idx;
	dss_ctl_reply_msg(req, 0, &out.base);
	if (started) {
		sv->sv_waiting = false;
		srv_started_print(sv);
	} else if (sv->sv_waiting) {
		fprintf(stderr, "%s: storage format: %s\n", srv_prog, err);
		if (sv->sv_fatal == 0)
			fprintf(stderr, "%s: still waiting for storage format\n", srv_prog);
	}
}

/*
 * Stop the engine half (system stop): the membership client goes quiet first (no heartbeat
 * may say "alive" for a stopping engine, and the MS leader does not count its silence), then
 * the fabric drains and closes (clients get -DER_UNREACH / -DER_TIMEDOUT), the modules clean
 * up and every VOS shard is checkpointed and closed. The xstreams, the control thread and
 * the MS replica keep running. 0 if already stopped.
 */
static int
srv_engine_stop(struct srv *sv)
{
	int rc;

	if (sv->sv_eng_stopped)
		return 0;
	rc = ds_mgmt_engine_stopped(sv->sv_mgmt);
	if (rc != 0)
		return rc;
	if (sv->sv_fabric) {
		rc = srv_fabric_stop(sv);
		if (rc != 0)
			return rc; /* requests still run: the engine stays half up */
		sv->sv_fabric = false;
	}
	dss_modules_cleanup();
	if (sv->sv_vos)
		srv_vos_close();
	sv->sv_vos = false;
	sv->sv_eng_stopped = true;
	D_NOTE("engine stopped (system stop): control thread still serving\n");
	return 0;
}

/* Start the engine half again (system start): shards, modules, fabric, then a new join. */
static int
srv_engine_start(struct srv *sv)
{
	const char *uris[SRV_MGMT_URIS_MAX];
	uint32_t i, nr;
	int rc;

	if (!sv->sv_eng_stopped)
		return 0;
	rc = srv_vos_open(&sv->sv_eng);
	if (rc != 0)
		return rc;
	sv->sv_vos = true;
	rc = dss_modules_setup();
	if (rc == 0)
		rc = srv_fabric_start(sv);
	if (rc != 0) {
		dss_modules_cleanup();
		srv_vos_close();
		sv->sv_vos = false;
		return rc;
	}
	sv->sv_fabric = true;
	nr = srv_net_ctx_nr();
	if (nr > SRV_MGMT_URIS_MAX)
		nr = SRV_MGMT_URIS_MAX;
	for (i = 0; i < nr; i++)
		uris[i] = srv_net_ctx_addr(i);
	rc = ds_mgmt_engine_started(sv->sv_mgmt, uris, nr);
	if (rc != 0)
		D_ERROR("engine started but the membership client did not resume: " DF_RC "\n",
			DP_RC(rc));
	sv->sv_eng_stopped = false;
	D_NOTE("engine started again (system start)\n");
	return 0;
}

static void
srv_cmd_engine(struct srv *sv, struct srv_cmd *cmd)
{
	Mgmt__EngineCtlResp out = MGMT__ENGINE_CTL_RESP__INIT;
	bool stop = cmd->sc_method == DSS_CTL_ENGINE_STOP;
	int rc;

	rc = stop ? srv_engine_stop(sv) : srv_engine_start(sv);
	if (rc != 0)
		D_ERROR("engine %s: " DF_RC "\n", stop ? "stop" : "start", DP_RC(rc));
	out.status = rc;
	out.state = sv->sv_eng_stopped ? "stopped" : "started";
	dss_ctl_reply_msg(cmd->sc_req, rc, &out.base);
}

/* Run the queued commands (main thread); with @closing, answer them -DER_SHUTDOWN. */
static void
srv_cmds_run(struct srv *sv, bool closing)
{
	struct srv_cmd *cmd;
	uint64_t n;

	if (read(sv->sv_cmd_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		D_ERROR("command eventfd: %s\n", strerror(errno));
	for (;;) {
		pthread_mutex_lock(&sv->sv_cmd_lock);
		if (closing)
			sv->sv_cmd_closed = true;
		cmd = d_list_pop_entry(&sv->sv_cmds, struct srv_cmd, sc_link);
		pthread_mutex_unlock(&sv->sv_cmd_lock);
		if (cmd == NULL)
			return;
		if (closing)
			dss_ctl_reply(cmd->sc_req, -DER_SHUTDOWN, NULL, 0);
		else if (cmd->sc_method == DSS_CTL_STORAGE_QUERY_USAGE)
			srv_cmd_usage(sv, cmd->sc_req);
		else if (cmd->sc_method == DSS_CTL_STORAGE_FORMAT)
			srv_cmd_format(sv, cmd->sc_req, cmd->sc_reformat);
		else
			srv_cmd_engine(sv, cmd);
		srv_cmd_free(cmd);
	}
}

/*
 * A method of a running engine asked of a server waiting for its format: -DER_UNINIT, said
 * in the log once per method (dmg shows the code; the waiting line said what to do).
 */
static void
srv_unformatted_handler(struct dss_ctl_req *req, void *arg)
{
	(void)arg;
	D_INFO("method %u from %s: storage not formatted yet (dmg storage format)\n",
	       dss_ctl_req_method(req), dss_ctl_req_peer(req));
	dss_ctl_reply(req, -DER_UNINIT, NULL, 0);
}

/*
 * Start the control thread (daos_srv/ctl.h): the libuv loop serving the management port
 * (port:) with Ping, Telemetry, and storage usage and format: all an unformatted server
 * serves (@waiting: its other methods answer -DER_UNINIT). The control thread's placeholder
 * GetAttachInfo is removed: ours comes with the services (srv_ctl_services), once the
 * fabric runs.
 */
static int
srv_ctl_open(struct srv *sv, bool waiting)
{
	struct dss_ctl_attr attr = {0};
	char listen[DSS_CTL_ADDR_LEN];
	int rc;

	srv_ctl_listen(sv->sv_cfg, listen, sizeof(listen));
	attr.ca_listen = listen;
	attr.ca_sys_name = sv->sv_cfg->dc_name;
	if (!sv->sv_cfg->dc_allow_insecure) {
		/* TLS (transport_config): the port, the calls to other servers, any tool client */
		char err[512];

		attr.ca_tls_ca = sv->sv_cfg->dc_ca_cert;
		attr.ca_tls_cert = sv->sv_cfg->dc_cert;
		attr.ca_tls_key = sv->sv_cfg->dc_key;
		rc = dss_ctl_client_tls_set(attr.ca_tls_ca, attr.ca_tls_cert, attr.ca_tls_key, err,
					    sizeof(err));
		if (rc != 0) {
			fprintf(
			    stderr,
			    "%s: transport_config (allow_insecure: false): %s; make the "
			    "certificates with gen_certificates.sh or set allow_insecure: true\n",
			    srv_prog, err);
			return rc;
		}
	}
	rc = dss_ctl_create(&attr, &sv->sv_ctl_h);
	if (rc != 0) {
		fprintf(stderr, "%s: control thread: %s\n", srv_prog, d_errstr(rc));
		return rc;
	}
	rc = dss_ctl_unregister(sv->sv_ctl_h, DSS_CTL_GET_ATTACH_INFO);
	if (rc == 0)
		rc = dss_ctl_register(sv->sv_ctl_h, DSS_CTL_STORAGE_QUERY_USAGE, srv_cmd_handler,
				      sv);
	if (rc == 0)
		rc = dss_ctl_register(sv->sv_ctl_h, DSS_CTL_STORAGE_FORMAT, srv_cmd_handler, sv);
	if (rc == 0 && waiting) {
		uint32_t m;

		/* every other management method: "not formatted" until srv_ctl_services */
		for (m = DSS_CTL_GET_ATTACH_INFO; m < DSS_CTL_METHOD_MAX; m++)
			if (dss_ctl_register(sv->sv_ctl_h, m, srv_unformatted_handler, sv) == 0)
				sv->sv_unfmt[m / 8] |= (uint8_t)(1U << (m % 8));
	}
	if (rc == 0) {
		rc = dss_ctl_start(sv->sv_ctl_h);
		if (rc != 0)
			fprintf(stderr, "%s: cannot listen on the management port %s: %s\n",
				srv_prog, listen, d_errstr(rc));
	}
	if (rc != 0) {
		dss_ctl_destroy(sv->sv_ctl_h);
		sv->sv_ctl_h = NULL;
		return rc;
	}
	D_NOTE("management port on %s\n", listen);
	sv->sv_ctl = true;
	return 0;
}

/*
 * The services of a running engine on the control thread: our GetAttachInfo, the pool
 * bridge (TgtCreate...), the engine stop and start, the relay, the management service
 * (replica and membership client: the join). On failure the control thread stays up with
 * what started; srv_ctl_stop undoes it all.
 */
static int
srv_ctl_services(struct srv *sv)
{
	uint32_t m;
	int rc;

	for (m = 0; m < DSS_CTL_METHOD_MAX; m++)
		if (sv->sv_unfmt[m / 8] & (1U << (m % 8)))
			(void)dss_ctl_unregister(sv->sv_ctl_h, m);
	memset(sv->sv_unfmt, 0, sizeof(sv->sv_unfmt));
	rc = dss_ctl_register(sv->sv_ctl_h, DSS_CTL_GET_ATTACH_INFO, srv_attach_info_handler, sv);
	if (rc == 0)
		rc = srv_tgt_ctl_register(sv->sv_ctl_h, &sv->sv_eng);
	if (rc == 0)
		rc = dss_ctl_register(sv->sv_ctl_h, DSS_CTL_ENGINE_STOP, srv_cmd_handler, sv);
	if (rc == 0)
		rc = dss_ctl_register(sv->sv_ctl_h, DSS_CTL_ENGINE_START, srv_cmd_handler, sv);
	if (rc != 0) {
		fprintf(stderr, "%s: control thread: %s\n", srv_prog, d_errstr(rc));
		return rc;
	}
	rc = ds_svc_relay_start(sv->sv_ctl_h);
	if (rc != 0) {
		fprintf(stderr, "%s: service relay: %s\n", srv_prog, d_errstr(rc));
		return rc;
	}
	rc = srv_mgmt_start(sv);
	if (rc != 0) {
		fprintf(stderr, "%s: management service: %s\n", srv_prog, d_errstr(rc));
		return rc;
	}
	return 0;
}

/* Stop the control thread: no new management request, those in handlers answered. */
static void
srv_ctl_stop(struct srv *sv)
{
	ds_svc_relay_stop();
	ds_mgmt_stop(sv->sv_mgmt);
	dss_ctl_destroy(sv->sv_ctl_h);
	sv->sv_ctl_h = NULL;
	ds_mgmt_destroy(sv->sv_mgmt);
	sv->sv_mgmt = NULL;
}

/*
 * Take the data directory's lock (flock on daos_server.lock, which then holds our pid).
 * Another server holding it is a clean failure that names its pid.
 */
static int
srv_lock(struct srv *sv)
{
	const char *dir = sv->sv_cfg->dc_data_dir;
	char path[PATH_MAX], pid[32];
	ssize_t n = 0;
	int fd, i, len;

	snprintf(path, sizeof(path), "%s/%s", dir, SRV_LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open the lock file %s: %s\n", srv_prog, path,
			strerror(errno));
		return d_errno2der(errno);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;

		if (err != EWOULDBLOCK) {
			fprintf(stderr, "%s: cannot lock %s: %s\n", srv_prog, path, strerror(err));
			close(fd);
			return d_errno2der(err);
		}
		/* the holder writes its pid right after locking: give it a moment */
		for (i = 0; i < 50; i++) {
			n = pread(fd, pid, sizeof(pid) - 1, 0);
			if (n > 0)
				break;
			usleep(10 * 1000);
		}
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr,
			"%s: data directory %s is in use by another daos_server (pid %s); lock "
			"file %s\n",
			srv_prog, dir, pid[0] != '\0' ? pid : "unknown", path);
		close(fd);
		return -DER_BUSY;
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		fprintf(stderr, "%s: cannot write %s: %s\n", srv_prog, path, strerror(errno));
		close(fd);
		return -DER_IO;
	}
	sv->sv_lock_fd = fd;
	return 0;
}

/* Release the lock; the file stays (an empty one: nobody holds it). */
static void
srv_unlock(struct srv *sv)
{
	if (sv->sv_lock_fd < 0)
		return;
	if (ftruncate(sv->sv_lock_fd, 0) != 0)
		D_WARN("cannot truncate the lock file: %s\n", strerror(errno));
	close(sv->sv_lock_fd);
	sv->sv_lock_fd = -1;
}

static const char *
gurt_level_name(int level)
{
	static const char *const names[] = {"DEBUG", "INFO", "NOTE", "WARN",
					    "ERR",   "CRIT", "EMRG", "NONE"};

	return level >= 0 && level < (int)D_ARRAY_SIZE(names) ? names[level] : "INFO";
}

/*
 * Environment and logging. The engine's env_vars are exported unless the environment
 * already sets them. Then, unless the environment sets D_LOG_FILE / D_LOG_MASK (it wins,
 * for debugging): the log goes to log_file, else control_log_file, else stderr, with the
 * engine's log_mask, and control_log_mask for the server facility.
 */
static int
srv_log_setup(struct srv *sv)
{
	const struct dss_config *cfg = sv->sv_cfg;
	const struct dss_engine_config *ec = sv->sv_eng.de_ecfg;
	const char *file = ec->ec_log_file != NULL ? ec->ec_log_file : cfg->dc_control_log_file;
	char masks[512];
	uint32_t i;
	int rc;

	for (i = 0; i < ec->ec_env_vars.sv_nr; i++) {
		char *kv = ec->ec_env_vars.sv_v[i];
		char *eq = strchr(kv, '=');

		*eq = '\0';
		rc = setenv(kv, eq + 1, 0);
		*eq = '=';
		if (rc != 0) {
			fprintf(stderr, "%s: cannot set %s: %s\n", srv_prog, kv, strerror(errno));
			return d_errno2der(errno);
		}
	}
	if (file != NULL && setenv("D_LOG_FILE", file, 0) != 0)
		return d_errno2der(errno);
	rc = d_log_init();
	if (rc != 0)
		return rc;
	if (getenv("D_LOG_MASK") == NULL) {
		snprintf(masks, sizeof(masks), "server=%s,%s",
			 gurt_level_name(cfg->dc_control_log_level), ec->ec_log_mask);
		rc = d_log_setmasks(masks);
		if (rc != 0) {
			fprintf(stderr, "%s: bad log_mask '%s'\n", srv_prog, ec->ec_log_mask);
			return rc;
		}
	}
	return 0;
}

static void
srv_core_dump_filter(const struct dss_config *cfg)
{
	FILE *fp;

	if (!cfg->dc_core_dump_filter_set)
		return;
	fp = fopen("/proc/self/coredump_filter", "w");
	if (fp == NULL || fprintf(fp, "0x%x", cfg->dc_core_dump_filter) < 0 || fclose(fp) != 0) {
		D_WARN("cannot set core_dump_filter 0x%x\n", cfg->dc_core_dump_filter);
		if (fp != NULL)
			fclose(fp);
	}
}

/*
 * Create and start xstream @name, bound to CPU @cpu (-1: unbound). Engines pin their
 * xstreams from first_core on, as DAOS does: the system xstream at first_core, target i at
 * first_core + 1 + i, then the helpers, wrapping at the number of online CPUs.
 */
static uint64_t
srv_env_ns(const char *var)
{
	const char *s = getenv(var);
	char *end = NULL;
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0') {
		D_WARN("ignoring %s=%s: not a number of microseconds\n", var, s);
		return 0;
	}
	/* 0 in the attribute means "the default": a spin of 0 us is 1 ns */
	return v == 0 ? 1 : v * 1000;
}

static int
srv_xs_start(const char *name, int cpu, struct dss_xstream **xs)
{
	/* for measurements: DAOS_XS_SPIN_US, DAOS_XS_SPIN_MAX_US (README "Idle spin") */
	struct dss_xstream_attr attr = {.xa_idle_spin_ns = srv_env_ns("DAOS_XS_SPIN_US"),
					.xa_idle_spin_max_ns = srv_env_ns("DAOS_XS_SPIN_MAX_US")};
	int rc;

	rc = dss_xstream_create(name, &attr, xs);
	if (rc != 0) {
		D_ERROR("xstream %s: create failed: " DF_RC "\n", name, DP_RC(rc));
		return rc;
	}
	if (cpu >= 0 && dss_xstream_cpu_set(*xs, cpu) == 0)
		D_INFO("xstream %s bound to CPU %d\n", name, cpu);
	rc = dss_xstream_start(*xs);
	if (rc != 0) {
		D_ERROR("xstream %s: start failed: " DF_RC "\n", name, DP_RC(rc));
		dss_xstream_destroy(*xs);
		*xs = NULL;
	}
	return rc;
}

/* Stop every xstream first (they wind down together), then join and free them. */
static void
srv_xstreams_stop(struct dss_engine *eng)
{
	uint32_t i;

	for (i = 0; i < eng->de_hlp_nr; i++)
		if (eng->de_hlp_xs[i] != NULL)
			dss_xstream_stop(eng->de_hlp_xs[i]);
	for (i = 0; i < eng->de_tgt_nr; i++)
		if (eng->de_tgt_xs[i] != NULL)
			dss_xstream_stop(eng->de_tgt_xs[i]);
	if (eng->de_sys_xs != NULL)
		dss_xstream_stop(eng->de_sys_xs);
	for (i = 0; i < eng->de_hlp_nr; i++)
		dss_xstream_destroy(eng->de_hlp_xs[i]);
	for (i = 0; i < eng->de_tgt_nr; i++)
		dss_xstream_destroy(eng->de_tgt_xs[i]);
	dss_xstream_destroy(eng->de_sys_xs);
	D_FREE(eng->de_hlp_xs);
	D_FREE(eng->de_tgt_xs);
	eng->de_sys_xs = NULL;
	eng->de_hlp_nr = 0;
	eng->de_tgt_nr = 0;
}

/* The CPU of the @n-th xstream of the engine (0: system), or -1 without first_core. */
static int
srv_xs_cpu(const struct dss_engine_config *ec, uint32_t n)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (!ec->ec_first_core_set || ncpu <= 0)
		return -1;
	return (int)((ec->ec_first_core + n) % (uint32_t)ncpu);
}

static int
srv_xstreams_start(struct dss_engine *eng)
{
	const struct dss_engine_config *ec = eng->de_ecfg;
	char name[DSS_XS_NAME_MAX];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t i;
	int rc;

	if (ec->ec_first_core_set &&
	    (ncpu <= 0 || ec->ec_first_core + 1 + ec->ec_targets + ec->ec_nr_helpers > ncpu))
		D_WARN("first_core %u: %u xstreams do not fit in %ld CPUs: they share some\n",
		       ec->ec_first_core, 1 + ec->ec_targets + ec->ec_nr_helpers, ncpu);

	D_ALLOC_ARRAY(eng->de_tgt_xs, ec->ec_targets);
	if (ec->ec_nr_helpers > 0)
		D_ALLOC_ARRAY(eng->de_hlp_xs, ec->ec_nr_helpers);
	if (eng->de_tgt_xs == NULL || (ec->ec_nr_helpers > 0 && eng->de_hlp_xs == NULL)) {
		rc = -DER_NOMEM;
		goto out;
	}
	rc = srv_xs_start("sys", srv_xs_cpu(ec, 0), &eng->de_sys_xs);
	if (rc != 0)
		goto out;
	for (i = 0; i < ec->ec_targets; i++) {
		snprintf(name, sizeof(name), "tgt_%u", i);
		rc = srv_xs_start(name, srv_xs_cpu(ec, 1 + i), &eng->de_tgt_xs[i]);
		if (rc != 0)
			goto out;
		eng->de_tgt_nr = i + 1;
	}
	for (i = 0; i < ec->ec_nr_helpers; i++) {
		snprintf(name, sizeof(name), "hlp_%u", i);
		rc = srv_xs_start(name, srv_xs_cpu(ec, 1 + ec->ec_targets + i), &eng->de_hlp_xs[i]);
		if (rc != 0)
			goto out;
		eng->de_hlp_nr = i + 1;
	}
	return 0;
out:
	srv_xstreams_stop(eng);
	return rc;
}

/* The modules to load: the engine's built-in ones, then dss_module_table. */
static int
srv_modules_list(struct srv *sv, uint32_t *nr)
{
	static struct dss_module *const builtin[] = {&srv_module};
	uint32_t n = 0;
	uint32_t i;

	while (dss_module_table[n] != NULL)
		n++;
	D_ALLOC_ARRAY(sv->sv_mods, D_ARRAY_SIZE(builtin) + n);
	if (sv->sv_mods == NULL)
		return -DER_NOMEM;
	for (i = 0; i < D_ARRAY_SIZE(builtin); i++)
		sv->sv_mods[i] = builtin[i];
	for (i = 0; i < n; i++)
		sv->sv_mods[D_ARRAY_SIZE(builtin) + i] = dss_module_table[i];
	*nr = (uint32_t)D_ARRAY_SIZE(builtin) + n;
	return 0;
}

/*
 * The engine half, on formatted storage: modules, xstreams, VOS shards, fabric. Undone by
 * srv_stop. Context: the main thread.
 */
static int
srv_engine_up(struct srv *sv)
{
	struct dss_engine *eng = &sv->sv_eng;
	uint32_t nr;
	int rc;

	dss_engine_set(eng);
	rc = srv_modules_list(sv, &nr);
	if (rc == 0)
		rc = dss_modules_init(sv->sv_mods, nr);
	if (rc != 0) {
		fprintf(stderr, "%s: module init failed: %s\n", srv_prog, d_errstr(rc));
		return rc;
	}
	sv->sv_modules = true;
	rc = srv_xstreams_start(eng);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot start the xstreams: %s\n", srv_prog, d_errstr(rc));
		return rc;
	}
	sv->sv_xstreams = true;
	rc = srv_vos_open(eng);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot open the VOS shards: %s\n", srv_prog, d_errstr(rc));
		return rc;
	}
	sv->sv_vos = true;
	rc = dss_modules_setup();
	if (rc != 0) {
		fprintf(stderr, "%s: module setup failed: %s\n", srv_prog, d_errstr(rc));
		return rc;
	}
	rc = srv_fabric_start(sv);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot start the fabric: %s\n", srv_prog, d_errstr(rc));
		return rc;
	}
	sv->sv_fabric = true;
	return 0;
}

/*
 * Everything after the lock and logging, up to serving. Unformatted storage without
 * auto-format: the management port only (sv_waiting), the rest at dmg storage format.
 * Undone by srv_stop.
 */
static int
srv_start(struct srv *sv)
{
	struct dss_engine *eng = &sv->sv_eng;
	char err[512] = "";
	int rc;

	srv_core_dump_filter(sv->sv_cfg);
	eng->de_rank = SRV_SB_RANK_NONE;
	rc = srv_storage_format(eng, sv->sv_auto_format, err, sizeof(err));
	if (rc == -DER_NONEXIST && !sv->sv_auto_format) {
		D_NOTE("%s: waiting for dmg storage format\n", err);
		rc = srv_ctl_open(sv, true);
		if (rc != 0)
			return rc;
		sv->sv_waiting = true;
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: storage: %s\n", srv_prog, err);
		return rc;
	}
	rc = srv_engine_up(sv);
	if (rc == 0)
		rc = srv_ctl_open(sv, false);
	if (rc == 0)
		rc = srv_ctl_services(sv);
	return rc;
}

/*
 * Undo whatever srv_start did, in reverse. Idempotent. Returns 0, or -DER_TIMEDOUT if the
 * fabric did not drain: xstreams still run requests and nothing after the fabric is undone
 * (the caller exits the process).
 */
static int
srv_stop(struct srv *sv)
{
	struct dss_engine *eng = &sv->sv_eng;
	int rc;

	if (sv->sv_ctl)
		srv_ctl_stop(sv);
	sv->sv_ctl = false;
	if (sv->sv_fabric) {
		rc = srv_fabric_stop(sv);
		if (rc != 0)
			return rc;
	}
	sv->sv_fabric = false;
	dss_modules_cleanup();
	if (sv->sv_vos)
		srv_vos_close();
	sv->sv_vos = false;
	if (sv->sv_xstreams)
		srv_xstreams_stop(eng);
	sv->sv_xstreams = false;
	if (sv->sv_modules)
		dss_modules_fini();
	sv->sv_modules = false;
	D_FREE(sv->sv_mods);
	dss_engine_set(NULL);
	return 0;
}

/*
 * While the stop runs, a second SIGTERM or SIGINT exits at once: a stop stuck on a hung
 * drain must not need kill -9. The watchdog ends when @stop_fd is written.
 */
struct srv_watchdog {
	int wd_sig_fd;
	int wd_stop_fd;
};

static void *
srv_watchdog(void *arg)
{
	struct srv_watchdog *wd = arg;
	struct pollfd pfd[2] = {{.fd = wd->wd_sig_fd, .events = POLLIN},
				{.fd = wd->wd_stop_fd, .events = POLLIN}};
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (pfd[1].revents != 0)
			return NULL;
		if (read(wd->wd_sig_fd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			static const char msg[] = "daos_server: second signal during the stop: "
						  "exiting now\n";

			if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
				/* nothing more to do: we are leaving */
			}
			_exit(SRV_EXIT_FAIL);
		}
	}
}

/*
 * Wait for SIGTERM or SIGINT, running the engine administration commands the control thread
 * queues meanwhile; SIGHUP reopens the log. Returns the signal, or 0 when a format's start
 * of the engine failed (sv_fatal).
 */
static int
srv_wait(struct srv *sv)
{
	struct pollfd pfd[2] = {{.fd = sv->sv_sig_fd, .events = POLLIN},
				{.fd = sv->sv_cmd_fd, .events = POLLIN}};
	struct signalfd_siginfo si;
	ssize_t n;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			D_ERROR("poll failed: %s; stopping\n", strerror(errno));
			return SIGTERM;
		}
		if (pfd[1].revents != 0)
			srv_cmds_run(sv, false);
		if (sv->sv_fatal != 0)
			return 0; /* the engine did not start after a format */
		if (pfd[0].revents == 0)
			continue;
		n = read(sv->sv_sig_fd, &si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(si)) {
			D_ERROR("signalfd read failed: %s; stopping\n", strerror(errno));
			return SIGTERM;
		}
		if (si.ssi_signo == SIGHUP) {
			d_log_init();
			D_NOTE("SIGHUP: log file reopened\n");
			continue;
		}
		return (int)si.ssi_signo;
	}
}

/* The "started" line on stdout (tests and scripts wait for it) and in the log. */
static void
srv_started_print(struct srv *sv)
{
	const struct dss_engine_config *ec = sv->sv_eng.de_ecfg;

	printf("daos_server started: %u targets, data in %s, pid %ld\n", ec->ec_targets,
	       sv->sv_cfg->dc_data_dir, (long)getpid());
	fflush(stdout);
	D_NOTE("started: %s, engine %u, %u targets, %u helpers, provider %s, data in %s\n",
	       sv->sv_cfg->dc_name, sv->sv_eng.de_idx, ec->ec_targets, ec->ec_nr_helpers,
	       sv->sv_cfg->dc_fi_provider, sv->sv_cfg->dc_data_dir);
}

static int
cmd_start(int argc, char **argv, struct srv_opts *o)
{
	struct srv sv = {.sv_lock_fd = -1, .sv_sig_fd = -1, .sv_cmd_fd = -1};
	struct srv_watchdog wd = {.wd_sig_fd = -1, .wd_stop_fd = -1};
	const struct dss_engine_config *ec;
	pthread_t wd_thread;
	bool wd_started = false;
	sigset_t sigs;
	uint64_t one = 1;
	int rc, sig, ret = SRV_EXIT_FAIL;

	rc = parse_opts(argc, argv, "start", "odefa", usage_start, o);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_err("start", "unexpected argument '%s'", argv[optind]);
	if (srv_config_load(o, &sv.sv_cfg) != 0)
		return SRV_EXIT_FAIL;
	if (o->so_engine >= (int)sv.sv_cfg->dc_engine_nr) {
		fprintf(stderr, "%s: --engine %d: the configuration has %u engine%s\n", srv_prog,
			o->so_engine, sv.sv_cfg->dc_engine_nr,
			sv.sv_cfg->dc_engine_nr == 1 ? "" : "s");
		goto out_cfg;
	}
	if (o->so_engine < 0 && sv.sv_cfg->dc_engine_nr > 1)
		fprintf(stderr,
			"%s: warning: the configuration has %u engines; this process runs "
			"engine 0 (one engine per daos_server: choose with --engine)\n",
			srv_prog, sv.sv_cfg->dc_engine_nr);
	sv.sv_eng.de_cfg = sv.sv_cfg;
	sv.sv_eng.de_idx = o->so_engine < 0 ? 0 : (uint32_t)o->so_engine;
	sv.sv_eng.de_ecfg = ec = &sv.sv_cfg->dc_engines[sv.sv_eng.de_idx];

	rc = srv_mkdir_p(sv.sv_cfg->dc_data_dir);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot create the data directory %s: %s\n", srv_prog,
			sv.sv_cfg->dc_data_dir, d_errdesc(rc));
		goto out_cfg;
	}
	if (srv_lock(&sv) != 0)
		goto out_cfg;
	if (srv_log_setup(&sv) != 0)
		goto out_lock;

	/* Before any thread exists, so that every thread inherits the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sv.sv_sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sv.sv_sig_fd < 0) {
		fprintf(stderr, "%s: signalfd failed: %s\n", srv_prog, strerror(errno));
		goto out_log;
	}

	pthread_mutex_init(&sv.sv_cmd_lock, NULL);
	D_INIT_LIST_HEAD(&sv.sv_cmds);
	sv.sv_cmd_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sv.sv_cmd_fd < 0) {
		fprintf(stderr, "%s: eventfd failed: %s\n", srv_prog, strerror(errno));
		goto out_sig;
	}

	sv.sv_auto_format = sv.sv_cfg->dc_auto_format || o->so_auto_format;
	rc = srv_start(&sv);
	if (rc != 0)
		goto out_stop;
	if (sv.sv_waiting) {
		char addr[DSS_CTL_ADDR_LEN] = "";

		(void)dss_ctl_listen_addr(sv.sv_ctl_h, addr, sizeof(addr));
		printf(
		    "daos_server waiting for storage format: run 'dmg storage format' (management "
		    "port %s), pid %ld\n",
		    addr, (long)getpid());
		fflush(stdout);
	} else {
		srv_started_print(&sv);
	}

	sig = srv_wait(&sv);
	if (sig == 0) {
		fprintf(stderr, "%s: the engine did not start after the storage format: stopping\n",
			srv_prog);
		goto out_stop;
	}
	printf("daos_server stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	fflush(stdout);
	wd.wd_sig_fd = sv.sv_sig_fd;
	wd.wd_stop_fd = eventfd(0, EFD_CLOEXEC);
	if (wd.wd_stop_fd >= 0 && pthread_create(&wd_thread, NULL, srv_watchdog, &wd) == 0)
		wd_started = true;
	ret = SRV_EXIT_OK;
out_stop:
	srv_cmds_run(&sv, true); /* queued ones, and any queued from now on: -DER_SHUTDOWN */
	if (srv_stop(&sv) != 0) {
		fprintf(stderr,
			"%s: requests still running after the drain: exiting without a "
			"clean stop\n",
			srv_prog);
		d_log_fini();
		_exit(SRV_EXIT_FAIL);
	}
	if (wd_started) {
		if (write(wd.wd_stop_fd, &one, sizeof(one)) != sizeof(one))
			D_ERROR("cannot stop the watchdog: %s\n", strerror(errno));
		pthread_join(wd_thread, NULL);
	}
	if (wd.wd_stop_fd >= 0)
		close(wd.wd_stop_fd);
	close(sv.sv_cmd_fd);
out_sig:
	pthread_mutex_destroy(&sv.sv_cmd_lock);
	close(sv.sv_sig_fd);
	if (ret == SRV_EXIT_OK) {
		D_NOTE("stopped\n");
		printf("daos_server stopped\n");
		fflush(stdout);
	}
out_log:
	d_log_fini();
out_lock:
	srv_unlock(&sv);
out_cfg:
	dss_config_free(sv.sv_cfg);
	return ret;
}

int
main(int argc, char **argv)
{
	struct srv_opts o = {.so_engine = -1};
	const char *cmd;
	int rc;

	rc = parse_opts(argc, argv, NULL, "ojh", usage_main, &o);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return usage_err(NULL, "missing command (start, config show, version)");
	argc -= optind;
	argv += optind;
	cmd = argv[0];
	if (strcmp(cmd, "start") == 0)
		return cmd_start(argc, argv, &o);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc, argv, &o);
	if (strcmp(cmd, "version") == 0)
		return cmd_version(argc, argv, &o);
	if (strcmp(cmd, "help") == 0) {
		usage_main(stdout);
		return SRV_EXIT_OK;
	}
	return usage_err(NULL, "unknown command '%s' (start, config show, version)", cmd);
}
