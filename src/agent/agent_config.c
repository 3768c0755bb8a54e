/*
 * agent_config.c: daos_agent.yml into a struct agent_config, on libyaml's document API.
 *
 * Keys follow DAOS's daos_agent.yml: name, access_points, port, runtime_dir, log_file,
 * control_log_mask, transport_config {allow_insecure, ca_cert, cert, key}, cache_expiration,
 * disable_caching; DAOS keys with no meaning here (fabric_ifaces, exclude_fabric_ifaces,
 * credential_config, telemetry_*) are accepted and ignored with a warning. Ours:
 * credential_lifetime (seconds a credential is valid) and access_point_timeout (ms).
 * Unknown keys, wrong types and out-of-range values fail with the file, line and key. Only
 * the nodes the tables describe are visited, so aliases cannot make the walk loop.
 */
#define D_LOGFAC agent

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include <gurt/common.h>
#include <daos/security.h>

#include "agent_internal.h"

D_LOG_FAC_DEFINE(agent);

struct cfg_ctx {
	const char *cc_path;
	yaml_document_t cc_doc;
};

static int
cfg_err(struct cfg_ctx *c, const yaml_node_t *n, const char *key, const char *why)
{
	fprintf(stderr, "daos_agent: %s:%zu: %s: %s\n", c->cc_path,
		n != NULL ? (size_t)n->start_mark.line + 1 : (size_t)0, key, why);
	return -DER_INVAL;
}

static int
cfg_str(struct cfg_ctx *c, const yaml_node_t *v, const char *key, char **out)
{
	size_t i;

	if (v->type != YAML_SCALAR_NODE || v->data.scalar.length == 0 ||
	    v->data.scalar.length > AGENT_STR_MAX)
		return cfg_err(c, v, key, "expected a non-empty string");
	for (i = 0; i < v->data.scalar.length; i++)
		if (v->data.scalar.value[i] < 0x20)
			return cfg_err(c, v, key, "control character in the value");
	D_FREE(*out);
	if (D_STRNDUP(*out, (const char *)v->data.scalar.value, v->data.scalar.length) == NULL)
		return -DER_NOMEM;
	return 0;
}

static int
cfg_u32(struct cfg_ctx *c, const yaml_node_t *v, const char *key, uint32_t lo, uint32_t hi,
	uint32_t *out)
{
	char buf[32];
	char *end;
	unsigned long long x;

	if (v->type != YAML_SCALAR_NODE || v->data.scalar.length == 0 ||
	    v->data.scalar.length >= sizeof(buf))
		return cfg_err(c, v, key, "expected a number");
	memcpy(buf, v->data.scalar.value, v->data.scalar.length);
	buf[v->data.scalar.length] = '\0';
	errno = 0;
	x = strtoull(buf, &end, 10);
	if (errno != 0 || *end != '\0' || buf[0] == '-' || x < lo || x > hi) {
		char why[96];

		snprintf(why, sizeof(why), "expected a number in [%u, %u]", lo, hi);
		return cfg_err(c, v, key, why);
	}
	*out = (uint32_t)x;
	return 0;
}

static int
cfg_bool(struct cfg_ctx *c, const yaml_node_t *v, const char *key, bool *out)
{
	const char *s;

	if (v->type != YAML_SCALAR_NODE)
		return cfg_err(c, v, key, "expected true or false");
	s = (const char *)v->data.scalar.value;
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0)
		*out = true;
	else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 || strcmp(s, "0") == 0)
		*out = false;
	else
		return cfg_err(c, v, key, "expected true or false");
	return 0;
}

static int
cfg_access_points(struct cfg_ctx *c, const yaml_node_t *v, struct agent_config *cfg)
{
	yaml_node_item_t *it;
	int rc;

	if (v->type == YAML_SCALAR_NODE) {
		cfg->ac_nr_access_points = 1;
		return cfg_str(c, v, "access_points", &cfg->ac_access_points[0]);
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_err(c, v, "access_points", "expected a list of host[:port]");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(&c->cc_doc, *it);

		if (cfg->ac_nr_access_points == AGENT_ACCESS_POINTS_MAX)
			return cfg_err(c, v, "access_points", "too many access points");
		if (n == NULL)
			return cfg_err(c, v, "access_points", "bad entry");
		rc = cfg_str(c, n, "access_points",
			     &cfg->ac_access_points[cfg->ac_nr_access_points]);
		if (rc != 0)
			return rc;
		cfg->ac_nr_access_points++;
	}
	return 0;
}

