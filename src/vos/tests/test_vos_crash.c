/*
 * test_vos_crash.c: crash test of the whole VOS stack -- object API, trees, heap, WAL,
 * checkpoints, data file. A child applies random operations through vos_obj_update and
 * vos_obj_punch (single values and array extents, in the heap and in the data file, several
 * iods per call), waits for durability in batches (group commit) and reports each
 * acknowledged operation through a pipe; the parent kill -9s it at a random instant,
 * reopens the pool and checks the store against a model built from the operations.
 *
 * Operation k is a pure function of (seed, k) and runs at epoch k, so the parent rebuilds
 * it from its number alone. Because every operation has its own epoch and nothing is
 * overwritten, a fetch at epoch k shows exactly whether operation k is there, whatever
 * came after it. After a crash, for every operation the child announced:
 *   - an acknowledged one must be there, entirely;
 *   - an unacknowledged one may be there or not, but never in part (each writes or punches
 *     several akeys in one call: all of them or none);
 *   - what survives is a prefix of the announced operations (the WAL replays in order);
 *   - every key reads, at the latest epoch and at sampled older epochs, as the model of
 *     the surviving operations says.
 * A container holds at most CONT_OPS operations, then the parent destroys it and starts a
 * new one (space is not reclaimed otherwise); the children's polls garbage-collect it, so
 * kills land in the middle of GC steps too.
 *
 * t_gc_crash kills a child while it garbage-collects destroyed containers and the keys
 * aggregation detached (and writes a live container); every other round the child dies at
 * the GC kill point (D_FI_GC_KILL) with garbage certainly left: every acknowledged write survives,
 * the aggregated container's accounting equals the bytes it holds, and once everything is
 * destroyed and collected the pool holds exactly the space of an empty one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gurt/common.h>
#include <daos_srv/vos.h>
#include <d_test.h>

#include "vos_internal.h"

#define NOBJ 2
#define NDKEY 3
#define NAKEY 4 /* akeys 0, 1: single values; 2, 3: arrays of 1-byte records */
#define ARR_LEN 65536
#define SV_MAX 24576
#define CONT_OPS 1200 /* operations per container before it is replaced */
#define MAX_IODS 4

enum op_kind {
	OP_UPDATE,
	OP_PUNCH_AKEYS,
	OP_PUNCH_DKEY,
	OP_PUNCH_OBJ,
};

/* One value written by an operation. */
struct op_val {
	int v_akey;
	uint64_t v_size;    /* single value bytes */
	unsigned int v_nrx; /* array: 1 or 2 extents */
	daos_recx_t v_rx[2];
	uint8_t *v_data; /* single: v_size bytes; array: the extents' bytes, in order */
	uint64_t v_bytes;
};

struct op {
	uint64_t o_k;
	enum op_kind o_kind;
	int o_obj;
	int o_dkey;
	unsigned int o_nval; /* update: values; akey punch: akeys */
	struct op_val o_val[MAX_IODS];
};

/* The model: per akey, its events by epoch. */
struct m_ev {
	uint64_t e_epoch;
	bool e_punch;
	struct op_val e_val; /* owned copy of the data */
};

struct m_akey {
	struct m_ev *a_ev;
	unsigned int a_nr, a_cap;
};

static struct m_akey model[NOBJ][NDKEY][NAKEY];

static char dir[64];
static char path[128];
static uuid_t pool_uuid;
static uuid_t cont_uuid;
static unsigned int seed;
static uint8_t arr_want[ARR_LEN], arr_got[ARR_LEN], sv_got[SV_MAX];

static daos_unit_oid_t
obj_id(int o)
{
	daos_unit_oid_t oid = {0};

	oid.id_pub.lo = 100 + (uint64_t)o;
	oid.id_pub.hi = 0x77;
	daos_obj_set_oid(&oid.id_pub, o == 0 ? DAOS_OT_MULTI_HASHED : DAOS_OT_MULTI_LEXICAL, 0, 1,
			 0);
	return oid;
}

static char key_names[2][NAKEY > NDKEY ? NAKEY : NDKEY][4];

static daos_key_t
key_of(bool dkey, int i)
{
	daos_key_t k;

	d_iov_set(&k, key_names[dkey ? 0 : 1][i], 2);
	return k;
}

/* Byte values 1..255, so that written data never reads like a hole. */
static void
fill_rand(uint64_t *rs, uint8_t *buf, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(d_test_rand(rs) % 255 + 1);
}

static uint64_t
rand_size(uint64_t *rs)
{
	switch (d_test_rand(rs) % 3) {
	case 0:
		return 1 + d_test_rand(rs) % 300;
	case 1:
		return 300 + d_test_rand(rs) % (VOS_DATA_THRESH - 300);
	default:
		return VOS_DATA_THRESH + d_test_rand(rs) % (SV_MAX - VOS_DATA_THRESH);
	}
}

