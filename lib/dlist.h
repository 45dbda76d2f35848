/*
 * Intrusive doubly linked lists. An element carries its own two links,
 * named by the caller (so one element may sit in several lists through
 * several pairs), and a list is a pointer to its first element, plus one
 * to its last where elements are appended. O(1) insertion and removal,
 * no allocation. The list arguments are evaluated more than once: pass
 * plain lvalues.
 */
#ifndef PORTHOS_LIB_DLIST_H
#define PORTHOS_LIB_DLIST_H

#include <stddef.h>

/* elem becomes the first element of the list at head. */
#define DLIST_PUSH_FRONT(head, elem, prev, next)       \
	do {                                            \
		(elem)->prev = NULL;                    \
		(elem)->next = (head);                  \
		if ((elem)->next != NULL)               \
			(elem)->next->prev = (elem);    \
		(head) = (elem);                        \
	} while (0)

/* elem becomes the last element of the list at head/tail. */
#define DLIST_PUSH_BACK(head, tail, elem, prev, next)  \
	do {                                            \
		(elem)->next = NULL;                    \
		(elem)->prev = (tail);                  \
		if ((elem)->prev != NULL)               \
			(elem)->prev->next = (elem);    \
		else                                    \
			(head) = (elem);                \
		(tail) = (elem);                        \
	} while (0)

/* Takes elem out of the list at head (it must be in it); its links are cleared. */
#define DLIST_REMOVE(head, elem, prev, next)                   \
	do {                                                    \
		if ((elem)->prev != NULL)                       \
			(elem)->prev->next = (elem)->next;      \
		else                                            \
			(head) = (elem)->next;                  \
		if ((elem)->next != NULL)                       \
			(elem)->next->prev = (elem)->prev;      \
		(elem)->prev = (elem)->next = NULL;             \
	} while (0)

/* The same for a list that keeps its last element too. */
#define DLIST_REMOVE_TAIL(head, tail, elem, prev, next)        \
	do {                                                    \
		if ((elem)->next == NULL)                       \
			(tail) = (elem)->prev;                  \
		DLIST_REMOVE(head, elem, prev, next);           \
	} while (0)

#endif
