/*
 * The control mutex: held by whatever reads or writes the protocol state
 * connections share (sessions, tree connects, opens, files, share modes,
 * leases and oplocks, byte-range locks, change notify, durable handles),
 * except a READ, WRITE or FLUSH on its way (docs/SHARDING.md, section 7:
 * that path will take only narrow locks of its own). It makes loops of
 * their own thread as safe for that state as one loop is: each run of
 * control code, a command's or a shared timer's, is whole before another
 * starts.
 *
 * Re-entrant per thread (a control command's handler may call code that
 * also enters), and one per process.
 */
#ifndef PORTHOS_SMBD_CONTROL_H
#define PORTHOS_SMBD_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

void smbd_control_enter(void);
void smbd_control_leave(void);

/* Whether this thread holds it. */
bool smbd_control_held(void);

/* Where shared state is changed: a run that does not hold the mutex is a
 * missing smbd_control_enter(). Logged; in sanitizer builds (the tests'
 * second pass) the server aborts, so that the test fails. */
void smbd_control_check(const char *func);
#define SMBD_CONTROL_HELD() smbd_control_check(__func__)

/* Whether a command's handler and its continuations run under the mutex:
 * all but the common path (READ, WRITE, FLUSH) and ECHO. */
bool smbd_command_is_control(uint16_t command);

#endif
