/*
 * One large message sealed (AES-128-GCM) or signed (AES-128-GMAC) in
 * one pass against in parts on the I/O workers (smbd/crypto_share.c),
 * and how long an idle worker takes to join: the wake-up that the parts
 * have to pay for.
 *
 *   build/bench/sealbench [SIZE_KIB] [ROUNDS]     (default 1024 KiB, 2000)
 *
 * Prints wall microseconds per message and the helpers' start delay. Run it on a quiet machine; it uses every core.
 */
#include "config.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <talloc.h>
#include <time.h>

#include "lib/crypto/smb2_aead.h"
#include "lib/crypto/smb2_sign.h"
#include "smbd/crypto_share.h"
#include "smbd/iopool.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct probe {
	double posted;
	atomic_int calls;
	double delay_sum;
	int joined;
};

/* The caller works 100 us; a helper that joins meanwhile notes when. */
static void probe_fn(void *arg)
{
	struct probe *p = arg;
	if (atomic_fetch_add(&p->calls, 1) == 1) {
		p->delay_sum += now() - p->posted;
		p->joined++;
	}
	for (double t = now(); now() - t < 100e-6;)
		;
}

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 10) : 1024) * 1024 + 80; /* + SMB2 header, READ body */
	int rounds = argc > 2 ? atoi(argv[2]) : 2000;
	struct event_base *ev = event_base_new();
	struct smbd_iopool *pool = smbd_iopool_new(NULL, ev, 4);
	uint8_t *in = malloc(len), *out = malloc(len);
	if (ev == NULL || pool == NULL || in == NULL || out == NULL || rounds <= 0)
		return 1;
	for (size_t i = 0; i < len; i++)
		in[i] = (uint8_t)i;
	uint8_t key[16] = { 1 }, nonce[12] = { 2 }, aad[32] = { 3 }, tag[16];
	struct iovec iov[3] = { { in, 64 }, { in + 64, 16 }, { in + 80, len - 80 } };

	double t0 = now();
	for (int i = 0; i < rounds; i++)
		smb2_aead_encrypt_to(SMB2_CIPHER_AES128_GCM, key, nonce, aad, 32, iov, 3, out, tag);
	double one = (now() - t0) / rounds;
	t0 = now();
	for (int i = 0; i < rounds; i++)
		smbd_crypto_share_seal(pool, SMB2_CIPHER_AES128_GCM, key, nonce, aad, 32, iov, 3, out, tag);
	double shared = (now() - t0) / rounds;
	t0 = now();
	for (int i = 0; i < rounds; i++)
		smb2_aes_gmac_iov(key, nonce, iov, 3, tag);
	double mac_one = (now() - t0) / rounds;
	t0 = now();
	for (int i = 0; i < rounds; i++)
		smbd_crypto_share_gmac(pool, key, nonce, iov, 3, tag);
	double mac_shared = (now() - t0) / rounds;

	struct probe p = { 0 };
	for (int i = 0; i < rounds; i++) {
		atomic_store(&p.calls, 0);
		p.posted = now();
		smbd_iopool_share(pool, 1, probe_fn, &p);
		for (double t = now(); now() - t < 200e-6;) /* the workers go back to sleep */
			;
	}
	printf("sealbench size_kib=%zu one_pass_us=%.1f shared_us=%.1f gmac_one_pass_us=%.1f gmac_shared_us=%.1f "
	       "helper_joined=%d/%d helper_delay_us=%.1f\n",
	       (len - 80) / 1024, one * 1e6, shared * 1e6, mac_one * 1e6, mac_shared * 1e6, p.joined, rounds,
	       p.joined > 0 ? p.delay_sum / p.joined * 1e6 : 0.0);
	talloc_free(pool);
	event_base_free(ev);
	free(in);
	free(out);
	return 0;
}
