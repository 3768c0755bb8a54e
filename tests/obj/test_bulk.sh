#!/usr/bin/env bash
# test_bulk.sh DAOS_SERVER DAOS_CTL_PING BULK_TEST DAOS_AGENT: values moved by bulk (17 KiB to
# 9 MiB, 64 in flight, through the targets' reused buffers) checked byte for byte, a fetch into
# a short buffer, and requests whose bulk disagrees with their lengths sent straight to a
# target (bulk_test.c), against a real daos_server with 4 targets and a daos_agent. The server
# and the agent are killed by the EXIT trap whatever happens.
set -u


. "$(dirname "$0")/../lib/server.sh"
t_args BIN:daos_server CTL_PING:daos_ctl_ping TEST:bulk_test AGENT:daos_agent -- "$@"
t_init test_obj_bulk
SRV_BIN=$BIN
t_ports 32704 4 # 32704-32735 (tests/README.md)

srv_config 4 >"$TMP/daos_server.yml"
srv_storage 2GiB 8GiB >>"$TMP/daos_server.yml"
srv_agent_up "$CTL_PING" "$AGENT"
srv_client_pass "object bulk I/O against daos_server" "$TEST" "$ADDR" "$FAB_PORT"
