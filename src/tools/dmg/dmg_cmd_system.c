/*
 * dmg_cmd_system.c: `dmg system ...` (query, stop, start, exclude, leader-query, as DAOS's
 * dmg, plus ping and get-attach-info, which talk to each listed server) and `dmg telemetry
 * metrics list|query` (the engine's metrics over the management port).
 */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>

#include "dmg_internal.h"
#include "ctl/ctl.pb-c.h"
#include "mgmt/svc.pb-c.h"
#include "mgmt/system.pb-c.h"

char *
dmg_ranks_str(struct dmg_ctx *ctx, const struct dmg_opts *o)
{
	size_t len = (size_t)o->o_ranks.dr_nr * 12 + 1;
	char *s = dmg_alloc(ctx, len);

	if (s != NULL)
		dmg_ranks_format(o->o_ranks.dr_ranks, o->o_ranks.dr_nr, s, len);
	return s;
}

void
dmg_json_resp(struct dmg_ctx *ctx, const ProtobufCMessage *resp, const char *const *skip)
{
	static const char *const skip_status[] = {"status", NULL};
	struct dmg_json j;

	dj_envelope_begin(&j, ctx->dx_out);
	if (resp == NULL) {
		dj_null(&j, "response");
	} else {
		dj_obj_begin(&j, "response");
		dj_pb_fields(&j, resp, skip ? skip : skip_status);
		dj_obj_end(&j);
	}
	dj_envelope_end(&j, NULL, 0);
}

#define NOMEM(ctx) dmg_fail(ctx, -DER_NOMEM, "out of memory")

/* Options shared by the rank-selecting system commands, as DAOS's rankListCmd. */
#define RANK_OPTS                                                                                  \
	DMG_OPT('r', "ranks", DO_RANKS, o_ranks, "RANKS",                                          \
		"comma-separated list of rank ranges to operate on (e.g. 0-3,5)"),                 \
	    DMG_OPT(0, "rank-hosts", DO_STR, o_rank_hosts, "HOSTS",                                \
		    "comma-separated list of host ranges whose ranks to operate on")

/*
 * system query
 */

static const struct dmg_opt sys_query_opts[] = {
    RANK_OPTS,
    DMG_OPT('v', "verbose", DO_BOOL, o_verbose, NULL, "display more member details"),
    DMG_OPT_END,
};

static int
sys_query_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__SystemQueryReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__SystemQueryReq, MGMT__SYSTEM_QUERY_REQ__INIT);

	if (req == NULL)
		return NOMEM(ctx);
	req->sys = (char *)ctx->dx_sys;
	req->ranks = dmg_ranks_str(ctx, o);
	if (req->ranks == NULL)
		return NOMEM(ctx);
	if (o->o_rank_hosts != NULL)
		req->hosts = (char *)o->o_rank_hosts;
	return dmg_call_set(call, DSS_CTL_SYSTEM_QUERY, &req->base,
			    &mgmt__system_query_resp__descriptor);
}

/* A member state for tables, as DAOS prints them ("Joined", "AdminExcluded"). */
static char *
state_title(struct dmg_ctx *ctx, const char *state)
{
	static const char *const names[] = {"AdminExcluded", "AwaitFormat"};
	char *s = dmg_strdup(ctx, state && state[0] ? state : "unknown");
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < D_ARRAY_SIZE(names); i++) {
		if (strcasecmp(s, names[i]) == 0)
			return strcpy(s, names[i]);
	}
	s[0] = (char)toupper((unsigned char)s[0]);
	return s;
}

