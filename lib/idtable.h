/*
 * An id -> object table: how objects find each other (session id, tree id,
 * file id) instead of holding raw pointers. Ids are handed out from a
 * counter that skips ids in use and the reserved values 0 and all-ones, so
 * a stale id is unlikely to name a new object soon after.
 */
#ifndef PORTHOS_IDTABLE_H
#define PORTHOS_IDTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

struct idtable;

/* Ids are allocated in [1, max_id]; max_id is e.g. UINT32_MAX - 1 for tree ids. */
struct idtable *idtable_new(TALLOC_CTX *mem, uint64_t max_id);
/* Returns the new id, or 0 when the table is full or memory ran out. */
uint64_t idtable_add(struct idtable *t, void *obj);
/* Inserts under a chosen id (e.g. a reclaimed persistent id); false if taken. */
bool idtable_add_id(struct idtable *t, uint64_t id, void *obj);
void *idtable_find(const struct idtable *t, uint64_t id);
/* Removes id; returns the object that was there, or NULL. */
void *idtable_remove(struct idtable *t, uint64_t id);
size_t idtable_count(const struct idtable *t);
/* Calls fn for every entry present at the start; fn may add or remove entries
 * (removed ones are not visited, added ones may not be). */
void idtable_foreach(struct idtable *t, void (*fn)(uint64_t id, void *obj, void *arg), void *arg);

#endif
