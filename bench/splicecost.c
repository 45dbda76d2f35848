/*
 * What a loopback sender pays for its receiver's way of taking the data:
 * recv() into a buffer then pwrite() to a file (as Samba takes a WRITE),
 * or splice() from the socket into a pipe then into the file (as Porthos
 * does, smbd/tcp_tail.h). On loopback the receiving socket holds the
 * sender's own page fragments, so a receiver that keeps them in a pipe
 * until the file has them makes the sender fill fresh ones
 * (docs/PERFORMANCE.md, "what bounds the write rows"). No SMB involved.
 *
 *   build/bench/splicecost recv|splice [SECONDS] [DIR]   (default 3 s, /tmp)
 *
 * One line: MB/s, and the CPU time (user + system) each side spent per
 * MiB. Port 5399 on 127.0.0.1; the file (256 MiB at most) is removed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1024 * 1024)
#define FILE_SPAN (256L * CHUNK)
#define PORT 5399

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Writes 1 MiB pieces for secs seconds; prints its rate and CPU per MiB. */
static int send_for(const struct sockaddr_in *to, double secs)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (const struct sockaddr *)to, sizeof(*to)) != 0)
		return 1;
	char *b = malloc(CHUNK);
	if (b == NULL)
		return 1;
	memset(b, 0x5a, CHUNK);
	double t0 = now();
	long n = 0;
	while (now() - t0 < secs) {
		for (size_t o = 0; o < CHUNK;) {
			ssize_t k = write(s, b + o, CHUNK - o);
			if (k <= 0)
				return 1;
			o += (size_t)k;
		}
		n++;
	}
	double wall = now() - t0;
	printf("sender: %.0f MB/s, %.0f us CPU per MiB\n", (double)n * CHUNK / 1e6 / wall, cpu_seconds() * 1e6 / (double)n);
	fflush(stdout);
	close(s);
	return 0;
}

/* Takes 1 MiB at a time into the file until the sender closes; the
 * number of MiB taken, or -1. */
static long receive(int c, int file, bool use_splice)
{
	char *buf = malloc(CHUNK);
	int p[2];
	if (buf == NULL || pipe(p) != 0)
		return -1;
	(void)fcntl(p[1], F_SETPIPE_SZ, CHUNK);
	for (long n = 0;; n++) {
		size_t got = 0;
		while (got < CHUNK) {
			ssize_t k = use_splice ? splice(c, NULL, p[1], NULL, CHUNK - got, SPLICE_F_MOVE)
					       : recv(c, buf + got, CHUNK - got, 0);
			if (k == 0)
				return n; /* the sender is done; a part-piece is not counted */
			if (k < 0)
				return -1;
			got += (size_t)k;
		}
		loff_t at = (loff_t)((n * CHUNK) % FILE_SPAN);
		if (!use_splice) {
			if (pwrite(file, buf, CHUNK, at) != CHUNK)
				return -1;
			continue;
		}
		for (size_t w = 0; w < CHUNK;) {
			loff_t o = at + (loff_t)w;
			ssize_t k = splice(p[0], NULL, file, &o, CHUNK - w, SPLICE_F_MOVE);
			if (k <= 0)
				return -1;
			w += (size_t)k;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "recv") != 0 && strcmp(argv[1], "splice") != 0)) {
		fprintf(stderr, "usage: splicecost recv|splice [SECONDS] [DIR]\n");
		return 2;
	}
	bool use_splice = strcmp(argv[1], "splice") == 0;
	double secs = argc > 2 ? atof(argv[2]) : 3;
	char path[4096];
	snprintf(path, sizeof(path), "%s/splicecost.%d", argc > 3 ? argv[3] : "/tmp", (int)getpid());

	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 1) != 0) {
		perror("splicecost: listen on 127.0.0.1:5399");
		return 1;
	}
	int file = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (file < 0) {
		perror(path);
		return 1;
	}
	unlink(path);
	pid_t sender = fork();
	if (sender == 0)
		_exit(send_for(&a, secs));
	int c = accept(ls, NULL, NULL);
	long n = c >= 0 ? receive(c, file, use_splice) : -1;
	int st = 0;
	waitpid(sender, &st, 0);
	if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "splicecost: transfer failed (%s)\n", strerror(errno));
		return 1;
	}
	printf("receiver (%s): %.0f us CPU per MiB\n", argv[1], cpu_seconds() * 1e6 / (double)n);
	return 0;
}
