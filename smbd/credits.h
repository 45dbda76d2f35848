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

/* Credits a client may hold at once: what Windows and Samba grant (8192). */
#define SMBD_CREDITS_MAX 8192
/* The window can run ahead of the client's credits by the ids it used out
 * of order, so it is tracked with twice the room; a power of two. */
#define SMBD_CREDITS_WINDOW (2 * SMBD_CREDITS_MAX)

struct smbd_credits {
	uint64_t low;       /* lowest message id not yet used */
	uint32_t window;    /* ids [low, low + window) may be used */
	uint32_t used;      /* ids inside the window already used (out of order) */
	uint8_t bits[SMBD_CREDITS_WINDOW / 8]; /* bit (id % WINDOW): used */
};

void smbd_credits_init(struct smbd_credits *c);
/* Checks that [mid, mid+charge) is inside the window and unused, then uses it. */
bool smbd_credits_consume(struct smbd_credits *c, uint64_t mid, uint16_t charge);
/*
 * How many credits to grant for a request that asked for 'requested'; adds
 * them to the window. Never leaves the client with zero credits.
 */
uint16_t smbd_credits_grant(struct smbd_credits *c, uint16_t requested);

#endif
