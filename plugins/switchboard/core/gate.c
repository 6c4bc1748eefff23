/* The event gate (core.h): how an object that delivers events from its own
 * threads keeps the promise "after release() returns, nothing is
 * delivered".  A flag alone is not enough — a delivery may have passed the
 * check on another thread — so close() also waits for the delivery in
 * progress; and since a user may release from inside its own event, the
 * gate knows which thread is inside and does not wait for itself.  One
 * implementation for the chains, the cloud providers and the embedded
 * engines, so that the promise means the same everywhere. */
#include "core/core.h"

void sb_gate_init(sb_gate *g)
{
	g_mutex_init(&g->lock);
	g_cond_init(&g->cond);
	g->owner = NULL;
	g->depth = 0;
	g->closed = false;
}

void sb_gate_clear(sb_gate *g)
{
	g_mutex_clear(&g->lock);
	g_cond_clear(&g->cond);
}

bool sb_gate_enter(sb_gate *g)
{
	GThread *self = g_thread_self();
	g_mutex_lock(&g->lock);
	if (g->owner == self) {
		bool ok = !g->closed;
		if (ok)
			g->depth++;
		g_mutex_unlock(&g->lock);
		return ok;
	}
	while (g->owner && !g->closed)
		g_cond_wait(&g->cond, &g->lock);
	if (g->closed) {
		g_mutex_unlock(&g->lock);
		return false;
	}
	g->owner = self;
	g->depth = 1;
	g_mutex_unlock(&g->lock);
	return true;
}

void sb_gate_leave(sb_gate *g)
{
	g_mutex_lock(&g->lock);
	if (--g->depth == 0) {
		g->owner = NULL;
		g_cond_broadcast(&g->cond);
	}
	g_mutex_unlock(&g->lock);
}

void sb_gate_close(sb_gate *g)
{
	GThread *self = g_thread_self();
	g_mutex_lock(&g->lock);
	g->closed = true;
	g_cond_broadcast(&g->cond);
	while (g->owner && g->owner != self)
		g_cond_wait(&g->cond, &g->lock);
	g_mutex_unlock(&g->lock);
}

bool sb_gate_closed(sb_gate *g)
{
	g_mutex_lock(&g->lock);
	bool closed = g->closed;
	g_mutex_unlock(&g->lock);
	return closed;
}
