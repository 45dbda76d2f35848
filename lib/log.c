#include "config.h"
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

static enum plog_level current_level = PLOG_INFO;
static bool to_syslog;
static const char *log_ident = "porthos";

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void plog_setup(const char *ident, enum plog_level level, bool use_syslog)
{
	log_ident = ident;
	current_level = level;
	to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void plog_set_level(enum plog_level level)
{
	current_level = level;
}

bool plog_enabled(enum plog_level level)
{
	return level <= current_level;
}

bool plog_parse_level(const char *s, enum plog_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0 || (s[0] == (char)('0' + i) && s[1] == 0)) {
			*out = (enum plog_level)i;
			return true;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = PLOG_WARN;
		return true;
	}
	return false;
}

void plog(enum plog_level level, const char *func, const char *fmt, ...)
{
	static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[1024];
	va_list ap;

	if (!plog_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (to_syslog) {
		syslog(syslog_prio[level], "%s: %s", func, msg);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%s] %s: %s\n", when, ts.tv_nsec / 1000000,
		log_ident, level_names[level], func, msg);
}
