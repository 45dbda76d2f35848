/*
 * Logging with levels, to stderr or syslog. Log lines name the function;
 * never log a secret (passwords, keys, hashes, session keys).
 */
#ifndef PORTHOS_LOG_H
#define PORTHOS_LOG_H

#include <stdbool.h>

enum plog_level {
	PLOG_ERROR = 0,
	PLOG_WARN = 1,
	PLOG_INFO = 2,
	PLOG_DEBUG = 3,
};

void plog_setup(const char *ident, enum plog_level level, bool use_syslog);
void plog_set_level(enum plog_level level);
bool plog_enabled(enum plog_level level);
/* Parses "error", "warn", "info", "debug" or 0-3; returns false otherwise. */
bool plog_parse_level(const char *s, enum plog_level *out);
void plog(enum plog_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOG_ERR(...) plog(PLOG_ERROR, __func__, __VA_ARGS__)
#define LOG_WARN(...) plog(PLOG_WARN, __func__, __VA_ARGS__)
#define LOG_INFO(...) plog(PLOG_INFO, __func__, __VA_ARGS__)
#define LOG_DBG(...) \
	do { if (plog_enabled(PLOG_DEBUG)) plog(PLOG_DEBUG, __func__, __VA_ARGS__); } while (0)

#endif
