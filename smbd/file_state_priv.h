/*
 * What file_state.c and lease.c share of a file's state; nothing else
 * includes this (the rest of the server goes through file_state.h).
 */
#ifndef PORTHOS_SMBD_FILE_STATE_PRIV_H
#define PORTHOS_SMBD_FILE_STATE_PRIV_H

#include <sys/types.h>

#include "smbd/create_park.h"

struct event;
struct smb2_call;
struct smbd_open;
struct smbd_server;

struct smbd_file {
	struct smbd_file *prev, *next; /* hash bucket */
	struct smbd_server *srv;
	dev_t dev;
	ino_t ino;
	struct smbd_open **opens;
	size_t n_opens;
	struct smbd_park_list waiters; /* CREATEs waiting for breaks */
};

struct smbd_file *smbd_file_find(struct smbd_server *srv, dev_t dev, ino_t ino);
/* Wakes every CREATE waiting on this file, on the next loop turn. */
void smbd_file_wake_waiters(struct smbd_file *f);

#endif
