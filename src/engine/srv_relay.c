/*
 * srv_relay.c: the fabric relay to the management service (daos/svc_rpc.h, srv_relay.h).
 *
 * A client's SVC_OPC_CALL arrives on a context of some xstream and runs in a ULT there
 * (srv_net.c). The ULT checks the method, copies the body into a struct relay_call and hands
 * it to the control thread (dss_ctl_exec); then it waits on the call's eventual, which
 * yields: the xstream keeps serving. On the control thread's loop the call goes to the
 * management service:
 *
 *   attempt: the address a LeaderHint named, else the leader that answered last, else the
 *            next access point (round robin); dss_ctl_call_async with what is left of the
 *            deadline
 *   outcome: -DER_NOTLEADER with a leader in its LeaderHint -> attempt there (at most
 *            RELAY_HOPS_MAX hops); -DER_NOTLEADER without one, -DER_UNREACH, -DER_PROTO, a
 *            remote -DER_SHUTDOWN -> the next access point, and once every one was tried in
 *            this round, again after SVC_RELAY_RETRY_MS; -DER_TIMEDOUT -> done; anything
 *            else is the service's answer -> done (and its sender is the leader)
 *   done:    the status and a copy of the reply body are stored, the eventual is set
 *
 * The ULT wakes on its own xstream and replies there (a net request is only touched by its
 * context's thread), so_status carrying the service's status or the relay's.
 *
 * Invariants:
 * 1. A relay_call has two references: the ULT's and the loop's. Each side puts its own when
 *    it is finished with the call; the last put frees it (and its eventual). The ULT waits
 *    with a deadline a little past the call's, so even a call the loop never finished
 *    (which would be a bug) cannot hold a request forever.
 * 2. relay_ctl is read under relay_lock's read side around dss_ctl_exec and cleared under
 *    its write side by ds_svc_relay_stop before the control thread is destroyed, so no ULT
 *    queues work on a control thread that is gone.
 * 3. Loop-only state: relay_leader, relay_waiting (calls sleeping before a retry, with their
 *    timers) and relay_stopping. ds_svc_relay_stop runs a function on the loop that ends
 *    the waiting calls with -DER_SHUTDOWN, because dss_ctl_stop deletes timers without
 *    calling them; calls in flight end when dss_ctl_stop fails them.
 */
#define D_LOGFAC server

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gurt/common.h>
#include <gurt/list.h>
#include <daos_errno.h>
#include <daos/svc_rpc.h>
#include <daos_srv/ctl.h>
#include <daos_srv/daos_engine.h>
#include <daos_srv/sched.h>

#include "config.h"
#include "srv_relay.h"
#include "mgmt/svc.pb-c.h"

D_LOG_FAC_DECLARE(server);

/* LeaderHint redirections followed by one call before it falls back to the rotation. */
#define RELAY_HOPS_MAX 8
/* The ULT gives the loop this much beyond the call's deadline (invariant 1). */
#define RELAY_GRACE_NS (2ULL * 1000 * 1000 * 1000)

struct relay_call {
	int rc_ref;
	struct dss_ctl *rc_ctl;
	struct dss_eventual *rc_ev;
	uint32_t rc_method;
	void *rc_body;
	size_t rc_len;
	uint64_t rc_deadline_ns;
	/* loop side */
	char rc_addr[DSS_CTL_ADDR_LEN]; /* where the last attempt went */
	char rc_hint[DSS_CTL_ADDR_LEN]; /* where the next one goes, if set */
	uint32_t rc_tried;              /* access points tried in this round */
	uint32_t rc_hops;
	bool rc_used_leader;
	int rc_last;      /* the last failure */
	d_list_t rc_link; /* in relay_waiting */
	struct dss_ctl_timer *rc_timer;
	/* the outcome */
	int rc_status;
	void *rc_reply;
	size_t rc_reply_len;
};

