/* The AI agent: a participant whose own thread hears the room's mix at
 * 16 kHz, notices turns, and speaks its pipeline's answers into the mix.
 * The mixer only queues audio to it and pulls audio from it, never
 * waiting; everything else reaches the agent as a message on its queue. */
#include "agent/agent.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <debug.h>
#include <speex/speex_resampler.h>

#include "agent/agent_private.h"
#include "agent/agent_thread.h"
#include "core/core.h"
#include "media/media.h"
#include "providers/providers.h"
#include "room/room.h"

static const char *state_names[] = {"listening", "thinking", "speaking"};

/* ---- events to the room and the notification bus ---- */

static void set_state(sb_agent *a, agent_state state, int latency_ms)
{
	if (a->state == state)
		return;
	a->state = state;
	json_t *ev = sb_room_event(a->room, "agent");
	json_object_set_new(ev, "state", json_string(state_names[state]));
	json_object_set_new(ev, "id", json_integer((json_int_t)a->p->id));
	if (latency_ms >= 0)
		json_object_set_new(ev, "latency_ms", json_integer(latency_ms));
	sb_room_broadcast(a->room, ev, a->p);
	json_decref(ev);
	json_t *n = json_pack("{ssss}", "room", a->room->name, "state", state_names[state]);
	if (latency_ms >= 0)
		json_object_set_new(n, "latency_ms", json_integer(latency_ms));
	sb_events_publish("agent_state", n);
}

void sb_agent_announce(sb_agent *a, const char *action, json_t *details)
{
	json_t *ev = sb_room_event(a->room, "agent");
	json_object_set_new(ev, "action", json_string(action));
	if (details)
		json_object_set(ev, "details", details);
	sb_room_broadcast(a->room, ev, a->p);
	json_decref(ev);
	json_t *n = json_pack("{ssss}", "room", a->room->name, "action", action);
	if (details)
		json_object_set(n, "details", details);
	sb_events_publish(!strcmp(action, "transfer") ? "handoff_requested" : "agent_action", n);
}

static const char *display_of(sb_agent *a, guint64 id, char *buf, size_t len)
{
	sb_participant *p = id ? sb_room_find_participant(a->room, id) : NULL;
	if (!p) {
		g_strlcpy(buf, "caller", len);
		return buf;
	}
	g_autofree char *display = sb_participant_dup_display(p);
	g_strlcpy(buf, display ? display : "caller", len);
	sb_participant_unref(p);
	return buf;
}

/* A transcript line to the room, the bus and, when final, the record. */
static void transcript(sb_agent *a, guint64 speaker_id, const char *speaker, const char *text,
                       bool final)
{
	sb_room_transcript_add(a->room, speaker_id, speaker, text, final, a->p);
}

/* ---- turns ---- */

/* Publishes the turn record that waited for its first packet, with
 * whatever is known now (the packet, or nothing: it was never sent). */
static void record_flush(sb_agent *a)
{
	if (!a->record)
		return;
	if (a->record_marked && !a->record_times.first_packet) {
		bool pending;
		a->record_times.first_packet = sb_agent_voice_mark_sent(a->voice, &pending);
	}
	json_object_set_new(a->record, "stages", sb_turn_times_json(&a->record_times));
	sb_turn_times_observe(&a->record_times);
	sb_events_publish("agent_turn", a->record);
	a->record = NULL;
}

/* The waiting record goes once the mixer has sent (or dropped) the first
 * frame of its answer: the mixer takes a frame every 20 ms. */
static void record_poll(sb_agent *a)
{
	bool pending = false;
	if (a->record && a->record_marked)
		sb_agent_voice_mark_sent(a->voice, &pending);
	if (a->record && !pending)
		record_flush(a);
}

/* agent_turn for the call record: one per caller turn answered (or cut
 * off), with the providers that actually served it and where its time
 * went. */
