/*
 * make_seeds DIR: writes the generated seed corpus under DIR/<target>/.
 * (`make fuzz-seeds` in a fuzzing build runs it on tests/fuzz/corpus.)
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>

#include "lib/auth/auth.h"
#include "tests/fuzz/seeds.h"

static const char *out_dir;
static unsigned written;

void seed_write(const char *target, const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || data == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write seed %s\n", path);
		exit(1);
	}
	written++;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	out_dir = argv[1];
	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
		perror(out_dir);
		return 1;
	}
	if (!auth_global_init()) {
		fprintf(stderr, "cannot load the NTLM crypto providers\n");
		return 1;
	}
	TALLOC_CTX *mem = talloc_new(NULL);
	seeds_smb2(mem);
	seeds_transform(mem);
	seeds_auth(mem);
	seeds_rpc(mem);
	seeds_conf(mem);
	talloc_free(mem);
	printf("%u seeds written under %s\n", written, out_dir);
	return 0;
}
