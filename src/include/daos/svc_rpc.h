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
 * Client side: call service method @method with request @req and unpack the answer as
 * @resp_desc into a new *@resp (free with protobuf_c_message_free_unpacked). The call goes
 * to the system context of a rank of @pool's map (NULL: of the attach info), trying the next
 * rank when one is unreachable. Returns the transport error, or the status of the answer
 * (the reply message's `status` field when it has one), which is then also in *@resp.
 *
 * Context: any thread that may block.
 */
int dc_svc_call(struct dc_pool *pool, uint32_t method, const struct ProtobufCMessage *req,
		const struct ProtobufCMessageDescriptor *resp_desc, struct ProtobufCMessage **resp);

#endif /* DAOS_SVC_RPC_H */
