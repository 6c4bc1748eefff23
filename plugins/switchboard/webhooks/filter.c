/* Which bus events a webhook receives (webhooks_private.h). */
#include "webhooks/webhooks_private.h"

#include <string.h>

const char *const sb_webhook_default_events[] = {
        "room_created",      "room_closed",       "participant_joined", "participant_left",
        "call_status",       "call_assigned",     "call_hold",          "transfer_*",
        "recording_started", "recording_stopped", "agent_turn",         "agent_tool",
        "agent_toggled",     "handoff_requested", "whatsapp_message",   NULL};

static void pattern_free(gpointer p)
{
	g_pattern_spec_free(p);
}

GPtrArray *sb_webhook_filter_new(json_t *events, char **error)
{
	GPtrArray *filter = g_ptr_array_new_with_free_func(pattern_free);
	if (!events) {
		for (const char *const *e = sb_webhook_default_events; *e; e++)
			g_ptr_array_add(filter, g_pattern_spec_new(*e));
		return filter;
	}
	size_t i;
	json_t *e;
	bool ok = json_is_array(events);
	json_array_foreach(events, i, e)
	{
		const char *name = json_string_value(e);
		if (!name || !*name || strlen(name) > 64) {
			ok = false;
			break;
		}
		g_ptr_array_add(filter, g_pattern_spec_new(name));
	}
	if (!ok) {
		*error = g_strdup("[webhooks] events must be a list of event names or patterns "
		                  "(\"transfer_*\", \"*\")");
		g_ptr_array_unref(filter);
		return NULL;
	}
	return filter;
}

void sb_webhook_filter_free(GPtrArray *filter)
{
	if (filter)
		g_ptr_array_unref(filter);
}

bool sb_webhook_filter_wants(GPtrArray *filter, const char *type)
{
	for (guint i = 0; type && i < filter->len; i++)
		if (g_pattern_spec_match_string(filter->pdata[i], type))
			return true;
	return false;
}