/* Rows grouping the ranks (as "[0-3]") that share @key[i]; keys in first-seen order. */
static int
group_rows(struct dmg_ctx *ctx, struct dmg_table *t, const uint32_t *ranks, const char **keys,
	   const char **keys2, size_t n)
{
	bool *done = dmg_alloc(ctx, n + 1);
	uint32_t *sel = dmg_alloc(ctx, sizeof(*sel) * (n + 1));
	size_t i;
	size_t k;

	if (done == NULL || sel == NULL)
		return NOMEM(ctx);
	for (i = 0; i < n; i++) {
		const char *cells[3];
		size_t m = 0;
		char *set;

		if (done[i])
			continue;
		for (k = i; k < n; k++) {
			if (!done[k] && strcmp(keys[k], keys[i]) == 0 &&
			    (keys2 == NULL || strcmp(keys2[k], keys2[i]) == 0)) {
				done[k] = true;
				sel[m++] = ranks[k];
			}
		}
		/* ranks come sorted from the service; sort anyway for the range format */
		for (k = 1; k < m; k++) {
			uint32_t v = sel[k];
			size_t p = k;

			while (p > 0 && sel[p - 1] > v) {
				sel[p] = sel[p - 1];
				p--;
			}
			sel[p] = v;
		}
		set = dmg_alloc(ctx, m * 12 + 3);
		if (set == NULL)
			return NOMEM(ctx);
		set[0] = '[';
		dmg_ranks_format(sel, m, set + 1, m * 12);
		strcat(set, "]");
		cells[0] = set;
		cells[1] = keys[i];
		cells[2] = keys2 ? keys2[i] : NULL;
		if (dmg_table_row(t, cells) != 0)
			return NOMEM(ctx);
	}
	return 0;
}

static int
sys_query_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		ProtobufCMessage *msg)
{
	Mgmt__SystemQueryResp *resp = (Mgmt__SystemQueryResp *)msg;
	struct dmg_table t;
	size_t i;

	(void)call;
	if (o->o_json) {
		dmg_json_resp(ctx, msg, NULL);
		return 0;
	}
	if (resp->n_members == 0) {
		fprintf(ctx->dx_out, "No system members found\n");
	} else if (o->o_verbose) {
		static const char *const hdr[] = {"Rank",         "UUID",  "Control Address",
						  "Fault Domain", "State", "Reason"};

		if (dmg_table_init(ctx, &t, 6, hdr) != 0)
			return NOMEM(ctx);
		for (i = 0; i < resp->n_members; i++) {
			Mgmt__SystemMember *m = resp->members[i];
			const char *cells[6] = {
			    dmg_sprintf(ctx, "%u", m->rank), m->uuid, m->addr, m->fault_domain,
			    state_title(ctx, m->state),      m->info};

			if (dmg_table_row(&t, cells) != 0)
				return NOMEM(ctx);
		}
		dmg_table_print(&t, ctx->dx_out);
	} else {
		static const char *const hdr[] = {"Rank", "State"};
		uint32_t *ranks = dmg_alloc(ctx, sizeof(*ranks) * resp->n_members);
		const char **states = dmg_alloc(ctx, sizeof(*states) * resp->n_members);

		if (ranks == NULL || states == NULL || dmg_table_init(ctx, &t, 2, hdr) != 0)
			return NOMEM(ctx);
		for (i = 0; i < resp->n_members; i++) {
			ranks[i] = resp->members[i]->rank;
			states[i] = state_title(ctx, resp->members[i]->state);
			if (states[i] == NULL)
				return NOMEM(ctx);
		}
		if (group_rows(ctx, &t, ranks, states, NULL, resp->n_members) != 0)
			return -DER_NOMEM;
		dmg_table_print(&t, ctx->dx_out);
	}
	if (resp->absent_ranks[0] != '\0')
		fprintf(ctx->dx_out, "\nUnknown %s\n", resp->absent_ranks);
	if (resp->absent_hosts[0] != '\0')
		fprintf(ctx->dx_out, "\nUnknown hosts: %s\n", resp->absent_hosts);
	return 0;
}

const struct dmg_cmd dmg_cmd_system_query = {
    "system query",
    "Query DAOS system status",
    NULL,
    0,
    0,
    sys_query_opts,
    sys_query_build,
    sys_query_print,
    NULL,
};

/*
 * system stop / start / exclude: the same shape of reply (results per rank)
 */

static const struct dmg_opt sys_stop_opts[] = {
    RANK_OPTS,
    DMG_OPT(0, "force", DO_BOOL, o_force, NULL, "force stop DAOS system members"),
    DMG_OPT_END,
};

