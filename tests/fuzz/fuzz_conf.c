/*
 * The configuration parser (conf_load_string) and the listen-address
 * parser, on arbitrary text. Share paths are stat()ed by the loader;
 * nothing is written.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	TALLOC_CTX *mem = talloc_new(NULL);
	char *text = talloc_strndup(mem, (const char *)data, size);
	struct porthos_config *cfg = NULL;
	struct conf_errors errs = { 0 };
	if (text != NULL && conf_load_string(mem, "fuzz.conf", text, &cfg, &errs) == 0) {
		char host[128];
		uint16_t port;
		for (size_t i = 0; i < cfg->n_listen; i++)
			if (conf_parse_listen(cfg->listen[i], cfg->default_port, host, sizeof(host), &port) != 0)
				__builtin_trap(); /* the loader accepted what the server cannot use */
		for (size_t i = 0; i < cfg->n_shares; i++)
			if (conf_find_share(cfg, cfg->shares[i]->name) == NULL)
				__builtin_trap();
	} else if (devnull != NULL) {
		conf_print_errors(&errs, devnull);
	}
	/* Each line as a listen address too: the parser behind "listen =" and --listen. */
	for (char *line = text, *end; line != NULL && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		if (end != NULL)
			*end = 0;
		char host[64];
		uint16_t port;
		(void)conf_parse_listen(line, 445, host, sizeof(host), &port);
	}
	talloc_free(mem);
	return 0;
}
