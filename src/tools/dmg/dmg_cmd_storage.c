/*
 * dmg_cmd_storage.c: `dmg storage format` and `dmg storage query usage`: sent to every host
 * of the host list (each server answers for its own storage), the answers gathered into one
 * table, or one JSON response shaped as DAOS's (host_errors and host_storage maps keyed by
 * host). A host that fails makes the command fail after the others have been shown.
 */
#include <inttypes.h>
#include <string.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>

#include "dmg_internal.h"
#include "mgmt/storage.pb-c.h"

#define NOMEM(ctx) dmg_fail(ctx, -DER_NOMEM, "out of memory")

static const struct dmg_opt storage_format_opts[] = {
    DMG_OPT('v', "verbose", DO_BOOL, o_verbose, NULL, "show results of each tier"),
    DMG_OPT(0, "force", DO_BOOL, o_force, NULL,
	    "format even if already formatted (CAUTION: destroys every pool shard there)"),
    DMG_OPT_END,
};

/* Call @method on every host; print per-host results through @row/@json_host. */
struct fanout {
	uint32_t fo_method;
	ProtobufCMessage *fo_req;
	const ProtobufCMessageDescriptor *fo_desc;
	/* a row of the table for a host's answer */
	int (*fo_row)(struct dmg_ctx *ctx, struct dmg_table *t, const char *host,
		      ProtobufCMessage *resp);
	const char *const *fo_hdr;
	uint32_t fo_ncols;
	/* the first error inside an answer (a tier that failed), or 0; NULL: none can */
	int (*fo_failed)(const ProtobufCMessage *resp);
};

static int
fanout_run(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct fanout *fo)
{
	ProtobufCMessage **resp;
	int *rcs;
	char **errs;
	struct dmg_table t;
	struct dmg_json j;
	uint32_t nerr = 0;
	uint32_t nbad = 0;
	int first_rc = 0;
	uint32_t i;

	resp = dmg_alloc(ctx, sizeof(*resp) * ctx->dx_nhosts);
	rcs = dmg_alloc(ctx, sizeof(*rcs) * ctx->dx_nhosts);
	errs = dmg_alloc(ctx, sizeof(*errs) * ctx->dx_nhosts);
	if (resp == NULL || rcs == NULL || errs == NULL)
		return NOMEM(ctx);
	for (i = 0; i < ctx->dx_nhosts; i++) {
		rcs[i] = dmg_call_host(ctx, ctx->dx_hosts[i], fo->fo_method, fo->fo_req,
				       fo->fo_desc, &resp[i]);
		if (rcs[i] != 0) {
			errs[i] = dmg_strdup(ctx, ctx->dx_err_msg);
			nerr++;
			if (first_rc == 0)
				first_rc = rcs[i];
		} else if (fo->fo_failed != NULL && fo->fo_failed(resp[i]) != 0) {
			/* answered, but the operation failed there (shown with the answer) */
			nbad++;
			if (first_rc == 0)
				first_rc = fo->fo_failed(resp[i]);
		}
	}
	if (o->o_json) {
		dj_envelope_begin(&j, ctx->dx_out);
		dj_obj_begin(&j, "response");
		dj_obj_begin(&j, "host_errors");
		for (i = 0; i < ctx->dx_nhosts; i++) {
			if (rcs[i] == 0)
				continue;
			dj_obj_begin(&j, ctx->dx_hosts[i]);
			dj_str(&j, "error", errs[i]);
			dj_i64(&j, "status", rcs[i]);
			dj_obj_end(&j);
		}
		dj_obj_end(&j);
		dj_obj_begin(&j, "host_storage");
		for (i = 0; i < ctx->dx_nhosts; i++) {
			static const char *const skip[] = {"status", NULL};

			if (rcs[i] != 0)
				continue;
			dj_obj_begin(&j, ctx->dx_hosts[i]);
			dj_str(&j, "hosts", ctx->dx_hosts[i]);
			dj_obj_begin(&j, "storage");
			dj_pb_fields(&j, resp[i], skip);
			dj_obj_end(&j);
			dj_obj_end(&j);
		}
		dj_obj_end(&j);
		dj_obj_end(&j);
		if (nerr + nbad > 0)
			dj_envelope_end(
			    &j,
			    dmg_sprintf(ctx, "%u of %u hosts failed", nerr + nbad, ctx->dx_nhosts),
			    first_rc);
		else
			dj_envelope_end(&j, NULL, 0);
		ctx->dx_opts.o_json = false; /* the envelope is out: no second one */
	} else {
		if (dmg_table_init(ctx, &t, fo->fo_ncols, fo->fo_hdr) != 0)
			return NOMEM(ctx);
		for (i = 0; i < ctx->dx_nhosts; i++) {
			if (rcs[i] == 0 && fo->fo_row(ctx, &t, ctx->dx_hosts[i], resp[i]) != 0)
				return NOMEM(ctx);
		}
		if (nerr < ctx->dx_nhosts)
			dmg_table_print(&t, ctx->dx_out);
		for (i = 0; i < ctx->dx_nhosts; i++) {
			if (rcs[i] != 0)
				fprintf(ctx->dx_err, "ERROR: %s: %s\n", ctx->dx_hosts[i], errs[i]);
		}
	}
	for (i = 0; i < ctx->dx_nhosts; i++) {
		if (rcs[i] == 0)
			protobuf_c_message_free_unpacked(resp[i], NULL);
	}
	if (nerr + nbad > 0)
		return dmg_fail(ctx, first_rc, "%u of %u hosts failed", nerr + nbad,
				ctx->dx_nhosts);
	return 0;
}

