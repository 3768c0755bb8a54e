/*
 * agent.c: daos_agent, the client-node daemon. It serves local processes on a Unix
 * SOCK_SEQPACKET socket (<runtime_dir>/daos_agent.sock): "request credential" (a signed
 * auth.Credential for the caller, whose uid/gid come from SO_PEERCRED and whose groups
 * come from the user database, never from the request) and "get attach info" (the
 * system's addresses, fetched from an access point's management port with GetAttachInfo
 * and cached). Sits on src/security (credentials) and the engine's blocking management
 * client (dss_ctl_client_*).
 *
 * One thread, one poll loop: the listening socket, the signalfd and up to AGENT_CONNS_MAX
 * client sockets. A request is answered before the next is read; fetching attach info
 * from an access point blocks the loop for at most access_point_timeout per access point,
 * and only when the cache is empty or stale. Life: config -> key -> socket (a live agent
 * on it is an error; a stale socket file is replaced) -> "daos_agent started" -> loop ->
 * SIGTERM/SIGINT -> close, unlink the socket, "daos_agent stopped", exit 0.
 */
#define D_LOGFAC agent

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos/security.h>
#include <daos_srv/ctl.h>

#include "agent_internal.h"
#include "mgmt/svc.pb-c.h"
#include "security/agent.pb-c.h"

#define AGENT_CONNS_MAX 1024

enum { AGENT_EXIT_OK = 0, AGENT_EXIT_FAIL = 1, AGENT_EXIT_USAGE = 2 };

struct agent_conn {
	int cn_fd;
	uid_t cn_uid;
	gid_t cn_gid;
	pid_t cn_pid;
};

struct agent {
	struct agent_config ag_cfg;
	struct sec_signer *ag_signer;
	char ag_sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int ag_listen_fd;
	int ag_sig_fd;
	struct agent_conn ag_conns[AGENT_CONNS_MAX];
	int ag_nr_conns;
	uint8_t *ag_buf; /* one request */
	/* Cached GetAttachInfoResp, packed, and when it was fetched. */
	uint8_t *ag_ai;
	size_t ag_ai_len;
	struct timespec ag_ai_time;
	uint64_t ag_nr_creds;
	uint64_t ag_nr_attach;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: daos_agent [-o FILE] [-i] [-d] [-j] [--help]\n"
		"\n"
		"Serve credentials and attach info to local DAOS clients on a Unix socket\n"
		"(<runtime_dir>/daos_agent.sock) until SIGTERM or SIGINT.\n"
		"\n"
		"  -o, --config-path FILE  configuration (default " AGENT_DEF_CONFIG "; defaults\n"
		"                          are used if that file does not exist)\n"
		"  -i, --insecure          do not sign credentials (transport_config.\n"
		"                          allow_insecure: true)\n"
		"  -d, --debug             log at DEBUG level\n"
		"  -j, --json              print the started line as JSON\n"
		"  -h, --help              this text\n"
		"\n"
		"Environment: DAOS_AGENT_DRPC_DIR overrides runtime_dir (for clients too).\n");
}

