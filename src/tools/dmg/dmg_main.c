/*
 * dmg_main.c: one run of dmg: parse the command line, load daos_control.yml, pick the hosts,
 * run the command, report the outcome (a table or DAOS's JSON envelope on stdout, errors
 * with their DER_* names on stderr) and turn it into the exit status. The command table
 * lives here; the commands in dmg_cmd_*.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>
#include <daos_version.h>
#include <daos_srv/ctl.h>

#include "dmg_internal.h"

/* dmg version: the version of this dmg, as DAOS's. */
static int
version_exec(struct dmg_ctx *ctx, const struct dmg_opts *o)
{
	char v[32];

	snprintf(v, sizeof(v), "%d.%d.%d", DAOS_VERSION_MAJOR, DAOS_VERSION_MINOR,
		 DAOS_VERSION_FIX);
	if (o->o_json) {
		struct dmg_json j;

		dj_envelope_begin(&j, ctx->dx_out);
		dj_obj_begin(&j, "response");
		dj_str(&j, "name", "dmg");
		dj_str(&j, "version", v);
		dj_obj_end(&j);
		dj_envelope_end(&j, NULL, 0);
	} else {
		fprintf(ctx->dx_out, "dmg version %s\n", v);
	}
	return 0;
}

static const struct dmg_cmd dmg_cmd_version = {
    "version", "Print dmg version", NULL, 0, 0, NULL, NULL, NULL, version_exec,
};

const struct dmg_cmd *const dmg_cmds[] = {
    &dmg_cmd_pool_create,
    &dmg_cmd_pool_destroy,
    &dmg_cmd_pool_list,
    &dmg_cmd_pool_query,
    &dmg_cmd_pool_get_prop,
    &dmg_cmd_pool_set_prop,
    &dmg_cmd_pool_get_acl,
    &dmg_cmd_pool_update_acl,
    &dmg_cmd_pool_delete_acl,
    &dmg_cmd_pool_overwrite_acl,
    &dmg_cmd_pool_list_cont,
    &dmg_cmd_pool_evict,
    &dmg_cmd_pool_exclude,
    &dmg_cmd_pool_drain,
    &dmg_cmd_pool_reintegrate,
    &dmg_cmd_storage_format,
    &dmg_cmd_storage_query_usage,
    &dmg_cmd_system_query,
    &dmg_cmd_system_stop,
    &dmg_cmd_system_start,
    &dmg_cmd_system_exclude,
    &dmg_cmd_system_clear_exclude,
    &dmg_cmd_system_leader_query,
    &dmg_cmd_system_ping,
    &dmg_cmd_system_attach_info,
    &dmg_cmd_telemetry_metrics_list,
    &dmg_cmd_telemetry_metrics_query,
    &dmg_cmd_version,
};

const size_t dmg_ncmds = D_ARRAY_SIZE(dmg_cmds);

/** Zeroed memory owned by @ctx's arena (freed by dmg_ctx_fini); NULL when out of memory. */
void *
dmg_alloc(struct dmg_ctx *ctx, size_t size)
{
	struct dmg_chunk *c;

	D_ALLOC(c, sizeof(*c) + size);
	if (c == NULL)
		return NULL;
	c->dk_next = ctx->dx_arena;
	ctx->dx_arena = c;
	return c->dk_data;
}

/** A copy of @s in @ctx's arena (NULL stays NULL, or out of memory). */
char *
dmg_strdup(struct dmg_ctx *ctx, const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = dmg_alloc(ctx, strlen(s) + 1);
	if (d != NULL)
		strcpy(d, s);
	return d;
}

void
dmg_ctx_init(struct dmg_ctx *ctx, FILE *out, FILE *err)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->dx_out = out;
	ctx->dx_err = err;
	ctx->dx_timeout_ms = DMG_CALL_TIMEOUT_MS;
}

void
dmg_ctx_fini(struct dmg_ctx *ctx)
{
	struct dmg_chunk *c;

	while ((c = ctx->dx_arena) != NULL) {
		ctx->dx_arena = c->dk_next;
		D_FREE(c);
	}
	dmg_ranks_free(&ctx->dx_opts.o_ranks);
	dmg_config_fini(&ctx->dx_cfg);
}

/**
 * Record a failure: the message (printf @fmt) followed by @rc's name and description when
 * @rc is a DAOS error, in ctx->dx_err_msg. Returns @rc, for `return dmg_fail(...)`.
 */
int
dmg_fail(struct dmg_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(ctx->dx_err_msg, sizeof(ctx->dx_err_msg), fmt, ap);
	va_end(ap);
	n = strlen(ctx->dx_err_msg);
	if (rc != 0 && n < sizeof(ctx->dx_err_msg))
		snprintf(ctx->dx_err_msg + n, sizeof(ctx->dx_err_msg) - n, ": %s(%d): %s",
			 d_errstr(rc), rc, d_errdesc(rc));
	return rc;
}

