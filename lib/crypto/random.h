/* Cryptographically strong random bytes (OpenSSL's DRBG). */
#ifndef PORTHOS_CRYPTO_RANDOM_H
#define PORTHOS_CRYPTO_RANDOM_H

#include <stdbool.h>
#include <stddef.h>

/* Fills buf with len random bytes; false if the DRBG failed. Thread-safe. */
bool crypto_random(void *buf, size_t len);

#endif
