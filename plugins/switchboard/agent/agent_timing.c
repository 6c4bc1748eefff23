/* Where a turn's time goes: the five moments of an answered caller turn
 * (agent_private.h, section agent_timing) as the turn record says them,
 * and the stage histograms of /metrics.  The moments are taken where each
 * event happens (the VAD's frame, the provider's callback, the mixer's
 * pull) and only put together here, on the agent thread. */
#include "agent/agent_private.h"

#include <string.h>

#include <glib.h>

#include "api/api.h"

/* Upper bounds (ms) of the stage histograms' buckets: a stage of a good
 * turn takes tens of milliseconds, a slow cloud model seconds. */
static const int stage_bounds[] = {10, 25, 50, 100, 200, 300, 500, 800, 1200, 2000, 5000};
#define STAGE_BUCKETS (G_N_ELEMENTS(stage_bounds) + 1) /* the last one is +Inf */

/* The gaps between consecutive moments, and the whole turn. */
static const struct {
	const char *label;
	int from, to; /* indexes into the moments below */
} stages[] = {
        {"stt", 0, 1},   /* end of speech -> STT final */
        {"llm", 1, 2},   /* STT final -> first token */
        {"tts", 2, 3},   /* first token -> first audio */
        {"send", 3, 4},  /* first audio -> first packet */
        {"total", 0, 4}, /* end of speech -> first packet */
};
#define STAGES G_N_ELEMENTS(stages)

static const char *const moment_names[] = {"end_of_speech", "stt_final", "llm_first_token",
                                           "tts_first_audio", "first_packet"};

typedef struct stage_histogram {
	guint64 buckets[STAGE_BUCKETS]; /* not cumulative: one count per bucket */
	guint64 count, sum_ms;
} stage_histogram;

static GMutex histograms_mutex;
static stage_histogram histograms[STAGES];

static void moments_of(const sb_turn_times *t, int64_t out[5])
{
	out[0] = t->speech_end;
	out[1] = t->stt_final;
	out[2] = t->llm_first;
	out[3] = t->tts_first;
	out[4] = t->first_packet;
}

json_t *sb_turn_times_json(const sb_turn_times *t)
{
	if (!t || t->speech_end <= 0)
		return json_null(); /* a turn without speech (a key press) */
	int64_t at[5];
	moments_of(t, at);
	json_t *o = json_object();
	for (size_t i = 0; i < G_N_ELEMENTS(moment_names); i++)
		json_object_set_new(
		        o, moment_names[i],
		        at[i] > 0 ? json_integer((json_int_t)((at[i] - t->speech_end) / 1000))
		                  : json_null());
	return o;
}

void sb_turn_times_observe(const sb_turn_times *t)
{
	int64_t at[5];
	moments_of(t, at);
	g_mutex_lock(&histograms_mutex);
	for (size_t s = 0; s < STAGES; s++) {
		if (at[stages[s].from] <= 0 || at[stages[s].to] <= 0)
			continue; /* a stage that did not happen is not a zero */
		int64_t ms = (at[stages[s].to] - at[stages[s].from]) / 1000;
		/* A cloud STT may end the turn before our VAD does: no wait. */
		if (ms < 0)
			ms = 0;
		size_t b = 0;
		while (b < G_N_ELEMENTS(stage_bounds) && ms > stage_bounds[b])
			b++;
		histograms[s].buckets[b]++;
		histograms[s].count++;
		histograms[s].sum_ms += (guint64)ms;
	}
	g_mutex_unlock(&histograms_mutex);
}

void sb_turn_times_metrics(GString *out)
{
	static const char name[] = "switchboard_agent_turn_stage_ms";
	sb_metrics_header(out, name, "histogram",
	                  "Where an agent turn's time goes (ms): stt = end of speech to the STT "
	                  "final, llm = to the first token, tts = to the first audio, send = to "
	                  "the first packet sent, total = end of speech to the first packet.");
	stage_histogram copy[STAGES];
	g_mutex_lock(&histograms_mutex);
	memcpy(copy, histograms, sizeof(copy));
	g_mutex_unlock(&histograms_mutex);
	for (size_t s = 0; s < STAGES; s++) {
		guint64 cumulative = 0;
		for (size_t b = 0; b < STAGE_BUCKETS; b++) {
			cumulative += copy[s].buckets[b];
			char le[16];
			if (b < G_N_ELEMENTS(stage_bounds))
				g_snprintf(le, sizeof(le), "%d", stage_bounds[b]);
			else
				g_strlcpy(le, "+Inf", sizeof(le));
			g_string_append_printf(
			        out, "%s_bucket{stage=\"%s\",le=\"%s\"} %" G_GUINT64_FORMAT "\n",
			        name, stages[s].label, le, cumulative);
		}
		g_string_append_printf(out,
		                       "%s_sum{stage=\"%s\"} %" G_GUINT64_FORMAT "\n"
		                       "%s_count{stage=\"%s\"} %" G_GUINT64_FORMAT "\n",
		                       name, stages[s].label, copy[s].sum_ms, name, stages[s].label,
		                       copy[s].count);
	}
}
