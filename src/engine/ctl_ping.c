/*
 * ctl_ping.c: daos_ctl_ping, a tiny client of the management port. It pings a server and
 * prints the round trip; with -w it keeps trying until the server answers, so that scripts
 * can wait for a server to come up. Uses the blocking client (ctl_client.c) only.
 *
 *	daos_ctl_ping [-j] [-c COUNT] [-s SIZE] [-t TIMEOUT_MS] [-w WAIT_S] ADDR:PORT
 *
 * Exit status: 0 when the server answered every ping, 1 otherwise, 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gurt/common.h>
#include <daos_srv/ctl.h>

#include "ctl/ctl.pb-c.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: daos_ctl_ping [-j] [-c COUNT] [-s SIZE] [-t TIMEOUT_MS] [-w WAIT_S] "
		     "ADDR:PORT\n"
		     "  -j          JSON output\n"
		     "  -c COUNT    pings on one connection (default 1)\n"
		     "  -s SIZE     payload bytes (default 0)\n"
		     "  -t MS       timeout of each ping, connection included (default 5000)\n"
		     "  -w SECONDS  keep trying to reach the server this long (default 0)\n");
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One ping on @cli: its round trip in *@rtt_ns and the server's system name. */
static int
ping_one(struct dss_ctl_client *cli, uint8_t *payload, size_t size, uint64_t timeout_ms,
	 uint64_t *rtt_ns, char *sys, size_t syslen)
{
	Ctl__PingReq in = CTL__PING_REQ__INIT;
	Ctl__PingResp *out;
	uint8_t buf[128];
	uint8_t *req = buf;
	size_t reply_len;
	void *reply;
	size_t len;
	int rc;

	in.payload.data = payload;
	in.payload.len = size;
	in.client_time = d_now_ns();
	len = ctl__ping_req__get_packed_size(&in);
	if (len > sizeof(buf)) {
		D_ALLOC_NZ(req, len);
		if (req == NULL)
			return -DER_NOMEM;
	}
	ctl__ping_req__pack(&in, req);
	rc = dss_ctl_client_call(cli, DSS_CTL_PING, req, len, timeout_ms, &reply, &reply_len);
	*rtt_ns = d_now_ns() - in.client_time;
	if (req != buf)
		D_FREE(req);
	if (rc != 0) {
		/* an error's reply may carry a body too */
		D_FREE(reply);
		return rc;
	}
	out = ctl__ping_resp__unpack(NULL, reply_len, reply);
	if (out == NULL || out->payload.len != size ||
	    (size > 0 && memcmp(out->payload.data, payload, size) != 0)) {
		rc = -DER_PROTO;
	} else {
		snprintf(sys, syslen, "%s", out->sys);
	}
	if (out != NULL)
		ctl__ping_resp__free_unpacked(out, NULL);
	D_FREE(reply);
	return rc;
}

int
main(int argc, char **argv)
{
	struct dss_ctl_client *cli = NULL;
	uint64_t timeout_ms = 5000;
	uint64_t wait_s = 0;
	uint64_t connect_ns = 0;
	uint64_t *rtts = NULL;
	uint8_t *payload = NULL;
	uint64_t deadline;
	uint64_t start;
	const char *addr;
	char sys[128] = "";
	bool json = false;
	long count = 1;
	long size = 0;
	long done = 0;
	long i;
	int rc;
	int c;

	static const struct option lopts[] = {
	    {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};

	while ((c = getopt_long(argc, argv, "jc:s:t:w:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'c':
			count = strtol(optarg, NULL, 0);
			break;
		case 's':
			size = strtol(optarg, NULL, 0);
			break;
		case 't':
			timeout_ms = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			wait_s = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || count < 1 || count > 1000000 || size < 0 || size > (1 << 24) ||
	    timeout_ms == 0) {
		usage(stderr);
		return 2;
	}
	addr = argv[optind];
	D_ALLOC_ARRAY(rtts, count);
	D_ALLOC(payload, size > 0 ? size : 1);
	if (rtts == NULL || payload == NULL) {
		fprintf(stderr, "daos_ctl_ping: out of memory\n");
		return 1;
	}
	for (i = 0; i < size; i++)
		payload[i] = (uint8_t)i;

	/* connect, retrying until the deadline with -w (a server coming up refuses) */
	deadline = d_now_ns() + wait_s * D_NSEC_PER_SEC;
	for (;;) {
		start = d_now_ns();
		rc = dss_ctl_client_open(addr, timeout_ms, &cli);
		if (rc == 0) {
			connect_ns = d_now_ns() - start;
			rc = ping_one(cli, payload, (size_t)size, timeout_ms, &rtts[0], sys,
				      sizeof(sys));
			if (rc == 0)
				break;
			dss_ctl_client_close(cli);
			cli = NULL;
		}
		if (rc == -DER_INVAL || d_now_ns() >= deadline)
			break;
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
	if (rc == 0) {
		done = 1;
		for (; done < count; done++) {
			rc = ping_one(cli, payload, (size_t)size, timeout_ms, &rtts[done], sys,
				      sizeof(sys));
			if (rc != 0)
				break;
		}
	}
	dss_ctl_client_close(cli);

	if (done > 0)
		qsort(rtts, (size_t)done, sizeof(rtts[0]), cmp_u64);
	if (json) {
		printf("{\"addr\":\"%s\",\"status\":%d,\"error\":\"%s\",\"sys\":\"%s\","
		       "\"count\":%ld,\"connect_us\":%.1f",
		       addr, rc, rc == 0 ? "" : d_errstr(rc), sys, done, connect_ns / 1e3);
		if (done > 0)
			printf(",\"rtt_us\":%.1f,\"rtt_min_us\":%.1f,\"rtt_max_us\":%.1f",
			       rtts[done / 2] / 1e3, rtts[0] / 1e3, rtts[done - 1] / 1e3);
		printf("}\n");
	} else if (rc == 0) {
		if (done == 1)
			printf("%s (%s): rtt %.1f us (connect %.1f us)\n", addr, sys, rtts[0] / 1e3,
			       connect_ns / 1e3);
		else
			printf("%s (%s): %ld pings, rtt median %.1f us, min %.1f us, max %.1f us "
			       "(connect %.1f us)\n",
			       addr, sys, done, rtts[done / 2] / 1e3, rtts[0] / 1e3,
			       rtts[done - 1] / 1e3, connect_ns / 1e3);
	} else {
		fprintf(stderr, "daos_ctl_ping: %s: %s (%d)%s%s\n", addr, d_errdesc(rc), rc,
			dss_ctl_client_tls_error()[0] != '\0' ? ": " : "",
			dss_ctl_client_tls_error());
	}
	D_FREE(rtts);
	D_FREE(payload);
	return rc == 0 ? 0 : 1;
}
