/*
 * How busy the event loop has been lately: the share of a core its thread
 * used, averaged over the last few tens of milliseconds.
 *
 * It decides where a large reply is sealed or signed. Done on the loop,
 * the cipher reads data the loop just read from the page cache and leaves
 * the frame in the cache of the core that then copies it into the socket;
 * done on a worker, another core pulls the data in and the loop's copy
 * reads the frame back cold (perf, sealed 1 MiB READs at two streams on
 * the 2-core bench machine: that copy 228 us a READ against Samba's 42,
 * server CPU 1,023 against 752 us once sealed on the loop). A loop that
 * does it all is one core, though, and at 32 READs in flight on one
 * connection the workers were worth their cost. So the loop seals for
 * itself while it has time and hands the rest to the workers once it is
 * busy: under load it fills up to the mark and the workers take what is
 * over. docs/PERFORMANCE.md has the runs behind the mark.
 */
#ifndef PORTHOS_SMBD_LOOP_LOAD_H
#define PORTHOS_SMBD_LOOP_LOAD_H

#include <stdint.h>

/* Busier than this (per mille of a core), the loop hands large crypto on. */
#define LOOP_LOAD_BUSY 850u

struct smbd_loop_load {
	uint64_t wall_ns, cpu_ns; /* at the last sample; 0: none yet */
	unsigned permille;        /* the average */
};

/* The loop's load now, in per mille of a core. Loop thread only: it reads
 * the calling thread's CPU clock. */
unsigned smbd_loop_load_now(struct smbd_loop_load *l);

/* One step of the average: the last permille moved toward what the
 * thread used in the d_wall_ns since the last sample (d_cpu_ns of it),
 * the more so the longer that was. */
unsigned smbd_loop_load_step(unsigned permille, uint64_t d_cpu_ns, uint64_t d_wall_ns);

#endif