static const struct dmg_opt sys_start_opts[] = {
    RANK_OPTS,
    DMG_OPT_END,
};

static const struct dmg_opt sys_exclude_opts[] = {
    DMG_OPT('r', "ranks", DO_RANKS, o_ranks, "RANKS",
	    "comma-separated list of rank ranges to exclude (e.g. 0-3,5)"),
    DMG_OPT(0, "rank-hosts", DO_STR, o_rank_hosts, "HOSTS",
	    "comma-separated list of host ranges whose ranks to exclude"),
    DMG_OPT_END,
};

static int
sys_stop_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__SystemStopReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__SystemStopReq, MGMT__SYSTEM_STOP_REQ__INIT);

	if (req == NULL || (req->ranks = dmg_ranks_str(ctx, o)) == NULL)
		return NOMEM(ctx);
	req->sys = (char *)ctx->dx_sys;
	if (o->o_rank_hosts != NULL)
		req->hosts = (char *)o->o_rank_hosts;
	req->force = o->o_force;
	return dmg_call_set(call, DSS_CTL_SYSTEM_STOP, &req->base,
			    &mgmt__system_stop_resp__descriptor);
}

static int
sys_start_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__SystemStartReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__SystemStartReq, MGMT__SYSTEM_START_REQ__INIT);

	if (req == NULL || (req->ranks = dmg_ranks_str(ctx, o)) == NULL)
		return NOMEM(ctx);
	req->sys = (char *)ctx->dx_sys;
	if (o->o_rank_hosts != NULL)
		req->hosts = (char *)o->o_rank_hosts;
	return dmg_call_set(call, DSS_CTL_SYSTEM_START, &req->base,
			    &mgmt__system_start_resp__descriptor);
}

static int
exclude_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call, bool clear)
{
	Mgmt__SystemExcludeReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__SystemExcludeReq, MGMT__SYSTEM_EXCLUDE_REQ__INIT);

	if (!o->o_ranks_set && o->o_rank_hosts == NULL)
		return dmg_fail(ctx, -DER_INVAL, "system %s needs --ranks or --rank-hosts",
				clear ? "clear-exclude" : "exclude");
	if (req == NULL || (req->ranks = dmg_ranks_str(ctx, o)) == NULL)
		return NOMEM(ctx);
	req->sys = (char *)ctx->dx_sys;
	if (o->o_rank_hosts != NULL)
		req->hosts = (char *)o->o_rank_hosts;
	req->clear = clear;
	return dmg_call_set(call, DSS_CTL_SYSTEM_EXCLUDE, &req->base,
			    &mgmt__system_exclude_resp__descriptor);
}

static int
sys_exclude_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	return exclude_build(ctx, o, call, false);
}

static int
sys_clear_exclude_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	return exclude_build(ctx, o, call, true);
}

