/* The mixer: worker threads that each own a set of rooms and, every
 * 20 ms on an absolute deadline, mix each of them — decode what is due,
 * sum, plan the fewest encodes, send.  A room is on one worker at a time
 * and a participant is mixed by one worker at a time (its mixing flag),
 * so the per-frame state needs no lock; the room's mutex is held only to
 * copy its member list once per frame.  The mixer depends on the room
 * (room_private.h), never the other way: it learns of new members through
 * the hook it installs at start. */
#include "room/room.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <debug.h>

#include "room/hold.h"
#include "room/mix.h"
#include "room/room_private.h"

#define FRAME_NS (SB_FRAME_MS * 1000000LL)
/* Past this much behind schedule we stop trying to catch up. */
#define MAX_BEHIND_NS (10 * FRAME_NS)

typedef struct mixer_worker {
	GThread *thread;
	GMutex mutex;
	GCond cond;
	GPtrArray *rooms; /* room_priv* (strong), guarded by mutex */
	int index;
} mixer_worker;

/* Per-room state, touched only by the worker that mixes the room. */
struct sb_room_mix {
	sb_encoder *shared[SB_CODEC_COUNT];              /* one per codec for the full mix */
	uint8_t silence[SB_CODEC_COUNT][SB_MAX_PAYLOAD]; /* G.711: 160 bytes */
	int silence_len[SB_CODEC_COUNT];
	sb_limiter limiter;
	int capacity;
	participant_priv **members;
	sb_mix_member *plan_in;
	sb_mix_job *jobs;
	bool *job_forwards; /* per job, decided once a frame: see plan_forwards */
	int *job_of;
	int32_t full[SB_MAX_FRAME_SAMPLES];
	int32_t minus[SB_MAX_FRAME_SAMPLES];
	int16_t pcm[SB_MAX_FRAME_SAMPLES];
	int16_t full_pcm[SB_MAX_FRAME_SAMPLES];
	int16_t zeros[SB_MAX_FRAME_SAMPLES];
};

static const sb_settings *settings;
static mixer_worker *workers;
static int num_workers;
static volatile gint running;
static volatile gint next_worker;
static sb_mixer_stats stats;