static int
format_row(struct dmg_ctx *ctx, struct dmg_table *t, const char *host, ProtobufCMessage *msg)
{
	Mgmt__StorageFormatResp *resp = (Mgmt__StorageFormatResp *)msg;
	const bool verbose = ctx->dx_opts.o_verbose;
	uint32_t meta = 0;
	uint32_t data = 0;
	size_t i;

	for (i = 0; i < resp->n_results; i++) {
		Mgmt__StorageTierResult *r = resp->results[i];

		if (r->status == 0) {
			if (r->media_type == MGMT__STORAGE_MEDIA_TYPE__SCM)
				meta++;
			else
				data++;
		}
		if (verbose || r->status != 0) {
			const char *c[3] = {dmg_sprintf(ctx, "%s tier %u", host, r->tier),
					    dmg_sprintf(ctx, "%s %s", r->tier_class, r->path),
					    r->status
						? dmg_sprintf(ctx, "%s(%d) %s", d_errstr(r->status),
							      r->status, r->info)
						: "OK"};

			if (dmg_table_row(t, c) != 0)
				return -DER_NOMEM;
		}
	}
	if (!verbose) {
		const char *c[3] = {host, dmg_sprintf(ctx, "%u", meta),
				    dmg_sprintf(ctx, "%u", data)};

		return dmg_table_row(t, c);
	}
	return 0;
}

static int
format_failed(const ProtobufCMessage *msg)
{
	const Mgmt__StorageFormatResp *resp = (const Mgmt__StorageFormatResp *)msg;
	size_t i;

	for (i = 0; i < resp->n_results; i++)
		if (resp->results[i]->status != 0)
			return resp->results[i]->status;
	return 0;
}

static int
storage_format_exec(struct dmg_ctx *ctx, const struct dmg_opts *o)
{
	static const char *const hdr[] = {"Hosts", "SCM Devices", "NVMe Devices"};
	static const char *const hdr_v[] = {"Tier", "Device", "Result"};
	Mgmt__StorageFormatReq req = MGMT__STORAGE_FORMAT_REQ__INIT;
	struct fanout fo = {DSS_CTL_STORAGE_FORMAT,
			    &req.base,
			    &mgmt__storage_format_resp__descriptor,
			    format_row,
			    o->o_verbose ? hdr_v : hdr,
			    3,
			    format_failed};

	req.sys = (char *)ctx->dx_sys;
	req.reformat = o->o_force;
	if (!o->o_json && !o->o_verbose)
		fprintf(ctx->dx_out, "Format Summary:\n");
	return fanout_run(ctx, o, &fo);
}

static int
usage_row(struct dmg_ctx *ctx, struct dmg_table *t, const char *host, ProtobufCMessage *msg)
{
	Mgmt__StorageUsageResp *resp = (Mgmt__StorageUsageResp *)msg;
	uint64_t total[2] = {0, 0};
	uint64_t avail[2] = {0, 0};
	const char *c[7];
	char s[4][32];
	size_t i;

	for (i = 0; i < resp->n_tiers; i++) {
		int m = resp->tiers[i]->media_type == MGMT__STORAGE_MEDIA_TYPE__SCM ? 0 : 1;

		total[m] += resp->tiers[i]->total_bytes;
		avail[m] += resp->tiers[i]->avail_bytes;
	}
	dmg_size_format(total[0], s[0], sizeof(s[0]));
	dmg_size_format(avail[0], s[1], sizeof(s[1]));
	dmg_size_format(total[1], s[2], sizeof(s[2]));
	dmg_size_format(avail[1], s[3], sizeof(s[3]));
	c[0] = host;
	c[1] = s[0];
	c[2] = s[1];
	c[3] = dmg_sprintf(ctx, "%d %%",
			   total[0] ? (int)(100.0 * (double)(total[0] - avail[0]) / total[0]) : 0);
	c[4] = s[2];
	c[5] = s[3];
	c[6] = dmg_sprintf(ctx, "%d %%",
			   total[1] ? (int)(100.0 * (double)(total[1] - avail[1]) / total[1]) : 0);
	return dmg_table_row(t, c);
}

static int
storage_usage_exec(struct dmg_ctx *ctx, const struct dmg_opts *o)
{
	static const char *const hdr[] = {"Hosts",      "SCM-Total", "SCM-Free", "SCM-Used",
					  "NVMe-Total", "NVMe-Free", "NVMe-Used"};
	Mgmt__StorageUsageReq req = MGMT__STORAGE_USAGE_REQ__INIT;
	struct fanout fo = {DSS_CTL_STORAGE_QUERY_USAGE,
			    &req.base,
			    &mgmt__storage_usage_resp__descriptor,
			    usage_row,
			    hdr,
			    7,
			    NULL};

	req.sys = (char *)ctx->dx_sys;
	return fanout_run(ctx, o, &fo);
}

const struct dmg_cmd dmg_cmd_storage_format = {
    "storage format",
    "Format SCM and NVMe storage attached to remote servers",
    NULL,
    0,
    0,
    storage_format_opts,
    NULL,
    NULL,
    storage_format_exec,
};

const struct dmg_cmd dmg_cmd_storage_query_usage = {
    "storage query usage",
    "Show SCM & NVMe storage space utilization per storage server",
    NULL,
    0,
    0,
    NULL,
    NULL,
    NULL,
    storage_usage_exec,
};
