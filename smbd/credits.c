#include "config.h"
#include "smbd/credits.h"

#include <string.h>

/* Outstanding credits kept below what the window can track. */
#define GRANT_CEILING (SMBD_CREDITS_MAX - 64)

void smbd_credits_init(struct smbd_credits *c)
{
	memset(c, 0, sizeof(*c));
	c->granted = 1; /* NEGOTIATE, message id 0 (MS-SMB2 3.3.1.1) */
}

static bool bit_get(const struct smbd_credits *c, uint64_t id)
{
	unsigned b = (unsigned)(id % SMBD_CREDITS_MAX);
	return c->used[b / 8] & (1u << (b % 8));
}

static void bit_set(struct smbd_credits *c, uint64_t id, bool on)
{
	unsigned b = (unsigned)(id % SMBD_CREDITS_MAX);
	if (on)
		c->used[b / 8] |= (uint8_t)(1u << (b % 8));
	else
		c->used[b / 8] &= (uint8_t)~(1u << (b % 8));
}

bool smbd_credits_consume(struct smbd_credits *c, uint64_t mid, uint16_t charge)
{
	if (charge == 0)
		charge = 1;
	if (mid < c->low || mid - c->low >= c->granted || charge > c->granted - (mid - c->low))
		return false;
	for (uint64_t id = mid; id < mid + charge; id++) {
		if (bit_get(c, id))
			return false;
	}
	for (uint64_t id = mid; id < mid + charge; id++)
		bit_set(c, id, true);
	/* Slide the window over the used prefix; each used id spends a credit. */
	while (c->granted > 0 && bit_get(c, c->low)) {
		bit_set(c, c->low, false);
		c->low++;
		c->granted--;
	}
	return true;
}

uint16_t smbd_credits_grant(struct smbd_credits *c, uint16_t requested, uint16_t charge)
{
	uint32_t want = requested;
	/* Windows grants at least the charge back when asked for less, so a
	 * client that asks for 0 does not starve (MS-SMB2 3.3.1.2). */
	if (want < 1)
		want = 1;
	if (c->granted + want > GRANT_CEILING)
		want = GRANT_CEILING > c->granted ? GRANT_CEILING - c->granted : 0;
	if (c->granted == 0 && want == 0)
		want = 1;
	c->granted += want;
	(void)charge;
	return (uint16_t)want;
}