static void turn_done(sb_agent *a, const char *agent_text, bool interrupted)
{
	if (!a->turn_user)
		return;
	record_flush(a); /* an older one first: records keep the turns' order */
	json_t *n = sb_pipeline_turn_providers(a->pipeline);
	if (!n)
		n = json_pack("{snsnsnsb}", "stt", "llm", "tts", "fallback", 0);
	json_t *turn = json_pack("{sssisbss}", "room", a->room->name, "latency_ms", a->turn_latency,
	                         "interrupted", interrupted, "user_text", a->turn_user);
	json_object_update(n, turn);
	json_decref(turn);
	json_object_set_new(n, "agent_text", agent_text ? json_string(agent_text) : json_null());
	if (a->turn_latency < 0)
		json_object_set_new(n, "latency_ms", json_null());
	a->record = n;
	a->record_times = a->turn_times;
	sb_pipeline_turn_times(a->pipeline, &a->record_times);
	a->record_marked = a->turn_marked;
	record_poll(a);
	g_clear_pointer(&a->turn_user, g_free);
}

static guint64 main_speaker(sb_agent *a)
{
	GHashTableIter it;
	gpointer key, value;
	guint64 best = 0;
	int most = 0;
	g_hash_table_iter_init(&it, a->speakers);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		if (GPOINTER_TO_INT(value) > most) {
			most = GPOINTER_TO_INT(value);
			best = *(guint64 *)key;
		}
	}
	return best;
}

/* The held answer line, in full: it was all heard, or a new turn began. */
static void said_flush(sb_agent *a)
{
	if (!a->held_said)
		return;
	transcript(a, a->p->id, a->name, a->held_said, true);
	turn_done(a, a->held_said, false);
	g_clear_pointer(&a->held_said, g_free);
}

/* Mixer → agent thread → listeners: a chunk has been played out; a Media
 * Stream marks it (agent_speech) and confirms it once heard. */
static void announce_played(sb_agent *a)
{
	unsigned chunk = sb_heard_take_played(a->heard);
	if (chunk)
		sb_events_publish("agent_speech",
		                  json_pack("{sssIsi}", "room", a->room->name, "participant",
		                            (json_int_t)a->p->id, "chunk", (int)chunk));
	if (a->held_said && sb_heard_all(a->heard))
		said_flush(a);
}

/* Stops talking at once: the caller has the floor.  onset_us: when the
 * caller began; confirmed_us: when we knew it was an interruption (the
 * partial, final or frame that confirmed it), or 0 when the onset was
 * enough (nothing audible was ducked). */
static void barge_in(sb_agent *a, gint64 onset_us, gint64 confirmed_us)
{
	bool audible = !sb_agent_voice_empty(a->voice);
	sb_agent_voice_clear(a->voice);
	char *spoken = sb_pipeline_interrupt(a->pipeline);
	if (sb_heard_active(a->heard)) {
		/* A listener tells what was played: keep only that. */
		g_free(spoken);
		spoken = sb_heard_answer(a->heard);
		sb_pipeline_heard(a->pipeline, spoken);
		if (a->held_said && *spoken) {
			char *line = g_strdup_printf("%s [interrupted]", spoken);
			transcript(a, a->p->id, a->name, line, true);
			g_free(line);
		}
		g_clear_pointer(&a->held_said, g_free);
	}
	g_free(a->pending_tool); /* the caller had more to say */
	json_decref(a->pending_args);
	a->pending_tool = NULL;
	a->pending_args = NULL;
	__atomic_add_fetch(&sb_agent_counters.barge_ins, 1, __ATOMIC_RELAXED);
	a->interrupting = false;
	sb_agent_voice_duck(a->voice, 1.0f); /* the next answer at full voice */
	gint64 now = g_get_monotonic_time();
	/* stop_ms: from the moment the interruption was known (DESIGN §6's
	 * barge-in measure); confirm_ms: how long the caller talked over our
	 * ducked voice before that. */
	gint64 known = confirmed_us ? confirmed_us : onset_us;
	json_t *d = json_pack("{sbsIsI}", "audible", audible, "stop_ms",
	                      (json_int_t)((now - known) / 1000), "confirm_ms",
	                      (json_int_t)((known - onset_us) / 1000));
	if (spoken && *spoken)
		json_object_set_new(d, "interrupted_reply", json_string(spoken));
	turn_done(a, spoken, true);
	sb_agent_announce(a, "interrupted", d);
	json_decref(d);
	g_free(spoken);
	set_state(a, LISTENING, -1);
}

