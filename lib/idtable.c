#include "config.h"
#include "lib/idtable.h"

#include <string.h>

/*
 * Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so lookups stay short however many ids come and go.
 */
struct slot {
	uint64_t id; /* 0 = empty */
	void *obj;
};

struct idtable {
	struct slot *slots;
	size_t cap; /* power of two */
	size_t count;
	uint64_t next;
	uint64_t max_id;
};

static size_t hash_id(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (cap - 1);
}

struct idtable *idtable_new(TALLOC_CTX *mem, uint64_t max_id)
{
	struct idtable *t = talloc_zero(mem, struct idtable);
	if (t == NULL)
		return NULL;
	t->cap = 16;
	t->slots = talloc_zero_array(t, struct slot, t->cap);
	if (t->slots == NULL) {
		talloc_free(t);
		return NULL;
	}
	t->next = 1;
	t->max_id = max_id;
	return t;
}

static struct slot *lookup(const struct idtable *t, uint64_t id)
{
	size_t i = hash_id(id, t->cap);
	for (;;) {
		struct slot *s = &t->slots[i];
		if (s->id == id || s->id == 0)
			return s;
		i = (i + 1) & (t->cap - 1);
	}
}

static bool grow(struct idtable *t)
{
	size_t old_cap = t->cap;
	struct slot *old = t->slots;
	struct slot *ns = talloc_zero_array(t, struct slot, old_cap * 2);
	if (ns == NULL)
		return false;
	t->slots = ns;
	t->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].id != 0)
			*lookup(t, old[i].id) = old[i];
	}
	talloc_free(old);
	return true;
}

bool idtable_add_id(struct idtable *t, uint64_t id, void *obj)
{
	if (id == 0 || id > t->max_id)
		return false;
	/* Keep the load factor under 1/2 so probes stay short. */
	if ((t->count + 1) * 2 > t->cap && !grow(t))
		return false;
	struct slot *s = lookup(t, id);
	if (s->id == id)
		return false;
	s->id = id;
	s->obj = obj;
	t->count++;
	return true;
}

uint64_t idtable_add(struct idtable *t, void *obj)
{
	if (t->count >= t->max_id)
		return 0;
	for (;;) {
		uint64_t id = t->next;
		t->next = (t->next >= t->max_id) ? 1 : t->next + 1;
		if (idtable_find(t, id) != NULL)
			continue;
		return idtable_add_id(t, id, obj) ? id : 0;
	}
}

void *idtable_find(const struct idtable *t, uint64_t id)
{
	if (id == 0)
		return NULL;
	struct slot *s = lookup(t, id);
	return s->id == id ? s->obj : NULL;
}

void *idtable_remove(struct idtable *t, uint64_t id)
{
	if (id == 0)
		return NULL;
	struct slot *s = lookup(t, id);
	if (s->id != id)
		return NULL;
	void *obj = s->obj;
	size_t i = (size_t)(s - t->slots);
	/* Backward-shift: move later members of the probe run into the hole. */
	size_t j = i;
	for (;;) {
		j = (j + 1) & (t->cap - 1);
		if (t->slots[j].id == 0)
			break;
		size_t home = hash_id(t->slots[j].id, t->cap);
		/* Can slot j move to i? Only if its home is not in (i, j]. */
		bool in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
		if (!in_range) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].id = 0;
	t->slots[i].obj = NULL;
	t->count--;
	return obj;
}

size_t idtable_count(const struct idtable *t)
{
	return t->count;
}

void idtable_foreach(struct idtable *t, void (*fn)(uint64_t id, void *obj, void *arg), void *arg)
{
	/*
	 * Collect ids first: fn may remove the current entry, and backward
	 * shifting would otherwise make us skip or repeat entries.
	 */
	size_t n = t->count, k = 0;
	if (n == 0)
		return;
	uint64_t *ids = talloc_array(NULL, uint64_t, n);
	if (ids == NULL)
		return;
	for (size_t i = 0; i < t->cap && k < n; i++) {
		if (t->slots[i].id != 0)
			ids[k++] = t->slots[i].id;
	}
	for (size_t i = 0; i < k; i++) {
		void *obj = idtable_find(t, ids[i]);
		if (obj != NULL)
			fn(ids[i], obj, arg);
	}
	talloc_free(ids);
}
