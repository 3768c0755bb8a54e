/*
 * dmg_config.c: daos_control.yml, the configuration of dmg, with DAOS's keys:
 *
 *	name: daos_server              # system name
 *	port: 10001                    # port of hosts listed without one
 *	hostlist: ['host1', 'host2:10002']
 *	transport_config:
 *	  allow_insecure: true
 *	  ca_cert: /etc/daos/certs/daosCA.crt
 *	  cert: /etc/daos/certs/admin.crt
 *	  key: /etc/daos/certs/admin.key
 *
 * Parsed with libyaml's document API; an unknown key, a value of the wrong kind or a bad
 * port is an error naming the line. Host lists ("-l" and hostlist) are split here too.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <gurt/common.h>

#include "dmg_internal.h"

void
dmg_hosts_free(char **hosts, uint32_t nr)
{
	uint32_t i;

	if (hosts == NULL)
		return;
	for (i = 0; i < nr; i++)
		D_FREE(hosts[i]);
	D_FREE(hosts);
}

/* Append @item ("host" or "host:port" or "[v6]:port") to *@hosts as "host:port". */
static int
host_add(const char *item, size_t len, uint32_t port, char ***hosts, uint32_t *nr)
{
	const char *colon;
	size_t hlen;
	char **tmp;
	char *h;
	uint32_t p;

	while (len > 0 && isspace((unsigned char)*item)) {
		item++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)item[len - 1]))
		len--;
	if (len == 0 || len >= 256)
		return -DER_INVAL;
	if (*nr >= DMG_HOSTS_MAX)
		return -DER_INVAL;
	colon = memrchr(item, ':', len);
	if (item[0] == '[') {
		const char *rb = memchr(item, ']', len);

		if (rb == NULL || rb == item + 1)
			return -DER_INVAL;
		if (colon != NULL && colon < rb)
			colon = NULL;
		/* nothing but ":port" after the brackets */
		if (colon == NULL ? rb != item + len - 1 : colon != rb + 1)
			return -DER_INVAL;
	}
	if (colon != NULL && item[0] != '[' && memchr(item, ':', (size_t)(colon - item)) != NULL)
		return -DER_INVAL; /* a bare IPv6 address: needs brackets */
	/* a name or IPv4 address, or an IPv6 address in brackets */
	hlen = colon ? (size_t)(colon - item) : len;
	if (item[0] == '['
		? strspn(item + 1, "0123456789abcdefABCDEF:.%") != hlen - 2 || item[hlen - 1] != ']'
		: strspn(item, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			       "0123456789.-_") < hlen)
		return -DER_INVAL;
	if (colon != NULL) {
		char num[8];
		size_t nlen = len - (size_t)(colon + 1 - item);

		if (colon == item || nlen == 0 || nlen >= sizeof(num))
			return -DER_INVAL;
		memcpy(num, colon + 1, nlen);
		num[nlen] = '\0';
		if (dmg_u32_parse(num, &p) != 0 || p == 0 || p > 65535)
			return -DER_INVAL;
		D_STRNDUP(h, item, len);
	} else {
		D_ASPRINTF(h, "%.*s:%u", (int)len, item, port);
	}
	if (h == NULL)
		return -DER_NOMEM;
	D_REALLOC_ARRAY(tmp, *hosts, *nr + 1);
	if (tmp == NULL) {
		D_FREE(h);
		return -DER_NOMEM;
	}
	*hosts = tmp;
	tmp[(*nr)++] = h;
	return 0;
}

/*
 * @item (@len bytes) with a numeric range group, "node[1-3,7]:10001" or "10.0.0.[01-10]":
 * one host per number, zero-padded to the width of the range's first bound when that starts
 * with 0. Returns 1 if @item has no such group (add it as it is), 0 or -DER_*.
 */
