/*
 * Credits and the message-id window (MS-SMB2 3.3.1.1, 3.3.5.2.3).
 * The client may use each message id in [low, low + range) once; the
 * window slides as the lowest ids are used and widens as credits are
 * granted.
 */
#ifndef PORTHOS_SMBD_CREDITS_H
#define PORTHOS_SMBD_CREDITS_H

#include <stdbool.h>
#include <stdint.h>

#define SMBD_CREDITS_MAX 8192 /* window size; a power of two */

struct smbd_credits {
	uint64_t low;     /* lowest message id not yet used */
	uint32_t granted; /* credits the client holds: ids usable above low */
	uint8_t used[SMBD_CREDITS_MAX / 8]; /* bit (id % MAX): id used out of order */
};

void smbd_credits_init(struct smbd_credits *c);
/* Checks that [mid, mid+charge) is inside the window and unused, then uses it. */
bool smbd_credits_consume(struct smbd_credits *c, uint64_t mid, uint16_t charge);
/*
 * How many credits to grant for a request that asked for 'requested' and
 * was charged 'charge'; adds them to the window. Never leaves the client
 * with zero credits.
 */
uint16_t smbd_credits_grant(struct smbd_credits *c, uint16_t requested, uint16_t charge);

#endif
