/*
 * test_list.c: the d_list API against an array model, over random operation sequences.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <gurt/common.h>
#include <d_test.h>

#define NITEMS 32
#define NOPS 20000

struct item {
	int id;
	d_list_t link;
};

/* The model: two lists as arrays of item ids, in order. */
struct model {
	int ids[2][NITEMS];
	int nr[2];
	int where[NITEMS]; /* list index, or -1 */
};

static void
model_check(struct model *m, d_list_t heads[2])
{
	struct item *it;
	d_list_t *pos;
	int l, i;

	for (l = 0; l < 2; l++) {
		i = 0;
		d_list_for_each_entry (it, &heads[l], link) {
			assert_true(i < m->nr[l]);
			assert_int_equal(it->id, m->ids[l][i]);
			i++;
		}
		assert_int_equal(i, m->nr[l]);
		i = m->nr[l];
		d_list_for_each_entry_reverse (it, &heads[l], link)
			assert_int_equal(it->id, m->ids[l][--i]);
		assert_int_equal(i, 0);
		i = 0;
		d_list_for_each (pos, &heads[l])
			i++;
		assert_int_equal(i, m->nr[l]);
		assert_int_equal(d_list_empty(&heads[l]), m->nr[l] == 0);
		assert_int_equal(d_list_is_singular(&heads[l]), m->nr[l] == 1);
		if (m->nr[l] > 0) {
			assert_int_equal(d_list_first_entry(&heads[l], struct item, link)->id,
					 m->ids[l][0]);
			assert_int_equal(d_list_last_entry(&heads[l], struct item, link)->id,
					 m->ids[l][m->nr[l] - 1]);
		} else {
			assert_null(d_list_first_entry_or_null(&heads[l], struct item, link));
		}
	}
}

static void
model_remove(struct model *m, int id)
{
	int l = m->where[id], i;

	for (i = 0; m->ids[l][i] != id; i++)
		;
	memmove(&m->ids[l][i], &m->ids[l][i + 1], (size_t)(m->nr[l] - i - 1) * sizeof(int));
	m->nr[l]--;
	m->where[id] = -1;
}

static void
model_insert(struct model *m, int l, int id, bool tail)
{
	if (tail) {
		m->ids[l][m->nr[l]] = id;
	} else {
		memmove(&m->ids[l][1], &m->ids[l][0], (size_t)m->nr[l] * sizeof(int));
		m->ids[l][0] = id;
	}
	m->nr[l]++;
	m->where[id] = l;
}

static void
t_list_model(void **state)
{
	unsigned int seed = d_test_seed("t_list_model");
	uint64_t rs = d_test_rand_seed(seed);
	struct item items[NITEMS];
	struct model m = {0};
	d_list_t heads[2];
	int op, i;

	(void)state;
	D_INIT_LIST_HEAD(&heads[0]);
	D_INIT_LIST_HEAD(&heads[1]);
	for (i = 0; i < NITEMS; i++) {
		items[i].id = i;
		D_INIT_LIST_HEAD(&items[i].link);
		m.where[i] = -1;
	}

	for (op = 0; op < NOPS; op++) {
		int id = (int)(d_test_rand(&rs) % NITEMS);
		int l = (int)(d_test_rand(&rs) % 2);
		int kind = (int)(d_test_rand(&rs) % 7);

		switch (kind) {
		case 0: /* add / add_tail when not listed */
		case 1:
			if (m.where[id] >= 0)
				break;
			if (kind == 0)
				d_list_add(&items[id].link, &heads[l]);
			else
				d_list_add_tail(&items[id].link, &heads[l]);
			model_insert(&m, l, id, kind == 1);
			break;
		case 2: /* del_init */
			if (m.where[id] < 0)
				break;
			d_list_del_init(&items[id].link);
			assert_true(d_list_empty(&items[id].link));
			model_remove(&m, id);
			break;
		case 3: /* move / move_tail to list l */
		case 4:
			if (m.where[id] < 0)
				break;
			if (kind == 3)
				d_list_move(&items[id].link, &heads[l]);
			else
				d_list_move_tail(&items[id].link, &heads[l]);
			model_remove(&m, id);
			model_insert(&m, l, id, kind == 4);
			break;
		case 5: { /* splice the other list into l, front or back */
			int o = 1 - l, n = m.nr[o];
			bool tail = d_test_rand(&rs) & 1;

			if (tail) {
				d_list_splice_tail_init(&heads[o], &heads[l]);
				memcpy(&m.ids[l][m.nr[l]], m.ids[o], (size_t)n * sizeof(int));
			} else {
				d_list_splice_init(&heads[o], &heads[l]);
				memmove(&m.ids[l][n], m.ids[l], (size_t)m.nr[l] * sizeof(int));
				memcpy(m.ids[l], m.ids[o], (size_t)n * sizeof(int));
			}
			for (i = 0; i < n; i++)
				m.where[m.ids[o][i]] = l;
			m.nr[l] += n;
			m.nr[o] = 0;
			break;
		}
		case 6: { /* pop the head entry */
			struct item *it = d_list_pop_entry(&heads[l], struct item, link);

			if (m.nr[l] == 0) {
				assert_null(it);
			} else {
				assert_non_null(it);
				assert_int_equal(it->id, m.ids[l][0]);
				model_remove(&m, it->id);
			}
			break;
		}
		}
		model_check(&m, heads);
	}
}

/* Removing the current entry while iterating with the _safe variants. */
static void
t_list_safe_iter(void **state)
{
	struct item items[10], *it, *tmp;
	d_list_t head, *pos, *n;
	int i, count = 0;

	(void)state;
	D_INIT_LIST_HEAD(&head);
	for (i = 0; i < 10; i++) {
		items[i].id = i;
		d_list_add_tail(&items[i].link, &head);
	}
	d_list_for_each_entry_safe (it, tmp, &head, link)
		if (it->id % 2 == 0)
			d_list_del(&it->link);
	d_list_for_each_entry (it, &head, link)
		assert_int_equal(it->id % 2, 1);
	d_list_for_each_entry_reverse_safe (it, tmp, &head, link)
		if (it->id == 9 || it->id == 1)
			d_list_del_init(&it->link);
	d_list_for_each_safe (pos, n, &head) {
		count++;
		d_list_del(pos);
	}
	assert_int_equal(count, 3);
	assert_true(d_list_empty(&head));

	/* continue: resume after a given entry */
	for (i = 0; i < 5; i++)
		d_list_add_tail(&items[i].link, &head);
	it = &items[2];
	count = 0;
	d_list_for_each_entry_continue (it, &head, link)
		count += it->id;
	assert_int_equal(count, 3 + 4);
}

static void
t_list_static_init(void **state)
{
	D_LIST_HEAD(head);
	struct item a = {.id = 1};

	(void)state;
	assert_true(d_list_empty(&head));
	d_list_add(&a.link, &head);
	assert_true(d_list_is_singular(&head));
	assert_ptr_equal(d_list_entry(head.next, struct item, link), &a);
	assert_ptr_equal(container_of(head.next, struct item, link), &a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_list_model),
	    cmocka_unit_test(t_list_safe_iter),
	    cmocka_unit_test(t_list_static_init),
	};

	return cmocka_run_group_tests_name("gurt_list", tests, NULL, NULL);
}
