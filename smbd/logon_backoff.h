/*
 * Failed logons slow down, per client address: a few mistakes cost
 * nothing, then each further failure from that address is answered after
 * a delay that doubles up to a ceiling, so online password guessing is
 * hopeless while a user who mistypes is not locked out. A success from
 * the address, or a quiet period, forgets the record.
 */
#ifndef PORTHOS_SMBD_LOGON_BACKOFF_H
#define PORTHOS_SMBD_LOGON_BACKOFF_H

#include <stdint.h>
#include <talloc.h>

#define SMBD_BACKOFF_FREE_FAILURES 5   /* answered at once */
#define SMBD_BACKOFF_FIRST_DELAY_MS 500
#define SMBD_BACKOFF_FORGET_S 600      /* quiet time after which an address is forgiven */
#define SMBD_BACKOFF_ADDRESSES 4096    /* addresses remembered; the oldest go first */

struct smbd_backoff;

/* max_delay_ms: the ceiling ("max logon delay"); 0 turns delays off. */
struct smbd_backoff *smbd_backoff_new(TALLOC_CTX *mem, uint32_t max_delay_ms);
/* Records a failure from addr at time now (seconds); returns how long to hold the reply. */
uint32_t smbd_backoff_failure(struct smbd_backoff *b, const char *addr, int64_t now);
void smbd_backoff_success(struct smbd_backoff *b, const char *addr);

#endif
