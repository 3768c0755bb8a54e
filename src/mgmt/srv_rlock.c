/*
 * srv_rlock.c: per-record locks of the MS leader, so that read-modify-writes of one pool
 * record apply one after the other.
 *
 * A read-modify-write reads a record, builds the new one and commits it; the commit yields to
 * the loop. Another update of the same record that read it meanwhile would write back the old
 * fields and lose the first one's change. Every writer of a pool record therefore takes the
 * record's lock (key: the pool uuid) before it reads and gives it back when its commit ended;
 * "*" is every pool record at once (an exclusion rewrites every pool map it touches).
 *
 * A writer that finds the lock taken is queued, in order of arrival, with a function to call
 * once it is its turn (a request handler to run again from the start: it then reads the
 * record as the previous writer left it). The lock is granted before that call; a function
 * that does not claim it (ms_rl_lock again with the same owner: e.g. the handler found it is
 * no longer the leader and answered) gives it back when it returns.
 *
 * Invariants:
 *  1. A key is held by at most one owner; "*" is held only when no key is, and no key while
 *     "*" is.
 *  2. Waiters run in order of arrival among those that conflict with each other: a new
 *     request is queued behind a waiter it conflicts with even if the lock is free.
 *  3. Owners are tokens (a dss_ctl_req, an exclusion): they are never dereferenced here, and
 *     an owner gives its lock back before it is freed (a request before its answer).
 *
 * Context: the control thread's loop; nothing here yields.
 */
#define D_LOGFAC mgmt

#include <string.h>

#include <gurt/common.h>
#include <daos_errno.h>

#include "mgmt_internal.h"

D_LOG_FAC_DECLARE(mgmt);

struct ms_rl {
	d_list_t rl_link; /* ms_rl_held or ms_rl_wait */
	char rl_key[48];
	void *rl_owner;
	uint64_t rl_id;
	bool rl_claimed; /* held: the owner runs with it (not only granted) */
	dss_ctl_handler_t rl_fn;
	struct dss_ctl_req *rl_req;
	void *rl_arg;
};

static bool
ms_rl_conflict(const char *a, const char *b)
{
	return strcmp(a, MS_RL_ALL) == 0 || strcmp(b, MS_RL_ALL) == 0 || strcmp(a, b) == 0;
}

static struct ms_rl *
ms_rl_find_owner(struct ds_mgmt *ms, void *owner)
{
	struct ms_rl *rl;

	d_list_for_each_entry (rl, &ms->ms_rl_held, rl_link)
		if (rl->rl_owner == owner)
			return rl;
	return NULL;
}

static bool
ms_rl_held_conflict(struct ds_mgmt *ms, const char *key)
{
	struct ms_rl *rl;

	d_list_for_each_entry (rl, &ms->ms_rl_held, rl_link)
		if (ms_rl_conflict(rl->rl_key, key))
			return true;
	return false;
}

/* Run the first waiter that may run now; false if none. */
static bool
ms_rl_run_one(struct ds_mgmt *ms)
{
	struct ms_rl *rl, *w;
	uint64_t id;
	bool blocked;

	d_list_for_each_entry (rl, &ms->ms_rl_wait, rl_link) {
		if (ms_rl_held_conflict(ms, rl->rl_key))
			continue;
		blocked = false;
		d_list_for_each_entry (w, &ms->ms_rl_wait, rl_link) {
			if (w == rl)
				break;
			if (ms_rl_conflict(w->rl_key, rl->rl_key)) {
				blocked =
				    true; /* an earlier waiter of the same record goes first */
				break;
			}
		}
		if (blocked)
			continue;
		d_list_del(&rl->rl_link);
		d_list_add_tail(&rl->rl_link, &ms->ms_rl_held);
		rl->rl_claimed = false;
		id = rl->rl_id;
		rl->rl_fn(rl->rl_req, rl->rl_arg);
		/* not claimed: the function answered without a write; give the lock back */
		d_list_for_each_entry (w, &ms->ms_rl_held, rl_link)
			if (w->rl_id == id) {
				if (!w->rl_claimed) {
					d_list_del(&w->rl_link);
					D_FREE(w);
				}
				break;
			}
		return true;
	}
	return false;
}

static void
ms_rl_drain(struct ds_mgmt *ms)
{
	if (ms->ms_rl_draining)
		return; /* the outer loop looks again */
	ms->ms_rl_draining = true;
	while (ms_rl_run_one(ms))
		;
	ms->ms_rl_draining = false;
}

int
ms_rl_lock(struct ds_mgmt *ms, const char *key, void *owner, dss_ctl_handler_t fn,
	   struct dss_ctl_req *req, void *arg)
{
	struct ms_rl *rl, *w;
	bool wait;

	D_ASSERT(owner != NULL && fn != NULL);
	if (strlen(key) >= sizeof(rl->rl_key))
		return -DER_INVAL;
	rl = ms_rl_find_owner(ms, owner);
	if (rl != NULL && strcmp(rl->rl_key, key) == 0) {
		rl->rl_claimed = true;
		return 1;
	}
	if (rl != NULL) /* granted for a record it no longer names (a label moved) */
		ms_rl_unlock(ms, owner);
	wait = ms_rl_held_conflict(ms, key);
	d_list_for_each_entry (w, &ms->ms_rl_wait, rl_link)
		if (ms_rl_conflict(w->rl_key, key))
			wait = true;
	D_ALLOC_PTR(rl);
	if (rl == NULL)
		return -DER_NOMEM;
	strcpy(rl->rl_key, key);
	rl->rl_owner = owner;
	rl->rl_id = ++ms->ms_rl_next_id;
	rl->rl_fn = fn;
	rl->rl_req = req;
	rl->rl_arg = arg;
	if (wait) {
		D_DEBUG("record %s busy: queued\n", key);
		d_list_add_tail(&rl->rl_link, &ms->ms_rl_wait);
		return 0;
	}
	rl->rl_claimed = true;
	d_list_add_tail(&rl->rl_link, &ms->ms_rl_held);
	return 1;
}

void
ms_rl_unlock(struct ds_mgmt *ms, void *owner)
{
	struct ms_rl *rl;

	if (ms->ms_rl_held.next == NULL)
		return;
	rl = ms_rl_find_owner(ms, owner);
	if (rl == NULL)
		return;
	d_list_del(&rl->rl_link);
	D_FREE(rl);
	ms_rl_drain(ms);
}

void
ms_rl_init(struct ds_mgmt *ms)
{
	D_INIT_LIST_HEAD(&ms->ms_rl_held);
	D_INIT_LIST_HEAD(&ms->ms_rl_wait);
}

void
ms_rl_fini(struct ds_mgmt *ms)
{
	struct ms_rl *rl, *t;

	if (ms->ms_rl_held.next == NULL)
		return;
	/* the waiters run once more: not serving, they answer (not the leader) and give up */
	d_list_for_each_entry_safe (rl, t, &ms->ms_rl_held, rl_link) {
		d_list_del(&rl->rl_link);
		D_FREE(rl);
	}
	ms_rl_drain(ms);
	d_list_for_each_entry_safe (rl, t, &ms->ms_rl_held, rl_link) {
		d_list_del(&rl->rl_link);
		D_FREE(rl);
	}
}
