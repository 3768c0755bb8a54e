/*
 * ctl_methods.c: the methods the control thread serves itself: Ping (liveness, round
 * trip), Telemetry (the process's metrics in Prometheus text) and a GetAttachInfo
 * placeholder that the management service replaces. Each decodes its request message,
 * answers on the loop thread at once and never blocks.
 */
#define D_LOGFAC ctl

#include <gurt/telemetry.h>
#include <daos_version.h>

#include "ctl_internal.h"
#include "ctl/ctl.pb-c.h"
#include "mgmt/svc.pb-c.h"

/* The public ids are the wire registry's (src/proto/ctl/envelope.proto). */
_Static_assert((int)DSS_CTL_PING == (int)CTL__METHOD__METHOD_PING, "ping id");
_Static_assert((int)DSS_CTL_TELEMETRY == (int)CTL__METHOD__METHOD_TELEMETRY, "telemetry id");
_Static_assert((int)DSS_CTL_GET_ATTACH_INFO == (int)CTL__METHOD__METHOD_GET_ATTACH_INFO,
	       "attach id");
_Static_assert((int)DSS_CTL_SYSTEM_QUERY == (int)CTL__METHOD__METHOD_SYSTEM_QUERY, "query id");

static void
ctl_ping_handler(struct dss_ctl_req *req, void *arg)
{
	struct dss_ctl *ctl = arg;
	Ctl__PingResp out = CTL__PING_RESP__INIT;
	Ctl__PingReq *in;
	const void *body;
	size_t len;

	body = dss_ctl_req_body(req, &len);
	in = ctl__ping_req__unpack(&ctl_pb_allocator, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	out.payload = in->payload;
	out.client_time = in->client_time;
	out.server_hlc = d_hlc_get();
	out.sys = ctl->ctl_sys;
	dss_ctl_reply_msg(req, 0, &out.base);
	ctl__ping_req__free_unpacked(in, &ctl_pb_allocator);
}

static void
ctl_telemetry_handler(struct dss_ctl_req *req, void *arg)
{
	Ctl__TelemetryResp out = CTL__TELEMETRY_RESP__INIT;
	Ctl__TelemetryReq *in;
	const void *body;
	size_t len;
	char *text;
	int rc;

	(void)arg;
	body = dss_ctl_req_body(req, &len);
	in = ctl__telemetry_req__unpack(&ctl_pb_allocator, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	ctl__telemetry_req__free_unpacked(in, &ctl_pb_allocator);
	rc = d_tm_print_prometheus(&text, &len);
	if (rc != 0) {
		dss_ctl_reply(req, rc, NULL, 0);
		return;
	}
	out.text = text;
	dss_ctl_reply_msg(req, 0, &out.base);
	D_FREE(text);
}

static void
ctl_attach_info_handler(struct dss_ctl_req *req, void *arg)
{
	struct dss_ctl *ctl = arg;
	Mgmt__GetAttachInfoResp out = MGMT__GET_ATTACH_INFO_RESP__INIT;
	Mgmt__BuildInfo build = MGMT__BUILD_INFO__INIT;
	Mgmt__GetAttachInfoReq *in;
	char *ap = ctl->ctl_addr;
	const void *body;
	size_t len;

	body = dss_ctl_req_body(req, &len);
	in = mgmt__get_attach_info_req__unpack(&ctl_pb_allocator, len, body);
	if (in == NULL) {
		dss_ctl_reply(req, -DER_INVAL, NULL, 0);
		return;
	}
	if (in->sys[0] != '\0' && strcmp(in->sys, ctl->ctl_sys) != 0) {
		D_DEBUG("ctl: GetAttachInfo for system '%s', this is '%s'\n", in->sys,
			ctl->ctl_sys);
		out.status = -DER_INVAL;
	}
	mgmt__get_attach_info_req__free_unpacked(in, &ctl_pb_allocator);
	build.major = DAOS_VERSION_MAJOR;
	build.minor = DAOS_VERSION_MINOR;
	build.patch = DAOS_VERSION_FIX;
	out.sys = ctl->ctl_sys;
	out.build_info = &build;
	if (ctl->ctl_has_addr) {
		out.n_access_points = 1;
		out.access_points = &ap;
	}
	dss_ctl_reply_msg(req, out.status, &out.base);
}

int
ctl_methods_register(struct dss_ctl *ctl)
{
	int rc;

	rc = dss_ctl_register(ctl, DSS_CTL_PING, ctl_ping_handler, ctl);
	if (rc == 0)
		rc = dss_ctl_register(ctl, DSS_CTL_TELEMETRY, ctl_telemetry_handler, ctl);
	if (rc == 0)
		rc = dss_ctl_register(ctl, DSS_CTL_GET_ATTACH_INFO, ctl_attach_info_handler, ctl);
	return rc;
}
