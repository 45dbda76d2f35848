/*
 * smbpipe: many requests in flight on one SMB 3.1.1 connection, as a VM host
 * keeps them, against any server. The kit's smbbench (libsmbclient) has one
 * request in flight per process; this client shows what a server does with
 * a deep queue on one connection: its credit window, out-of-order
 * completion, and how much of the machine it uses to sign, seal and copy.
 *
 *   smbpipe --host H --port P --share S --user U --password W
 *           --workload seqread|seqwrite|randread4k|randwrite4k
 *           [--depth 32] [--seconds 3] [--file-size 256M] [--file smbpipe.dat]
 *           [--encrypt] [--tag T]
 *
 * Prints one line in smbbench's format (threads=qDEPTH), so run-bench takes
 * both, and max_inflight: the most requests it had in flight at once (the
 * depth, unless the server's credits held it back). Every 4 KiB block of the file carries its offset in its first 8
 * bytes: writes stamp it, reads check it (a wrong block fails the run).
 * The sending thread seals, the receiving thread opens: the client's crypto
 * runs on two cores, as a kernel client's would.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/smbpipe_conn.h"
#include "lib/wire.h"
#include "smbd/smb2_proto.h"

#define BLOCK 4096u
#define MAX_DEPTH 1024
/* In flight while the read workloads' file is written first. */
#define FILL_DEPTH 16
/* Far more MessageIds than can be in flight: depth x 128 credits (8 MiB). */
#define MID_RING (1u << 18)
#define STATUS_SUCCESS 0x00000000u
#define STATUS_PENDING 0x00000103u
#define READ_HDR_LEN (SMB2_HDR_LEN + 49)
#define WRITE_HDR_LEN (SMB2_HDR_LEN + 48)

enum workload { SEQREAD, SEQWRITE, RANDREAD, RANDWRITE };

struct slot {
	uint8_t hdr[READ_HDR_LEN];
	uint8_t *data;
	uint64_t offset;
	uint32_t len;
	uint64_t sent_ns;
	int next_free;
};

struct run {
	struct pipe_conn *c;
	enum workload w;
	bool writing;
	uint32_t io_size;
	uint64_t file_size;
	int depth;

	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct slot slots[MAX_DEPTH];
	int free_head;
	int inflight;
	int max_inflight; /* the most requests in flight at once: the credit window at work */
	bool sending_done;
	const char *error;

	uint32_t *mid_slot; /* MessageId -> slot, MID_RING entries */