/* ---- interruptions ---- */

/* If the final is not back this long after the caller stopped, there was
 * nothing to hear (noise): go on. */
#define INTERRUPT_GIVE_UP_US (2500 * G_TIME_SPAN_MILLISECOND)

/* A caller's onset over our voice: duck at once, decide later. */
static void interruption_start(sb_agent *a, gint64 onset_us)
{
	a->interrupting = true;
	a->interrupt_onset_us = onset_us;
	a->interrupt_speech_ms = a->vad.cfg.onset_ms;
	a->interrupt_words = false;
	a->interrupt_end_us = 0;
	sb_agent_voice_duck(a->voice, a->duck_gain);
	__atomic_add_fetch(&sb_agent_counters.ducks, 1, __ATOMIC_RELAXED);
}

/* No interruption after all (a backchannel, noise, or we finished). */
static void interruption_resume(sb_agent *a)
{
	if (!a->interrupting)
		return;
	a->interrupting = false;
	sb_agent_voice_duck(a->voice, 1.0f);
	__atomic_add_fetch(&sb_agent_counters.resumed, 1, __ATOMIC_RELAXED);
}

/* Enough speech and words that are no backchannel: the caller has the
 * floor.  Twice that much speech is no backchannel whatever the partials
 * say (a grammar may hear "right right" in "wait, wait" until the final).
 * evidence_us: when what completed the proof happened. */
static void interruption_check(sb_agent *a, gint64 evidence_us)
{
	if (!a->interrupting || a->interrupt_speech_ms < a->confirm_ms)
		return;
	if (a->interrupt_words || a->interrupt_speech_ms >= 2 * a->confirm_ms)
		barge_in(a, a->interrupt_onset_us, evidence_us);
}

static void interruption_tick(sb_agent *a)
{
	if (!a->interrupting)
		return;
	if (a->state == LISTENING) /* we finished talking meanwhile */
		interruption_resume(a);
	else if (a->interrupt_end_us &&
	         g_get_monotonic_time() - a->interrupt_end_us > INTERRUPT_GIVE_UP_US)
		interruption_resume(a);
}

static void feed_stt(sb_agent *a, const int16_t *pcm)
{
	sb_pipeline_audio(a->pipeline, pcm, AGENT_FRAME);
}

/* When to ask what was heard: after the last word's tail (a frame
 * multiple, as the VAD counts), before the shortest end of a turn. */
static int so_far_probe_ms(const sb_agent *a)
{
	int probe = MIN(100, MIN(a->waits.base_ms, a->waits.min_ms) / 2);
	int frame = a->vad.cfg.frame_ms;
	return MAX(1, probe / frame) * frame;
}