static double
ts_age_s(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* The name of the agent's key: the basename of its certificate without ".crt". */
static void
agent_origin(const struct agent_config *cfg, char *buf, size_t len)
{
	const char *base;
	const char *dot;
	size_t n;

	snprintf(buf, len, "agent");
	if (cfg->ac_cert == NULL)
		return;
	base = strrchr(cfg->ac_cert, '/');
	base = base != NULL ? base + 1 : cfg->ac_cert;
	dot = strrchr(base, '.');
	n = dot != NULL ? (size_t)(dot - base) : strlen(base);
	if (n > 0 && n < len) {
		memcpy(buf, base, n);
		buf[n] = '\0';
	}
}

static void
reply_send(int fd, int status, const void *body, size_t len)
{
	Agent__Response resp = AGENT__RESPONSE__INIT;
	uint8_t *out;
	size_t out_len;

	resp.status = status;
	resp.body.data = (uint8_t *)body;
	resp.body.len = len;
	out_len = agent__response__get_packed_size(&resp);
	D_ALLOC_NZ(out, out_len);
	if (out == NULL) {
		resp.status = -DER_NOMEM;
		resp.body.len = 0;
		out_len = agent__response__get_packed_size(&resp);
		D_ALLOC_NZ(out, out_len);
		if (out == NULL)
			return; /* the client sees the connection close */
	}
	agent__response__pack(&resp, out);
	if (send(fd, out, out_len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)out_len) {
		if (errno == EMSGSIZE && resp.body.len > 0) {
			/* Larger than the socket's send buffer allows in one packet. */
			D_ERROR("reply of %zu bytes does not fit one packet: " DF_RC "\n", out_len,
				DP_RC(-DER_REC2BIG));
			D_FREE(out);
			reply_send(fd, -DER_REC2BIG, NULL, 0);
			return;
		}
		D_DEBUG("reply to fd %d not sent: %s\n", fd, strerror(errno));
	}
	D_FREE(out);
}

static void
handle_creds(struct agent *ag, struct agent_conn *cn)
{
	struct sec_cred_info *info;
	void *cred = NULL;
	size_t len = 0;
	int rc;

	D_ALLOC_PTR(info);
	if (info == NULL) {
		reply_send(cn->cn_fd, -DER_NOMEM, NULL, 0);
		return;
	}
	rc = sec_cred_info_local(cn->cn_uid, cn->cn_gid, info);
	if (rc == 0)
		rc = sec_cred_create(ag->ag_signer, info, ag->ag_cfg.ac_cred_life, &cred, &len);
	if (rc != 0)
		D_ERROR("credential for pid %d uid %u gid %u: " DF_RC "\n", (int)cn->cn_pid,
			(unsigned)cn->cn_uid, (unsigned)cn->cn_gid, DP_RC(rc));
	else
		D_DEBUG("credential for pid %d: %s\n", (int)cn->cn_pid, info->ci_user);
	reply_send(cn->cn_fd, rc, cred, len);
	ag->ag_nr_creds++;
	D_FREE(cred);
	sec_cred_info_free(info);
}

/* Ask each access point in turn; cache the first good answer. */
static int
attach_info_fetch(struct agent *ag)
{
	struct agent_config *cfg = &ag->ag_cfg;
	Mgmt__GetAttachInfoReq req = MGMT__GET_ATTACH_INFO_REQ__INIT;
	Mgmt__GetAttachInfoResp *resp;
	uint8_t buf[512];
	size_t len;
	int rc = -DER_UNREACH;
	int i;

	req.sys = cfg->ac_name;
	req.all_ranks = true;
	len = mgmt__get_attach_info_req__pack(&req, buf);
	for (i = 0; i < cfg->ac_nr_access_points; i++) {
		const char *ap = cfg->ac_access_points[i];
		struct dss_ctl_client *cli;
		void *reply = NULL;
		size_t reply_len = 0;

		rc = dss_ctl_client_open(ap, cfg->ac_ap_timeout, &cli);
		if (rc == 0) {
			rc = dss_ctl_client_call(cli, DSS_CTL_GET_ATTACH_INFO, buf, len,
						 cfg->ac_ap_timeout, &reply, &reply_len);
			dss_ctl_client_close(cli);
		}
		if (rc == 0) {
			/* Keep only answers that decode and succeeded. */
			resp = mgmt__get_attach_info_resp__unpack(NULL, reply_len, reply);
			if (resp == NULL)
				rc = -DER_PROTO;
			else
				rc = resp->status;
			if (resp != NULL)
				mgmt__get_attach_info_resp__free_unpacked(resp, NULL);
		}
		if (rc == 0) {
			D_FREE(ag->ag_ai);
			ag->ag_ai = reply;
			ag->ag_ai_len = reply_len;
			clock_gettime(CLOCK_MONOTONIC, &ag->ag_ai_time);
			D_INFO("attach info from %s: %zu bytes\n", ap, reply_len);
			return 0;
		}
		D_FREE(reply);
		D_WARN("GetAttachInfo at access point %s: " DF_RC "%s%s\n", ap, DP_RC(rc),
		       dss_ctl_client_tls_error()[0] != '\0' ? ": " : "",
		       dss_ctl_client_tls_error());
	}
	return rc;
}

static bool
attach_info_fresh(const struct agent *ag)
{
	const struct agent_config *cfg = &ag->ag_cfg;

	if (ag->ag_ai == NULL || cfg->ac_disable_caching)
		return false;
	return cfg->ac_cache_exp == 0 || ts_age_s(&ag->ag_ai_time) < cfg->ac_cache_exp * 60.0;
}

static void
handle_attach_info(struct agent *ag, struct agent_conn *cn, const Agent__Request *req)
{
	Mgmt__GetAttachInfoReq *in = NULL;
	int rc = 0;

	ag->ag_nr_attach++;
	if (req->body.len > 0) {
		in = mgmt__get_attach_info_req__unpack(NULL, req->body.len, req->body.data);
		if (in == NULL) {
			reply_send(cn->cn_fd, -DER_INVAL, NULL, 0);
			return;
		}
	}
	if (in != NULL && in->sys[0] != '\0' && strcmp(in->sys, ag->ag_cfg.ac_name) != 0) {
		D_ERROR("attach info for system '%s', this agent serves '%s'\n", in->sys,
			ag->ag_cfg.ac_name);
		rc = -DER_INVAL;
	}
	if (in != NULL)
		mgmt__get_attach_info_req__free_unpacked(in, NULL);
	if (rc == 0 && !attach_info_fresh(ag)) {
		rc = attach_info_fetch(ag);
		/* An old answer beats none when every access point is down. */
		if (rc != 0 && ag->ag_ai != NULL && !ag->ag_cfg.ac_disable_caching) {
			D_WARN("serving cached attach info: " DF_RC "\n", DP_RC(rc));
			rc = 0;
		}
	}
	reply_send(cn->cn_fd, rc, rc == 0 ? ag->ag_ai : NULL, rc == 0 ? ag->ag_ai_len : 0);
}

static void
conn_close(struct agent *ag, int idx)
{
	close(ag->ag_conns[idx].cn_fd);
	ag->ag_conns[idx] = ag->ag_conns[--ag->ag_nr_conns];
}

/* Read and answer one request of connection @idx; false if it is to be closed. */
static bool
conn_serve(struct agent *ag, int idx)
{
	struct agent_conn *cn = &ag->ag_conns[idx];
	Agent__Request *req;
	ssize_t n;

	n = recv(cn->cn_fd, ag->ag_buf, DC_AGENT_MSG_MAX, MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	if (n > (ssize_t)DC_AGENT_MSG_MAX) {
		D_ERROR_RL("oversized request (%zd bytes) from pid %d\n", n, (int)cn->cn_pid);
		return false;
	}
	req = agent__request__unpack(NULL, (size_t)n, ag->ag_buf);
	if (req == NULL) {
		D_ERROR_RL("undecodable request from pid %d\n", (int)cn->cn_pid);
		reply_send(cn->cn_fd, -DER_PROTO, NULL, 0);
		return false;
	}
	switch (req->method) {
	case DC_AGENT_REQUEST_CREDS:
		handle_creds(ag, cn);
		break;
	case DC_AGENT_GET_ATTACH_INFO:
		handle_attach_info(ag, cn, req);
		break;
	default:
		reply_send(cn->cn_fd, -DER_UNREG, NULL, 0);
		break;
	}
	agent__request__free_unpacked(req, NULL);
	return true;
}

static void
conn_accept(struct agent *ag)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int sndbuf = (int)DC_AGENT_MSG_MAX;
	int fd;

	fd = accept4(ag->ag_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (ag->ag_nr_conns == AGENT_CONNS_MAX) {
		D_ERROR_RL("too many clients (%d); connection refused\n", AGENT_CONNS_MAX);
		close(fd);
		return;
	}
	/* Room for large attach info in one packet (the kernel caps it at wmem_max). */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
		D_ERROR("SO_PEERCRED: %s\n", strerror(errno));
		close(fd);
		return;
	}
	ag->ag_conns[ag->ag_nr_conns].cn_fd = fd;
	ag->ag_conns[ag->ag_nr_conns].cn_uid = cred.uid;
	ag->ag_conns[ag->ag_nr_conns].cn_gid = cred.gid;
	ag->ag_conns[ag->ag_nr_conns].cn_pid = cred.pid;
	ag->ag_nr_conns++;
}

/* Open log_file again (after logrotate moved it); the old descriptor is closed. */
static void
agent_log_reopen(const struct agent_config *cfg)
{
	int fd;
	int old;

	if (cfg->ac_log_file == NULL)
		return;
	fd = open(cfg->ac_log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		D_ERROR("cannot reopen log_file %s: %s\n", cfg->ac_log_file, strerror(errno));
		return;
	}
	old = d_log_set_fd(fd);
	if (old > STDERR_FILENO)
		close(old);
	D_INFO("log reopened on SIGHUP\n");
}

/* Serve until SIGTERM or SIGINT; SIGHUP reopens the log file. */
static void
agent_loop(struct agent *ag)
{
	static struct pollfd pfds[AGENT_CONNS_MAX + 2];
	struct signalfd_siginfo si;
	int nr;
	int i;

	for (;;) {
		pfds[0].fd = ag->ag_sig_fd;
		pfds[0].events = POLLIN;
		pfds[1].fd = ag->ag_listen_fd;
		pfds[1].events = POLLIN;
		for (i = 0; i < ag->ag_nr_conns; i++) {
			pfds[i + 2].fd = ag->ag_conns[i].cn_fd;
			pfds[i + 2].events = POLLIN;
			pfds[i + 2].revents = 0;
		}
		nr = ag->ag_nr_conns;
		if (poll(pfds, (nfds_t)nr + 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			D_ERROR("poll: %s\n", strerror(errno));
			return;
		}
		if ((pfds[0].revents & POLLIN) &&
		    read(ag->ag_sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
				return;
			if (si.ssi_signo == SIGHUP)
				agent_log_reopen(&ag->ag_cfg);
		}
		/* Back to front: closing moves the last connection into the freed slot. */
		for (i = nr - 1; i >= 0; i--) {
			if (pfds[i + 2].revents == 0)
				continue;
			if ((pfds[i + 2].revents & POLLIN) == 0 || !conn_serve(ag, i))
				conn_close(ag, i);
		}
		if (pfds[1].revents & POLLIN)
			conn_accept(ag);
	}
}

/* Bind the socket; a live agent there is an error, a stale file is replaced. */
static int
agent_listen(struct agent *ag)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *dir = ag->ag_cfg.ac_runtime_dir;
	int fd;
	int probe;
	int rc;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		rc = d_errno2der(errno);
		fprintf(stderr, "daos_agent: cannot create runtime_dir %s: %s\n", dir,
			strerror(errno));
		return rc;
	}
	if ((size_t)snprintf(ag->ag_sock, sizeof(ag->ag_sock), "%s/%s", dir, DC_AGENT_SOCK_NAME) >=
	    sizeof(ag->ag_sock)) {
		fprintf(stderr, "daos_agent: runtime_dir %s is too long for a socket path\n", dir);
		return -DER_EXCEEDS_PATH_LEN;
	}
	memcpy(sun.sun_path, ag->ag_sock, sizeof(sun.sun_path));

	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		fprintf(stderr, "daos_agent: another agent is serving %s\n", ag->ag_sock);
		return -DER_EXIST;
	}
	if (probe >= 0)
		close(probe);
	unlink(ag->ag_sock);

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = d_errno2der(errno);
		fprintf(stderr, "daos_agent: socket: %s\n", strerror(errno));
		return rc;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || listen(fd, 128) != 0) {
		rc = d_errno2der(errno);
		fprintf(stderr, "daos_agent: cannot listen on %s: %s\n", ag->ag_sock,
			strerror(errno));
		close(fd);
		return rc;
	}
	/* Every local user may ask: the socket tells the agent who they are. */
	chmod(ag->ag_sock, 0777);
	ag->ag_listen_fd = fd;
	return 0;
}