static pthread_rwlock_t relay_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct dss_ctl *relay_ctl;
static char **relay_aps;
static uint32_t relay_ap_nr;
static uint32_t relay_next_ap;
static char relay_leader[DSS_CTL_ADDR_LEN];
static D_LIST_HEAD(relay_waiting);
static bool relay_stopping;
static uint32_t relay_test_method;
static struct svc_relay_stats relay_stats;

static void relay_attempt(struct relay_call *c);

static void
relay_call_put(struct relay_call *c)
{
	if (__atomic_sub_fetch(&c->rc_ref, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	dss_eventual_destroy(c->rc_ev);
	D_FREE(c->rc_body);
	D_FREE(c->rc_reply);
	D_FREE(c);
}

static void
relay_finish(struct relay_call *c, int status, const void *body, size_t len)
{
	c->rc_status = status;
	if (len > 0 && body != NULL) {
		D_ALLOC(c->rc_reply, len);
		if (c->rc_reply == NULL) {
			c->rc_status = -DER_NOMEM;
		} else {
			memcpy(c->rc_reply, body, len);
			c->rc_reply_len = len;
		}
	}
	dss_eventual_set(c->rc_ev, c);
	relay_call_put(c);
}

static void
relay_timer_cb(struct dss_ctl_timer *timer, void *arg)
{
	struct relay_call *c = arg;

	d_list_del_init(&c->rc_link);
	dss_ctl_timer_del(timer);
	c->rc_timer = NULL;
	relay_attempt(c);
}

/* Every access point failed in this round: try again after a pause, within the deadline. */
static void
relay_retry_later(struct relay_call *c)
{
	uint64_t now = d_now_ns();
	uint64_t ms = SVC_RELAY_RETRY_MS;
	int rc;

	if (now >= c->rc_deadline_ns) {
		relay_attempt(c);
		return;
	}
	if ((c->rc_deadline_ns - now) / 1000000 < ms)
		ms = (c->rc_deadline_ns - now) / 1000000 + 1;
	c->rc_tried = 0;
	c->rc_used_leader = false;
	rc = dss_ctl_timer_add(c->rc_ctl, ms, 0, relay_timer_cb, c, &c->rc_timer);
	if (rc != 0) {
		relay_finish(c, rc == -DER_SHUTDOWN ? -DER_SHUTDOWN : c->rc_last, NULL, 0);
		return;
	}
	d_list_add_tail(&c->rc_link, &relay_waiting);
}

/* The leader a -DER_NOTLEADER body names, into @buf (empty: none or garbage). */
static void
relay_hint_parse(const void *body, size_t len, char *buf, size_t buf_len)
{
	Mgmt__LeaderHint *hint;

	buf[0] = '\0';
	if (body == NULL || len == 0)
		return;
	hint = mgmt__leader_hint__unpack(NULL, len, body);
	if (hint == NULL)
		return;
	if (hint->leader != NULL && strlen(hint->leader) < buf_len)
		snprintf(buf, buf_len, "%s", hint->leader);
	mgmt__leader_hint__free_unpacked(hint, NULL);
}

static void
relay_outcome(struct relay_call *c, int rc, const void *body, size_t len)
{
	char leader[DSS_CTL_ADDR_LEN];

	if (rc == -DER_NOTLEADER || rc == -DER_UNREACH || rc == -DER_PROTO ||
	    (rc == -DER_SHUTDOWN && !relay_stopping)) {
		D_DEBUG("relay method %u: %s: " DF_RC "\n", c->rc_method, c->rc_addr, DP_RC(rc));
		c->rc_last = rc;
		if (strcmp(relay_leader, c->rc_addr) == 0)
			relay_leader[0] = '\0';
		if (rc == -DER_NOTLEADER) {
			relay_hint_parse(body, len, leader, sizeof(leader));
			if (leader[0] != '\0' && strcmp(leader, c->rc_addr) != 0 &&
			    c->rc_hops < RELAY_HOPS_MAX) {
				c->rc_hops++;
				__atomic_add_fetch(&relay_stats.srs_redirects, 1, __ATOMIC_RELAXED);
				snprintf(c->rc_hint, sizeof(c->rc_hint), "%s", leader);
				relay_attempt(c);
				return;
			}
		}
		if (c->rc_tried < relay_ap_nr)
			relay_attempt(c);
		else
			relay_retry_later(c);
		return;
	}
	/* an answer (or the call's own timeout, or our stop): the call is over */
	if (rc != -DER_TIMEDOUT && rc != -DER_SHUTDOWN)
		snprintf(relay_leader, sizeof(relay_leader), "%s", c->rc_addr);
	relay_finish(c, rc, body, len);
}

static void
relay_call_cb(int rc, const void *body, size_t len, void *arg)
{
	relay_outcome(arg, rc, body, len);
}

/* On the loop: send the call to the next candidate, or end it if its time is up. */
static void
relay_attempt(struct relay_call *c)
{
	uint64_t now = d_now_ns();
	uint64_t ms;
	int rc;

	if (relay_stopping) {
		relay_finish(c, -DER_SHUTDOWN, NULL, 0);
		return;
	}
	if (now >= c->rc_deadline_ns) {
		relay_finish(c, c->rc_last == -DER_NOTLEADER ? -DER_NOTLEADER : -DER_TIMEDOUT, NULL,
			     0);
		return;
	}
	if (c->rc_hint[0] != '\0') {
		snprintf(c->rc_addr, sizeof(c->rc_addr), "%s", c->rc_hint);
		c->rc_hint[0] = '\0';
	} else if (!c->rc_used_leader && relay_leader[0] != '\0') {
		snprintf(c->rc_addr, sizeof(c->rc_addr), "%s", relay_leader);
		c->rc_used_leader = true;
	} else {
		snprintf(c->rc_addr, sizeof(c->rc_addr), "%s",
			 relay_aps[relay_next_ap++ % relay_ap_nr]);
		c->rc_tried++;
	}
	ms = (c->rc_deadline_ns - now + 999999) / 1000000;
	rc = dss_ctl_call_async(c->rc_ctl, c->rc_addr, c->rc_method, c->rc_body, c->rc_len, ms,
				relay_call_cb, c);
	if (rc != 0)
		relay_outcome(c, rc, NULL, 0);
}

static void
relay_start_fn(void *arg)
{
	relay_attempt(arg);
}

static void
relay_stop_fn(void *arg)
{
	struct relay_call *c, *tmp;

	(void)arg;
	relay_stopping = true;
	d_list_for_each_entry_safe (c, tmp, &relay_waiting, rc_link) {
		d_list_del_init(&c->rc_link);
		dss_ctl_timer_del(c->rc_timer);
		c->rc_timer = NULL;
		relay_finish(c, -DER_SHUTDOWN, NULL, 0);
	}
}

static bool
relay_method_allowed(uint32_t method)
{
	return SVC_METHOD_ALLOWED(method) ||
	       (relay_test_method != 0 && method == relay_test_method);
}

static void
relay_reply(struct net_req *req, int status, const void *body, size_t len)
{
	struct svc_call_out out = {0};

	/* the reply must fit one message: bigger answers need bulk (README: not done) */
	if (len + 64 > net_context_inline_max(net_req_context(req))) {
		D_ERROR("relay: reply of %zu bytes does not fit a message\n", len);
		status = -DER_REC2BIG;
		body = NULL;
		len = 0;
	}
	out.so_status = status;
	d_iov_set(&out.so_body, (void *)body, len);
	net_reply_send(req, 0, &out);
}

void
ds_svc_relay_handler(struct net_req *req, void *body, void *arg)
{
	struct svc_call_in *in = body;
	struct relay_call *c;
	struct dss_ctl *ctl;
	uint64_t timeout_ms;
	void *value = NULL;
	int rc;

	(void)arg;
	if (!relay_method_allowed(in->si_method)) {
		D_DEBUG("relay: method %u refused\n", in->si_method);
		__atomic_add_fetch(&relay_stats.srs_refused, 1, __ATOMIC_RELAXED);
		relay_reply(req, -DER_NO_PERM, NULL, 0);
		return;
	}
	if (in->si_body.iov_len > SVC_BODY_MAX) {
		relay_reply(req, -DER_OVERFLOW, NULL, 0);
		return;
	}
	timeout_ms = in->si_timeout_ms == 0 ? SVC_RELAY_TIMEOUT_DEFAULT_MS : in->si_timeout_ms;
	if (timeout_ms > SVC_RELAY_TIMEOUT_MAX_MS)
		timeout_ms = SVC_RELAY_TIMEOUT_MAX_MS;

	D_ALLOC_PTR(c);
	if (c == NULL)
		goto out_nomem;
	rc = dss_eventual_create(&c->rc_ev);
	if (rc != 0)
		goto out_free;
	if (in->si_body.iov_len > 0) {
		D_ALLOC(c->rc_body, in->si_body.iov_len);
		if (c->rc_body == NULL)
			goto out_ev;
		memcpy(c->rc_body, in->si_body.iov_buf, in->si_body.iov_len);
		c->rc_len = in->si_body.iov_len;
	}
	c->rc_ref = 2;
	c->rc_method = in->si_method;
	c->rc_deadline_ns = d_now_ns() + timeout_ms * 1000000ULL;
	D_INIT_LIST_HEAD(&c->rc_link);

	pthread_rwlock_rdlock(&relay_lock);
	ctl = relay_ctl;
	c->rc_ctl = ctl;
	rc = ctl == NULL ? -DER_UNREACH : dss_ctl_exec(ctl, relay_start_fn, c);
	pthread_rwlock_unlock(&relay_lock);
	if (rc != 0) {
		/* the loop never saw it: not running (yet, or any more) */
		__atomic_add_fetch(&relay_stats.srs_refused, 1, __ATOMIC_RELAXED);
		c->rc_ref = 1;
		relay_call_put(c);
		relay_reply(req, -DER_UNREACH, NULL, 0);
		return;
	}
	__atomic_add_fetch(&relay_stats.srs_calls, 1, __ATOMIC_RELAXED);
	rc = dss_eventual_timedwait(c->rc_ev, &value, c->rc_deadline_ns + RELAY_GRACE_NS);
	if (rc != 0) {
		D_ERROR("relay: method %u not finished by the control thread\n", c->rc_method);
		relay_reply(req, -DER_TIMEDOUT, NULL, 0);
	} else {
		relay_reply(req, c->rc_status, c->rc_reply, c->rc_reply_len);
	}
	relay_call_put(c);
	return;

out_ev:
	dss_eventual_destroy(c->rc_ev);
out_free:
	D_FREE(c);
out_nomem:
	relay_reply(req, -DER_NOMEM, NULL, 0);
}

static void
relay_aps_free(void)
{
	uint32_t i;

	for (i = 0; i < relay_ap_nr; i++)
		D_FREE(relay_aps[i]);
	D_FREE(relay_aps);
	relay_ap_nr = 0;
}

int
ds_svc_relay_start(struct dss_ctl *ctl)
{
	const struct dss_engine *eng = dss_engine_get();
	const struct dss_config *cfg;
	char buf[DSS_CTL_ADDR_LEN];
	uint32_t nr, i;
	int rc;

	if (eng == NULL || eng->de_cfg == NULL)
		return -DER_UNINIT;
	cfg = eng->de_cfg;
	nr = cfg->dc_access_points.sv_nr;
	D_ALLOC_ARRAY(relay_aps, nr == 0 ? 1 : nr);
	if (relay_aps == NULL)
		return -DER_NOMEM;
	for (i = 0; i < nr; i++) {
		const char *ap = cfg->dc_access_points.sv_v[i];
		const char *colon = strrchr(ap, ':');
		const char *bracket = strrchr(ap, ']');

		/* "host" or "[v6]" without a port: the configured management port */
		if (colon == NULL || (bracket != NULL && bracket > colon))
			D_ASPRINTF(relay_aps[i], "%s:%u", ap, cfg->dc_port);
		else
			D_STRNDUP(relay_aps[i], ap, strlen(ap));
		if (relay_aps[i] == NULL) {
			relay_ap_nr = i;
			rc = -DER_NOMEM;
			goto out_free;
		}
	}
	relay_ap_nr = nr;
	if (nr == 0) {
		/* a system of one server: its own management service */
		rc = dss_ctl_listen_addr(ctl, buf, sizeof(buf));
		if (rc != 0)
			goto out_free;
		D_STRNDUP(relay_aps[0], buf, strlen(buf));
		if (relay_aps[0] == NULL) {
			rc = -DER_NOMEM;
			goto out_free;
		}
		relay_ap_nr = 1;
	}
	relay_next_ap = 0;
	relay_leader[0] = '\0';
	relay_stopping = false;
	pthread_rwlock_wrlock(&relay_lock);
	relay_ctl = ctl;
	pthread_rwlock_unlock(&relay_lock);
	return 0;

out_free:
	relay_aps_free();
	return rc;
}

void
ds_svc_relay_stop(void)
{
	struct dss_ctl *ctl;
	int rc;

	pthread_rwlock_wrlock(&relay_lock);
	ctl = relay_ctl;
	relay_ctl = NULL;
	pthread_rwlock_unlock(&relay_lock);
	if (ctl == NULL)
		return;
	rc = dss_ctl_exec_sync(ctl, relay_stop_fn, NULL);
	if (rc != 0)
		D_ERROR("relay: stop on the control thread: " DF_RC "\n", DP_RC(rc));
	/* the access points stay: calls in flight may still rotate until dss_ctl_stop */
}

void
ds_svc_relay_stats_get(struct svc_relay_stats *st)
{
	st->srs_calls = __atomic_load_n(&relay_stats.srs_calls, __ATOMIC_RELAXED);
	st->srs_refused = __atomic_load_n(&relay_stats.srs_refused, __ATOMIC_RELAXED);
	st->srs_redirects = __atomic_load_n(&relay_stats.srs_redirects, __ATOMIC_RELAXED);
}

static int
relay_init(void)
{
	const char *env = getenv(SVC_RELAY_TEST_METHOD_ENV);
	unsigned long m;
	char *end;

	relay_test_method = 0;
	if (env == NULL || env[0] == '\0')
		return 0;
	m = strtoul(env, &end, 10);
	if (*end == '\0' && (m == DSS_CTL_PING || m == DSS_CTL_GET_ATTACH_INFO ||
			     m == DSS_CTL_SYSTEM_QUERY || m == DSS_CTL_LEADER_QUERY)) {
		relay_test_method = (uint32_t)m;
		D_WARN("relay: test hook: method %u is relayed too\n", relay_test_method);
	} else {
		D_WARN("relay: %s=%s ignored (only 1, 100, 101 or 105)\n",
		       SVC_RELAY_TEST_METHOD_ENV, env);
	}
	return 0;
}

static int
relay_fini(void)
{
	relay_aps_free();
	return 0;
}

NET_HANDLERS_DEFINE(svc_handlers, SVC_RPCS);

struct dss_module svc_relay_module = {
    .sm_name = "svc",
    .sm_mod_id = NET_MODULE_SVC,
    .sm_init = relay_init,
    .sm_fini = relay_fini,
    .sm_proto = &svc_proto,
    .sm_handlers = svc_handlers,
    .sm_handler_nr = sizeof(svc_handlers) / sizeof(svc_handlers[0]),
};