static int
host_expand(const char *item, size_t len, uint32_t port, char ***hosts, uint32_t *nr)
{
	const char *lb = memchr(item, '[', len);
	const char *rb = lb ? memchr(lb, ']', len - (size_t)(lb - item)) : NULL;
	const char *p;
	char buf[256];

	if (lb == NULL || rb == NULL || lb + 1 == rb || memchr(lb, ':', (size_t)(rb - lb)) != NULL)
		return 1; /* no group, or an IPv6 address in brackets */
	if (strspn(lb + 1, "0123456789-,") < (size_t)(rb - lb - 1))
		return -DER_INVAL;
	for (p = lb + 1; p < rb;) {
		unsigned long lo;
		unsigned long hi;
		int width = 0;
		char *end;

		if (*p < '0' || *p > '9')
			return -DER_INVAL;
		if (*p == '0' && p[1] >= '0' && p[1] <= '9')
			width = (int)strspn(p, "0123456789");
		lo = strtoul(p, &end, 10);
		hi = lo;
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -DER_INVAL;
			hi = strtoul(end + 1, &end, 10);
		}
		if (hi < lo || hi - lo >= DMG_HOSTS_MAX || end > rb)
			return -DER_INVAL;
		for (; lo <= hi; lo++) {
			int n = snprintf(buf, sizeof(buf), "%.*s%0*lu%.*s", (int)(lb - item), item,
					 width, lo, (int)(item + len - rb - 1), rb + 1);
			int rc;

			if (n < 0 || (size_t)n >= sizeof(buf))
				return -DER_INVAL;
			rc = host_add(buf, (size_t)n, port, hosts, nr);
			if (rc != 0)
				return rc;
		}
		p = end;
		if (p < rb && *p++ != ',')
			return -DER_INVAL;
		if (p == rb && p[-1] == ',')
			return -DER_INVAL;
	}
	return 0;
}

/**
 * Split the comma-separated @list into "host:port" strings (hosts without a port get
 * @port), appended to *@hosts (*@nr entries; freed by dmg_hosts_free). Items may hold one
 * numeric range group, as DAOS's host lists: "node[1-4]", "127.0.0.[1-3]:10001". Returns 0,
 * -DER_INVAL (empty item, bad port or range, more than DMG_HOSTS_MAX) or -DER_NOMEM.
 */
int
dmg_hostlist_parse(const char *list, uint32_t port, char ***hosts, uint32_t *nr)
{
	const char *p = list;
	int rc;

	if (list == NULL)
		return -DER_INVAL;
	for (;;) {
		const char *q = p;
		size_t len;

		/* the item ends at a comma outside brackets */
		while (*q != '\0' && *q != ',') {
			if (*q == '[') {
				const char *rb = strchr(q, ']');

				if (rb == NULL)
					return -DER_INVAL;
				q = rb;
			}
			q++;
		}
		len = (size_t)(q - p);
		rc = host_expand(p, len, port, hosts, nr);
		if (rc == 1)
			rc = host_add(p, len, port, hosts, nr);
		if (rc != 0)
			return rc;
		if (*q == '\0')
			return 0;
		p = q + 1;
	}
}

void
dmg_config_fini(struct dmg_config *cfg)
{
	D_FREE(cfg->dc_name);
	D_FREE(cfg->dc_ca_cert);
	D_FREE(cfg->dc_cert);
	D_FREE(cfg->dc_key);
	dmg_hosts_free(cfg->dc_hosts, cfg->dc_nhosts);
	memset(cfg, 0, sizeof(*cfg));
}

static const char *
scalar(yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int
cfg_err(char *err, size_t errlen, const char *path, yaml_node_t *n, const char *what)
{
	snprintf(err, errlen, "%s:%lu: %s", path, n ? (unsigned long)n->start_mark.line + 1 : 0UL,
		 what);
	return -DER_INVAL;
}

static int
cfg_bool(const char *s, bool *val)
{
	if (s == NULL)
		return -DER_INVAL;
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "yes") == 0) {
		*val = true;
		return 0;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "no") == 0) {
		*val = false;
		return 0;
	}
	return -DER_INVAL;
}

static int
cfg_str(const char *s, char **out)
{
	if (s == NULL || s[0] == '\0')
		return -DER_INVAL;
	D_FREE(*out);
	D_STRNDUP(*out, s, 4096);
	return *out == NULL ? -DER_NOMEM : 0;
}

static int
cfg_transport(yaml_document_t *doc, yaml_node_t *map, struct dmg_config *cfg, const char *path,
	      char *err, size_t errlen)
{
	yaml_node_pair_t *pair;

	if (map->type != YAML_MAPPING_NODE)
		return cfg_err(err, errlen, path, map, "transport_config: expected a mapping");
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(doc, pair->value);
		const char *k = scalar(kn);
		const char *v = scalar(vn);
		int rc;

		if (k == NULL)
			return cfg_err(err, errlen, path, kn, "expected a key");
		if (strcmp(k, "allow_insecure") == 0)
			rc = cfg_bool(v, &cfg->dc_insecure);
		else if (strcmp(k, "ca_cert") == 0)
			rc = cfg_str(v, &cfg->dc_ca_cert);
		else if (strcmp(k, "cert") == 0)
			rc = cfg_str(v, &cfg->dc_cert);
		else if (strcmp(k, "key") == 0)
			rc = cfg_str(v, &cfg->dc_key);
		else
			return cfg_err(err, errlen, path, kn, "transport_config: unknown key");
		if (rc == -DER_NOMEM)
			return rc;
		if (rc != 0)
			return cfg_err(err, errlen, path, vn, "transport_config: bad value");
	}
	return 0;
}

