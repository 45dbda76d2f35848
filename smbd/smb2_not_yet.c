/*
 * Commands whose real implementation belongs to later work. Each answers
 * as a Windows server does when the request cannot be served, after the
 * same validation a full handler would do.
 *
 * Nothing is left here now that LOCK (smb2_lock.c) and CHANGE_NOTIFY
 * (smb2_notify.c) are implemented; the file can go.
 */
#include "config.h"