static void on_audio(sb_agent *a, agent_msg *m)
{
	int16_t pcm[AGENT_FRAME];
	if (a->room_rate == AGENT_RATE && m->samples == AGENT_FRAME) {
		memcpy(pcm, m->pcm, sizeof(pcm));
	} else {
		spx_uint32_t in_len = (spx_uint32_t)m->samples, out_len = AGENT_FRAME;
		speex_resampler_process_int(a->down, 0, m->pcm, &in_len, pcm, &out_len);
		for (int i = (int)out_len; i < AGENT_FRAME; i++)
			pcm[i] = 0;
	}
	/* Where the mixer cancels each leg's echo, what reaches us has none of
	 * our voice in it.  Where it does not (echo_cancellation = off), the
	 * echo guard: while we talk, a caller must be louder than what an echo
	 * of us would be. */
	float floor_db = a->state == SPEAKING && !sb_mixer_cancels_echo(a->room) &&
	                                 sb_agent_voice_level_db(a->voice) > -90.0f
	                         ? sb_agent_voice_level_db(a->voice) - 10.0f
	                         : -INFINITY;
	/* Over our own voice a shorter onset stops us sooner (no echo of us
	 * gets through); otherwise the longer one ignores coughs. */
	a->vad.cfg.onset_ms = a->state == SPEAKING ? a->barge_in_onset_ms : a->onset_ms;
	/* Over our own voice the plain hangover: an interruption is decided on
	 * its own terms (above), and a backchannel must not be kept waiting. */
	bool over_us = a->state == SPEAKING || a->interrupting;
	int wait = sb_turn_wait_ms(a->shape, &a->waits);
	if (a->so_far_answered < a->so_far_asked)
		wait = MAX(wait, a->waits.max_ms);
	a->vad.cfg.hangover_ms = over_us ? a->waits.base_ms : wait;
	sb_vad_event ev = sb_vad_process(&a->vad, pcm, AGENT_FRAME, floor_db);
	if (ev == SB_VAD_SPEECH_START) {
		/* By the mixer's clock, as the moments that confirm it. */
		gint64 onset = m->at_us - (gint64)a->vad.voiced_ms * 1000;
		if (sb_agent_gathering(a))
			; /* the caller answers a menu: no interruption */
		else if (a->interrupting)
			a->interrupt_end_us = 0; /* the same interruption goes on */
		else if (a->state == SPEAKING)
			interruption_start(a, onset);
		else if (a->state != LISTENING)
			barge_in(a, onset,
			         0); /* nothing audible to duck: the answer waits for more */
		a->over_agent = a->state == SPEAKING;
		a->shape = SB_TURN_UNSURE; /* nothing heard of this utterance yet */
		a->so_far_asked = a->so_far_answered = 0;
		a->so_far_holds = false;
		g_hash_table_remove_all(a->speakers);
		/* The words began before the onset was confirmed. */
		for (int i = 0; i < a->preroll_len; i++) {
			int idx = (a->preroll_pos - a->preroll_len + i + PREROLL_FRAMES) %
			          PREROLL_FRAMES;
			feed_stt(a, a->preroll[idx]);
		}
	}
	if (ev == SB_VAD_SPEECH && a->vad.quiet_ms == 0)
		a->so_far_holds = false; /* more words: the partials lead again */
	if (ev == SB_VAD_SPEECH_START || ev == SB_VAD_SPEECH || ev == SB_VAD_SPEECH_END) {
		/* A longer wait for the rest of a sentence is no speech: the
		 * recogniser gets the plain hangover's silence, not all of it. */
		if (ev != SB_VAD_SPEECH || a->vad.quiet_ms <= a->waits.base_ms)
			feed_stt(a, pcm);
		/* Quiet long enough for the last word to be over, not yet for
		 * the turn: what did the recogniser hear up to here? */
		if (ev == SB_VAD_SPEECH && !over_us && a->vad.quiet_ms == so_far_probe_ms(a) &&
		    sb_pipeline_pause(a->pipeline))
			a->so_far_asked++;
		if (m->speaker) {
			guint64 *key = g_memdup2(&m->speaker, sizeof(m->speaker));
			int seen = GPOINTER_TO_INT(g_hash_table_lookup(a->speakers, key));
			g_hash_table_replace(a->speakers, key, GINT_TO_POINTER(seen + 1));
		}
		/* Voiced frames only: a backchannel's hangover is no speech. */
		if (a->interrupting && ev != SB_VAD_SPEECH_START && a->vad.quiet_ms == 0) {
			a->interrupt_speech_ms += AGENT_FRAME * 1000 / AGENT_RATE;
			interruption_check(a, m->at_us);
		}
	}
	if (ev == SB_VAD_SPEECH_END && a->interrupting)
		a->interrupt_end_us = m->at_us;
	if (ev == SB_VAD_SPEECH_END) {
		/* The last voiced frame, by the mixer's clock (this thread may lag). */
		a->speech_end_us = m->at_us - (gint64)a->vad.cfg.hangover_ms * 1000;
		a->speech_end_taken = false;
		if (a->speech_end_pending && a->turn_user) {
			a->turn_times.speech_end = a->speech_end_us;
			a->speech_end_taken = true;
		}
		a->speech_end_pending = false;
		sb_pipeline_end_of_speech(a->pipeline);
	}
	memcpy(a->preroll[a->preroll_pos], pcm, sizeof(pcm));
	a->preroll_pos = (a->preroll_pos + 1) % PREROLL_FRAMES;
	if (a->preroll_len < PREROLL_FRAMES)
		a->preroll_len++;
}

