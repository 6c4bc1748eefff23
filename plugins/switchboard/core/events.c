#include "core/core.h"

#include <plugins/plugin.h>

#include <glib.h>

typedef struct listener {
	unsigned id;
	sb_event_listener fn;
	void *user;
	bool cluster; /* also the other nodes' events */
} listener;

static GMutex mutex;
static GArray *listeners; /* listener */
static unsigned next_id = 1;
static janus_callbacks *gateway;
static janus_plugin *plugin_self;
static char *node; /* a cluster: this node's name, on every event; mutex */

void sb_events_init(janus_callbacks *gw, janus_plugin *plugin)
{
	gateway = gw;
	plugin_self = plugin;
	g_mutex_lock(&mutex);
	if (!listeners)
		listeners = g_array_new(FALSE, FALSE, sizeof(listener));
	g_mutex_unlock(&mutex);
}

void sb_events_deinit(void)
{
	g_mutex_lock(&mutex);
	if (listeners)
		g_array_free(listeners, TRUE);
	listeners = NULL;
	g_clear_pointer(&node, g_free);
	g_mutex_unlock(&mutex);
	gateway = NULL;
}

static unsigned subscribe(sb_event_listener fn, void *user, bool cluster)
{
	g_mutex_lock(&mutex);
	if (!listeners)
		listeners = g_array_new(FALSE, FALSE, sizeof(listener));
	listener l = {.id = next_id++, .fn = fn, .user = user, .cluster = cluster};
	g_array_append_val(listeners, l);
	g_mutex_unlock(&mutex);
	return l.id;
}

unsigned sb_events_subscribe(sb_event_listener fn, void *user)
{
	return subscribe(fn, user, false);
}

unsigned sb_events_subscribe_cluster(sb_event_listener fn, void *user)
{
	return subscribe(fn, user, true);
}

void sb_events_set_node(const char *name)
{
	g_mutex_lock(&mutex);
	g_free(node);
	node = g_strdup(name);
	g_mutex_unlock(&mutex);
}

char *sb_events_node(void)
{
	g_mutex_lock(&mutex);
	char *name = g_strdup(node);
	g_mutex_unlock(&mutex);
	return name;
}

void sb_events_publish_remote(json_t *notification)
{
	g_mutex_lock(&mutex);
	for (guint i = 0; listeners && i < listeners->len; i++) {
		listener *l = &g_array_index(listeners, listener, i);
		if (l->cluster)
			l->fn(notification, l->user);
	}
	g_mutex_unlock(&mutex);
}

void sb_events_unsubscribe(unsigned id)
{
	g_mutex_lock(&mutex);
	for (guint i = 0; listeners && i < listeners->len; i++) {
		if (g_array_index(listeners, listener, i).id == id) {
			g_array_remove_index(listeners, i);
			break;
		}
	}
	g_mutex_unlock(&mutex);
}

void sb_events_publish(const char *type, json_t *data)
{
	json_t *n = json_object();
	json_object_set_new(n, "type", json_string(type));
	json_object_set_new(n, "timestamp", json_integer(g_get_real_time() / 1000));
	if (json_is_object(data))
		json_object_update(n, data);
	json_decref(data);
	/* Listeners only queue, so calling them under the lock is cheap and
	 * keeps unsubscribe simple: after it returns, no call is in flight. */
	g_mutex_lock(&mutex);
	if (node)
		json_object_set_new(n, "node", json_string(node));
	for (guint i = 0; listeners && i < listeners->len; i++) {
		listener *l = &g_array_index(listeners, listener, i);
		l->fn(n, l->user);
	}
	g_mutex_unlock(&mutex);
	if (gateway && gateway->events_is_enabled())
		gateway->notify_event(plugin_self, NULL, json_incref(n)); /* takes it */
	json_decref(n);
}
