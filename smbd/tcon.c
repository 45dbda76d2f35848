#include "config.h"
#include "smbd/tcon.h"

#include <talloc.h>

#include "lib/idtable.h"
#include "smbd/control.h"
#include "smbd/dispatch.h"
#include "smbd/durable.h"
#include "smbd/open.h"
#include "smbd/server.h"
#include "smbd/session.h"

static int tcon_destructor(struct smbd_tcon *t)
{
	SMBD_CONTROL_HELD();
	smbd_session_requests_forget(t->session, t);
	idtable_remove(t->session->tcons, t->id);
	return 0;
}

struct smbd_tcon *smbd_tcon_new(struct smbd_session *s, struct smbd_share *share)
{
	SMBD_CONTROL_HELD();
	struct smbd_tcon *t = talloc_zero(s, struct smbd_tcon);
	if (t == NULL)
		return NULL;
	t->session = s;
	t->share = share;
	uint64_t id = idtable_add(s->tcons, t);
	if (id == 0) {
		talloc_free(t);
		return NULL;
	}
	t->id = (uint32_t)id;
	talloc_set_destructor(t, tcon_destructor);
	return t;
}

struct smbd_tcon *smbd_tcon_find(struct smbd_session *s, uint32_t id)
{
	SMBD_SHARED_HELD();
	return idtable_find(s->tcons, id);
}

struct close_arg {
	struct smbd_tcon *tcon;
	bool keep_durable;
};

static void close_open_cb(uint64_t id, void *obj, void *arg)
{
	struct smbd_open *o = obj;
	const struct close_arg *a = arg;
	if (o->tcon == a->tcon && !(a->keep_durable && smbd_durable_disconnect(o)))
		smbd_open_close(o);
}

void smbd_tcon_destroy(struct smbd_tcon *t, bool keep_durable)
{
	/* Close opens explicitly so delete-on-close is honoured; their
	 * waiters finish as on a close (notify cleanup, lock not granted),
	 * and what still waits is cancelled. */
	struct close_arg a = { t, keep_durable };
	idtable_foreach(t->session->srv->opens, close_open_cb, &a);
	smbd_cancel_pending(t->session->srv, NULL, t);
	talloc_free(t);
}
