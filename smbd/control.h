/*
 * Who may touch the protocol state connections share (sessions, tree
 * connects, opens, files, share modes, leases and oplocks, byte-range
 * locks, change notify, durable handles, the tables that find them):
 * docs/SHARDING.md, section 7.
 *
 * - Control code holds the control lock as the writer: every command but
 *   READ, WRITE, FLUSH and ECHO, with its continuations; the callbacks of
 *   shared objects (break and durable time-outs, notify events); a
 *   connection's creation and teardown. One writer at a time, and while
 *   it runs no loop is inside a shared section: it may change and free
 *   anything shared, as the one loop always could.
 * - The common path (READ, WRITE, FLUSH, their completions and replies)
 *   runs in shared sections: any number of loops at once, each announcing
 *   itself in a slot of its own, so that they never write a common cache
 *   line. Inside one, shared objects neither change shape nor go away;
 *   the few fields the common path itself writes (an open's position, its
 *   channel sequence) need their own care.
 *
 * Both are re-entrant per thread; a writer is inside a shared section
 * too. Turning a shared section into a write (smbd_control_enter inside
 * smbd_shared_enter) lets go of the section first: whatever shared was
 * found before must be found again after.
 */
#ifndef PORTHOS_SMBD_CONTROL_H
#define PORTHOS_SMBD_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

/* The calling thread runs a loop from now on: its shared sections are
 * announced, and a writer waits for them. Threads that never called it
 * (I/O workers, which touch nothing shared, and unit tests) announce
 * nothing. Returns false when every slot is taken. */
bool smbd_control_join(void);
/* The calling thread's loop is gone. */
void smbd_control_part(void);

void smbd_control_enter(void);
void smbd_control_leave(void);
void smbd_shared_enter(void);
void smbd_shared_leave(void);

/* Whether this thread is the writer / is in a shared section or the writer. */
bool smbd_control_held(void);
bool smbd_shared_held(void);

/* Where shared state is changed, or read on the common path: a run
 * without the writer (or a shared section) is a missing enter. Logged;
 * in sanitizer builds (the tests' second pass) the server aborts, so
 * that the test fails. */
void smbd_control_check(const char *func);
void smbd_shared_check(const char *func);
#define SMBD_CONTROL_HELD() smbd_control_check(__func__)
#define SMBD_SHARED_HELD() smbd_shared_check(__func__)

/* Whether a command's handler and its continuations are control code:
 * all but the common path (READ, WRITE, FLUSH) and ECHO. */
bool smbd_command_is_control(uint16_t command);

#endif