/* SystemStopResp, SystemStartResp and SystemExcludeResp share their layout of fields. */
static int
sys_results_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		  ProtobufCMessage *msg)
{
	Mgmt__SystemStopResp *resp = (Mgmt__SystemStopResp *)msg;
	static const char *const hdr[] = {"Rank", "Operation", "Result"};
	struct dmg_table t;
	uint32_t *ranks;
	const char **ops;
	const char **res;
	size_t errs = 0;
	size_t i;

	_Static_assert(offsetof(Mgmt__SystemStopResp, results) ==
			   offsetof(Mgmt__SystemStartResp, results),
		       "results");
	_Static_assert(offsetof(Mgmt__SystemStopResp, results) ==
			   offsetof(Mgmt__SystemExcludeResp, results),
		       "results");
	_Static_assert(offsetof(Mgmt__SystemStopResp, absent_hosts) ==
			   offsetof(Mgmt__SystemExcludeResp, absent_hosts),
		       "absent");
	(void)call;
	for (i = 0; i < resp->n_results; i++)
		errs += resp->results[i]->errored;
	if (o->o_json) {
		dmg_json_resp(ctx, msg, NULL);
	} else if (resp->n_results == 0) {
		fprintf(ctx->dx_out, "No results returned\n");
	} else {
		ranks = dmg_alloc(ctx, sizeof(*ranks) * resp->n_results);
		ops = dmg_alloc(ctx, sizeof(*ops) * resp->n_results);
		res = dmg_alloc(ctx, sizeof(*res) * resp->n_results);
		if (ranks == NULL || ops == NULL || res == NULL ||
		    dmg_table_init(ctx, &t, 3, hdr) != 0)
			return NOMEM(ctx);
		for (i = 0; i < resp->n_results; i++) {
			Mgmt__RankResult *r = resp->results[i];

			ranks[i] = r->rank;
			ops[i] = r->action;
			res[i] = r->errored ? r->msg : "OK";
		}
		if (group_rows(ctx, &t, ranks, ops, res, resp->n_results) != 0)
			return -DER_NOMEM;
		dmg_table_print(&t, ctx->dx_out);
	}
	if (!o->o_json && resp->absent_ranks[0] != '\0')
		fprintf(ctx->dx_out, "\nUnknown %s\n", resp->absent_ranks);
	if (!o->o_json && resp->absent_hosts[0] != '\0')
		fprintf(ctx->dx_out, "\nUnknown hosts: %s\n", resp->absent_hosts);
	if (errs > 0) {
		ctx->dx_opts.o_json = false; /* the envelope is out: no second one */
		return dmg_fail(ctx, -DER_MISC, "%zu of %zu ranks failed", errs, resp->n_results);
	}
	return 0;
}

const struct dmg_cmd dmg_cmd_system_stop = {
    "system stop",
    "Perform controlled shutdown of DAOS system",
    NULL,
    0,
    0,
    sys_stop_opts,
    sys_stop_build,
    sys_results_print,
    NULL,
};

const struct dmg_cmd dmg_cmd_system_start = {
    "system start",
    "Perform start of stopped DAOS system",
    NULL,
    0,
    0,
    sys_start_opts,
    sys_start_build,
    sys_results_print,
    NULL,
};

const struct dmg_cmd dmg_cmd_system_exclude = {
    "system exclude",
    "Exclude ranks from DAOS system",
    NULL,
    0,
    0,
    sys_exclude_opts,
    sys_exclude_build,
    sys_results_print,
    NULL,
};

const struct dmg_cmd dmg_cmd_system_clear_exclude = {
    "system clear-exclude",
    "Clear excluded state for ranks",
    NULL,
    0,
    0,
    sys_exclude_opts,
    sys_clear_exclude_build,
    sys_results_print,
    NULL,
};

/*
 * system leader-query
 */

static int
sys_leader_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__LeaderQueryReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__LeaderQueryReq, MGMT__LEADER_QUERY_REQ__INIT);

	(void)o;
	if (req == NULL)
		return NOMEM(ctx);
	req->sys = (char *)ctx->dx_sys;
	return dmg_call_set(call, DSS_CTL_LEADER_QUERY, &req->base,
			    &mgmt__leader_query_resp__descriptor);
}

static void
print_list(FILE *f, const char *label, char **v, size_t n)
{
	size_t i;

	fprintf(f, "%s", label);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", v[i]);
	if (n == 0)
		fprintf(f, "N/A");
	fputc('\n', f);
}

static int
sys_leader_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		 ProtobufCMessage *msg)
{
	static const char *const skip[] = {"status", "term", NULL};
	Mgmt__LeaderQueryResp *resp = (Mgmt__LeaderQueryResp *)msg;

	(void)call;
	if (o->o_json) {
		dmg_json_resp(ctx, msg, skip);
		return 0;
	}
	fprintf(ctx->dx_out, "Current Leader: %s\n",
		resp->current_leader[0] ? resp->current_leader : "N/A");
	print_list(ctx->dx_out, "   Replica Set: ", resp->replicas, resp->n_replicas);
	if (resp->n_down_replicas > 0)
		print_list(ctx->dx_out, " Down Replicas: ", resp->down_replicas,
			   resp->n_down_replicas);
	return 0;
}