static void mixer_schedule(room_priv *room);

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t deadline)
{
	struct timespec ts = {.tv_sec = deadline / 1000000000LL,
	                      .tv_nsec = deadline % 1000000000LL};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static sb_encoder_options encoder_options(void)
{
	return (sb_encoder_options){.bitrate = settings->opus_bitrate,
	                            .complexity = settings->opus_complexity,
	                            .fec = settings->opus_fec,
	                            .expected_loss_pct = settings->opus_fec ? 10 : 0};
}

static void room_mix_free(struct sb_room_mix *mix)
{
	for (int c = 0; c < SB_CODEC_COUNT; c++)
		sb_encoder_free(mix->shared[c]);
	g_free(mix->members);
	g_free(mix->plan_in);
	g_free(mix->jobs);
	g_free(mix->job_forwards);
	g_free(mix->job_of);
	g_free(mix);
}

static struct sb_room_mix *room_mix_new(sb_room *room)
{
	struct sb_room_mix *mix = g_new0(struct sb_room_mix, 1);
	sb_limiter_init(&mix->limiter, room->sampling_rate);
	/* Silence, pre-encoded once per codec, for listeners with nothing to
	 * hear: keeps their RTP stream continuous at no encoding cost. */
	sb_encoder_options opts = encoder_options();
	for (int c = 0; c < SB_CODEC_COUNT; c++) {
		sb_encoder *enc = sb_encoder_new((sb_codec_id)c, room->sampling_rate, &opts);
		int len = -1;
		for (int i = 0; enc && i < 3; i++) /* let the encoder settle */
			len = sb_encoder_encode(enc, mix->zeros, mix->silence[c],
			                        sizeof(mix->silence[c]));
		mix->silence_len[c] = len > 0 ? len : 0;
		sb_encoder_free(enc);
	}
	return mix;
}

static void room_mix_reserve(struct sb_room_mix *mix, int n)
{
	if (n <= mix->capacity)
		return;
	int cap = n < 8 ? 8 : n * 2;
	mix->members = g_renew(participant_priv *, mix->members, cap);
	mix->plan_in = g_renew(sb_mix_member, mix->plan_in, cap);
	mix->jobs = g_renew(sb_mix_job, mix->jobs, cap + SB_CODEC_COUNT);
	mix->job_forwards = g_renew(bool, mix->job_forwards, cap + SB_CODEC_COUNT);
	mix->job_of = g_renew(int, mix->job_of, cap);
	mix->capacity = cap;
}

bool sb_mixer_cancels_echo(sb_room *room)
{
	switch (settings ? settings->echo_cancellation : SB_ECHO_ROOMS_NONE) {
	case SB_ECHO_ROOMS_ALL:
		return true;
	case SB_ECHO_ROOMS_AGENT:
		return g_atomic_int_get(&room_priv_of(room)->agent_enabled) != 0;
	default:
		return false;
	}
}

/* A leg whose own voice goes into the mix, heard through a loudspeaker:
 * PCM participants (the agent) hear the mix digitally, and a held, muted
 * or silent participant's audio is not used. */
static bool echo_prone(participant_priv *p)
{
	return !(p->pub.ops && p->pub.ops->push_pcm) && !g_atomic_int_get(&p->on_hold) &&
	       !g_atomic_int_get(&p->muted) && !g_atomic_int_get(&p->listen_only);
}

/* Noise suppression and gain on a decoded frame of a leg whose interface
 * asks for them ([general] noise_suppression, agc); returns its level. */
static int denoise(participant_priv *p, int level, int rate, int n, uint64_t *frames,
                   uint64_t *decodes)
{
	participant_mix *m = &p->mix;
	const char *interface = sb_participant_interface(&p->pub);
	bool suppress = sb_settings_names(settings->noise_suppression, interface);
	bool agc = sb_settings_names(settings->agc, interface);
	if (m->denoise && (m->denoise_rate != rate || (!suppress && !agc))) {
		sb_denoise_free(m->denoise);
		m->denoise = NULL;
	}
	if ((!suppress && !agc) || level < 0 || level == SB_LEVEL_SILENT_SKIPPED ||
	    (p->pub.ops && p->pub.ops->push_pcm))
		return level;
	if (!m->denoise) {
		sb_denoise_config cfg = {.suppress = suppress,
		                         .suppress_db = settings->noise_suppress_db,
		                         .agc = agc};
		m->denoise = sb_denoise_new(rate, n, &cfg);
		m->denoise_rate = rate;
		if (!m->denoise)
			return level;
	}
	sb_participant_frame(p, decodes); /* into m->frame */
	sb_denoise_process(m->denoise, m->frame);
	(*frames)++;
	m->frame_payload_len = 0; /* the cleaned frame goes on, not the packet */
	return sb_level_dbov(m->frame, n);
}

static void drop_echo(participant_priv *p)
{
	sb_echo_free(p->mix.echo);
	p->mix.echo = NULL;
}

/* What the job's listeners were sent, as the far end of their echo
 * cancellers (NULL: silence). */
static void remember_sent(struct sb_room_mix *mix, int m, int job, const int16_t *pcm, int n)
{
	for (int i = 0; i < m; i++) {
		participant_mix *pm = &mix->members[i]->mix;
		if (mix->job_of[i] != job || !pm->echo)
			continue;
		pm->sent_audible = pcm != NULL;
		if (pcm)
			memcpy(pm->sent, pcm, (size_t)n * sizeof(*pcm));
	}
}

static void announce_talking(room_priv *room, participant_priv *p)
{
	json_t *ev = sb_room_event(&room->pub, "event");
	json_object_set_new(ev, "id", json_integer((json_int_t)p->pub.id));
	json_object_set_new(ev, "talking", json_boolean(g_atomic_int_get(&p->talking)));
	sb_room_broadcast(&room->pub, ev, NULL);
	json_decref(ev);
}

/* Whether a job's listeners get a speaker's packet as it came: one voice,
 * in their codec, and a packet to forward (not concealed or cleaned). */
static bool job_forwards(const struct sb_room_mix *mix, const sb_mix_job *job)
{
	const participant_priv *source = job->source >= 0 ? mix->members[job->source] : NULL;
	return job->codec != SB_MIX_PCM && source && (int)source->pub.codec == job->codec &&
	       source->mix.frame_payload_len > 0;
}

/* Decides which jobs forward, once: decoding a frame for the canceller
 * (remember_sent) can find its body corrupt and drop the packet, and a job
 * that changed its mind afterwards would render a full mix never summed. */
static void plan_forwards(struct sb_room_mix *mix, int njobs)
{
	for (int j = 0; j < njobs; j++)
		mix->job_forwards[j] = !mix->jobs[j].silent && job_forwards(mix, &mix->jobs[j]);
}

/* Sums the contributors into the full mix, decoding the frames left
 * pending — only when some job or the recorder needs PCM: a lone voice
 * forwarded to everyone needs none. */
static void sum_full_mix(struct sb_room_mix *mix, int m, int njobs, bool tap, int n,
                         uint64_t *decodes)
{
	bool needed = tap;
	for (int j = 0; j < njobs && !needed; j++)
		needed = !mix->jobs[j].silent && !mix->job_forwards[j];
	if (!needed)
		return;
	sb_mix_clear(mix->full, n);
	for (int i = 0; i < m; i++)
		if (mix->plan_in[i].contributing)
			sb_mix_add(mix->full, sb_participant_frame(mix->members[i], decodes), n);
}

/* The PCM a job stands for: the full mix (limited once per frame, kept in
 * full_pcm) or a mix-minus (in pcm). */
static const int16_t *render_job(struct sb_room_mix *mix, const sb_mix_job *job, int n,
                                 bool *full_ready)
{
	if (job->minus < 0) {
		if (!*full_ready) {
			sb_limiter_process(&mix->limiter, mix->full, mix->full_pcm, n);
			*full_ready = true;
		}
		return mix->full_pcm;
	}
	participant_priv *own = mix->members[job->minus];
	sb_mix_minus(mix->full, own->mix.frame, mix->minus, n);
	sb_limiter_process(&own->mix.limiter, mix->minus, mix->pcm, n);
	return mix->pcm;
}

/* Mixes one 20 ms frame of one room.  Returns false once the room should
 * leave the worker (destroyed or empty). */
static bool mix_room(room_priv *room)
{
	if (g_atomic_int_get(&room->destroyed))
		return false;
	if (!room->mix) {
		room->mix = room_mix_new(&room->pub);
		room->free_mix = room_mix_free;
	}
	struct sb_room_mix *mix = room->mix;
	const int rate = room->pub.sampling_rate;
	const int n = sb_frame_samples(rate);

	g_mutex_lock(&room->mutex);
	int count = (int)g_hash_table_size(room->participants);
	room_mix_reserve(mix, count);
	GHashTableIter it;
	gpointer value;
	int m = 0;
	g_hash_table_iter_init(&it, room->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		participant_priv *p = participant_priv_of(value);
		if (!g_atomic_int_get(&p->media_ready))
			continue;
		/* Just moved here and still being mixed by its old room's worker:
		 * it joins this mix from the next frame. */
		if (!g_atomic_int_compare_and_exchange(&p->mixing, 0, 1))
			continue;
		sb_participant_ref(&p->pub);
		mix->members[m++] = p;
	}
	sb_room_tap *tap = room->tap;
	if (tap)
		tap->ops->ref(tap);
	g_mutex_unlock(&room->mutex);
	if (count == 0) {
		if (tap)
			tap->ops->unref(tap);
		return false;
	}

	uint64_t decodes = 0, encodes = 0, forwards = 0, echo_frames = 0, denoised_frames = 0;
	const bool cancel = sb_mixer_cancels_echo(&room->pub);
	int loudest_level = 128;
	guint64 loudest = 0;
	for (int i = 0; i < m; i++) {
		participant_priv *p = mix->members[i];
		const sb_participant_ops *ops = p->pub.ops;
		if (ops && ops->poll_input)
			ops->poll_input(&p->pub);
		int level = sb_participant_pull(p, n, settings->silence_level, &decodes);
		if (cancel && echo_prone(p))
			level = sb_participant_cancel_echo(p, level, rate, settings->echo_tail_ms,
			                                   settings->silence_level, &echo_frames,
			                                   &decodes);
		else if (!cancel && p->mix.echo)
			drop_echo(p);
		level = denoise(p, level, rate, n, &denoised_frames, &decodes);
		if (p->mix.echo)
			p->mix.sent_audible = false; /* until a job below says otherwise */
		if (level == SB_LEVEL_SILENT_SKIPPED)
			level = 127;
		bool held = g_atomic_int_get(&p->on_hold);
		bool contributing = level >= 0 && level < settings->silence_level &&
		                    !g_atomic_int_get(&p->muted) && !held &&
		                    !g_atomic_int_get(&p->listen_only);
		if (contributing) {
			if (level < loudest_level) {
				loudest_level = level;
				loudest = p->pub.id;
			}
		}
		bool pcm = ops && ops->push_pcm;
		mix->plan_in[i] = (sb_mix_member){.codec = pcm ? SB_MIX_PCM : (int)p->pub.codec,
		                                  .contributing = contributing,
		                                  .listening = !held};
		int heard = g_atomic_int_get(&p->muted) || held ? 127 : level;
		if (sb_participant_update_talking(p, heard, settings->talking_level_threshold,
		                                  settings->talking_window))
			announce_talking(room, p);
	}

	int njobs = sb_mix_plan(mix->plan_in, m, mix->jobs, mix->job_of);
	plan_forwards(mix, njobs);
	sum_full_mix(mix, m, njobs, tap != NULL, n, &decodes);
	bool full_ready = false;
	for (int j = 0; j < njobs; j++) {
		const sb_mix_job *job = &mix->jobs[j];
		uint8_t payload[SB_MAX_PAYLOAD];
		const uint8_t *out = payload;
		int len;
		participant_priv *source = job->source >= 0 ? mix->members[job->source] : NULL;
		if (job->codec == SB_MIX_PCM) {
			/* PCM listeners (the agent) take the mix itself, no codec. */
			const int16_t *pcm =
			        job->silent ? mix->zeros : render_job(mix, job, n, &full_ready);
			guint64 speaker = job->silent ? 0 : loudest;
			if (job->minus >= 0 && mix->members[job->minus]->pub.id == loudest)
				speaker = 0; /* its own voice is not in its mix */
			for (int i = 0; i < m; i++)
				if (mix->job_of[i] == j)
					mix->members[i]->pub.ops->push_pcm(&mix->members[i]->pub,
					                                   pcm, n, speaker);
			continue;
		}
		if (job->silent) {
			out = mix->silence[job->codec];
			len = mix->silence_len[job->codec];
		} else if (mix->job_forwards[j]) {
			/* One voice and the same codec: what the speaker sent is
			 * exactly this mix, so it goes out as it came. */
			out = source->mix.frame_payload;
			len = (int)source->mix.frame_payload_len;
			forwards++;
			if (cancel)
				remember_sent(mix, m, j, sb_participant_frame(source, &decodes), n);
		} else {
			const int16_t *pcm = render_job(mix, job, n, &full_ready);
			if (cancel)
				remember_sent(mix, m, j, pcm, n);
			sb_encoder *enc;
			if (job->minus >= 0) {
				enc = mix->members[job->minus]->mix.encoder;
			} else {
				if (!mix->shared[job->codec]) {
					sb_encoder_options opts = encoder_options();
					mix->shared[job->codec] = sb_encoder_new(
					        (sb_codec_id)job->codec, rate, &opts);
				}
				enc = mix->shared[job->codec];
			}
			len = enc ? sb_encoder_encode(enc, pcm, payload, sizeof(payload)) : -1;
			encodes++;
		}
		if (len <= 0)
			continue;
		for (int i = 0; i < m; i++)
			if (mix->job_of[i] == j)
				sb_participant_send_payload(mix->members[i], out, (size_t)len);
	}
	/* Held participants hear the hold loop, encoded with their own
	 * encoder (they have no mix-minus job while held). */
	for (int i = 0; i < m; i++) {
		participant_priv *p = mix->members[i];
		if (!g_atomic_int_get(&p->on_hold))
			continue;
		if (p->pub.ops && p->pub.ops->push_pcm) {
			p->pub.ops->push_pcm(&p->pub, mix->zeros, n, 0);
			continue;
		}
		uint8_t payload[SB_MAX_PAYLOAD];
		sb_hold_audio(rate, &p->mix.hold_pos, mix->pcm, n);
		sb_encoder *enc = p->mix.encoder;
		int len = enc ? sb_encoder_encode(enc, mix->pcm, payload, sizeof(payload)) : -1;
		encodes++;
		if (len > 0)
			sb_participant_send_payload(p, payload, (size_t)len);
	}
	/* The recorder hears the full mix, everyone included, and (when it
	 * asks) each participant's own audio. */
	if (tap) {
		if (!full_ready)
			sb_limiter_process(&mix->limiter, mix->full, mix->full_pcm, n);
		tap->ops->frame(tap, mix->full_pcm, n);
		if (g_atomic_int_get(&tap->tracks))
			for (int i = 0; i < m; i++)
				tap->ops->track(tap, mix->members[i]->pub.id,
				                mix->plan_in[i].contributing
				                        ? mix->members[i]->mix.frame
				                        : mix->zeros,
				                n);
		tap->ops->unref(tap);
	}
	for (int i = 0; i < m; i++) {
		g_atomic_int_set(&mix->members[i]->mixing, 0);
		sb_participant_unref(&mix->members[i]->pub);
	}
	__atomic_add_fetch(&stats.decodes, decodes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stats.encodes, encodes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stats.forwards, forwards, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stats.echo_frames, echo_frames, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stats.denoised_frames, denoised_frames, __ATOMIC_RELAXED);
	return true;
}

static gpointer worker_main(gpointer data)
{
	mixer_worker *w = data;
	GPtrArray *batch = g_ptr_array_new_with_free_func((GDestroyNotify)sb_room_unref);
	int64_t deadline = 0;
	while (g_atomic_int_get(&running)) {
		g_mutex_lock(&w->mutex);
		if (w->rooms->len == 0) {
			deadline = 0;
			while (w->rooms->len == 0 && g_atomic_int_get(&running))
				g_cond_wait(&w->cond, &w->mutex);
		}
		for (guint i = 0; i < w->rooms->len; i++) {
			room_priv *room = g_ptr_array_index(w->rooms, i);
			sb_room_ref(&room->pub);
			g_ptr_array_add(batch, room);
		}
		g_mutex_unlock(&w->mutex);
		if (!g_atomic_int_get(&running))
			break;
		if (deadline == 0)
			deadline = now_ns();

		for (guint i = 0; i < batch->len; i++) {
			room_priv *room = g_ptr_array_index(batch, i);
			if (mix_room(room))
				continue;
			g_mutex_lock(&w->mutex);
			g_ptr_array_remove(w->rooms, room);
			g_atomic_int_set(&room->scheduled, 0);
			g_mutex_unlock(&w->mutex);
			__atomic_sub_fetch(&stats.rooms_active, 1, __ATOMIC_RELAXED);
			/* A participant may have joined between our look and the
			 * unschedule: put the room back if so. */
			if (!g_atomic_int_get(&room->destroyed) &&
			    sb_room_count_participants(&room->pub) > 0)
				mixer_schedule(room);
		}
		g_ptr_array_set_size(batch, 0);
		__atomic_add_fetch(&stats.ticks, 1, __ATOMIC_RELAXED);

		deadline += FRAME_NS;
		int64_t now = now_ns();
		if (now > deadline) {
			__atomic_add_fetch(&stats.late_frames, 1, __ATOMIC_RELAXED);
			if (now - deadline > MAX_BEHIND_NS) {
				int64_t behind = (now - deadline) / FRAME_NS;
				__atomic_add_fetch(&stats.skipped, (uint64_t)behind,
				                   __ATOMIC_RELAXED);
				deadline += behind * FRAME_NS;
			}
			continue;
		}
		sleep_until(deadline);
	}
	g_ptr_array_unref(batch);
	return NULL;
}

bool sb_mixer_start(const sb_settings *s)
{
	settings = s;
	num_workers = s->mixer_threads > 0 ? s->mixer_threads : (int)g_get_num_processors();
	if (num_workers < 1)
		num_workers = 1;
	workers = g_new0(mixer_worker, num_workers);
	g_atomic_int_set(&running, 1);
	for (int i = 0; i < num_workers; i++) {
		mixer_worker *w = &workers[i];
		w->index = i;
		g_mutex_init(&w->mutex);
		g_cond_init(&w->cond);
		w->rooms = g_ptr_array_new_with_free_func((GDestroyNotify)sb_room_unref);
		char name[16];
		g_snprintf(name, sizeof(name), "sb mixer %d", i);
		GError *error = NULL;
		w->thread = g_thread_try_new(name, worker_main, w, &error);
		if (!w->thread) {
			JANUS_LOG(LOG_ERR, "[switchboard] cannot start mixer thread: %s\n",
			          error ? error->message : "?");
			g_clear_error(&error);
			num_workers = i;
			sb_mixer_stop();
			return false;
		}
	}
	stats.workers = num_workers;
	room_set_mixer_hook(mixer_schedule);
	JANUS_LOG(LOG_INFO, "[switchboard] mixer: %d worker thread(s)\n", num_workers);
	return true;
}

void sb_mixer_stop(void)
{
	if (!workers)
		return;
	g_atomic_int_set(&running, 0);
	for (int i = 0; i < num_workers; i++) {
		g_mutex_lock(&workers[i].mutex);
		g_cond_signal(&workers[i].cond);
		g_mutex_unlock(&workers[i].mutex);
	}
	for (int i = 0; i < num_workers; i++) {
		if (workers[i].thread)
			g_thread_join(workers[i].thread);
		for (guint r = 0; r < workers[i].rooms->len; r++)
			g_atomic_int_set(
			        &((room_priv *)g_ptr_array_index(workers[i].rooms, r))->scheduled,
			        0);
		g_ptr_array_unref(workers[i].rooms);
		g_mutex_clear(&workers[i].mutex);
		g_cond_clear(&workers[i].cond);
	}
	g_free(workers);
	workers = NULL;
	num_workers = 0;
}

/* The room gained a member (room.c's hook, or a worker that just dropped
 * it): make sure a worker mixes it. */
static void mixer_schedule(room_priv *room)
{
	if (!workers || !g_atomic_int_compare_and_exchange(&room->scheduled, 0, 1))
		return;
	/* Round robin spreads rooms over the cores. */
	int index = (int)((guint)g_atomic_int_add(&next_worker, 1) % (guint)num_workers);
	mixer_worker *w = &workers[index];
	g_mutex_lock(&w->mutex);
	sb_room_ref(&room->pub);
	g_ptr_array_add(w->rooms, room);
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->mutex);
	__atomic_add_fetch(&stats.rooms_active, 1, __ATOMIC_RELAXED);
}

void sb_mixer_get_stats(sb_mixer_stats *out)
{
	out->ticks = __atomic_load_n(&stats.ticks, __ATOMIC_RELAXED);
	out->late_frames = __atomic_load_n(&stats.late_frames, __ATOMIC_RELAXED);
	out->skipped = __atomic_load_n(&stats.skipped, __ATOMIC_RELAXED);
	out->encodes = __atomic_load_n(&stats.encodes, __ATOMIC_RELAXED);
	out->decodes = __atomic_load_n(&stats.decodes, __ATOMIC_RELAXED);
	out->forwards = __atomic_load_n(&stats.forwards, __ATOMIC_RELAXED);
	out->rooms_active = __atomic_load_n(&stats.rooms_active, __ATOMIC_RELAXED);
	out->echo_frames = __atomic_load_n(&stats.echo_frames, __ATOMIC_RELAXED);
	out->denoised_frames = __atomic_load_n(&stats.denoised_frames, __ATOMIC_RELAXED);
	out->workers = num_workers;
}
