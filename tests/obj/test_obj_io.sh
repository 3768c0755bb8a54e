#!/usr/bin/env bash
# test_obj_io.sh DAOS_SERVER DAOS_CTL_PING OBJ_IO_TEST DAOS_AGENT: libdaos's object API
# against a real daos_server with 4 targets and a daos_agent: obj_io_test creates a pool on
# every target and a container through the management service and runs a random sequence of
# object operations checked against a model (see obj_io_test.c). The server and the agent
# are killed by the EXIT trap whatever happens.
set -u

OPS=${OBJ_IO_OPS:-2000}

. "$(dirname "$0")/../lib/server.sh"
t_args BIN:daos_server CTL_PING:daos_ctl_ping TEST:obj_io_test AGENT:daos_agent -- "$@"
t_init test_obj_io
SRV_BIN=$BIN
# A block of its own (2000-5999; tests/README.md): with 4 targets the server uses 6 ports
# (management, a fabric port per target and the system context), more than a slot shared
# with the other server tests leaves.
t_ports 2000 500

srv_config 4 >"$TMP/daos_server.yml"
srv_storage 2GiB 8GiB >>"$TMP/daos_server.yml"
srv_agent_up "$CTL_PING" "$AGENT"
srv_client_pass "object I/O against daos_server" "$TEST" "$ADDR" "$OPS"