const struct dmg_cmd dmg_cmd_system_leader_query = {
    "system leader-query",
    "Query for current Management Service leader",
    NULL,
    0,
    0,
    NULL,
    sys_leader_build,
    sys_leader_print,
    NULL,
};

/*
 * system ping (ours): each listed server's control port, its round trip and system name
 */

static const struct dmg_opt sys_ping_opts[] = {
    DMG_OPT('c', "count", DO_U32, o_count, "N", "pings per server (default 1)"),
    DMG_OPT_END,
};

static int
sys_ping_exec(struct dmg_ctx *ctx, const struct dmg_opts *o)
{
	static const char *const hdr[] = {"Host", "System", "Round trip"};
	uint32_t count = o->o_count ? o->o_count : 1;
	struct dmg_table t;
	struct dmg_json j;
	int first_rc = 0;
	uint32_t i;

	if (o->o_count > 1000)
		return dmg_fail(ctx, -DER_INVAL, "--count: at most 1000");
	if (o->o_json) {
		dj_envelope_begin(&j, ctx->dx_out);
		dj_obj_begin(&j, "response");
		dj_arr_begin(&j, "hosts");
	} else if (dmg_table_init(ctx, &t, 3, hdr) != 0) {
		return NOMEM(ctx);
	}
	for (i = 0; i < ctx->dx_nhosts; i++) {
		Ctl__PingReq req = CTL__PING_REQ__INIT;
		ProtobufCMessage *msg = NULL;
		uint64_t best = UINT64_MAX;
		char sys[128] = "";
		uint32_t k;
		int rc = 0;

		for (k = 0; k < count && rc == 0; k++) {
			uint64_t t0 = d_now_ns();

			req.client_time = t0;
			rc = dmg_call_host(ctx, ctx->dx_hosts[i], DSS_CTL_PING, &req.base,
					   &ctl__ping_resp__descriptor, &msg);
			if (rc == 0) {
				uint64_t rtt = d_now_ns() - t0;

				if (rtt < best)
					best = rtt;
				snprintf(sys, sizeof(sys), "%s", ((Ctl__PingResp *)msg)->sys);
				protobuf_c_message_free_unpacked(msg, NULL);
			}
		}
		if (rc != 0 && first_rc == 0)
			first_rc = rc;
		if (o->o_json) {
			dj_obj_begin(&j, NULL);
			dj_str(&j, "addr", ctx->dx_hosts[i]);
			if (rc == 0) {
				dj_str(&j, "sys", sys);
				dj_u64(&j, "rtt_ns", best);
				dj_null(&j, "error");
			} else {
				dj_str(&j, "sys", "");
				dj_u64(&j, "rtt_ns", 0);
				dj_str(&j, "error", ctx->dx_err_msg);
			}
			dj_i64(&j, "status", rc);
			dj_obj_end(&j);
		} else {
			const char *cells[3] = {ctx->dx_hosts[i], rc ? "-" : sys,
						rc ? dmg_sprintf(ctx, "%s(%d)", d_errstr(rc), rc)
						   : dmg_sprintf(ctx, "%.1f us", best / 1000.0)};

			if (dmg_table_row(&t, cells) != 0)
				return NOMEM(ctx);
		}
	}
	if (o->o_json) {
		dj_arr_end(&j);
		dj_obj_end(&j);
		dj_envelope_end(&j, NULL, 0);
	} else {
		dmg_table_print(&t, ctx->dx_out);
	}
	if (first_rc != 0) {
		/* the envelope above carries every host's outcome: no second one */
		ctx->dx_opts.o_json = false;
		return dmg_fail(ctx, first_rc, "some servers did not answer");
	}
	return 0;
}

const struct dmg_cmd dmg_cmd_system_ping = {
    "system ping",
    "Check that each listed server's management port answers",
    NULL,
    0,
    0,
    sys_ping_opts,
    NULL,
    NULL,
    sys_ping_exec,
};

/*
 * system get-attach-info (ours): what a client needs to attach, as daos_agent gets it
 */

