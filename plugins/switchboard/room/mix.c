#include "room/mix.h"

#include <math.h>
#include <stdlib.h>

void sb_limiter_init(sb_limiter *lim, int sample_rate)
{
	lim->envelope = 0.0f;
	/* 60 ms release: short enough not to pump on speech, long enough not to
	 * distort low frequencies. */
	lim->release = expf(-1.0f / (0.060f * (float)sample_rate));
}

void sb_limiter_process(sb_limiter *lim, const int32_t *in, int16_t *out, int n)
{
	float env = lim->envelope;
	for (int i = 0; i < n; i++) {
		float x = (float)in[i];
		float mag = fabsf(x);
		env = mag > env ? mag : env * lim->release;
		if (env <= SB_LIMITER_THRESHOLD) {
			/* The common case, exact: the sum already fits. */
			int32_t s = in[i];
			out[i] = (int16_t)(s > 32767 ? 32767 : (s < -32768 ? -32768 : s));
		} else {
			float y = x * (SB_LIMITER_THRESHOLD / env);
			out[i] = (int16_t)lrintf(y);
		}
	}
	lim->envelope = env < 1.0f ? 0.0f : env;
}

void sb_mix_clear(int32_t *acc, int n)
{
	for (int i = 0; i < n; i++)
		acc[i] = 0;
}

void sb_mix_add(int32_t *acc, const int16_t *frame, int n)
{
	for (int i = 0; i < n; i++)
		acc[i] += frame[i];
}

void sb_mix_minus(const int32_t *all, const int16_t *own, int32_t *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = all[i] - own[i];
}

bool sb_mix_is_silent(const int32_t *acc, int n)
{
	for (int i = 0; i < n; i++)
		if (acc[i] != 0)
			return false;
	return true;
}

int sb_level_dbov(const int16_t *pcm, int n)
{
	if (n <= 0)
		return 127;
	double sum = 0.0;
	for (int i = 0; i < n; i++)
		sum += (double)pcm[i] * (double)pcm[i];
	return sb_level_of_mean_square(sum / n);
}

int sb_level_of_mean_square(double mean_square)
{
	double rms = sqrt(mean_square);
	if (rms < 1.0)
		return 127;
	double db = -20.0 * log10(rms / 32768.0);
	if (db < 0.0)
		db = 0.0;
	return db > 127.0 ? 127 : (int)lrint(db);
}

/* The only contributor other than `except`, or -1 when there are more or none. */
static int sole_contributor(const sb_mix_member *members, int n, int except)
{
	int found = -1;
	for (int i = 0; i < n; i++) {
		if (i == except || !members[i].contributing)
			continue;
		if (found >= 0)
			return -1;
		found = i;
	}
	return found;
}

int sb_mix_plan(const sb_mix_member *members, int n, sb_mix_job *jobs, int *job_of)
{
	int njobs = 0, contributors = 0;
	for (int i = 0; i < n; i++)
		contributors += members[i].contributing ? 1 : 0;
	for (int i = 0; i < n; i++) {
		job_of[i] = -1;
		if (!members[i].listening)
			continue;
		if (members[i].contributing) {
			/* Alone in the mix: its mix-minus is silence. */
			bool silent = contributors == 1;
			int shared = -1;
			if (silent) {
				for (int j = 0; j < njobs; j++)
					if (jobs[j].silent && jobs[j].codec == members[i].codec)
						shared = j;
			}
			if (shared >= 0) {
				job_of[i] = shared;
				continue;
			}
			jobs[njobs] = (sb_mix_job){.minus = silent ? -1 : i,
			                           .codec = members[i].codec,
			                           .silent = silent,
			                           .source = silent ? -1 : sole_contributor(members, n, i)};
			job_of[i] = njobs++;
			continue;
		}
		int found = -1;
		for (int j = 0; j < njobs; j++) {
			if (jobs[j].minus == -1 && jobs[j].codec == members[i].codec &&
			    jobs[j].silent == (contributors == 0))
				found = j;
		}
		if (found < 0) {
			jobs[njobs] = (sb_mix_job){.minus = -1,
			                           .codec = members[i].codec,
			                           .silent = contributors == 0,
			                           .source = sole_contributor(members, n, -1)};
			found = njobs++;
		}
		job_of[i] = found;
	}
	return njobs;
}