static int
cfg_transport(struct cfg_ctx *c, const yaml_node_t *v, struct agent_config *cfg)
{
	yaml_node_pair_t *pair;
	int rc;

	if (v->type != YAML_MAPPING_NODE)
		return cfg_err(c, v, "transport_config", "expected a mapping");
	for (pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&c->cc_doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(&c->cc_doc, pair->value);
		const char *key;

		if (k == NULL || val == NULL || k->type != YAML_SCALAR_NODE)
			return cfg_err(c, v, "transport_config", "bad key");
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "allow_insecure") == 0)
			rc = cfg_bool(c, val, "transport_config.allow_insecure",
				      &cfg->ac_allow_insecure);
		else if (strcmp(key, "ca_cert") == 0)
			rc = cfg_str(c, val, "transport_config.ca_cert", &cfg->ac_ca_cert);
		else if (strcmp(key, "cert") == 0)
			rc = cfg_str(c, val, "transport_config.cert", &cfg->ac_cert);
		else if (strcmp(key, "key") == 0)
			rc = cfg_str(c, val, "transport_config.key", &cfg->ac_key);
		else
			rc = cfg_err(c, k, key, "unknown key in transport_config");
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const char *const ignored_keys[] = {
    "fabric_ifaces",      "exclude_fabric_ifaces", "credential_config", "telemetry_port",
    "telemetry_enabled",  "telemetry_retain",      "control_log_file",  "provider",
    "disable_auto_evict",
};