static int
agent_log_setup(const struct agent_config *cfg, bool debug)
{
	static const struct {
		const char *daos;
		const char *ours;
	} masks[] = {{"DEBUG", "DEBUG"}, {"INFO", "INFO"}, {"NOTICE", "NOTE"},
		     {"WARN", "WARN"},   {"ERROR", "ERR"}, {"TRACE", "DEBUG"}};
	const char *mask = debug ? "DEBUG" : cfg->ac_log_mask;
	size_t i;
	int fd;

	if (mask != NULL) {
		const char *ours = mask;

		for (i = 0; i < D_ARRAY_SIZE(masks); i++)
			if (strcasecmp(mask, masks[i].daos) == 0)
				ours = masks[i].ours;
		if (d_log_setmasks(ours) != 0) {
			fprintf(stderr, "daos_agent: control_log_mask '%s' is not a level\n", mask);
			return -DER_INVAL;
		}
		if (strcmp(ours, "DEBUG") == 0)
			d_log_set_subsys("all");
	}
	if (cfg->ac_log_file != NULL) {
		fd = open(cfg->ac_log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "daos_agent: cannot open log_file %s: %s\n",
				cfg->ac_log_file, strerror(errno));
			return d_errno2der(errno);
		}
		d_log_set_fd(fd);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config-path", required_argument, NULL, 'o'},
	    {"insecure", no_argument, NULL, 'i'},
	    {"debug", no_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct agent ag;
	const char *config = NULL;
	char origin[256];
	bool insecure = false;
	bool debug = false;
	bool json = false;
	sigset_t sigs;
	int c;
	int rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:idjh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			config = optarg;
			break;
		case 'i':
			insecure = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return AGENT_EXIT_OK;
		case ':':
			fprintf(stderr, "daos_agent: option %s needs a value\n", argv[optind - 1]);
			usage(stderr);
			return AGENT_EXIT_USAGE;
		default:
			fprintf(stderr, "daos_agent: unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return AGENT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		/* DAOS's "daos_agent start" is what we do anyway. */
		if (!(optind == argc - 1 && strcmp(argv[optind], "start") == 0)) {
			fprintf(stderr, "daos_agent: unexpected argument '%s'\n", argv[optind]);
			usage(stderr);
			return AGENT_EXIT_USAGE;
		}
	}

	ag.ag_listen_fd = -1;
	ag.ag_sig_fd = -1;
	if (config == NULL && access(AGENT_DEF_CONFIG, F_OK) == 0)
		config = AGENT_DEF_CONFIG;
	if (config != NULL) {
		rc = agent_config_load(config, insecure, &ag.ag_cfg);
	} else {
		/* No file: the defaults, as an empty file gives them. */
		rc = agent_config_load("/dev/null", insecure, &ag.ag_cfg);
	}
	if (rc != 0) {
		/* most causes printed their line already; this one says that it is fatal */
		fprintf(stderr, "daos_agent: configuration %s not loaded: %s\n",
			config != NULL ? config : "(defaults)", d_errstr(rc));
		return AGENT_EXIT_FAIL;
	}
	if (agent_log_setup(&ag.ag_cfg, debug) != 0)
		goto out_cfg;

	agent_origin(&ag.ag_cfg, origin, sizeof(origin));
	rc = sec_signer_create(origin, ag.ag_cfg.ac_allow_insecure ? NULL : ag.ag_cfg.ac_key,
			       &ag.ag_signer);
	if (rc != 0) {
		fprintf(stderr,
			"daos_agent: signing key %s: %s (set transport_config.key, or "
			"allow_insecure: true)\n",
			ag.ag_cfg.ac_key != NULL ? ag.ag_cfg.ac_key : "(none)", d_errdesc(rc));
		goto out_cfg;
	}
	if (!ag.ag_cfg.ac_allow_insecure) {
		/* the management port's TLS, with the certificate of the signing key */
		char err[512];

		rc = dss_ctl_client_tls_set(ag.ag_cfg.ac_ca_cert, ag.ag_cfg.ac_cert,
					    ag.ag_cfg.ac_key, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr,
				"daos_agent: TLS to the servers (transport_config ca_cert, cert, "
				"key): %s (or allow_insecure: true)\n",
				err);
			goto out_signer;
		}
	}
	D_ALLOC_NZ(ag.ag_buf, DC_AGENT_MSG_MAX + 1);
	if (ag.ag_buf == NULL) {
		fprintf(stderr, "daos_agent: out of memory\n");
		goto out_signer;
	}

	/* Signals arrive through a signalfd, read by the loop. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	ag.ag_sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (ag.ag_sig_fd < 0) {
		fprintf(stderr, "daos_agent: signalfd: %s\n", strerror(errno));
		goto out_buf;
	}
	if (agent_listen(&ag) != 0)
		goto out_sig;

	if (json)
		printf("{\"started\":true,\"socket\":\"%s\",\"system\":\"%s\",\"origin\":\"%s\","
		       "\"insecure\":%s,\"pid\":%d}\n",
		       ag.ag_sock, ag.ag_cfg.ac_name, origin,
		       ag.ag_cfg.ac_allow_insecure ? "true" : "false", (int)getpid());
	else
		printf("daos_agent started: socket %s, system %s, %s credentials (origin %s)\n",
		       ag.ag_sock, ag.ag_cfg.ac_name,
		       ag.ag_cfg.ac_allow_insecure ? "unsigned" : "signed", origin);
	fflush(stdout);
	D_INFO("serving %s\n", ag.ag_sock);

	agent_loop(&ag);

	while (ag.ag_nr_conns > 0)
		conn_close(&ag, ag.ag_nr_conns - 1);
	close(ag.ag_listen_fd);
	unlink(ag.ag_sock);
	D_INFO("stopped after %llu credentials and %llu attach-info requests\n",
	       (unsigned long long)ag.ag_nr_creds, (unsigned long long)ag.ag_nr_attach);
	printf("daos_agent stopped\n");
	fflush(stdout);
	rc = AGENT_EXIT_OK;
	goto out_done;
out_sig:
	close(ag.ag_sig_fd);
	ag.ag_sig_fd = -1;
out_buf:
	D_FREE(ag.ag_buf);
out_signer:
	sec_signer_destroy(ag.ag_signer);
out_cfg:
	agent_config_fini(&ag.ag_cfg);
	return AGENT_EXIT_FAIL;
out_done:
	close(ag.ag_sig_fd);
	D_FREE(ag.ag_buf);
	D_FREE(ag.ag_ai);
	sec_signer_destroy(ag.ag_signer);
	agent_config_fini(&ag.ag_cfg);
	return rc;
}
