#include "config.h"
#include "lib/crypto/random.h"

#include <limits.h>
#include <stdint.h>

#include <openssl/rand.h>

bool crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	if (buf == NULL && len > 0)
		return false;
	/* RAND_bytes() takes an int length. */
	while (len > 0) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len;

		if (RAND_bytes(p, chunk) != 1)
			return false;
		p += chunk;
		len -= (size_t)chunk;
	}
	return true;
}