static int
cfg_doc(yaml_document_t *doc, struct dmg_config *cfg, const char *path, char *err, size_t errlen)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_t *hostlist = NULL;
	yaml_node_pair_t *pair;
	int rc;

	if (root == NULL)
		return 0; /* an empty file: defaults */
	if (root->type != YAML_MAPPING_NODE)
		return cfg_err(err, errlen, path, root, "expected a mapping of keys");
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(doc, pair->value);
		const char *k = scalar(kn);
		const char *v = scalar(vn);

		if (k == NULL)
			return cfg_err(err, errlen, path, kn, "expected a key");
		if (strcmp(k, "name") == 0) {
			rc = cfg_str(v, &cfg->dc_name);
			if (rc == -DER_NOMEM)
				return rc;
			if (rc != 0 || strlen(v) > 63)
				return cfg_err(err, errlen, path, vn,
					       "name: expected a system name");
		} else if (strcmp(k, "port") == 0) {
			if (dmg_u32_parse(v, &cfg->dc_port) != 0 || cfg->dc_port == 0 ||
			    cfg->dc_port > 65535)
				return cfg_err(err, errlen, path, vn, "port: expected 1..65535");
		} else if (strcmp(k, "hostlist") == 0) {
			hostlist = vn;
		} else if (strcmp(k, "transport_config") == 0) {
			rc = cfg_transport(doc, vn, cfg, path, err, errlen);
			if (rc != 0)
				return rc;
		} else {
			return cfg_err(err, errlen, path, kn,
				       "unknown key (expected name, port, "
				       "hostlist or transport_config)");
		}
	}
	/* the list after the keys: a port given later still applies */
	if (hostlist != NULL) {
		if (hostlist->type == YAML_SCALAR_NODE) {
			rc = dmg_hostlist_parse(scalar(hostlist), cfg->dc_port, &cfg->dc_hosts,
						&cfg->dc_nhosts);
		} else if (hostlist->type == YAML_SEQUENCE_NODE) {
			yaml_node_item_t *it;

			rc = 0;
			for (it = hostlist->data.sequence.items.start;
			     rc == 0 && it < hostlist->data.sequence.items.top; it++) {
				const char *h = scalar(yaml_document_get_node(doc, *it));

				rc = h == NULL ? -DER_INVAL
					       : dmg_hostlist_parse(h, cfg->dc_port, &cfg->dc_hosts,
								    &cfg->dc_nhosts);
			}
		} else {
			rc = -DER_INVAL;
		}
		if (rc == -DER_NOMEM)
			return rc;
		if (rc != 0)
			return cfg_err(err, errlen, path, hostlist,
				       "hostlist: expected a list of host[:port]");
	}
	return 0;
}

/**
 * Load @path into @cfg (defaults first: system daos_server, port 10001, localhost). With
 * @must_exist false a missing file leaves the defaults. On error, a message naming the file
 * and line is in @err. Returns 0, -DER_NONEXIST (missing and @must_exist), -DER_INVAL or
 * -DER_NOMEM. The caller frees @cfg with dmg_config_fini, whatever the outcome.
 */
int
dmg_config_load(const char *path, bool must_exist, struct dmg_config *cfg, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->dc_port = DMG_PORT_DEFAULT;
	cfg->dc_insecure = true;
	D_STRNDUP(cfg->dc_name, DMG_SYS_DEFAULT, 64);
	if (cfg->dc_name == NULL)
		return -DER_NOMEM;
	f = fopen(path, "r");
	if (f == NULL) {
		rc = errno;
		if (rc == ENOENT && !must_exist)
			goto defaults;
		snprintf(err, errlen, "%s: %s", path, strerror(rc));
		return rc == ENOENT ? -DER_NONEXIST : -DER_INVAL;
	}
	/* a file that exists means TLS unless it says otherwise, as DAOS */
	cfg->dc_insecure = false;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return -DER_NOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%lu: %s", path,
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "YAML syntax error");
		yaml_parser_delete(&parser);
		fclose(f);
		return -DER_INVAL;
	}
	rc = cfg_doc(&doc, cfg, path, err, errlen);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (rc != 0)
		return rc;
	cfg->dc_loaded = true;
defaults:
	if (cfg->dc_nhosts == 0)
		rc = dmg_hostlist_parse("localhost", cfg->dc_port, &cfg->dc_hosts, &cfg->dc_nhosts);
	return rc;
}