static int
sys_attach_build(struct dmg_ctx *ctx, const struct dmg_opts *o, struct dmg_call *call)
{
	Mgmt__GetAttachInfoReq *req =
	    DMG_MSG_NEW(ctx, Mgmt__GetAttachInfoReq, MGMT__GET_ATTACH_INFO_REQ__INIT);

	(void)o;
	if (req == NULL)
		return NOMEM(ctx);
	req->sys = (char *)ctx->dx_sys;
	req->all_ranks = true;
	return dmg_call_set(call, DSS_CTL_GET_ATTACH_INFO, &req->base,
			    &mgmt__get_attach_info_resp__descriptor);
}

static int
sys_attach_print(struct dmg_ctx *ctx, const struct dmg_opts *o, const struct dmg_call *call,
		 ProtobufCMessage *msg)
{
	static const char *const hdr[] = {"Rank", "Contexts", "URI"};
	Mgmt__GetAttachInfoResp *resp = (Mgmt__GetAttachInfoResp *)msg;
	struct dmg_table t;
	size_t i;

	(void)call;
	if (o->o_json) {
		dmg_json_resp(ctx, msg, NULL);
		return 0;
	}
	fprintf(ctx->dx_out, "System: %s\n", resp->sys);
	if (resp->client_net_hint != NULL)
		fprintf(ctx->dx_out, "Provider: %s\n", resp->client_net_hint->provider);
	print_list(ctx->dx_out, "Access points: ", resp->access_points, resp->n_access_points);
	if (dmg_table_init(ctx, &t, 3, hdr) != 0)
		return NOMEM(ctx);
	for (i = 0; i < resp->n_rank_uris; i++) {
		Mgmt__GetAttachInfoResp__RankUri *u = resp->rank_uris[i];
		const char *cells[3] = {dmg_sprintf(ctx, "%u", u->rank),
					dmg_sprintf(ctx, "%u", u->nr_ctxs), u->uri};

		if (dmg_table_row(&t, cells) != 0)
			return NOMEM(ctx);
	}
	fputc('\n', ctx->dx_out);
	dmg_table_print(&t, ctx->dx_out);
	return 0;
}

const struct dmg_cmd dmg_cmd_system_attach_info = {
    "system get-attach-info",
    "Show what clients need to attach to the system",
    NULL,
    0,
    0,
    NULL,
    sys_attach_build,
    sys_attach_print,
    NULL,
};

/*
 * telemetry metrics list|query: the first listed server's metrics (Prometheus text)
 */

static const struct dmg_opt tm_query_opts[] = {
    DMG_OPT('m', "metrics", DO_STR, o_metrics, "NAMES",
	    "comma-separated list of metric names (default: all)"),
    DMG_OPT_END,
};

