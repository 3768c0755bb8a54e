/*
 * gurt/list.h: circular doubly linked lists, kernel style. A d_list_t is embedded in the
 * structure that is listed; the list head is a d_list_t of its own. Nothing here allocates.
 * Included by public headers, so it defines only d_/D_ names and no container_of.
 */
#ifndef D_GURT_LIST_H
#define D_GURT_LIST_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct d_list_head {
	struct d_list_head *next;
	struct d_list_head *prev;
} d_list_t;

#define D_LIST_HEAD_INIT(name)                                                                     \
	{                                                                                          \
		&(name), &(name)                                                                   \
	}
#define D_LIST_HEAD(name) d_list_t name = D_LIST_HEAD_INIT(name)

static inline void
D_INIT_LIST_HEAD(d_list_t *head)
{
	head->next = head;
	head->prev = head;
}

static inline void
d_list_insert_between(d_list_t *item, d_list_t *prev, d_list_t *next)
{
	next->prev = item;
	item->next = next;
	item->prev = prev;
	prev->next = item;
}

/** Insert @item right after @head (a stack push). */
static inline void
d_list_add(d_list_t *item, d_list_t *head)
{
	d_list_insert_between(item, head, head->next);
}

/** Insert @item right before @head (a queue append). */
static inline void
d_list_add_tail(d_list_t *item, d_list_t *head)
{
	d_list_insert_between(item, head->prev, head);
}

static inline void
d_list_unlink(d_list_t *prev, d_list_t *next)
{
	next->prev = prev;
	prev->next = next;
}

/** Remove @item from its list; @item is left pointing nowhere useful (see d_list_del_init). */
static inline void
d_list_del(d_list_t *item)
{
	d_list_unlink(item->prev, item->next);
	item->next = NULL;
	item->prev = NULL;
}

/** Remove @item from its list and make it an empty list of its own. */
static inline void
d_list_del_init(d_list_t *item)
{
	d_list_unlink(item->prev, item->next);
	D_INIT_LIST_HEAD(item);
}

static inline void
d_list_move(d_list_t *item, d_list_t *head)
{
	d_list_unlink(item->prev, item->next);
	d_list_add(item, head);
}

static inline void
d_list_move_tail(d_list_t *item, d_list_t *head)
{
	d_list_unlink(item->prev, item->next);
	d_list_add_tail(item, head);
}

static inline bool
d_list_empty(const d_list_t *head)
{
	return head->next == head;
}

/** True if @head holds exactly one item. */
static inline bool
d_list_is_singular(const d_list_t *head)
{
	return !d_list_empty(head) && head->next == head->prev;
}

static inline void
d_list_splice_between(const d_list_t *list, d_list_t *prev, d_list_t *next)
{
	d_list_t *first = list->next;
	d_list_t *last = list->prev;

	first->prev = prev;
	prev->next = first;
	last->next = next;
	next->prev = last;
}

/** Move every item of @list to the front of @head; @list is left undefined. */
static inline void
d_list_splice(d_list_t *list, d_list_t *head)
{
	if (!d_list_empty(list))
		d_list_splice_between(list, head, head->next);
}

/** Move every item of @list to the back of @head; @list is left undefined. */
static inline void
d_list_splice_tail(d_list_t *list, d_list_t *head)
{
	if (!d_list_empty(list))
		d_list_splice_between(list, head->prev, head);
}

/** d_list_splice, then make @list empty. */
static inline void
d_list_splice_init(d_list_t *list, d_list_t *head)
{
	d_list_splice(list, head);
	D_INIT_LIST_HEAD(list);
}

static inline void
d_list_splice_tail_init(d_list_t *list, d_list_t *head)
{
	d_list_splice_tail(list, head);
	D_INIT_LIST_HEAD(list);
}

/** The structure of type @type whose member @member is @ptr. */
#define d_list_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define d_list_first_entry(head, type, member) d_list_entry((head)->next, type, member)
#define d_list_last_entry(head, type, member) d_list_entry((head)->prev, type, member)

/** The first entry of @head, or NULL if the list is empty. */
#define d_list_first_entry_or_null(head, type, member)                                             \
	(d_list_empty(head) ? NULL : d_list_first_entry(head, type, member))

/** Remove and return the first entry of @head, or NULL if the list is empty. */
#define d_list_pop_entry(head, type, member)                                                       \
	({                                                                                         \
		type *d_pop_ = d_list_first_entry_or_null(head, type, member);                     \
		if (d_pop_ != NULL)                                                                \
			d_list_del_init(&d_pop_->member);                                          \
		d_pop_;                                                                            \
	})

#define d_list_for_each(pos, head) for (pos = (head)->next; pos != (head); pos = pos->next)

#define d_list_for_each_safe(pos, n, head)                                                         \
	for (pos = (head)->next, n = pos->next; pos != (head); pos = n, n = pos->next)

#define d_list_for_each_entry(pos, head, member)                                                   \
	for (pos = d_list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head);   \
	     pos = d_list_entry(pos->member.next, __typeof__(*pos), member))

#define d_list_for_each_entry_reverse(pos, head, member)                                           \
	for (pos = d_list_entry((head)->prev, __typeof__(*pos), member); &pos->member != (head);   \
	     pos = d_list_entry(pos->member.prev, __typeof__(*pos), member))

/** Iterate while allowing the current entry to be removed. */
#define d_list_for_each_entry_safe(pos, n, head, member)                                           \
	for (pos = d_list_entry((head)->next, __typeof__(*pos), member),                           \
	    n = d_list_entry(pos->member.next, __typeof__(*pos), member);                          \
	     &pos->member != (head);                                                               \
	     pos = n, n = d_list_entry(n->member.next, __typeof__(*n), member))

#define d_list_for_each_entry_reverse_safe(pos, n, head, member)                                   \
	for (pos = d_list_entry((head)->prev, __typeof__(*pos), member),                           \
	    n = d_list_entry(pos->member.prev, __typeof__(*pos), member);                          \
	     &pos->member != (head);                                                               \
	     pos = n, n = d_list_entry(n->member.prev, __typeof__(*n), member))

/** Continue iterating after @pos. */
#define d_list_for_each_entry_continue(pos, head, member)                                          \
	for (pos = d_list_entry(pos->member.next, __typeof__(*pos), member);                       \
	     &pos->member != (head);                                                               \
	     pos = d_list_entry(pos->member.next, __typeof__(*pos), member))

#if defined(__cplusplus)
}
#endif
#endif /* D_GURT_LIST_H */
