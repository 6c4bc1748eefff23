/* Where a turn's time goes (agent_timing.c): the turn record's stages in
 * ms after the end of speech, and the Prometheus stage histograms. */
#include <string.h>

#include <glib.h>

#include "agent/agent_private.h"

/* The one function of the metrics registry (api/) the histograms use. */
void sb_metrics_header(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static json_int_t stage(json_t *stages, const char *name)
{
	json_t *v = json_object_get(stages, name);
	g_assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void test_record_stages(void)
{
	sb_turn_times t = {.speech_end = 5000000,
	                   .stt_final = 5180000,
	                   .llm_first = 5600000,
	                   .tts_first = 5650000,
	                   .first_packet = 5662000};
	json_t *s = sb_turn_times_json(&t);
	g_assert_cmpint(stage(s, "end_of_speech"), ==, 0);
	g_assert_cmpint(stage(s, "stt_final"), ==, 180);
	g_assert_cmpint(stage(s, "llm_first_token"), ==, 600);
	g_assert_cmpint(stage(s, "tts_first_audio"), ==, 650);
	g_assert_cmpint(stage(s, "first_packet"), ==, 662);
	json_decref(s);
	/* A moment that did not happen is null, not zero. */
	t.first_packet = 0;
	s = sb_turn_times_json(&t);
	g_assert_true(json_is_null(json_object_get(s, "first_packet")));
	json_decref(s);
	/* A turn without speech (a key press) has no stages. */
	sb_turn_times none = {.stt_final = 1};
	s = sb_turn_times_json(&none);
	g_assert_true(json_is_null(s));
	json_decref(s);
}

static char *metric_line(const char *text, const char *prefix)
{
	const char *at = strstr(text, prefix);
	g_assert_nonnull(at);
	const char *end = strchr(at, '\n');
	return g_strndup(at, (gsize)(end - at));
}

static void test_histograms(void)
{
	sb_turn_times t = {.speech_end = 1000000,
	                   .stt_final = 1040000, /* stt 40 ms */
	                   .llm_first = 1440000, /* llm 400 ms */
	                   .tts_first = 1460000, /* tts 20 ms */
	                   .first_packet = 0};   /* never sent */
	sb_turn_times_observe(&t);
	GString *out = g_string_new(NULL);
	sb_turn_times_metrics(out);
	g_assert_nonnull(strstr(out->str, "# TYPE switchboard_agent_turn_stage_ms histogram\n"));
	struct {
		const char *prefix, *line;
	} want[] = {
	        {"switchboard_agent_turn_stage_ms_bucket{stage=\"stt\",le=\"25\"}",
	         "switchboard_agent_turn_stage_ms_bucket{stage=\"stt\",le=\"25\"} 0"},
	        {"switchboard_agent_turn_stage_ms_bucket{stage=\"stt\",le=\"50\"}",
	         "switchboard_agent_turn_stage_ms_bucket{stage=\"stt\",le=\"50\"} 1"},
	        {"switchboard_agent_turn_stage_ms_bucket{stage=\"llm\",le=\"300\"}",
	         "switchboard_agent_turn_stage_ms_bucket{stage=\"llm\",le=\"300\"} 0"},
	        {"switchboard_agent_turn_stage_ms_bucket{stage=\"llm\",le=\"500\"}",
	         "switchboard_agent_turn_stage_ms_bucket{stage=\"llm\",le=\"500\"} 1"},
	        {"switchboard_agent_turn_stage_ms_bucket{stage=\"llm\",le=\"+Inf\"}",
	         "switchboard_agent_turn_stage_ms_bucket{stage=\"llm\",le=\"+Inf\"} 1"},
	        {"switchboard_agent_turn_stage_ms_sum{stage=\"llm\"}",
	         "switchboard_agent_turn_stage_ms_sum{stage=\"llm\"} 400"},
	        {"switchboard_agent_turn_stage_ms_count{stage=\"tts\"}",
	         "switchboard_agent_turn_stage_ms_count{stage=\"tts\"} 1"},
	        /* Stages that did not happen are not counted as zeros. */
	        {"switchboard_agent_turn_stage_ms_count{stage=\"send\"}",
	         "switchboard_agent_turn_stage_ms_count{stage=\"send\"} 0"},
	        {"switchboard_agent_turn_stage_ms_count{stage=\"total\"}",
	         "switchboard_agent_turn_stage_ms_count{stage=\"total\"} 0"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		char *line = metric_line(out->str, want[i].prefix);
		g_assert_cmpstr(line, ==, want[i].line);
		g_free(line);
	}
	g_string_free(out, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent_timing/record_stages", test_record_stages);
	g_test_add_func("/agent_timing/histograms", test_histograms);
	return g_test_run();
}