/* Operation @k: a function of (seed, k) only. */
static void
op_gen(uint64_t k, struct op *op)
{
	uint64_t rs = d_test_rand_seed(seed) ^ (k * 0x9E3779B97F4A7C15ULL);
	unsigned int i, r, p;
	bool used[NAKEY] = {false};

	d_test_rand(&rs);
	memset(op, 0, sizeof(*op));
	op->o_k = k;
	op->o_obj = (int)(d_test_rand(&rs) % NOBJ);
	op->o_dkey = (int)(d_test_rand(&rs) % NDKEY);
	p = (unsigned int)(d_test_rand(&rs) % 100);
	if (p < 2) {
		op->o_kind = OP_PUNCH_OBJ;
		return;
	}
	if (p < 6) {
		op->o_kind = OP_PUNCH_DKEY;
		return;
	}
	op->o_kind = p < 14 ? OP_PUNCH_AKEYS : OP_UPDATE;
	op->o_nval = op->o_kind == OP_UPDATE ? 2 + (unsigned int)(d_test_rand(&rs) % 3)
					     : 1 + (unsigned int)(d_test_rand(&rs) % 2);
	for (i = 0; i < op->o_nval; i++) {
		struct op_val *v = &op->o_val[i];
		int a;

		do {
			a = (int)(d_test_rand(&rs) % NAKEY);
		} while (used[a]);
		used[a] = true;
		v->v_akey = a;
		if (op->o_kind != OP_UPDATE)
			continue;
		if (a < 2) {
			v->v_size = rand_size(&rs);
			v->v_bytes = v->v_size;
		} else {
			/* disjoint extents: one in each half */
			v->v_nrx = 1 + (unsigned int)(d_test_rand(&rs) % 2);
			for (r = 0; r < v->v_nrx; r++) {
				uint64_t nr = rand_size(&rs) % (ARR_LEN / 2) + 1;

				v->v_rx[r].rx_nr = nr;
				v->v_rx[r].rx_idx =
				    r * (ARR_LEN / 2) + d_test_rand(&rs) % (ARR_LEN / 2 - nr + 1);
				v->v_bytes += nr;
			}
		}
		v->v_data = malloc(v->v_bytes);
		assert_non_null(v->v_data);
		fill_rand(&rs, v->v_data, v->v_bytes);
	}
}

static void
op_fini(struct op *op)
{
	unsigned int i;

	for (i = 0; i < op->o_nval; i++)
		free(op->o_val[i].v_data);
}

/* Apply @op at epoch o_k. Returns the vos rc. */
static int
op_apply(daos_handle_t coh, struct op *op)
{
	daos_unit_oid_t oid = obj_id(op->o_obj);
	daos_key_t dkey = key_of(true, op->o_dkey);
	daos_key_t akeys[MAX_IODS];
	daos_iod_t iods[MAX_IODS];
	d_sg_list_t sgls[MAX_IODS];
	d_iov_t iovs[MAX_IODS];
	unsigned int i;

	memset(iods, 0, sizeof(iods));
	switch (op->o_kind) {
	case OP_PUNCH_OBJ:
		return vos_obj_punch(coh, oid, op->o_k, 0, 0, NULL, 0, NULL, NULL);
	case OP_PUNCH_DKEY:
		return vos_obj_punch(coh, oid, op->o_k, 0, 0, &dkey, 0, NULL, NULL);
	case OP_PUNCH_AKEYS:
		for (i = 0; i < op->o_nval; i++)
			akeys[i] = key_of(false, op->o_val[i].v_akey);
		return vos_obj_punch(coh, oid, op->o_k, 0, 0, &dkey, op->o_nval, akeys, NULL);
	case OP_UPDATE:
		break;
	}
	for (i = 0; i < op->o_nval; i++) {
		struct op_val *v = &op->o_val[i];

		iods[i].iod_name = key_of(false, v->v_akey);
		if (v->v_akey < 2) {
			iods[i].iod_type = DAOS_IOD_SINGLE;
			iods[i].iod_size = v->v_size;
			iods[i].iod_nr = 1;
		} else {
			iods[i].iod_type = DAOS_IOD_ARRAY;
			iods[i].iod_size = 1;
			iods[i].iod_nr = v->v_nrx;
			iods[i].iod_recxs = v->v_rx;
		}
		d_iov_set(&iovs[i], v->v_data, v->v_bytes);
		sgls[i].sg_nr = 1;
		sgls[i].sg_nr_out = 0;
		sgls[i].sg_iovs = &iovs[i];
	}
	return vos_obj_update(coh, oid, op->o_k, 0, 0, &dkey, op->o_nval, iods, NULL, sgls);
}

/*
 * The child.
 */

enum { MSG_INTENT = 1, MSG_ACK = 2, MSG_READY = 3 };

struct msg {
	uint32_t m_type;
	uint32_t m_pad;
	uint64_t m_k;
};

static void
send_msg(int fd, uint32_t type, uint64_t k)
{
	struct msg m = {.m_type = type, .m_k = k};

	if (write(fd, &m, sizeof(m)) != sizeof(m))
		_exit(4);
}

