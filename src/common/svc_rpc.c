/*
 * svc_rpc.c: the codecs and opcode table of the service relay protocol (daos/svc_rpc.h),
 * shared by libdaos (the client, src/client/api/svc_call.c) and the engine (the relay,
 * src/engine/srv_relay.c).
 */
#include <string.h>

#include <daos/svc_rpc.h>

NET_CODEC_DEFINE(svc_call_in, SVC_CALL_IN_FIELDS)
NET_CODEC_DEFINE(svc_call_out, SVC_CALL_OUT_FIELDS)

NET_PROTO_DEFINE(svc_proto, "svc", NET_MODULE_SVC, SVC_RPCS);
