/*
 * agent_internal.h: private to src/agent (daos_agent).
 */
#ifndef AGENT_INTERNAL_H
#define AGENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gurt/common.h>

D_LOG_FAC_DECLARE(agent);

#define AGENT_DEF_CONFIG "/etc/daos/daos_agent.yml"
#define AGENT_DEF_NAME "daos_server"
#define AGENT_DEF_PORT 10001
#define AGENT_DEF_CERT_DIR "/etc/daos/certs"
#define AGENT_ACCESS_POINTS_MAX 16
#define AGENT_STR_MAX 4095

/** daos_agent.yml. Strings are owned (agent_config_fini frees them). */
struct agent_config {
	char *ac_name;                                   /* name: system name */
	char *ac_access_points[AGENT_ACCESS_POINTS_MAX]; /* access_points, "host:port" */
	int ac_nr_access_points;
	uint32_t ac_port;        /* port: of access points given without one */
	char *ac_runtime_dir;    /* runtime_dir: where the socket lives */
	char *ac_log_file;       /* log_file (NULL: stderr) */
	char *ac_log_mask;       /* control_log_mask: DEBUG, INFO, NOTICE, ERROR... */
	bool ac_allow_insecure;  /* transport_config.allow_insecure */
	char *ac_ca_cert;        /* transport_config.ca_cert: the CA of the servers' TLS */
	char *ac_cert;           /* transport_config.cert: its basename names the agent */
	char *ac_key;            /* transport_config.key: the signing key */
	uint32_t ac_cache_exp;   /* cache_expiration: attach info, minutes; 0 = no expiry */
	bool ac_disable_caching; /* disable_caching: ask an access point every time */
	uint32_t ac_cred_life;   /* credential_lifetime (ours): seconds */
	uint32_t ac_ap_timeout;  /* access_point_timeout (ours): ms per access point */
};

/**
 * Parse YAML file @path into @cfg (zeroed by the caller), then fill the defaults and apply
 * @insecure (the -i flag). On error, a message naming the file, line and key is printed
 * to stderr. Returns 0, -DER_NONEXIST (no file), -DER_INVAL or -DER_NOMEM.
 */
int agent_config_load(const char *path, bool insecure, struct agent_config *cfg);

/** Free what @cfg holds. */
void agent_config_fini(struct agent_config *cfg);

#endif /* AGENT_INTERNAL_H */