/* Apply operations @start..@end, acknowledging durable ones in batches of 1..8. */
static void __attribute__((noreturn)) crash_child(int fd, uint64_t start, uint64_t end)
{
	uint64_t rs = d_test_rand_seed(seed) ^ start;
	daos_handle_t poh, coh;
	unsigned int batch = 0, want = 1;
	struct op op;
	uint64_t k;
	int rc;

	rc = vos_pool_open(path, pool_uuid, 0, NULL, &poh);
	if (rc != 0)
		_exit(2);
	rc = vos_cont_open(poh, cont_uuid, &coh);
	if (rc != 0)
		_exit(2);
	send_msg(fd, MSG_READY, 0);
	for (k = start; k <= end; k++) {
		op_gen(k, &op);
		send_msg(fd, MSG_INTENT, k);
		rc = op_apply(coh, &op);
		op_fini(&op);
		if (rc != 0) {
			fprintf(stderr, "child: op %" PRIu64 ": " DF_RC "\n", k, DP_RC(rc));
			_exit(3);
		}
		if (++batch >= want || k == end) {
			/* many operations in flight, one wait: they share the flushes */
			if (vos_pool_wait(poh, vos_pool_last_lsn(poh)) != 0)
				_exit(5);
			send_msg(fd, MSG_ACK, k);
			batch = 0;
			want = 1 + (unsigned int)(d_test_rand(&rs) % 8);
		}
		if (vos_pool_poll(poh) < 0)
			_exit(6);
	}
	/* the container is full: wait to be killed */
	for (;;)
		pause();
}

/*
 * The model.
 */

static void
model_add(int o, int d, int a, uint64_t epoch, bool punch, const struct op_val *v)
{
	struct m_akey *ma = &model[o][d][a];
	struct m_ev *ev;

	if (ma->a_nr == ma->a_cap) {
		ma->a_cap = ma->a_cap == 0 ? 16 : ma->a_cap * 2;
		ma->a_ev = realloc(ma->a_ev, ma->a_cap * sizeof(*ma->a_ev));
		assert_non_null(ma->a_ev);
	}
	ev = &ma->a_ev[ma->a_nr++];
	memset(ev, 0, sizeof(*ev));
	ev->e_epoch = epoch;
	ev->e_punch = punch;
	if (v != NULL) {
		ev->e_val = *v;
		ev->e_val.v_data = malloc(v->v_bytes);
		assert_non_null(ev->e_val.v_data);
		memcpy(ev->e_val.v_data, v->v_data, v->v_bytes);
	}
}

static void
model_apply(const struct op *op)
{
	unsigned int i;
	int d, a;

	switch (op->o_kind) {
	case OP_PUNCH_OBJ:
		for (d = 0; d < NDKEY; d++)
			for (a = 0; a < NAKEY; a++)
				model_add(op->o_obj, d, a, op->o_k, true, NULL);
		break;
	case OP_PUNCH_DKEY:
		for (a = 0; a < NAKEY; a++)
			model_add(op->o_obj, op->o_dkey, a, op->o_k, true, NULL);
		break;
	case OP_PUNCH_AKEYS:
		for (i = 0; i < op->o_nval; i++)
			model_add(op->o_obj, op->o_dkey, op->o_val[i].v_akey, op->o_k, true, NULL);
		break;
	case OP_UPDATE:
		for (i = 0; i < op->o_nval; i++)
			model_add(op->o_obj, op->o_dkey, op->o_val[i].v_akey, op->o_k, false,
				  &op->o_val[i]);
		break;
	}
}

static void
model_reset(void)
{
	unsigned int i;
	int o, d, a;

	for (o = 0; o < NOBJ; o++)
		for (d = 0; d < NDKEY; d++)
			for (a = 0; a < NAKEY; a++) {
				struct m_akey *ma = &model[o][d][a];

				for (i = 0; i < ma->a_nr; i++)
					free(ma->a_ev[i].e_val.v_data);
				free(ma->a_ev);
				memset(ma, 0, sizeof(*ma));
			}
}

/* Single value of an akey at @epoch: *@size (0: none), the bytes returned. */
static const uint8_t *
model_sv(int o, int d, int a, uint64_t epoch, uint64_t *size)
{
	struct m_akey *ma = &model[o][d][a];
	unsigned int i;

	*size = 0;
	for (i = ma->a_nr; i-- > 0;) {
		struct m_ev *ev = &ma->a_ev[i];

		if (ev->e_epoch > epoch)
			continue;
		if (ev->e_punch)
			return NULL;
		*size = ev->e_val.v_size;
		return ev->e_val.v_data;
	}
	return NULL;
}

/* Array of an akey at @epoch into @buf (ARR_LEN bytes, zero = hole); any data? */
static bool
model_ar(int o, int d, int a, uint64_t epoch, uint8_t *buf)
{
	struct m_akey *ma = &model[o][d][a];
	unsigned int i, first = 0, r;
	bool any = false;

	memset(buf, 0, ARR_LEN);
	for (i = 0; i < ma->a_nr && ma->a_ev[i].e_epoch <= epoch; i++)
		if (ma->a_ev[i].e_punch)
			first = i + 1;
	for (i = first; i < ma->a_nr && ma->a_ev[i].e_epoch <= epoch; i++) {
		const struct op_val *v = &ma->a_ev[i].e_val;
		uint64_t off = 0;

		for (r = 0; r < v->v_nrx; r++) {
			memcpy(buf + v->v_rx[r].rx_idx, v->v_data + off, v->v_rx[r].rx_nr);
			off += v->v_rx[r].rx_nr;
			any = true;
		}
	}
	return any;
}

/*
 * Reads of the store.
 */