/* What a business tool learns of the call: who is calling, from which
 * interface, and the call's own id where the transport has one. */
static json_t *call_of(sb_agent *a, guint64 speaker)
{
	sb_participant *p = speaker ? sb_room_find_participant(a->room, speaker) : NULL;
	if (!p) { /* a key press: the first caller */
		GPtrArray *members = sb_room_participants(a->room);
		for (guint i = 0; i < members->len && !p; i++) {
			sb_participant *m = g_ptr_array_index(members, i);
			if (m->kind != SB_KIND_AGENT) {
				sb_participant_ref(m);
				p = m;
			}
		}
		g_ptr_array_unref(members);
	}
	if (!p)
		return NULL;
	g_autofree char *display = sb_participant_dup_display(p);
	json_t *call = json_pack("{s:s, s:s?, s:I}", "interface", sb_participant_interface(p),
	                         "caller", display, "participant", (json_int_t)p->id);
	static const char *const ids[] = {"call_sid", "callSid", "CallSid", "call_id"};
	static const char *const known[] = {"from", "to"};
	for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
		if (json_is_string(json_object_get(p->info, ids[i])) &&
		    !json_object_get(call, "call_id"))
			json_object_set(call, "call_id", json_object_get(p->info, ids[i]));
	for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
		if (json_is_string(json_object_get(p->info, known[i])))
			json_object_set(call, known[i], json_object_get(p->info, known[i]));
	sb_participant_unref(p);
	return call;
}

static void tell_tools_the_call(sb_agent *a, guint64 speaker)
{
	json_t *call = call_of(a, speaker);
	if (call)
		sb_pipeline_set_call(a->pipeline, call);
	json_decref(call);
}

static void finish_action(sb_agent *a, const char *tool, json_t *args)
{
	if (!tool)
		return;
	if (!strcmp(tool, "transfer_to_human")) {
		sb_agent_announce(a, "transfer", args);
	} else if (!strcmp(tool, "end_call")) {
		sb_agent_announce(a, "end_call", args);
		if (a->end_call_closes_room) {
			sb_room_destroy(a->room);
		} else {
			sb_room_set_agent_enabled(a->room, false);
			sb_room_remove(a->room, a->p, "leaving");
		}
	}
}

