/*
 * perf_wal.h: the server's WAL counters for the benchmarks' "records per flush" figures
 * (daos_perf, dfs_perf). Header only: each benchmark is one file. The includer links the
 * management-port client (daos_srv/ctl.h) and the ctl protobuf code.
 */
#ifndef PERF_WAL_H
#define PERF_WAL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <daos_srv/ctl.h>

#include "ctl/ctl.pb-c.h"

enum { PERF_WAL_APPENDS, PERF_WAL_FLUSHES, PERF_WAL_SYNCS, PERF_WAL_N };

/*
 * The WAL counters of the server at @addr summed over its targets (engine/wal/..., through
 * the management port's Telemetry method), indexed by PERF_WAL_*. All zero if @addr is NULL
 * or the server does not answer (the figures are then printed as 0).
 */
static inline void
perf_wal_counts(const char *addr, uint64_t wal[PERF_WAL_N])
{
	static const char *const names[PERF_WAL_N] = {
	    "daos_engine_wal_appends{", "daos_engine_wal_flushes{", "daos_engine_wal_syncs{"};
	Ctl__TelemetryReq req = CTL__TELEMETRY_REQ__INIT;
	Ctl__TelemetryResp *resp = NULL;
	struct dss_ctl_client *cli;
	uint8_t buf[16];
	void *reply = NULL;
	size_t len;
	char *line;
	char *save = NULL;
	int i;

	for (i = 0; i < PERF_WAL_N; i++)
		wal[i] = 0;
	if (addr == NULL || dss_ctl_client_open(addr, 10000, &cli) != 0)
		return;
	len = ctl__telemetry_req__pack(&req, buf);
	if (dss_ctl_client_call(cli, DSS_CTL_TELEMETRY, buf, len, 10000, &reply, &len) == 0)
		resp = ctl__telemetry_resp__unpack(NULL, len, reply);
	for (line = resp != NULL ? strtok_r(resp->text, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' ');

		for (i = 0; i < PERF_WAL_N && sp != NULL; i++)
			if (strncmp(line, names[i], strlen(names[i])) == 0)
				wal[i] += strtoull(sp + 1, NULL, 10);
	}
	if (resp != NULL)
		ctl__telemetry_resp__free_unpacked(resp, NULL);
	free(reply);
	dss_ctl_client_close(cli);
}

#endif /* PERF_WAL_H */