/* Fetch a single value at @epoch into sv_got: its size. */
static uint64_t
read_sv(daos_handle_t coh, int o, int d, int a, uint64_t epoch)
{
	daos_key_t dkey = key_of(true, d);
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;

	iod.iod_name = key_of(false, a);
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = DAOS_REC_ANY;
	iod.iod_nr = 1;
	d_iov_set(&iov, sv_got, sizeof(sv_got));
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	assert_int_equal(vos_obj_fetch(coh, obj_id(o), epoch, 0, &dkey, 1, &iod, &sgl), 0);
	return iod.iod_size;
}

/* Fetch the whole array at @epoch into arr_got (zero-filled where nothing is): any data? */
static bool
read_ar(daos_handle_t coh, int o, int d, int a, uint64_t epoch)
{
	daos_key_t dkey = key_of(true, d);
	daos_recx_t rx = {.rx_idx = 0, .rx_nr = ARR_LEN};
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;

	iod.iod_name = key_of(false, a);
	iod.iod_type = DAOS_IOD_ARRAY;
	iod.iod_size = DAOS_REC_ANY;
	iod.iod_nr = 1;
	iod.iod_recxs = &rx;
	memset(arr_got, 0, sizeof(arr_got));
	d_iov_set(&iov, arr_got, sizeof(arr_got));
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	assert_int_equal(vos_obj_fetch(coh, obj_id(o), epoch, 0, &dkey, 1, &iod, &sgl), 0);
	if (iod.iod_size == 0)
		return false;
	assert_int_equal(iod.iod_size, 1);
	return true;
}

/* Does akey (o, d, a) read at @epoch as the model says (the model up to @epoch)? */
static bool
akey_matches(daos_handle_t coh, int o, int d, int a, uint64_t epoch)
{
	if (a < 2) {
		uint64_t want_sz, got_sz;
		const uint8_t *want = model_sv(o, d, a, epoch, &want_sz);

		got_sz = read_sv(coh, o, d, a, epoch);
		return got_sz == want_sz && (want_sz == 0 || memcmp(want, sv_got, want_sz) == 0);
	}
	return read_ar(coh, o, d, a, epoch) == model_ar(o, d, a, epoch, arr_want) &&
	       memcmp(arr_want, arr_got, ARR_LEN) == 0;
}

/* Where the crash loop is, for the report of a mismatch. */
static struct {
	unsigned int cs_round;
	uint64_t cs_cont_start;
	uint64_t cs_acked;
	uint64_t cs_last_intent;
	uint64_t cs_modeled;
	bool cs_replayed; /* the child started from a WAL replay, not a checkpoint */
} crash_state;

/*
 * Say what an akey that differs from the model holds: the model's events, how the store
 * reads at each of their epochs, and what it reads at @epoch -- enough to tell a lost
 * event from one that came back or a read that goes wrong at one epoch only.
 */
static void
akey_report(daos_handle_t coh, int o, int d, int a, uint64_t epoch)
{
	struct m_akey *ma = &model[o][d][a];
	unsigned int i;
	uint64_t sz;

	print_error("round %u (cont from op %" PRIu64 ", acked %" PRIu64 ", announced %" PRIu64
		    ", modeled %" PRIu64 ", child started from %s)\n",
		    crash_state.cs_round, crash_state.cs_cont_start, crash_state.cs_acked,
		    crash_state.cs_last_intent, crash_state.cs_modeled,
		    crash_state.cs_replayed ? "a replay" : "a checkpoint");
	for (i = 0; i < ma->a_nr; i++) {
		struct m_ev *ev = &ma->a_ev[i];

		print_error("  model: epoch %" PRIu64 " %s size %" PRIu64 ": store %s\n",
			    ev->e_epoch, ev->e_punch ? "punch" : "write", ev->e_val.v_bytes,
			    akey_matches(coh, o, d, a, ev->e_epoch) ? "matches" : "DIFFERS");
	}
	if (a < 2) {
		model_sv(o, d, a, epoch, &sz);
		print_error("  at %" PRIu64 ": model size %" PRIu64 ", store size %" PRIu64 "\n",
			    epoch, sz, read_sv(coh, o, d, a, epoch));
	} else {
		unsigned int first = ARR_LEN;

		model_ar(o, d, a, epoch, arr_want);
		read_ar(coh, o, d, a, epoch);
		for (i = 0; i < ARR_LEN && first == ARR_LEN; i++)
			if (arr_want[i] != arr_got[i])
				first = i;
		print_error("  at %" PRIu64 ": first differing byte %u (model %u, store %u)\n",
			    epoch, first, first < ARR_LEN ? arr_want[first] : 0,
			    first < ARR_LEN ? arr_got[first] : 0);
	}
}

static void
check_all(daos_handle_t coh, uint64_t epoch)
{
	int o, d, a;

	for (o = 0; o < NOBJ; o++)
		for (d = 0; d < NDKEY; d++)
			for (a = 0; a < NAKEY; a++) {
				if (akey_matches(coh, o, d, a, epoch))
					continue;
				akey_report(coh, o, d, a, epoch);
				fail_msg(
				    "akey o%d d%d a%d differs from the model at epoch %" PRIu64, o,
				    d, a, epoch);
			}
}