static void on_pipeline(sb_agent *a, sb_pipeline_event *ev)
{
	char who[SB_DISPLAY_MAX + 1];
	switch (ev->type) {
	case SB_PIPE_HEARD_PARTIAL:
		transcript(a, main_speaker(a), display_of(a, main_speaker(a), who, sizeof(who)),
		           ev->text, false);
		if (a->vad.in_speech && !a->so_far_holds)
			a->shape = sb_turn_shape_of(ev->text);
		if (a->interrupting) {
			a->interrupt_words = !sb_backchannels_match(a->backchannels, ev->text);
			interruption_check(a, ev->at_us);
		}
		break;
	case SB_PIPE_HEARD_SO_FAR:
		/* Answers come in order: the last one asked for is the newest. */
		if (a->so_far_answered < a->so_far_asked &&
		    ++a->so_far_answered == a->so_far_asked && a->vad.in_speech && *ev->text) {
			a->shape = sb_turn_shape_of(ev->text);
			a->so_far_holds = true;
		}
		break;
	case SB_PIPE_HEARD_FINAL:
		if (sb_agent_gathering(a)) {
			/* The answer to a menu, not a turn of the model's. */
			transcript(a, main_speaker(a),
			           display_of(a, main_speaker(a), who, sizeof(who)), ev->text,
			           true);
			if (a->interrupting) /* ducked before the gather began */
				interruption_resume(a);
			a->over_agent = false;
			sb_agent_gather_speech(a, ev->text);
			ev->declined = true;
			break;
		}
		if ((a->interrupting || a->over_agent) &&
		    sb_backchannels_match(a->backchannels, ev->text)) {
			/* "Mm-hmm" over our answer: heard, not answered; we go on. */
			transcript(a, main_speaker(a),
			           display_of(a, main_speaker(a), who, sizeof(who)), ev->text,
			           true);
			interruption_resume(a);
			a->over_agent = false;
			__atomic_add_fetch(&sb_agent_counters.backchannels, 1, __ATOMIC_RELAXED);
			ev->declined = true;
			break;
		}
		a->over_agent = false;
		if (a->interrupting) /* the final confirms it */
			barge_in(a, a->interrupt_onset_us, ev->at_us);
		said_flush(a);
		sb_heard_new_answer(a->heard);
		transcript(a, main_speaker(a), display_of(a, main_speaker(a), who, sizeof(who)),
		           ev->text, true);
		tell_tools_the_call(a, main_speaker(a));
		__atomic_add_fetch(&sb_agent_counters.turns, 1, __ATOMIC_RELAXED);
		turn_done(a, NULL, true); /* an answer still pending is superseded */
		a->turn_user = g_strdup(ev->text);
		a->turn_latency = -1;
		/* The end of speech this final belongs to: the latest one no turn
		 * took, else the next (a cloud STT may be final first). */
		memset(&a->turn_times, 0, sizeof(a->turn_times));
		a->turn_marked = false;
		a->speech_end_pending = a->speech_end_taken || a->speech_end_us <= 0;
		if (!a->speech_end_pending) {
			a->turn_times.speech_end = a->speech_end_us;
			a->speech_end_taken = true;
		}
		sb_agent_voice_clear(a->voice); /* whatever was still playing is superseded */
		a->first_audio_sent = false;
		set_state(a, THINKING, -1);
		break;
	case SB_PIPE_SPEECH_AUDIO:
		if (a->turn_user && !a->first_audio_sent && !a->turn_marked) {
			sb_agent_voice_mark(a->voice); /* the answer's first packet */
			a->turn_marked = true;
		}
		sb_agent_voice_append(a->voice, ev->pcm, ev->samples);
		if (a->state != SPEAKING) {
			/* Turn latency: the caller's last word to our first sound. */
			int latency = -1;
			if (a->state == THINKING && !a->first_audio_sent && a->speech_end_us > 0)
				latency = (int)((g_get_monotonic_time() - a->speech_end_us) / 1000);
			if (latency >= 0 && a->turn_latency < 0)
				a->turn_latency = latency;
			set_state(a, SPEAKING, latency);
		}
		a->first_audio_sent = true;
		break;
	case SB_PIPE_SAID:
		if (sb_heard_active(a->heard) && !sb_heard_all(a->heard)) {
			/* Written, not yet heard: the line waits for the marks. */
			g_free(a->held_said);
			a->held_said = g_strdup(ev->text);
			break;
		}
		transcript(a, a->p->id, a->name, ev->text, true);
		turn_done(a, ev->text, false);
		break;
	case SB_PIPE_SPEECH_CHUNK: {
		sb_heard_chunk(a->heard, sb_agent_voice_written(a->voice), ev->text);
		break;
	}
	case SB_PIPE_REPLY_DONE:
		if (!a->held_said) /* else the turn ends once heard (or cut) */
			turn_done(a, NULL, false);
		if (ev->error)
			__atomic_add_fetch(&sb_agent_counters.provider_errors, 1, __ATOMIC_RELAXED);
		if (!a->first_audio_sent && a->state == THINKING)
			set_state(a, LISTENING, -1); /* nothing to say (empty input) */
		break;
	case SB_PIPE_TOOL_CALLED: {
		/* A row of the call record (store/), and the console's view. */
		json_t *n = json_deep_copy(ev->json);
		json_object_set_new(n, "room", json_string(a->room->name));
		sb_events_publish("agent_tool", n);
		break;
	}
	case SB_PIPE_GATHER:
		sb_agent_gather_for_model(a, ev->text, ev->json);
		break;
	case SB_PIPE_LANGUAGE:
		/* The caller speaks another language: their "mm-hmm" does too. */
		sb_backchannels_free(a->backchannels);
		a->backchannels = sb_backchannels_new(a->backchannel_lists, ev->text);
		__atomic_add_fetch(&sb_agent_counters.language_switches, 1, __ATOMIC_RELAXED);
		break;
	case SB_PIPE_ACTION:
		/* Done once what was said before it has been heard. */
		g_free(a->pending_tool);
		json_decref(a->pending_args);
		a->pending_tool = g_strdup(ev->text);
		a->pending_args = ev->json ? json_incref(ev->json) : NULL;
		break;
	default: /* raw events never reach the agent */
		break;
	}
}

