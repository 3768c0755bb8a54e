/*
 * daos/svc_rpc.h: how libdaos reaches the management service over the fabric (module svc).
 *
 * Pool handles and containers live in the management service (src/mgmt), which listens on
 * the management port of the access points. A client talks only to the fabric: it sends
 * SVC_OPC_CALL to the system context of any engine it knows (from the attach info, or from
 * the pool map once connected); that engine's relay (src/engine/srv_relay.c) hands the call
 * to its control thread, which forwards it to the service leader (following leader hints)
 * and sends the leader's answer back as the reply. The body is the packed request message of
 * the method (src/proto/mgmt/cont.proto), the reply body the packed answer; methods outside
 * SVC_METHOD_ALLOWED are refused with -DER_NO_PERM, so a client can never reach pool create,
 * destroy or system methods this way.
 */
#ifndef DAOS_SVC_RPC_H
#define DAOS_SVC_RPC_H

#include <daos/net.h>
#include <daos_types.h>

#define NET_MODULE_SVC 3

enum {
	SVC_OPC_CALL = NET_OPC(NET_MODULE_SVC, 0),
};

/** Largest request or reply body relayed. */
#define SVC_BODY_MAX (1U << 20)

/** The methods a client may call through the relay: 220..299 (cont.proto). */
#define SVC_METHOD_ALLOWED(m) ((m) >= 220 && (m) <= 299)

/*
 * si_method: a ctl method id (daos_srv/ctl.h, enum ctl.Method); si_timeout_ms: how long the
 * relay may wait for the service (0: its default). so_status is the service's status (or the
 * relay's: -DER_NO_PERM, -DER_UNREACH, -DER_TIMEDOUT, -DER_NOTLEADER when no leader answers);
 * so_body the packed reply message, possibly empty.
 */
#define SVC_CALL_IN_FIELDS(F)                                                                      \
	F(u32, si_method, 0)                                                                       \
	F(u32, si_timeout_ms, 0)                                                                   \
	F(bytes, si_body, SVC_BODY_MAX)
#define SVC_CALL_OUT_FIELDS(F)                                                                     \
	F(i32, so_status, 0)                                                                       \
	F(bytes, so_body, SVC_BODY_MAX)

NET_STRUCT(svc_call_in, SVC_CALL_IN_FIELDS);
NET_STRUCT(svc_call_out, SVC_CALL_OUT_FIELDS);

#define SVC_RPCS(X) X(SVC_OPC_CALL, svc_call, svc_call_in, svc_call_out, ds_svc_relay_handler)

/** The table, registered by libdaos (daos_init) and by the engine. */
extern const struct net_proto svc_proto;

struct ProtobufCMessage;
struct ProtobufCMessageDescriptor;
struct dc_pool;

/**
 * What a service call does with its outcome: @rc (the transport error, the relay's or
 * service's status, or the answer's `status` field) and, when @rc is 0, the decoded answer
 * in *@resp (NULL without a descriptor); the callback may keep it (setting *@resp to NULL;
 * free it with protobuf_c_message_free_unpacked), else it is freed after. It returns the
 * result the event completes with, or DC_SVC_MORE when it started another operation that
 * will complete @ev (e.g. dc_svc_send on @ev). It runs exactly once, in the thread that
 * progresses the event's queue (or in the caller's, when the call fails before sending);
 * @resp and @ev are NULL when the event could not even be launched (dc_svc_call_ev).
 */
struct daos_event;
typedef int (*dc_svc_cb_t)(void *arg, int rc, struct ProtobufCMessage **resp,
			   struct daos_event *ev);
#define DC_SVC_MORE 1

/**
 * Send service method @method with request @req (packed before this returns: it may be freed
 * then) on the running event @ev, and return: the answer is unpacked as @resp_desc and
 * handed to @cb (see dc_svc_cb_t), then @ev is completed with what @cb returns. The engines
 * are tried as dc_svc_call's. Always returns 0: every failure goes through @cb and @ev.
 *
 * Context: any thread, including a network callback of @ev's queue.
 */
int dc_svc_send(struct daos_event *ev, struct dc_pool *pool, uint32_t method,
		const struct ProtobufCMessage *req,
		const struct ProtobufCMessageDescriptor *resp_desc, dc_svc_cb_t cb, void *arg);

/**
 * An API call over the service: launch @ev (NULL: a private event, waited for), then
 * dc_svc_send on it. Returns what dc_ev_begin/dc_ev_end return: with @ev, 0 once sent (the
 * result is the event's); without, the call's result. If @ev cannot be launched, @cb is
 * called with that error (and NULL @resp and @ev) so that it frees its @arg.
 */
int dc_svc_call_ev(struct daos_event *ev, struct dc_pool *pool, uint32_t method,
		   const struct ProtobufCMessage *req,
		   const struct ProtobufCMessageDescriptor *resp_desc, dc_svc_cb_t cb, void *arg);

/**
 * Client side: call service method @method with request @req and unpack the answer as
 * @resp_desc into a new *@resp (free with protobuf_c_message_free_unpacked). The call goes
 * to the system context of a rank of @pool's map (NULL: of the attach info), trying the next
 * rank when one is unreachable. Returns the transport error, or the status of the answer
 * (the reply message's `status` field when it has one); *@resp is set only on success.
 *
 * Context: any thread that may block.
 */
int dc_svc_call(struct dc_pool *pool, uint32_t method, const struct ProtobufCMessage *req,
		const struct ProtobufCMessageDescriptor *resp_desc, struct ProtobufCMessage **resp);

#endif /* DAOS_SVC_RPC_H */
