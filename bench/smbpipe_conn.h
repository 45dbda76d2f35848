/*
 * One SMB 3.1.1 connection for the pipelined benchmark client: negotiate,
 * NTLMv2 logon, tree connect and one open file, then framing (sign or seal
 * what goes out, open what comes in) for many requests in flight.
 *
 * A benchmark client, not a general one: one dialect (3.1.1), one cipher
 * (AES-128-GCM), one user with a password. It speaks to Samba's smbd and to
 * Porthos alike, so that both are measured the same way.
 */
#ifndef PORTHOS_BENCH_SMBPIPE_CONN_H
#define PORTHOS_BENCH_SMBPIPE_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/crypto/smb2_keys.h"

struct pipe_login {
	const char *host;
	int port;
	const char *share;
	const char *user;
	const char *password;
	bool seal; /* seal every request after the logon (AES-128-GCM) */
};

struct pipe_conn {
	int fd;
	bool seal;
	uint64_t session_id;
	uint32_t tree_id;
	uint8_t file_id[16];
	uint64_t end_of_file; /* of the open file, when it was opened */
	uint32_t max_read;
	uint32_t max_write;
	struct smb2_session_keys keys;

	/* Sending side (one thread at a time). */
	uint64_t next_mid;
	uint64_t nonce;

	/* Credits granted and not yet spent; shared by both sides. */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int64_t credits;

	/* Receiving side: one frame at a time. */
	bool closing; /* shut down: a receive that fails now is the end, not an error */
	uint8_t *rbuf;
	size_t rbuf_cap;
};

/* A received message: the SMB2 header and what follows, inside rbuf. */
struct pipe_msg {
	const uint8_t *hdr;
	size_t len;
	uint32_t status;
	uint16_t credits;
	uint32_t flags;
	uint64_t mid;
};

/* Connects, logs on, connects the share. Returns false with a message on stderr. */
bool pipe_conn_open(struct pipe_conn *c, const struct pipe_login *l);
/* Opens (creates if missing) 'name' for reading and writing. */
bool pipe_conn_create(struct pipe_conn *c, const char *name);
/* Ends the connection under a thread waiting to receive or for credits. */
void pipe_conn_shutdown(struct pipe_conn *c);
void pipe_conn_close(struct pipe_conn *c);

/*
 * Takes 'charge' credits, waiting for replies to grant them, and sets *mid
 * to the MessageId they pay for (the sending thread only). False once the
 * connection is shut down.
 */
bool pipe_conn_take(struct pipe_conn *c, uint16_t charge, uint64_t *mid);
/*
 * Frames and sends one request taken by pipe_conn_take(): hdr is a full SMB2
 * header plus body (its MessageId, CreditCharge, TreeId and SessionId are
 * filled in here), data follows it. Sealing encrypts hdr and data in place.
 */
bool pipe_conn_send(struct pipe_conn *c, uint8_t *hdr, size_t hdr_len,
		    void *data, size_t data_len, uint16_t charge, uint64_t mid);
/* Receives the next message (opening it if sealed) and adds its credits. */
bool pipe_conn_recv(struct pipe_conn *c, struct pipe_msg *m);

/* Fills an SMB2 request header for 'cmd' asking for 'credit_request' credits. */
void pipe_hdr(uint8_t hdr[64], uint16_t cmd, uint16_t credit_request);

#endif