/* Where to send: -l, else the config's hostlist. */
static int
hosts_pick(struct dmg_ctx *ctx)
{
	char **hosts = NULL;
	uint32_t nr = 0;
	uint32_t i;
	int rc;

	if (ctx->dx_opts.o_hostlist != NULL) {
		rc = dmg_hostlist_parse(ctx->dx_opts.o_hostlist, ctx->dx_cfg.dc_port, &hosts, &nr);
		if (rc != 0) {
			dmg_hosts_free(hosts, nr);
			return dmg_fail(ctx, rc, "invalid host list %s (expected host[:port],...)",
					ctx->dx_opts.o_hostlist);
		}
	} else {
		hosts = ctx->dx_cfg.dc_hosts;
		nr = ctx->dx_cfg.dc_nhosts;
	}
	ctx->dx_hosts = dmg_alloc(ctx, sizeof(char *) * (nr ? nr : 1));
	rc = ctx->dx_hosts == NULL ? -DER_NOMEM : 0;
	for (i = 0; rc == 0 && i < nr; i++) {
		ctx->dx_hosts[i] = dmg_strdup(ctx, hosts[i]);
		if (ctx->dx_hosts[i] == NULL)
			rc = -DER_NOMEM;
	}
	ctx->dx_nhosts = nr;
	if (hosts != ctx->dx_cfg.dc_hosts)
		dmg_hosts_free(hosts, nr);
	if (rc != 0)
		return dmg_fail(ctx, rc, "out of memory");
	return 0;
}

static int
config_setup(struct dmg_ctx *ctx)
{
	struct dmg_opts *o = &ctx->dx_opts;
	char err[384] = "";
	int rc;

	rc = dmg_config_load(o->o_config ? o->o_config : DMG_CONFIG_DEFAULT, o->o_config != NULL,
			     &ctx->dx_cfg, err, sizeof(err));
	if (rc != 0)
		return dmg_fail(ctx, rc, "bad configuration: %s", err[0] ? err : "load failed");
	/* plain TCP unless asked (not from the environment: the configuration decides) */
	dss_ctl_client_tls_set(NULL, NULL, NULL, NULL, 0);
	if (!o->o_insecure && !ctx->dx_cfg.dc_insecure) {
		/* TLS with the admin certificate (DAOS's defaults under /etc/daos/certs) */
		struct dmg_config *c = &ctx->dx_cfg;

		rc = dss_ctl_client_tls_set(c->dc_ca_cert ?: DMG_CERT_DIR "/daosCA.crt",
					    c->dc_cert ?: DMG_CERT_DIR "/admin.crt",
					    c->dc_key ?: DMG_CERT_DIR "/admin.key", err,
					    sizeof(err));
		if (rc != 0)
			return dmg_fail(
			    ctx, rc,
			    "%s asks for TLS (transport_config.allow_insecure is false) "
			    "but the certificates do not load: %s",
			    o->o_config ? o->o_config : DMG_CONFIG_DEFAULT, err);
	}
	ctx->dx_sys = ctx->dx_cfg.dc_name;
	return hosts_pick(ctx);
}

/*
 * Build, call, print: the path of most commands. A request that cannot be built (bad
 * values, flag combinations, an unreadable ACL file) is a usage error: *@usage is set.
 */
static int
cmd_run(struct dmg_ctx *ctx, bool *usage)
{
	const struct dmg_opts *o = &ctx->dx_opts;
	const struct dmg_cmd *c = o->o_cmd;
	ProtobufCMessage *resp = NULL;
	struct dmg_call call = {0};
	int rc;

	if (c->dc_exec != NULL)
		return c->dc_exec(ctx, o);
	rc = c->dc_build(ctx, o, &call);
	if (rc != 0) {
		*usage = true;
		return rc;
	}
	rc = dmg_call_ms(ctx, call.cl_method, call.cl_req, call.cl_resp_desc, &resp);
	if (rc != 0)
		return rc;
	rc = c->dc_print(ctx, o, &call, resp);
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

/**
 * Run dmg with @argc/@argv, printing to @out and @err. Returns the exit status: 0,
 * DMG_EXIT_FAIL (the command failed) or DMG_EXIT_USAGE (bad command line or configuration).
 */
int
dmg_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct dmg_ctx ctx;
	struct dmg_opts *o = &ctx.dx_opts;
	int status = DMG_EXIT_OK;
	bool usage = false;
	int rc;

	dmg_ctx_init(&ctx, out, err);
	rc = dmg_args_parse(&ctx, argc, argv);
	if (rc == 0 && o->o_help) {
		dmg_help_print(out, o);
		goto out;
	}
	if (rc == 0)
		rc = config_setup(&ctx);
	if (rc != 0) {
		status = DMG_EXIT_USAGE;
		goto report;
	}
	rc = cmd_run(&ctx, &usage);
	if (rc != 0)
		status = usage ? DMG_EXIT_USAGE : DMG_EXIT_FAIL;
report:
	if (rc != 0) {
		if (o->o_json) {
			struct dmg_json j;

			dj_envelope_begin(&j, out);
			dj_null(&j, "response");
			dj_envelope_end(&j, ctx.dx_err_msg, rc);
		}
		fprintf(err, "ERROR: dmg: %s\n", ctx.dx_err_msg);
	}
out:
	fflush(out);
	fflush(err);
	dmg_ctx_fini(&ctx);
	return status;
}