/* The akeys operation @op touches, as (dkey, akey) pairs; returns how many. */
static unsigned int
op_akeys(const struct op *op, int *ds, int *as)
{
	unsigned int n = 0, i;
	int d, a;

	switch (op->o_kind) {
	case OP_PUNCH_OBJ:
		for (d = 0; d < NDKEY; d++)
			for (a = 0; a < NAKEY; a++, n++) {
				ds[n] = d;
				as[n] = a;
			}
		break;
	case OP_PUNCH_DKEY:
		for (a = 0; a < NAKEY; a++, n++) {
			ds[n] = op->o_dkey;
			as[n] = a;
		}
		break;
	default:
		for (i = 0; i < op->o_nval; i++, n++) {
			ds[n] = op->o_dkey;
			as[n] = op->o_val[i].v_akey;
		}
		break;
	}
	return n;
}

/*
 * Is operation @op in the store? The model holds everything before it. Reads at its epoch
 * each touched akey: as the model with the operation (present), as the model without it
 * (absent), or both (undecided: e.g. a punch of what was already gone). A mix of present
 * and absent, or a read that is neither, fails the test. Returns 1 present, 0 absent, -1
 * undecided.
 */
static int
op_present(daos_handle_t coh, const struct op *op)
{
	int ds[NDKEY * NAKEY], as[NDKEY * NAKEY];
	bool with[NDKEY * NAKEY], without[NDKEY * NAKEY];
	unsigned int n, i, nwith = 0, nwithout = 0;
	struct m_akey saved[NDKEY][NAKEY];
	int o = op->o_obj;

	n = op_akeys(op, ds, as);
	for (i = 0; i < n; i++)
		without[i] = akey_matches(coh, o, ds[i], as[i], op->o_k);
	/* the model with the operation, then back (its events are the last ones) */
	memcpy(saved, model[o], sizeof(saved));
	model_apply(op);
	for (i = 0; i < n; i++)
		with[i] = akey_matches(coh, o, ds[i], as[i], op->o_k);
	for (i = 0; i < n; i++) {
		struct m_akey *ma = &model[o][ds[i]][as[i]];

		if (ma->a_nr > saved[ds[i]][as[i]].a_nr) {
			free(ma->a_ev[ma->a_nr - 1].e_val.v_data);
			ma->a_nr--;
		}
	}
	for (i = 0; i < n; i++) {
		if (!with[i] && !without[i])
			fail_msg("op %" PRIu64 " (kind %d): akey d%d a%d reads as neither before "
				 "nor after it",
				 op->o_k, op->o_kind, ds[i], as[i]);
		if (with[i] && !without[i])
			nwith++;
		if (without[i] && !with[i])
			nwithout++;
	}
	if (nwith > 0 && nwithout > 0)
		fail_msg("op %" PRIu64 " (kind %d) is half applied: %u akeys in, %u out", op->o_k,
			 op->o_kind, nwith, nwithout);
	if (nwith > 0)
		return 1;
	return nwithout > 0 ? 0 : -1;
}