/* ---- the greeting and the call's context ---- */

static void greet(sb_agent *a)
{
	const char *greeting = sb_pipeline_greeting(a->pipeline);
	sb_heard_new_answer(a->heard);
	if (greeting && *greeting)
		sb_pipeline_say(a->pipeline, greeting);
}

/* The call begins for the caller: the menu if there is one, else the
 * greeting. */
static void open_call(sb_agent *a)
{
	a->greeting_deadline_us = 0;
	/* A late pre-call answer is not waited for any more. */
	sb_own_tool_release(a->pre_call);
	a->pre_call = NULL;
	if (!sb_agent_menu_begin(a))
		greet(a);
}

void sb_agent_variables_changed(sb_agent *a)
{
	json_t *all = sb_room_variables(a->room);
	sb_pipeline_set_variables(a->pipeline, all);
	json_decref(all);
}

/* HTTP thread: the pre-call tool's outcome, to the agent thread. */
static void pre_call_done(void *user, json_t *record, json_t *answer)
{
	sb_agent *a = user;
	json_t *variables = json_object_get(answer, "variables");
	if (answer && !json_is_object(variables))
		JANUS_LOG(LOG_INFO, "[switchboard] agent: the pre-call tool answered no "
		                    "\"variables\" object\n");
	agent_msg *m = g_new0(agent_msg, 1);
	m->kind = MSG_PRE_CALL;
	m->event.json = json_pack("{s:O, s:O?}", "record", record, "variables",
	                          json_is_object(variables) ? variables : NULL);
	g_async_queue_push(a->queue, m);
}

/* Asks the pre-call tool about the caller (the first one in the room):
 * the greeting waits for its answer. */
static void start_pre_call(sb_agent *a)
{
	if (!a->pre_call_tool)
		return;
	json_t *call = call_of(a, 0);
	if (call)
		sb_pipeline_set_call(a->pipeline, call);
	json_t *caller = json_object();
	if (call) {
		json_object_set(caller, "number", json_object_get(call, "from"));
		json_object_set(caller, "name", json_object_get(call, "caller"));
		json_object_set(caller, "interface", json_object_get(call, "interface"));
		json_object_set(caller, "to", json_object_get(call, "to"));
		json_object_set(caller, "call_id", json_object_get(call, "call_id"));
	}
	json_t *arguments = json_pack("{s:o}", "caller", caller);
	a->pre_call = sb_own_tool_start("pre_call", a->pre_call_tool, arguments,
	                                sb_pipeline_call(a->pipeline), pre_call_done, a);
	json_decref(arguments);
	json_decref(call);
	/* The tool's own timeout ends it; the margin covers a busy machine. */
	if (a->pre_call)
		a->greeting_deadline_us =
		        g_get_monotonic_time() +
		        (gint64)(sb_own_tool_timeout_ms(a->pre_call) + 1500) * 1000;
}

static void pre_call_answered(sb_agent *a, json_t *outcome)
{
	if (!a->pre_call)
		return; /* greeted already: too late */
	json_t *record = json_deep_copy(json_object_get(outcome, "record"));
	json_object_set_new(record, "room", json_string(a->room->name));
	sb_events_publish("agent_tool", record);
	json_t *variables = json_object_get(outcome, "variables");
	if (variables) {
		sb_room_merge_variables(a->room, variables, "pre-call tool");
		sb_agent_variables_changed(a);
	}
	open_call(a);
}

