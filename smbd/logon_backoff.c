#include "config.h"
#include "smbd/logon_backoff.h"

#include <string.h>

struct backoff_entry {
	char addr[64];
	uint32_t failures;
	int64_t last; /* seconds */
};

struct smbd_backoff {
	struct backoff_entry *v;
	size_t n;
	uint32_t max_delay_ms;
};

struct smbd_backoff *smbd_backoff_new(TALLOC_CTX *mem, uint32_t max_delay_ms)
{
	struct smbd_backoff *b = talloc_zero(mem, struct smbd_backoff);
	if (b != NULL)
		b->max_delay_ms = max_delay_ms;
	if (b != NULL)
		b->v = talloc_zero_array(b, struct backoff_entry, SMBD_BACKOFF_ADDRESSES);
	if (b != NULL && b->v == NULL)
		TALLOC_FREE(b);
	return b;
}

static struct backoff_entry *find(struct smbd_backoff *b, const char *addr)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->v[i].addr, addr) == 0)
			return &b->v[i];
	return NULL;
}

uint32_t smbd_backoff_failure(struct smbd_backoff *b, const char *addr, int64_t now)
{
	if (b == NULL)
		return 0;
	struct backoff_entry *e = find(b, addr);
	if (e != NULL && now - e->last > SMBD_BACKOFF_FORGET_S)
		e->failures = 0;
	if (e == NULL) {
		if (b->n < SMBD_BACKOFF_ADDRESSES) {
			e = &b->v[b->n++];
		} else {
			/* Full: reuse the entry quiet the longest. */
			e = &b->v[0];
			for (size_t i = 1; i < b->n; i++)
				if (b->v[i].last < e->last)
					e = &b->v[i];
		}
		memset(e, 0, sizeof(*e));
		strncpy(e->addr, addr, sizeof(e->addr) - 1);
	}
	e->failures++;
	e->last = now;
	if (e->failures <= SMBD_BACKOFF_FREE_FAILURES || b->max_delay_ms == 0)
		return 0;
	uint32_t shift = e->failures - SMBD_BACKOFF_FREE_FAILURES - 1;
	if (shift > 16)
		shift = 16;
	uint64_t delay = (uint64_t)SMBD_BACKOFF_FIRST_DELAY_MS << shift;
	return delay > b->max_delay_ms ? b->max_delay_ms : (uint32_t)delay;
}

void smbd_backoff_success(struct smbd_backoff *b, const char *addr)
{
	struct backoff_entry *e = b ? find(b, addr) : NULL;
	if (e != NULL)
		*e = b->v[--b->n];
}
