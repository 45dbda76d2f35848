#include "config.h"
#include "smbd/crypto_share.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/crypto/gcm_parts.h"
#include "smbd/iopool.h"

/* A part is long enough that its set-up (two cipher contexts) is noise,
 * and short enough that a helper that wakes late still finds some. */
#define SHARE_PART (128u * 1024)
#define SHARE_MAX_PARTS 64 /* an 8 MiB message in 128 KiB parts */

/* What the parts do: seal, open, or only hash (an AES-GMAC signature). */
enum share_op { SHARE_SEAL, SHARE_OPEN, SHARE_MAC };

struct share {
	enum share_op op;
	enum smb2_cipher cipher;
	const uint8_t *key, *nonce;
	const struct iovec *in;
	int incnt;
	uint8_t *out;
	size_t len, part_len, nparts;
	atomic_size_t next;
	atomic_bool failed;
	struct smb2_gcm_part parts[SHARE_MAX_PARTS];
};

/* Each thread takes the next part until none is left. */
static void run_parts(void *arg)
{
	struct share *s = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&s->next, 1);
		if (i >= s->nparts)
			return;
		size_t off = i * s->part_len;
		size_t n = s->len - off < s->part_len ? s->len - off : s->part_len;
		bool ok = s->op == SHARE_MAC
				  ? smb2_gmac_part_run(s->key, s->nonce, off, s->in, s->incnt, n, &s->parts[i])
				  : smb2_gcm_part_run(s->op == SHARE_SEAL, s->cipher, s->key, s->nonce, off, s->in,
						      s->incnt, s->out + off, n, &s->parts[i]);
		if (!ok)
			atomic_store(&s->failed, true);
	}
}

static unsigned n_cpus;
static pthread_once_t cpus_once = PTHREAD_ONCE_INIT;

static void count_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	n_cpus = n > 0 ? (unsigned)n : 1;
}

static unsigned online_cpus(void)
{
	pthread_once(&cpus_once, count_cpus);
	return n_cpus;
}

/* With no idle worker (a deep queue keeps them all busy) the parts would
 * only cost their second pass over the data: sealed READs at depth 32,
 * 4% less throughput. */
bool smbd_crypto_share_wanted(const struct smbd_iopool *pool, enum smb2_cipher c, size_t len)
{
	return pool != NULL && (c == SMB2_CIPHER_AES128_GCM || c == SMB2_CIPHER_AES256_GCM) &&
	       len >= SMBD_CRYPTO_SHARE_MIN && smbd_iopool_threads(pool) >= 2 && online_cpus() >= 2 &&
	       smbd_iopool_idle(pool) > 0;
}

/* Runs the parts on this thread and on as many helpers as there are other
 * cores and idle workers to run them; the joined tag goes to tag. */
static bool run_shared(struct smbd_iopool *pool, struct share *s, const uint8_t *aad, size_t aad_len,
		       uint8_t tag[16])
{
	s->part_len = SHARE_PART;
	if ((s->len + SHARE_PART - 1) / SHARE_PART > SHARE_MAX_PARTS)
		s->part_len = (s->len / SHARE_MAX_PARTS + 16) & ~(size_t)15;
	s->nparts = (s->len + s->part_len - 1) / s->part_len;
	atomic_init(&s->next, 0);
	atomic_init(&s->failed, false);

	/* Idle workers are never more than the pool has: share() needs no other bound. */
	unsigned helpers = online_cpus() - 1;
	if (helpers > smbd_iopool_idle(pool))
		helpers = smbd_iopool_idle(pool);
	if (helpers > s->nparts - 1)
		helpers = (unsigned)(s->nparts - 1);
	smbd_iopool_share(pool, helpers, run_parts, s);

	bool ok = !atomic_load(&s->failed) &&
		  (s->op == SHARE_MAC ? smb2_gmac_parts_tag(s->key, s->nonce, s->parts, s->nparts, tag)
			  : smb2_gcm_parts_tag(s->cipher, s->key, s->nonce, aad, aad_len, s->parts, s->nparts, tag));
	OPENSSL_cleanse(s->parts, sizeof(s->parts));
	return ok;
}

bool smbd_crypto_share_seal(struct smbd_iopool *pool, enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
			    const uint8_t *aad, size_t aad_len, const struct iovec *in, int incnt, uint8_t *out,
			    uint8_t tag[16])
{
	struct share s = { .op = SHARE_SEAL, .cipher = c, .key = key, .nonce = nonce, .in = in, .incnt = incnt, .out = out };
	for (int i = 0; i < incnt; i++)
		s.len += in[i].iov_len;
	if (!run_shared(pool, &s, aad, aad_len, tag)) {
		OPENSSL_cleanse(out, s.len);
		memset(tag, 0, 16);
		return false;
	}
	return true;
}

bool smbd_crypto_share_open(struct smbd_iopool *pool, enum smb2_cipher c, const uint8_t *key, const uint8_t *nonce,
			    const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len, const uint8_t tag[16])
{
	struct share s = { .op = SHARE_OPEN, .cipher = c, .key = key, .nonce = nonce, .out = buf, .len = len };
	uint8_t want[16];
	bool ok = run_shared(pool, &s, aad, aad_len, want) && CRYPTO_memcmp(want, tag, 16) == 0;
	if (!ok) /* unauthenticated plaintext is never left behind */
		OPENSSL_cleanse(buf, len);
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

bool smbd_crypto_share_gmac(struct smbd_iopool *pool, const uint8_t key[16], const uint8_t nonce[12],
			    const struct iovec *in, int incnt, uint8_t sig[16])
{
	struct share s = { .op = SHARE_MAC, .cipher = SMB2_CIPHER_AES128_GCM, .key = key, .nonce = nonce, .in = in,
			   .incnt = incnt };
	for (int i = 0; i < incnt; i++)
		s.len += in[i].iov_len;
	if (!run_shared(pool, &s, NULL, 0, sig)) {
		memset(sig, 0, 16);
		return false;
	}
	return true;
}
