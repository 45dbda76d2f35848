#include "config.h"
#include "smbd/credits.h"

#include <string.h>

void smbd_credits_init(struct smbd_credits *c)
{
	memset(c, 0, sizeof(*c));
	c->window = 1; /* NEGOTIATE, message id 0 (MS-SMB2 3.3.1.1) */
}

static bool bit_get(const struct smbd_credits *c, uint64_t id)
{
	unsigned b = (unsigned)(id % SMBD_CREDITS_WINDOW);
	return c->bits[b / 8] & (1u << (b % 8));
}

static void bit_set(struct smbd_credits *c, uint64_t id, bool on)
{
	unsigned b = (unsigned)(id % SMBD_CREDITS_WINDOW);
	if (on)
		c->bits[b / 8] |= (uint8_t)(1u << (b % 8));
	else
		c->bits[b / 8] &= (uint8_t)~(1u << (b % 8));
}

bool smbd_credits_consume(struct smbd_credits *c, uint64_t mid, uint16_t charge)
{
	if (charge == 0)
		charge = 1;
	if (mid < c->low || mid - c->low >= c->window || charge > c->window - (mid - c->low))
		return false;
	for (uint64_t id = mid; id < mid + charge; id++) {
		if (bit_get(c, id))
			return false;
	}
	for (uint64_t id = mid; id < mid + charge; id++)
		bit_set(c, id, true);
	c->used += charge;
	/* Slide the window over the used prefix. */
	while (c->window > 0 && bit_get(c, c->low)) {
		bit_set(c, c->low, false);
		c->low++;
		c->window--;
		c->used--;
	}
	return true;
}

uint16_t smbd_credits_grant(struct smbd_credits *c, uint16_t requested)
{
	uint32_t held = c->window - c->used;
	uint32_t want = requested;
	/* A client asking for none still gets one, so it never starves
	 * (MS-SMB2 3.3.1.2). */
	if (want < 1)
		want = 1;
	if (held + want > SMBD_CREDITS_MAX)
		want = SMBD_CREDITS_MAX > held ? SMBD_CREDITS_MAX - held : 0;
	/* The window itself must stay trackable by the bitmap. */
	if (c->window + want > SMBD_CREDITS_WINDOW)
		want = SMBD_CREDITS_WINDOW - c->window;
	if (held == 0 && want == 0 && c->window < SMBD_CREDITS_WINDOW)
		want = 1;
	c->window += want;
	return (uint16_t)want;
}
