/* The one account of the fuzz targets' passdb. */
#ifndef PORTHOS_FUZZ_FZ_USER_H
#define PORTHOS_FUZZ_FZ_USER_H

#define FZ_USER "fuzzuser"
#define FZ_PASSWORD "Fuzz-Pass-1"
#define FZ_DOMAIN "WORKGROUP"

#endif
