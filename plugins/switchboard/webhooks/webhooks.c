/* Switchboard's own events as signed webhooks (webhooks.h).
 *
 * Each bus event the filter wants is its notification as /ws/notifications
 * sends it ({type, timestamp, room, …}) plus an `id` ("EV_…", the same on
 * a resend, so a receiver can drop a duplicate), queued in the outbox for
 * every URL.  The outbox sends them in order with retries and keeps them
 * across a restart (webhooks/ in the state directory).
 *
 * The signature is LiveKit's webhook signature, by [webhooks] secret with
 * iss "switchboard": a LiveKit back end's WebhookReceiver("switchboard",
 * secret) checks our events too, and any JWT library does.
 *
 * Threads: the bus listener runs on the publisher's thread and only
 * queues (the outbox's push); signing and sending are the outbox's. */
#include "webhooks/webhooks_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "net/net.h"

#define ISSUER "switchboard"

static struct {
	GMutex lock; /* outbox, filter */
	sb_outbox *outbox;
	GPtrArray *filter;
	char *secret;
	unsigned bus;
} hooks;

/* The outbox's thread, at each attempt (the token lives five minutes). */
static char **headers(void *user, const char *body, size_t len)
{
	(void)user;
	char *token = sb_outbox_body_token(ISSUER, hooks.secret, body, len,
	                                   g_get_real_time() / G_USEC_PER_SEC);
	char **lines = g_new0(char *, 4);
	lines[0] = g_strdup_printf("Authorization: %s", token);
	lines[1] = g_strdup("Content-Type: application/json");
	lines[2] = g_strdup("User-Agent: Switchboard");
	g_free(token);
	return lines;
}

static void on_bus(json_t *notification, void *user)
{
	(void)user;
	const char *type = json_string_value(json_object_get(notification, "type"));
	g_mutex_lock(&hooks.lock);
	bool wanted = hooks.outbox && sb_webhook_filter_wants(hooks.filter, type);
	g_mutex_unlock(&hooks.lock);
	if (!wanted)
		return;
	json_t *event = json_deep_copy(notification);
	char *uuid = g_uuid_string_random();
	char *id = g_strdup_printf("EV_%.8s%.4s", uuid, uuid + 9);
	json_object_set_new(event, "id", json_string(id));
	char *body = json_dumps(event, JSON_COMPACT);
	json_decref(event);
	g_free(id);
	g_free(uuid);
	g_mutex_lock(&hooks.lock);
	sb_outbox_push(hooks.outbox, body);
	g_mutex_unlock(&hooks.lock);
	free(body);
}

static void metrics(GString *out)
{
	sb_outbox_stats stats;
	g_mutex_lock(&hooks.lock);
	sb_outbox_get_stats(hooks.outbox, &stats);
	g_mutex_unlock(&hooks.lock);
	sb_metrics_value(out, "switchboard_webhooks_sent_total", "counter",
	                 "Webhook events a receiver took (2xx)", (long long)stats.sent);
	sb_metrics_value(out, "switchboard_webhook_failures_total", "counter",
	                 "Webhook attempts that failed (retried)",
	                 (long long)stats.failed_attempts);
	sb_metrics_value(out, "switchboard_webhooks_dropped_total", "counter",
	                 "Webhook events dropped because a queue was full",
	                 (long long)stats.dropped);
	sb_metrics_value(out, "switchboard_webhooks_waiting", "gauge",
	                 "Webhook events waiting for their receiver", (long long)stats.waiting);
}

bool sb_webhooks_start(const sb_settings *settings)
{
	json_t *section = sb_settings_section(settings, "webhooks");
	g_auto(GStrv) urls = sb_outbox_urls(json_object_get(section, "urls"), "[webhooks] urls");
	if (!urls[0])
		return true;
	char *secret = sb_config_secret(json_string_value(json_object_get(section, "secret")));
	if (!secret || strlen(secret) < SB_WEBHOOK_SECRET_MIN) {
		JANUS_LOG(LOG_ERR,
		          "[switchboard] [webhooks] urls are set but secret is %s: it signs every "
		          "event, so it needs %d characters or more (or env:VAR)\n",
		          secret ? "too short" : "missing", SB_WEBHOOK_SECRET_MIN);
		g_free(secret);
		return false;
	}
	char *error = NULL;
	GPtrArray *filter = sb_webhook_filter_new(json_object_get(section, "events"), &error);
	if (!filter) {
		JANUS_LOG(LOG_ERR, "[switchboard] %s\n", error);
		g_free(error);
		g_free(secret);
		return false;
	}
	hooks.secret = secret;
	sb_outbox_config config = {.name = "[webhooks]",
	                           .spool_folder = "webhooks",
	                           .urls = (const char *const *)urls,
	                           .headers = headers};
	sb_outbox *outbox = sb_outbox_start(&config);
	if (!outbox) {
		sb_webhook_filter_free(filter);
		g_clear_pointer(&hooks.secret, g_free);
		return false;
	}
	g_mutex_lock(&hooks.lock);
	hooks.outbox = outbox;
	hooks.filter = filter;
	g_mutex_unlock(&hooks.lock);
	hooks.bus = sb_events_subscribe(on_bus, NULL);
	sb_metrics_register("webhooks", metrics);
	JANUS_LOG(LOG_INFO, "[switchboard] [webhooks] events to %u URL(s)\n", g_strv_length(urls));
	return true;
}

void sb_webhooks_stop(void)
{
	if (!hooks.outbox)
		return;
	sb_events_unsubscribe(hooks.bus);
	g_mutex_lock(&hooks.lock);
	sb_outbox *outbox = hooks.outbox;
	hooks.outbox = NULL;
	g_mutex_unlock(&hooks.lock);
	sb_outbox_stop(outbox); /* what waits goes out after the next start */
	g_mutex_lock(&hooks.lock);
	g_clear_pointer(&hooks.filter, sb_webhook_filter_free);
	g_mutex_unlock(&hooks.lock);
	if (hooks.secret)
		memset(hooks.secret, 0, strlen(hooks.secret));
	g_clear_pointer(&hooks.secret, g_free);
}
