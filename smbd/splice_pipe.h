/*
 * Pipes that carry a large READ's data from the file to the socket
 * without a copy in the server: splice(2) puts references to the file's
 * page-cache pages into the pipe (on io_uring or a worker, where a page
 * not yet in memory may be waited for), and the transport splices them
 * on into the socket (smbd/transport.h, send_spliced). Against pread()
 * and send() that saves both copies of every byte the server made
 * (docs/PERFORMANCE.md, "READ data by splice").
 *
 * The data a client gets is what the pages hold when they go out: a
 * WRITE to the same range from another client racing with the READ may
 * show, as it may with any READ that overlaps a concurrent WRITE.
 *
 * A pool keeps a few empty pipes for the next READs and bounds how many
 * are out at once (two descriptors each); when none can be had, the READ
 * goes through memory as before. Loop thread only.
 */
#ifndef PORTHOS_SMBD_SPLICE_PIPE_H
#define PORTHOS_SMBD_SPLICE_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

struct smbd_pipes;

/*
 * One pipe holds what /proc/sys/fs/pipe-max-size allows (1 MiB unless an
 * administrator raised it; only a privileged process may go beyond), so
 * a larger READ's data is a chain of pipes, filled and sent in order.
 * A pipe holds whole pages of the file: data that starts part way into a
 * page leaves that much of the pipe unused (smbd_pipe_room).
 */
struct smbd_pipe {
	int rd, wr;          /* both non-blocking */
	size_t cap;          /* what it holds without a reader: pages' worth */
	size_t held;         /* bytes in it now, as its users count them */
	struct smbd_pipe *next; /* the next part of the same data, or NULL */
	struct smbd_pipes *pool;
};

/* READs from this size up may go by splice; below it a copy is cheaper
 * than the extra system calls. */
#define SMBD_SPLICE_READ_MIN (64u * 1024)

struct smbd_pipes *smbd_pipes_new(TALLOC_CTX *mem);

/*
 * Empty pipes that hold the len bytes of a file from offset together: the
 * first of a chain, a child of mem (the others are its children); freeing
 * it gives them back (each kept for reuse only if its held is 0). NULL if
 * none can be had: too many out, no descriptors.
 */
struct smbd_pipe *smbd_pipe_get(struct smbd_pipes *pool, TALLOC_CTX *mem, uint64_t offset, size_t len);

/* Bytes of a file from offset on that the empty pipe p takes. */
size_t smbd_pipe_room(const struct smbd_pipe *p, uint64_t offset);

/* Bytes held by the chain from p on. */
size_t smbd_pipe_held(const struct smbd_pipe *p);

/* Reads all that the chain holds into buf, in order; false on a short read. */
bool smbd_pipe_read_all(struct smbd_pipe *p, void *buf);

#endif