	/* The receiver's, read after it ends. */
	uint64_t ops;
	uint64_t bytes;
	uint64_t last_ns;
	uint32_t *lat_us;
	size_t lat_n, lat_cap;
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void stamp(uint8_t *data, uint32_t len, uint64_t offset)
{
	for (uint32_t i = 0; i + 8 <= len; i += BLOCK)
		put_le64(data + i, offset + i);
}

static bool stamped(const uint8_t *data, uint32_t len, uint64_t offset)
{
	for (uint32_t i = 0; i + 8 <= len; i += BLOCK)
		if (le64(data + i) != offset + i)
			return false;
	return true;
}

static uint16_t charge_of(uint32_t len)
{
	return (uint16_t)((len + 65535) / 65536);
}

static void build_request(struct run *r, struct slot *s)
{
	uint8_t *h = s->hdr, *b = h + SMB2_HDR_LEN;
	/* Ask for what this request costs and more, so the window grows. */
	pipe_hdr(h, r->writing ? SMB2_WRITE : SMB2_READ, (uint16_t)(charge_of(s->len) + 8));
	memset(b, 0, 49);
	if (r->writing) {
		put_le16(b, 49);
		put_le16(b + 2, WRITE_HDR_LEN); /* DataOffset */
		put_le32(b + 4, s->len);
		put_le64(b + 8, s->offset);
		memcpy(b + 16, r->c->file_id, 16);
	} else {
		put_le16(b, 49);
		b[2] = 0x50; /* Padding: where the server puts the data */
		put_le32(b + 4, s->len);
		put_le64(b + 8, s->offset);
		memcpy(b + 16, r->c->file_id, 16);
		put_le32(b + 32, s->len); /* MinimumCount: a short read is an error */
	}
}

static void fail_run(struct run *r, const char *why)
{
	pthread_mutex_lock(&r->lock);
	if (r->error == NULL)
		r->error = why;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static bool complete(struct run *r, const struct pipe_msg *m, struct slot *s)
{
	const uint8_t *b = m->hdr + SMB2_HDR_LEN;
	if (m->status != STATUS_SUCCESS) {
		fprintf(stderr, "smbpipe: %s at %" PRIu64 ": status 0x%08x\n",
			r->writing ? "WRITE" : "READ", s->offset, m->status);
		return false;
	}
	if (r->writing) {
		if (m->len < SMB2_HDR_LEN + 16 || le32(b + 4) != s->len)
			return false;
	} else {
		if (m->len < SMB2_HDR_LEN + 16)
			return false;
		uint32_t off = b[2], len = le32(b + 4);
		if (len != s->len || off + (uint64_t)len > m->len ||
		    !stamped(m->hdr + off, len, s->offset)) {
			fprintf(stderr, "smbpipe: READ at %" PRIu64 ": wrong data\n", s->offset);
			return false;
		}
	}
	uint64_t t = now_ns();
	if (r->lat_n == r->lat_cap) {
		r->lat_cap = r->lat_cap ? r->lat_cap * 2 : 65536;
		r->lat_us = realloc(r->lat_us, r->lat_cap * sizeof(*r->lat_us));
		if (r->lat_us == NULL)
			return false;
	}
	r->lat_us[r->lat_n++] = (uint32_t)((t - s->sent_ns) / 1000);
	r->ops++;
	r->bytes += s->len;
	r->last_ns = t;
	return true;
}

static void *receiver(void *arg)
{
	struct run *r = arg;
	struct pipe_msg m;
	for (;;) {
		if (!pipe_conn_recv(r->c, &m)) {
			pthread_mutex_lock(&r->lock);
			bool expected = r->sending_done && r->inflight == 0;
			pthread_mutex_unlock(&r->lock);
			if (!expected) {
				fail_run(r, "connection lost");
				pipe_conn_shutdown(r->c); /* a sender waiting for credits */
			}
			return NULL;
		}
		if (m.status == STATUS_PENDING && (m.flags & SMB2_FLAGS_ASYNC_COMMAND))
			continue; /* interim: its credits are counted */
		uint32_t idx = r->mid_slot[m.mid % MID_RING];
		struct slot *s = idx < (uint32_t)r->depth ? &r->slots[idx] : NULL;
		if (s == NULL || !complete(r, &m, s)) {
			fail_run(r, "bad reply");
			pipe_conn_shutdown(r->c);
			return NULL;
		}
		pthread_mutex_lock(&r->lock);
		s->next_free = r->free_head;
		r->free_head = (int)idx;
		r->inflight--;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
	}
}

/* Sends until 'until_ns' (or, with until_ns 0, once over the whole file). */
static bool pump(struct run *r, uint64_t until_ns)
{
	uint64_t seq = 0, rng = 0x9e3779b97f4a7c15ull ^ now_ns();
	uint64_t blocks = r->file_size / r->io_size;
	pthread_t rt;

	r->free_head = -1;
	for (int i = r->depth - 1; i >= 0; i--) {
		r->slots[i].next_free = r->free_head;
		r->free_head = i;
	}
	r->inflight = 0;
	r->sending_done = false;
	if (pthread_create(&rt, NULL, receiver, r) != 0)
		return false;
	for (;;) {
		if (until_ns ? now_ns() >= until_ns : seq >= blocks)
			break;
		pthread_mutex_lock(&r->lock);
		while (r->free_head < 0 && r->error == NULL)
			pthread_cond_wait(&r->changed, &r->lock);
		int idx = r->free_head;
		if (r->error == NULL) {
			r->free_head = r->slots[idx].next_free;
			r->inflight++;
		}
		pthread_mutex_unlock(&r->lock);
		if (r->error)
			break;
		struct slot *s = &r->slots[idx];
		s->len = r->io_size;
		if (r->w == SEQREAD || r->w == SEQWRITE)
			s->offset = (seq % blocks) * r->io_size;
		else
			s->offset = xorshift(&rng) % blocks * r->io_size;
		seq++;
		build_request(r, s);
		if (r->writing)
			stamp(s->data, s->len, s->offset);
		uint16_t charge = charge_of(s->len);
		/* Waits while the server grants fewer credits than the depth needs. */
		uint64_t mid;
		if (!pipe_conn_take(r->c, charge, &mid))
			break; /* the receiver failed */
		pthread_mutex_lock(&r->lock);
		if (r->inflight > r->max_inflight) /* the others sent and this one */
			r->max_inflight = r->inflight;
		pthread_mutex_unlock(&r->lock);
		r->mid_slot[mid % MID_RING] = (uint32_t)idx;
		s->sent_ns = now_ns();
		size_t hlen = r->writing ? WRITE_HDR_LEN : READ_HDR_LEN;
		if (!pipe_conn_send(r->c, s->hdr, hlen, r->writing ? s->data : NULL,
				    r->writing ? s->len : 0, charge, mid)) {
			fail_run(r, "send failed");
			break;
		}
	}
	pthread_mutex_lock(&r->lock);
	r->sending_done = true;
	while (r->inflight > 0 && r->error == NULL)
		pthread_cond_wait(&r->changed, &r->lock);
	pthread_mutex_unlock(&r->lock);
	/* The receiver waits in recv(): end it. */
	pipe_conn_shutdown(r->c);
	pthread_join(rt, NULL);
	return r->error == NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);
	switch (*end) {
	case 'G': case 'g': v <<= 30; break;
	case 'M': case 'm': v <<= 20; break;
	case 'K': case 'k': v <<= 10; break;
	default: break;
	}
	return v;
}

static void usage(void)
{
	fprintf(stderr, "usage: smbpipe --host H --port P --share S --user U --password W\n"
			"               --workload seqread|seqwrite|randread4k|randwrite4k\n"
			"               [--depth 32] [--seconds 3] [--file-size 256M]\n"
			"               [--file smbpipe.dat] [--encrypt] [--tag T]\n");
	exit(2);
}

static bool open_run(struct run *r, const struct pipe_login *l, const char *file)
{
	if (!pipe_conn_open(r->c, l) || !pipe_conn_create(r->c, file))
		return false;
	if (r->io_size > r->c->max_read || r->io_size > r->c->max_write) {
		fprintf(stderr, "smbpipe: the server allows %u-byte reads, %u-byte writes\n",
			r->c->max_read, r->c->max_write);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", 1, 0, 'h' }, { "port", 1, 0, 'p' }, { "share", 1, 0, 's' },
		{ "user", 1, 0, 'u' }, { "password", 1, 0, 'w' }, { "workload", 1, 0, 'W' },
		{ "depth", 1, 0, 'd' }, { "seconds", 1, 0, 't' }, { "file-size", 1, 0, 'f' },
		{ "file", 1, 0, 'F' }, { "encrypt", 0, 0, 'e' }, { "tag", 1, 0, 'T' },
		{ 0, 0, 0, 0 },
	};
	struct pipe_login l = { .host = "127.0.0.1", .port = 445 };
	const char *workload = NULL, *file = "smbpipe.dat", *tag = "";
	int depth = 32;
	double seconds = 3;
	uint64_t file_size = 256ull << 20;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'h': l.host = optarg; break;
		case 'p': l.port = atoi(optarg); break;
		case 's': l.share = optarg; break;
		case 'u': l.user = optarg; break;
		case 'w': l.password = optarg; break;
		case 'W': workload = optarg; break;
		case 'd': depth = atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'f': file_size = parse_size(optarg); break;
		case 'F': file = optarg; break;
		case 'e': l.seal = true; break;
		case 'T': tag = optarg; break;
		default: usage();
		}
	}
	if (!workload || !l.share || !l.user || !l.password || depth < 1 || depth > MAX_DEPTH ||
	    seconds <= 0)
		usage();

	struct pipe_conn conn = { .fd = -1 };
	struct run r = { .c = &conn, .depth = depth, .file_size = file_size };
	if (strcmp(workload, "seqread") == 0)
		r.w = SEQREAD;
	else if (strcmp(workload, "seqwrite") == 0)
		r.w = SEQWRITE;
	else if (strcmp(workload, "randread4k") == 0)
		r.w = RANDREAD;
	else if (strcmp(workload, "randwrite4k") == 0)
		r.w = RANDWRITE;
	else
		usage();
	r.io_size = (r.w == SEQREAD || r.w == SEQWRITE) ? 1u << 20 : BLOCK;
	if (file_size < (1u << 20) || file_size % (1u << 20))
		usage();
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.changed, NULL);
	r.mid_slot = calloc(MID_RING, sizeof(*r.mid_slot));
	/* The first FILL_DEPTH slots also serve the 1 MiB writes of the fill. */
	for (int i = 0; i < depth && r.mid_slot; i++) {
		size_t size = i < FILL_DEPTH ? 1u << 20 : r.io_size;
		r.slots[i].data = malloc(size);
		if (r.slots[i].data == NULL)
			return 1;
		memset(r.slots[i].data, 0x5a, size);
	}
	int rc = 1;
	if (r.mid_slot == NULL || !open_run(&r, &l, file))
		goto out;

	/* The read workloads need the whole file written (stamped) first. */
	if ((r.w == SEQREAD || r.w == RANDREAD) && conn.end_of_file < file_size) {
		enum workload w = r.w;
		uint32_t io = r.io_size;
		r.w = SEQWRITE;
		r.writing = true;
		r.io_size = 1u << 20;
		r.depth = depth < FILL_DEPTH ? depth : FILL_DEPTH;
		bool ok = pump(&r, 0);
		pipe_conn_close(&conn);
		if (!ok || !open_run(&r, &l, file)) {
			fprintf(stderr, "smbpipe: filling %s failed: %s\n", file, r.error ? r.error : "");
			goto out;
		}
		r.depth = depth;
		r.w = w;
		r.io_size = io;
		r.ops = r.bytes = 0;
		r.lat_n = 0;
	}

	r.writing = r.w == SEQWRITE || r.w == RANDWRITE;
	uint64_t t0 = now_ns();
	bool ok = pump(&r, t0 + (uint64_t)(seconds * 1e9));
	if (!ok || r.ops == 0) {
		fprintf(stderr, "smbpipe: %s\n", r.error ? r.error : "nothing completed");
		printf("smbbench FAILED workload=%s threads=q%d encrypt=%d tag=%s\n", workload, depth,
		       l.seal, tag);
		goto out;
	}
	double secs = (double)(r.last_ns - t0) / 1e9;
	qsort(r.lat_us, r.lat_n, sizeof(*r.lat_us), cmp_u32);
	printf("smbbench workload=%s threads=q%d encrypt=%d ops=%" PRIu64 " secs=%.3f MBps=%.1f "
	       "iops=%.0f lat_p50_us=%u lat_p99_us=%u max_inflight=%d tag=%s\n",
	       workload, depth, l.seal, r.ops, secs, (double)r.bytes / secs / 1e6,
	       (double)r.ops / secs, r.lat_us[r.lat_n / 2], r.lat_us[r.lat_n * 99 / 100],
	       r.max_inflight, tag);
	rc = 0;
out:
	pipe_conn_close(&conn);
	for (int i = 0; i < depth; i++)
		free(r.slots[i].data);
	free(r.mid_slot);
	free(r.lat_us);
	return rc;
}