static int
cfg_walk(struct cfg_ctx *c, const yaml_node_t *root, struct agent_config *cfg)
{
	yaml_node_pair_t *pair;
	size_t i;
	int rc;

	if (root->type != YAML_MAPPING_NODE)
		return cfg_err(c, root, "(top)", "expected a mapping of keys");
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&c->cc_doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&c->cc_doc, pair->value);
		const char *key;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			return cfg_err(c, root, "(top)", "bad key");
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "name") == 0) {
			rc = cfg_str(c, v, key, &cfg->ac_name);
		} else if (strcmp(key, "access_points") == 0) {
			rc = cfg_access_points(c, v, cfg);
		} else if (strcmp(key, "port") == 0) {
			rc = cfg_u32(c, v, key, 1, 65535, &cfg->ac_port);
		} else if (strcmp(key, "runtime_dir") == 0) {
			rc = cfg_str(c, v, key, &cfg->ac_runtime_dir);
		} else if (strcmp(key, "log_file") == 0) {
			rc = cfg_str(c, v, key, &cfg->ac_log_file);
		} else if (strcmp(key, "control_log_mask") == 0) {
			rc = cfg_str(c, v, key, &cfg->ac_log_mask);
		} else if (strcmp(key, "transport_config") == 0) {
			rc = cfg_transport(c, v, cfg);
		} else if (strcmp(key, "cache_expiration") == 0) {
			rc = cfg_u32(c, v, key, 0, 1000000, &cfg->ac_cache_exp);
		} else if (strcmp(key, "disable_caching") == 0) {
			rc = cfg_bool(c, v, key, &cfg->ac_disable_caching);
		} else if (strcmp(key, "credential_lifetime") == 0) {
			rc = cfg_u32(c, v, key, 1, 30 * 24 * 3600, &cfg->ac_cred_life);
		} else if (strcmp(key, "access_point_timeout") == 0) {
			rc = cfg_u32(c, v, key, 10, 600000, &cfg->ac_ap_timeout);
		} else {
			for (i = 0; i < D_ARRAY_SIZE(ignored_keys); i++)
				if (strcmp(key, ignored_keys[i]) == 0)
					break;
			if (i == D_ARRAY_SIZE(ignored_keys))
				return cfg_err(c, k, key, "unknown key");
			fprintf(stderr, "daos_agent: %s:%zu: %s: ignored (no meaning here)\n",
				c->cc_path, (size_t)k->start_mark.line + 1, key);
			rc = 0;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Access points without a port get the configured one. */
static int
cfg_finish(struct agent_config *cfg, bool insecure)
{
	const char *dir;
	int i;

	if (cfg->ac_name == NULL && D_STRNDUP_S(cfg->ac_name, AGENT_DEF_NAME) == NULL)
		return -DER_NOMEM;
	if (cfg->ac_port == 0)
		cfg->ac_port = AGENT_DEF_PORT;
	if (cfg->ac_nr_access_points == 0) {
		if (D_STRNDUP_S(cfg->ac_access_points[0], "localhost") == NULL)
			return -DER_NOMEM;
		cfg->ac_nr_access_points = 1;
	}
	for (i = 0; i < cfg->ac_nr_access_points; i++) {
		char *ap = cfg->ac_access_points[i];
		char *with_port = NULL;

		if (strrchr(ap, ':') != NULL && ap[0] != '[')
			continue;
		if (ap[0] == '[' && strstr(ap, "]:") != NULL)
			continue;
		if (D_ASPRINTF(with_port, "%s:%u", ap, cfg->ac_port) == NULL)
			return -DER_NOMEM;
		D_FREE(cfg->ac_access_points[i]);
		cfg->ac_access_points[i] = with_port;
	}
	/* The environment wins over the file, as DAOS's DAOS_AGENT_DRPC_DIR. */
	dir = getenv(DC_AGENT_DIR_ENV);
	if (dir != NULL && dir[0] != '\0') {
		D_FREE(cfg->ac_runtime_dir);
		if (D_STRNDUP(cfg->ac_runtime_dir, dir, AGENT_STR_MAX) == NULL)
			return -DER_NOMEM;
	}
	if (cfg->ac_runtime_dir == NULL &&
	    D_STRNDUP_S(cfg->ac_runtime_dir, DC_AGENT_DIR_DEFAULT) == NULL)
		return -DER_NOMEM;
	if (insecure)
		cfg->ac_allow_insecure = true;
	if (!cfg->ac_allow_insecure) {
		if (cfg->ac_cert == NULL &&
		    D_STRNDUP_S(cfg->ac_cert, AGENT_DEF_CERT_DIR "/agent.crt") == NULL)
			return -DER_NOMEM;
		if (cfg->ac_key == NULL &&
		    D_STRNDUP_S(cfg->ac_key, AGENT_DEF_CERT_DIR "/agent.key") == NULL)
			return -DER_NOMEM;
		if (cfg->ac_ca_cert == NULL &&
		    D_STRNDUP_S(cfg->ac_ca_cert, AGENT_DEF_CERT_DIR "/daosCA.crt") == NULL)
			return -DER_NOMEM;
	}
	if (cfg->ac_cred_life == 0)
		cfg->ac_cred_life = SEC_CRED_LIFETIME_DEFAULT;
	if (cfg->ac_ap_timeout == 0)
		cfg->ac_ap_timeout = 5000;
	return 0;
}

int
agent_config_load(const char *path, bool insecure, struct agent_config *cfg)
{
	struct cfg_ctx c = {path};
	yaml_parser_t yp;
	yaml_node_t *root;
	FILE *f;
	int rc = 0;

	f = fopen(path, "r");
	if (f == NULL) {
		rc = d_errno2der(errno);
		fprintf(stderr, "daos_agent: cannot open %s: %s\n", path, strerror(errno));
		return rc;
	}
	if (!yaml_parser_initialize(&yp)) {
		fclose(f);
		return -DER_NOMEM;
	}
	yaml_parser_set_input_file(&yp, f);
	if (!yaml_parser_load(&yp, &c.cc_doc)) {
		fprintf(stderr, "daos_agent: %s:%zu: not YAML: %s\n", path,
			(size_t)yp.problem_mark.line + 1, yp.problem != NULL ? yp.problem : "?");
		yaml_parser_delete(&yp);
		fclose(f);
		return -DER_INVAL;
	}
	root = yaml_document_get_root_node(&c.cc_doc);
	/* An empty file: all defaults. */
	if (root != NULL && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
		rc = cfg_walk(&c, root, cfg);
	yaml_document_delete(&c.cc_doc);
	yaml_parser_delete(&yp);
	fclose(f);
	if (rc == 0)
		rc = cfg_finish(cfg, insecure);
	return rc;
}

void
agent_config_fini(struct agent_config *cfg)
{
	int i;

	D_FREE(cfg->ac_name);
	for (i = 0; i < cfg->ac_nr_access_points; i++)
		D_FREE(cfg->ac_access_points[i]);
	D_FREE(cfg->ac_runtime_dir);
	D_FREE(cfg->ac_log_file);
	D_FREE(cfg->ac_log_mask);
	D_FREE(cfg->ac_ca_cert);
	D_FREE(cfg->ac_cert);
	D_FREE(cfg->ac_key);
}
