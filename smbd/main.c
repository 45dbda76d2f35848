/*
 * porthos-smbd: the SMB 2/3 server.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "smbd/identity.h"
#include "smbd/server.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: porthos-smbd [--config FILE] [--check] [options]\n"
		"\n"
		"  -c, --config FILE      configuration file (default: built-in defaults)\n"
		"  -t, --check            validate the configuration, print every error, exit\n"
		"  -s, --share NAME=PATH  export PATH as NAME (repeatable; quick mode without a file)\n"
		"  -l, --listen ADDR[:PORT]  listen address (repeatable; replaces the configured ones)\n"
		"  -p, --port PORT        default port (default 445)\n"
		"      --passdb PATH      password database (see porthos-ctl user add)\n"
		"      --state-dir DIR    state directory (server GUID, ...)\n"
		"  -d, --log-level LEVEL  error, warn, info or debug\n"
		"      --syslog           log to syslog instead of stderr\n"
		"      --signing-required require signed requests\n"
		"  -F, --foreground       accepted for systemd units; the server never forks\n"
		"  -h, --help             this text\n");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *ev = arg;
	LOG_INFO("signal %d: shutting down", (int)sig);
	event_base_loopbreak(ev);
}

enum { OPT_PASSDB = 256, OPT_STATE_DIR, OPT_SYSLOG, OPT_SIGNING };

/* What main allocates hangs off this, freed at every exit, early ones
 * included, so that LeakSanitizer finds nothing left behind. */
static TALLOC_CTX *top;

static void free_top(void)
{
	TALLOC_FREE(top);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "share", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "passdb", required_argument, NULL, OPT_PASSDB },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "log-level", required_argument, NULL, 'd' },
		{ "syslog", no_argument, NULL, OPT_SYSLOG },
		{ "signing-required", no_argument, NULL, OPT_SIGNING },
		{ "foreground", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	top = talloc_new(NULL);
	atexit(free_top);
	const char *config_path = NULL, *log_level = NULL, *passdb = NULL, *state_dir = NULL, *port = NULL;
	bool check = false, use_syslog = false, signing = false;
	const char **shares = talloc_array(top, const char *, argc);
	const char **listens = talloc_array(top, const char *, argc);
	size_t n_shares = 0, n_listens = 0;
	int c;

	while ((c = getopt_long(argc, argv, "c:ts:l:p:d:Fh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 't': check = true; break;
		case 's': shares[n_shares++] = optarg; break;
		case 'l': listens[n_listens++] = optarg; break;
		case 'p': port = optarg; break;
		case OPT_PASSDB: passdb = optarg; break;
		case OPT_STATE_DIR: state_dir = optarg; break;
		case 'd': log_level = optarg; break;
		case OPT_SYSLOG: use_syslog = true; break;
		case OPT_SIGNING: signing = true; break;
		case 'F': break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	struct porthos_config *cfg = NULL;
	struct conf_errors errs = { 0 };
	if (config_path) {
		if (conf_load_file(top, config_path, &cfg, &errs) != 0) {
			conf_print_errors(&errs, stderr);
			fprintf(stderr, "%s: %zu error(s)\n", config_path, errs.n);
			return 1;
		}
	} else {
		cfg = conf_default(top);
		if (cfg == NULL)
			return 1;
	}
	/* Command-line settings override the file. */
	if (port) {
		char *end;
		unsigned long p = strtoul(port, &end, 10);
		if (*end || p == 0 || p > 65535) {
			fprintf(stderr, "invalid port '%s'\n", port);
			return 2;
		}
		cfg->default_port = (uint16_t)p;
		if (!config_path && n_listens == 0) {
			/* Defaults follow the port when no file set them. */
			for (size_t i = 0; i < cfg->n_listen; i++) {
				char host[128];
				uint16_t ignored;
				if (conf_parse_listen(cfg->listen[i], 445, host, sizeof(host), &ignored) == 0)
					cfg->listen[i] = talloc_asprintf(cfg, strchr(host, ':') ? "[%s]:%lu" : "%s:%lu",
									 host, p);
			}
		}
	}
	if (n_listens) {
		cfg->listen = talloc_array(cfg, char *, n_listens);
		for (size_t i = 0; i < n_listens; i++)
			cfg->listen[i] = talloc_strdup(cfg, listens[i]);
		cfg->n_listen = n_listens;
	}
	if (passdb)
		cfg->passdb_path = talloc_strdup(cfg, passdb);
	if (state_dir) {
		cfg->state_dir = talloc_strdup(cfg, state_dir);
		cfg->server_guid_file = talloc_asprintf(cfg, "%s/server-guid", state_dir);
		if (!passdb && !config_path)
			cfg->passdb_path = talloc_asprintf(cfg, "%s/passdb", state_dir);
	}
	if (signing)
		cfg->signing_required = true;
	for (size_t i = 0; i < n_shares; i++) {
		char *spec = talloc_strdup(top, shares[i]);
		char *eq = strchr(spec, '=');
		if (eq == NULL) {
			fprintf(stderr, "--share wants NAME=PATH, not '%s'\n", spec);
			return 2;
		}
		*eq = 0;
		if (conf_add_share(cfg, spec, eq + 1, &errs) != 0) {
			conf_print_errors(&errs, stderr);
			return 1;
		}
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		char host[128];
		uint16_t p;
		if (conf_parse_listen(cfg->listen[i], cfg->default_port, host, sizeof(host), &p) != 0) {
			fprintf(stderr, "invalid listen address '%s'\n", cfg->listen[i]);
			return 2;
		}
	}
	if (check) {
		printf("configuration OK: %zu share(s), %zu listen address(es)\n", cfg->n_shares, cfg->n_listen);
		return 0;
	}

	enum plog_level level = PLOG_INFO;
	const char *lvl = log_level ? log_level : cfg->log_level;
	if (lvl && !plog_parse_level(lvl, &level)) {
		fprintf(stderr, "invalid log level '%s'\n", lvl);
		return 2;
	}
	plog_setup("porthos-smbd", level, use_syslog || cfg->log_syslog);
	signal(SIGPIPE, SIG_IGN);

	struct event_base *ev = event_base_new();
	if (ev == NULL)
		return 1;
	struct smbd_server *srv = smbd_server_new(top, ev, cfg);
	if (srv == NULL) {
		event_base_free(ev);
		return 1;
	}
	if (cfg->n_shares == 0)
		LOG_WARN("no shares configured: only IPC$ is served");
	if (!smbd_identity_can_switch())
		LOG_WARN("not running as root: every user acts on files as uid %u", (unsigned)geteuid());
	if (smbd_server_listen(srv) != 0) {
		smbd_server_free(srv);
		event_base_free(ev);
		return 1;
	}

	struct event *sigint = evsignal_new(ev, SIGINT, on_signal, ev);
	struct event *sigterm = evsignal_new(ev, SIGTERM, on_signal, ev);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);
	LOG_INFO("porthos-smbd %s ready", PACKAGE_VERSION);
	event_base_dispatch(ev);

	smbd_server_free(srv);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(ev);
	TALLOC_FREE(top);
	return 0;
}