static void
t_crash(void **state)
{
	uint64_t rs, acked = 0, modeled = 0, cont_start = 1, survived_total = 0;
	unsigned int rounds = 100, r, recreated = 0, unacked_in = 0;
	struct vos_pool_info info;
	daos_handle_t poh, coh;
	struct timespec t0, t1;

	(void)state;
	seed = d_test_seed("t_crash");
	rs = d_test_rand_seed(seed);
	d_getenv_uint("D_CRASH_ROUNDS", &rounds);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* a small WAL: checkpoints, trims and WAL-full retries happen while the child runs */
	assert_int_equal(vos_pool_create(path, pool_uuid, 64ULL << 20, 96ULL << 20,
					 VOS_POOL_WAL_MIN, NULL, &poh),
			 0);
	uuid_generate(cont_uuid);
	assert_int_equal(vos_cont_create(poh, cont_uuid), 0);
	assert_int_equal(vos_pool_close(poh), 0);

	for (r = 0; r < rounds; r++) {
		uint64_t last_intent = 0, k, first_absent = 0;
		int pfd[2], status;
		struct msg m;
		pid_t pid;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			crash_child(pfd[1], modeled + 1, cont_start + CONT_OPS - 1);
		}
		close(pfd[1]);
		/*
		 * A quarter of the kills land anywhere, the open (WAL replay, rewrite of both
		 * images) included; the others while operations run, however long the open took.
		 */
		if (d_test_rand(&rs) % 4 != 0) {
			assert_int_equal(read(pfd[0], &m, sizeof(m)), sizeof(m));
			assert_int_equal(m.m_type, MSG_READY);
			usleep(2000 + (useconds_t)(d_test_rand(&rs) % 60000));
		} else {
			usleep((useconds_t)(d_test_rand(&rs) % 40000));
		}
		kill(pid, SIGKILL);
		while (read(pfd[0], &m, sizeof(m)) == sizeof(m)) {
			if (m.m_type == MSG_ACK && m.m_k > acked)
				acked = m.m_k;
			if (m.m_type == MSG_INTENT && m.m_k > last_intent)
				last_intent = m.m_k;
		}
		close(pfd[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("the child exited with %d", WEXITSTATUS(status));

		assert_int_equal(vos_pool_open(path, pool_uuid, 0, NULL, &poh), 0);
		assert_int_equal(vos_cont_open(poh, cont_uuid, &coh), 0);
		crash_state.cs_round = r;
		crash_state.cs_cont_start = cont_start;
		crash_state.cs_acked = acked;
		crash_state.cs_last_intent = last_intent;
		/* which announced operations survived: a prefix, whole ones, every acked one */
		for (k = modeled + 1; k <= last_intent; k++) {
			struct op op;
			int in;

			op_gen(k, &op);
			in = op_present(coh, &op);
			if (in == 0 && k <= acked)
				fail_msg("acknowledged op %" PRIu64 " is lost (acked %" PRIu64 ")",
					 k, acked);
			if (in == 1 && first_absent != 0)
				fail_msg("op %" PRIu64 " survived but op %" PRIu64
					 " before it did not",
					 k, first_absent);
			if (in == 0 && first_absent == 0)
				first_absent = k;
			if (first_absent == 0) {
				model_apply(&op);
				modeled = k;
				if (k > acked)
					unacked_in++;
			}
			op_fini(&op);
		}
		survived_total = modeled;
		acked = modeled;
		crash_state.cs_modeled = modeled;
		/* everything at the latest epoch and at a few older ones */
		check_all(coh, DAOS_EPOCH_MAX);
		for (k = 0; k < 4 && modeled >= cont_start; k++)
			check_all(coh, cont_start + d_test_rand(&rs) % (modeled - cont_start + 1));

		assert_int_equal(vos_cont_close(coh), 0);
		if (modeled + 1 - cont_start >= CONT_OPS - 300) {
			/* a fresh container; the old one gives its space back */
			assert_int_equal(vos_cont_destroy(poh, cont_uuid), 0);
			uuid_generate(cont_uuid);
			assert_int_equal(vos_cont_create(poh, cont_uuid), 0);
			model_reset();
			cont_start = modeled + 1;
			recreated++;
		}
		assert_int_equal(vos_pool_query(poh, &info), 0);
		/* sometimes the next child starts from a checkpoint, sometimes from a replay */
		crash_state.cs_replayed = d_test_rand(&rs) % 2 == 0;
		if (crash_state.cs_replayed) {
			assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
			vos_pool_abandon(poh);
		} else {
			assert_int_equal(vos_pool_close(poh), 0);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%u crash rounds in %.1f s: %" PRIu64 " operations survived (%u unacknowledged "
	       "ones among them), %u containers replaced\n",
	       rounds, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       survived_total, unacked_in, recreated);
	assert_true(survived_total >= rounds);
	model_reset();
}

/*
 * Garbage collection under kill -9: the parent fills a container and destroys it (the
 * destroy is durable before the child starts); the child opens the pool and lets
 * vos_pool_poll free it step by step while it writes a live container, acknowledging
 * writes after waiting for them; the parent kills it at a random instant, reopens, checks
 * every acknowledged write, and goes on. At the end, with every container destroyed and
 * GC run to completion, both tiers must hold exactly the space of the empty pool.
 */

static uint64_t
gc_live_val(uint64_t k)
{
	return k * 0x9E3779B97F4A7C15ULL;
}

static int
gc_live_update(daos_handle_t coh, uint64_t k, bool fetch)
{
	daos_unit_oid_t oid = obj_id(1);
	daos_key_t dkey = key_of(true, 0), akey = key_of(false, 0);
	uint64_t v = gc_live_val(k), got = 0;
	daos_iod_t iod = {0};
	d_sg_list_t sgl = {0};
	d_iov_t iov;
	int rc;

	iod.iod_name = akey;
	iod.iod_type = DAOS_IOD_SINGLE;
	iod.iod_size = sizeof(v);
	iod.iod_nr = 1;
	d_iov_set(&iov, fetch ? &got : &v, sizeof(v));
	sgl.sg_nr = 1;
	sgl.sg_iovs = &iov;
	if (!fetch)
		return vos_obj_update(coh, oid, k, 0, 0, &dkey, 1, &iod, NULL, &sgl);
	rc = vos_obj_fetch(coh, oid, k, 0, &dkey, 1, &iod, &sgl);
	if (rc == 0 && (iod.iod_size != sizeof(v) || got != v))
		rc = -DER_NONEXIST;
	return rc;
}

/* The child of t_gc_crash; @kill_nth > 0: it kills itself after that productive GC step. */
static void __attribute__((noreturn))
gc_child(int fd, uuid_t live, uint64_t start, uint32_t kill_nth)
{
	struct d_fault_attr fa = {
	    .fa_id = D_FI_GC_KILL, .fa_interval = kill_nth, .fa_max_faults = 1};
	daos_handle_t poh, coh;
	uint64_t k;
	int rc;

	if (kill_nth > 0 && d_fault_attr_set(&fa) != 0)
		_exit(7);

	rc = vos_pool_open(path, pool_uuid, 0, NULL, &poh);
	if (rc != 0)
		_exit(2);
	rc = vos_cont_open(poh, live, &coh);
	if (rc != 0)
		_exit(2);
	send_msg(fd, MSG_READY, 0);
	for (k = start;; k++) {
		rc = gc_live_update(coh, k, false);
		if (rc != 0)
			_exit(3);
		if (k % 4 == 0) {
			if (vos_pool_wait(poh, vos_pool_last_lsn(poh)) != 0)
				_exit(5);
			send_msg(fd, MSG_ACK, k);
		}
		if (vos_pool_poll(poh) < 0)
			_exit(6);
	}
}

static int
acct_cb(daos_handle_t ih, vos_iter_entry_t *ent, vos_iter_type_t type, vos_iter_param_t *param,
	void *arg, unsigned int *acts)
{
	uint64_t *used = arg; /* [0]: heap bytes, [1]: data-file bytes */

	(void)ih;
	(void)param;
	(void)acts;
	if ((type != VOS_ITER_SINGLE && type != VOS_ITER_RECX) || ent->ie_gsize == 0)
		return 0;
	if (ent->ie_media == VOS_MEDIA_DATA)
		used[1] += vos_data_bytes(ent->ie_gsize);
	else
		used[0] += ent->ie_gsize;
	return 0;
}

/* The container's accounting must equal the bytes of every version it holds. */
static void
acct_check(daos_handle_t coh)
{
	vos_iter_param_t param = {.ip_hdl = coh, .ip_epr = {.epr_lo = 0, .epr_hi = DAOS_EPOCH_MAX}};
	struct vos_cont_info ci;
	uint64_t used[2] = {0, 0};

	assert_int_equal(vos_iterate(&param, VOS_ITER_OBJ, true, NULL, acct_cb, NULL, used, NULL),
			 0);
	assert_int_equal(vos_cont_query(coh, &ci), 0);
	assert_int_equal(ci.ci_used_scm, used[0]);
	assert_int_equal(ci.ci_used_data, used[1]);
}

/* Is there something to read on @fd (a message, or the end of the pipe) within @secs? */
static bool
gc_readable(int fd, int secs)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, secs * 1000) > 0;
}

static void
t_gc_crash(void **state)
{
	unsigned int rounds = 25, r, i, cycles = 0, mid = 0, armed_n = 0;
	daos_epoch_range_t epr = {.epr_lo = 0};
	uint64_t *start, *end;
	uuid_t aggc;
	uint64_t rs, acked = 0, k0, next_op = 1, k;
	struct vos_pool_info p0, p1;
	daos_handle_t poh, coh;
	uuid_t live, victim;

	(void)state;
	seed = d_test_seed("t_gc_crash");
	rs = d_test_rand_seed(seed);
	d_getenv_uint("D_CRASH_ROUNDS", &rounds);
	D_ALLOC_ARRAY(start, rounds);
	D_ALLOC_ARRAY(end, rounds);
	assert_non_null(start);
	assert_non_null(end);
	assert_int_equal(vos_pool_create(path, pool_uuid, 64ULL << 20, 96ULL << 20,
					 VOS_POOL_WAL_MIN, NULL, &poh),
			 0);
	/* the space of the empty pool, once the data file's allocator is warm */
	uuid_generate(victim);
	assert_int_equal(vos_cont_create(poh, victim), 0);
	assert_int_equal(vos_cont_open(poh, victim, &coh), 0);
	for (k = 0; k < 50; k++) {
		struct op op;

		op_gen(next_op, &op);
		assert_int_equal(op_apply(coh, &op), 0);
		op_fini(&op);
		next_op++;
	}
	assert_int_equal(vos_cont_close(coh), 0);
	assert_int_equal(vos_cont_destroy(poh, victim), 0);
	assert_int_equal(vos_gc_pool(poh, 0, NULL, NULL), 0);
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	assert_true(vos_pool_poll(poh) >= 0);
	assert_int_equal(vos_pool_query(poh, &p0), 0);

	uuid_generate(live);
	assert_int_equal(vos_cont_create(poh, live), 0);
	uuid_generate(aggc);
	assert_int_equal(vos_cont_create(poh, aggc), 0);
	assert_int_equal(vos_pool_close(poh), 0);
	k0 = 1ULL << 40; /* the live writes' epochs, above every victim operation */
	for (r = 0; r < rounds; r++) {
		int pfd[2], status;
		uint32_t kill_nth = 0;
		struct msg m;
		bool armed;
		pid_t pid;

		assert_int_equal(vos_pool_open(path, pool_uuid, 0, NULL, &poh), 0);
		assert_int_equal(vos_pool_query(poh, &p1), 0);
		/*
		 * Every other round the child dies at the GC kill point instead of at a random
		 * instant: it needs garbage, so the round always destroys a container.
		 */
		armed = r % 2 == 1 && p1.pi_data_free > p1.pi_data_total / 4 &&
			p1.pi_scm_free > p1.pi_scm_total / 4;
		if (armed || (p1.pi_data_free > p1.pi_data_total / 2 &&
			      p1.pi_scm_free > p1.pi_scm_total / 2)) {
			/* more garbage: a filled container, destroyed durably */
			uuid_generate(victim);
			assert_int_equal(vos_cont_create(poh, victim), 0);
			assert_int_equal(vos_cont_open(poh, victim, &coh), 0);
			for (k = 0; k < 150; k++) {
				struct op op;

				op_gen(next_op, &op);
				assert_int_equal(op_apply(coh, &op), 0);
				op_fini(&op);
				next_op++;
			}
			assert_int_equal(vos_cont_close(coh), 0);
			assert_int_equal(vos_cont_destroy(poh, victim), 0);
			cycles++;
		}
		/* history with punches, aggregated: its dead keys go to the container's bins */
		assert_int_equal(vos_cont_open(poh, aggc, &coh), 0);
		for (k = 0; k < 60; k++) {
			struct op op;

			op_gen(next_op, &op);
			assert_int_equal(op_apply(coh, &op), 0);
			op_fini(&op);
			next_op++;
		}
		epr.epr_hi = next_op - 1;
		assert_int_equal(vos_aggregate(coh, &epr, NULL, 0), 0);
		assert_int_equal(vos_cont_close(coh), 0);
		assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
		if (d_test_rand(&rs) % 2 == 0)
			vos_pool_abandon(poh);
		else
			assert_int_equal(vos_pool_close(poh), 0);

		start[r] = acked + 1;
		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (armed) {
			/* the first or second step: a step frees 256 records, a container more */
			kill_nth = 1 + (uint32_t)(d_test_rand(&rs) % 2);
			armed_n++;
		}
		if (pid == 0) {
			close(pfd[0]);
			gc_child(pfd[1], live, k0 + start[r], kill_nth);
		}
		close(pfd[1]);
		assert_int_equal(read(pfd[0], &m, sizeof(m)), sizeof(m));
		assert_int_equal(m.m_type, MSG_READY);
		if (!armed) {
			usleep(1000 + (useconds_t)(d_test_rand(&rs) % 40000));
			kill(pid, SIGKILL);
		}
		/* an armed child must die by itself, at the kill point inside GC */
		for (;;) {
			if (armed && !gc_readable(pfd[0], 20)) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				fail_msg("round %u: the child never reached the GC kill point", r);
			}
			if (read(pfd[0], &m, sizeof(m)) != sizeof(m))
				break;
			if (m.m_type == MSG_ACK && m.m_k - k0 > acked)
				acked = m.m_k - k0;
		}
		close(pfd[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("round %u: the child exited with %d%s", r, WEXITSTATUS(status),
				 armed ? " before the GC kill point" : "");

		/* the shard opens; every acknowledged live write is there */
		assert_int_equal(vos_pool_open(path, pool_uuid, 0, NULL, &poh), 0);
		assert_int_equal(vos_cont_open(poh, live, &coh), 0);
		end[r] = acked;
		for (i = 0; i <= r; i++)
			for (k = (start[i] + 3) / 4 * 4; k <= end[i]; k += 4)
				assert_int_equal(gc_live_update(coh, k0 + k, true), 0);
		assert_int_equal(vos_cont_close(coh), 0);
		/* was the child killed with garbage left? */
		assert_int_equal(vos_gc_pool(poh, 1, NULL, NULL), 0);
		mid += !vos_gc_pool_idle(poh);
		if (armed && vos_gc_pool_idle(poh))
			fail_msg("round %u: killed inside GC, but no garbage left", r);
		/* epochs of live writes after a crash must stay above what survived */
		acked += 1000;
		assert_int_equal(vos_pool_close(poh), 0);
	}

	/* once collected, the aggregated container's accounting is exact */
	assert_int_equal(vos_pool_open(path, pool_uuid, 0, NULL, &poh), 0);
	assert_int_equal(vos_gc_pool(poh, 0, NULL, NULL), 0);
	assert_int_equal(vos_cont_open(poh, aggc, &coh), 0);
	acct_check(coh);
	assert_int_equal(vos_cont_close(coh), 0);
	/* everything destroyed and collected: exactly the empty pool's space */
	assert_int_equal(vos_cont_destroy(poh, aggc), 0);
	assert_int_equal(vos_cont_destroy(poh, live), 0);
	assert_int_equal(vos_gc_pool(poh, 0, NULL, NULL), 0);
	assert_true(vos_gc_pool_idle(poh));
	assert_int_equal(vos_pool_wait(poh, vos_pool_last_lsn(poh)), 0);
	assert_true(vos_pool_poll(poh) >= 0);
	assert_int_equal(vos_pool_query(poh, &p1), 0);
	assert_int_equal(p1.pi_scm_free, p0.pi_scm_free);
	assert_int_equal(p1.pi_data_free, p0.pi_data_free);
	assert_int_equal(vos_pool_close(poh), 0);
	printf("%u GC crash rounds: %u containers destroyed, %u kills left garbage behind, "
	       "%u of them at the GC kill point\n",
	       rounds, cycles, mid, armed_n);
	assert_true(cycles > 1);
	/* the kill point makes a kill inside GC certain (the timed kills may land there too) */
	if (rounds >= 2)
		assert_true(armed_n > 0);
	assert_true(mid >= armed_n);
	D_FREE(start);
	D_FREE(end);
}

static int
setup(void **state)
{
	int i;

	(void)state;
	strcpy(dir, "/tmp/d_vos_crash_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pool", dir);
	uuid_generate(pool_uuid);
	for (i = 0; i < NAKEY || i < NDKEY; i++) {
		snprintf(key_names[0][i], sizeof(key_names[0][i]), "d%d", i);
		snprintf(key_names[1][i], sizeof(key_names[1][i]), "a%d", i);
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	vos_pool_destroy(path, pool_uuid);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_gc_crash, setup, teardown),
	};

	/* one-sync (off by default) is what the crash test exercises unless told otherwise */
	setenv("DAOS_BIO_ONE_SYNC", "1", 0);

	if (getenv("D_LOG_MASK") == NULL)
		d_log_setmasks("CRIT");
	return cmocka_run_group_tests_name("vos_crash", tests, NULL, NULL);
}