gpointer sb_agent_main(gpointer data)
{
	sb_agent *a = data;
	sb_thread_background();
	JANUS_LOG(LOG_INFO, "[switchboard] agent %s joined room %s\n", a->name, a->room->name);
	start_pre_call(a);
	if (!a->pre_call)
		open_call(a);
	while (!g_atomic_int_get(&a->stopping)) {
		agent_msg *m = g_async_queue_timeout_pop(a->queue, 20000);
		if (m) {
			switch (m->kind) {
			case MSG_AUDIO:
				g_atomic_int_add(&a->queued_frames, -1);
				on_audio(a, m);
				break;
			case MSG_SAY:
				/* The operator speaks over the menu: it is over. */
				sb_agent_gather_stop(a);
				if (a->state != LISTENING) {
					sb_agent_voice_clear(a->voice);
					g_free(sb_pipeline_interrupt(a->pipeline));
				}
				said_flush(a);
				sb_heard_new_answer(a->heard);
				sb_pipeline_say(a->pipeline, m->text);
				break;
			case MSG_HEARD:
				sb_heard_confirm(a->heard, (unsigned)m->samples);
				break;
			case MSG_DTMF:
				if (sb_agent_gather_key(a, (char)m->samples))
					break;
				/* Else a key press is a turn of its own: it interrupts. */
				if (a->state != LISTENING) {
					sb_agent_voice_clear(a->voice);
					g_free(sb_pipeline_interrupt(a->pipeline));
				}
				sb_pipeline_text(a->pipeline, m->text);
				break;
			case MSG_PIPELINE:
				sb_pipeline_handle(a->pipeline, &m->event);
				break;
			case MSG_PRE_CALL:
				pre_call_answered(a, m->event.json);
				break;
			case MSG_MENU_TOOL:
				sb_agent_menu_tool_answered(a, m->event.json);
				break;
			case MSG_STOP:
				break;
			}
			sb_agent_msg_free(m);
		}
		if (a->greeting_deadline_us && g_get_monotonic_time() > a->greeting_deadline_us) {
			JANUS_LOG(LOG_WARN,
			          "[switchboard] agent in %s: the pre-call tool is late: "
			          "greeting with the defaults\n",
			          a->room->name);
			open_call(a);
		}
		record_poll(a);
		interruption_tick(a);
		announce_played(a);
		sb_agent_gather_tick(a);
		if (a->state == SPEAKING && sb_pipeline_idle(a->pipeline) &&
		    sb_agent_voice_empty(a->voice))
			set_state(a, LISTENING, -1);
		if (a->pending_tool && sb_pipeline_idle(a->pipeline) &&
		    sb_agent_voice_empty(a->voice)) {
			char *tool = a->pending_tool;
			json_t *args = a->pending_args;
			a->pending_tool = NULL;
			a->pending_args = NULL;
			finish_action(a, tool, args);
			g_free(tool);
			json_decref(args);
		}
	}
	sb_own_tool_release(a->pre_call); /* no answer after this */
	a->pre_call = NULL;
	sb_agent_gather_stop(a);
	said_flush(a);
	record_flush(a);
	sb_pipeline_free(a->pipeline); /* no more events after this */
	a->pipeline = NULL;
	JANUS_LOG(LOG_INFO, "[switchboard] agent left room %s\n", a->room->name);
	sb_room_unref(a->room);
	a->room = NULL;
	sb_participant *p = a->p;
	sb_agent_thread_ended();
	sb_participant_unref(p); /* may free a: the last thing we do */
	return NULL;
}

void sb_agent_pipeline_emit(void *user, sb_pipeline_event *ev)
{
	on_pipeline(user, ev);
}

void sb_agent_pipeline_post(void *user, sb_pipeline_event *ev)
{
	sb_agent *a = user;
	agent_msg *m = g_new0(agent_msg, 1);
	m->kind = MSG_PIPELINE;
	m->event = *ev; /* takes ownership of the event's fields */
	memset(ev, 0, sizeof(*ev));
	g_async_queue_push(a->queue, m);
}