/* Is @name among the comma-separated @list (NULL: everything is)? */
static bool
name_selected(const char *list, const char *name, size_t len)
{
	const char *p = list;

	if (list == NULL)
		return true;
	while (*p != '\0') {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		if (n == len && strncmp(p, name, len) == 0)
			return true;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return false;
}

/* Walk the exposition @text: families (HELP/TYPE) and, with @values, their samples. */
static int
tm_print(struct dmg_ctx *ctx, const struct dmg_opts *o, char *text, bool values)
{
	static const char *const hdr_list[] = {"Metric Set", "Type", "Description"};
	static const char *const hdr_query[] = {"Metric", "Labels", "Value"};
	struct dmg_table t;
	struct dmg_json j;
	char *fam = NULL;
	char *type = "";
	char *help = "";
	bool fam_open = false;
	char *line;
	char *save = NULL;

	if (o->o_json) {
		dj_envelope_begin(&j, ctx->dx_out);
		dj_obj_begin(&j, "response");
		dj_arr_begin(&j, values ? "metric_sets" : "available_metric_sets");
	} else if (dmg_table_init(ctx, &t, 3, values ? hdr_query : hdr_list) != 0) {
		return NOMEM(ctx);
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0) {
			char *name = line + 7;
			char *rest = strchr(name, ' ');
			size_t len = rest ? (size_t)(rest - name) : strlen(name);

			if (fam == NULL || strlen(fam) != len || strncmp(fam, name, len) != 0) {
				if (fam_open && o->o_json) {
					if (values)
						dj_arr_end(&j);
					dj_obj_end(&j);
				}
				fam_open = false;
				fam = dmg_sprintf(ctx, "%.*s", (int)len, name);
				help = "";
				type = "";
			}
			if (line[2] == 'H')
				help = rest ? rest + 1 : "";
			else
				type = rest ? rest + 1 : "";
			if (line[2] == 'T' && name_selected(o->o_metrics, fam, strlen(fam))) {
				fam_open = true;
				if (o->o_json) {
					dj_obj_begin(&j, NULL);
					dj_str(&j, "name", fam);
					dj_str(&j, "description", help);
					dj_str(&j, "type", type);
					if (values)
						dj_arr_begin(&j, "metrics");
				} else if (!values) {
					const char *cells[3] = {fam, type, help};

					if (dmg_table_row(&t, cells) != 0)
						return NOMEM(ctx);
				}
			}
			continue;
		}
		if (line[0] == '#' || !values || !fam_open)
			continue;
		{
			char *sp = strrchr(line, ' ');
			char *lb = strchr(line, '{');
			char *name;
			char *labels = "";

			if (sp == NULL)
				continue;
			*sp = '\0';
			if (lb != NULL && lb < sp) {
				*lb = '\0';
				labels = lb + 1;
				if (labels[0] != '\0' && labels[strlen(labels) - 1] == '}')
					labels[strlen(labels) - 1] = '\0';
			}
			name = line;
			if (o->o_json) {
				dj_obj_begin(&j, NULL);
				dj_str(&j, "name", name);
				dj_str(&j, "labels", labels);
				dj_dbl(&j, "value", strtod(sp + 1, NULL));
				dj_obj_end(&j);
			} else {
				const char *cells[3] = {name, labels, sp + 1};

				if (dmg_table_row(&t, cells) != 0)
					return NOMEM(ctx);
			}
		}
	}
	if (o->o_json) {
		if (fam_open) {
			if (values)
				dj_arr_end(&j);
			dj_obj_end(&j);
		}
		dj_arr_end(&j);
		dj_obj_end(&j);
		dj_envelope_end(&j, NULL, 0);
	} else {
		dmg_table_print(&t, ctx->dx_out);
	}
	return 0;
}

static int
tm_exec(struct dmg_ctx *ctx, const struct dmg_opts *o, bool values)
{
	Ctl__TelemetryReq req = CTL__TELEMETRY_REQ__INIT;
	ProtobufCMessage *msg = NULL;
	char *text;
	int rc;

	rc = dmg_call_host(ctx, ctx->dx_hosts[0], DSS_CTL_TELEMETRY, &req.base,
			   &ctl__telemetry_resp__descriptor, &msg);
	if (rc != 0)
		return rc;
	text = dmg_strdup(ctx, ((Ctl__TelemetryResp *)msg)->text);
	protobuf_c_message_free_unpacked(msg, NULL);
	if (text == NULL)
		return NOMEM(ctx);
	return tm_print(ctx, o, text, values);
}

static int
tm_list_exec(struct dmg_ctx *ctx, const struct dmg_opts *o)
{
	return tm_exec(ctx, o, false);
}

static int
tm_query_exec(struct dmg_ctx *ctx, const struct dmg_opts *o)
{
	return tm_exec(ctx, o, true);
}

const struct dmg_cmd dmg_cmd_telemetry_metrics_list = {
    "telemetry metrics list",
    "List telemetry metrics available on the first listed server",
    NULL,
    0,
    0,
    NULL,
    NULL,
    NULL,
    tm_list_exec,
};

const struct dmg_cmd dmg_cmd_telemetry_metrics_query = {
    "telemetry metrics query",
    "Query telemetry metrics on the first listed server",
    NULL,
    0,
    0,
    tm_query_opts,
    NULL,
    NULL,
    tm_query_exec,
};
