/* How well the embedded agent understands phone callers: every phrasing of
 * tests/data/phone-phrasings.json (wordings that are not in the knowledge
 * base) spoken by several espeak-ng voices, through the project's own
 * G.711 μ-law and G.722 codecs (and clean 16 kHz for reference, or the
 * written words, `text`, for what the engine understands at best), recognised
 * and answered; prints the share answered with the right topic per split,
 * line and voice, the decode time per utterance, and the confusions.
 *
 *   phone_accuracy [-s dev|held_out|all] [-l pcmu,g722,clean,text]
 *                  [-v en-us,en-gb,...] [-j jobs] [-q] [-a] [-p ms] [-o key=value ...]
 *                  [set.json [kb.json]]
 *
 * -o sets one of the recogniser's settings (its provider config, e.g.
 * -o narrowband_fold=0.3), to compare before changing a default.
 *
 * Tune on dev; held_out is measured only to report. */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "phone_eval.h"

#include "embedded/embedded.h"

#define MAX_VOICES 8

typedef struct tally {
	int right, total;
	int numbers, numbers_exact; /* trials whose phrasing has digits; heard digit for digit */
	double decode_ms, audio_ms;
} tally;

typedef struct job {
	const char *split;
	json_t *entry;
	const char *voice;
	int voice_index;
} job;

static struct {
	phone_eval *ev;
	bool lines[PHONE_LINES];
	GMutex lock; /* everything below */
	/* [split 0 dev / 1 held_out][line][voice] */
	tally tallies[2][PHONE_LINES][MAX_VOICES];
	GString *confusions[2];
	bool every_trial; /* -a: every trial goes to confusions, right or not */
	int pause_ms;     /* -p: pause() after the words, then this much silence */
	int errors;
} run;

static void add(tally *t, const phone_trial *tr)
{
	t->right += tr->right;
	g_autofree char *said = phone_eval_digits(tr->text);
	if (*said) {
		g_autofree char *heard = phone_eval_digits(tr->heard);
		t->numbers++;
		t->numbers_exact += strcmp(said, heard) == 0;
	}
	t->total++;
	t->decode_ms += tr->decode_ms;
	t->audio_ms += tr->audio_ms;
}

static void run_job(gpointer data, gpointer unused)
{
	(void)unused;
	job *jb = data;
	int split = strcmp(jb->split, "dev") == 0 ? 0 : 1;
	const char *text = json_string_value(json_object_get(jb->entry, "text"));
	char *error = NULL;
	bool spoken = false;
	for (int l = 0; l < PHONE_LINE_TEXT; l++)
		spoken |= run.lines[l];
	g_autoptr(GArray) speech =
	        spoken ? phone_eval_speak(run.ev, text, jb->voice, &error) : NULL;
	for (int l = 0; l < PHONE_LINES && !error; l++) {
		if (!run.lines[l])
			continue;
		g_autoptr(GArray) audio =
		        l == PHONE_LINE_TEXT ? NULL : phone_eval_line(speech, (phone_line)l);
		phone_trial t = {.text = text,
		                 .expected = json_string_value(json_object_get(jb->entry, "topic")),
		                 .voice = jb->voice,
		                 .line = (phone_line)l,
		                 .pause_ms = run.pause_ms};
		bool ok = phone_eval_run(run.ev, audio, &t, &error);
		g_mutex_lock(&run.lock);
		if (ok) {
			add(&run.tallies[split][l][jb->voice_index], &t);
			if (!t.right || run.every_trial)
				g_string_append_printf(
				        run.confusions[split],
				        "  %-12s -> %-13s %-5s %-9s \"%s\" heard \"%s\"\n",
				        t.expected, t.topic, phone_line_name(t.line), t.voice,
				        t.text, t.heard);
		} else {
			run.errors++;
		}
		g_mutex_unlock(&run.lock);
		g_free(t.heard);
		g_free(t.topic);
	}
	if (error) {
		fprintf(stderr, "phone_accuracy: %s\n", error);
		g_free(error);
	}
	g_free(jb);
}

static double pct(const tally *t)
{
	return t->total ? 100.0 * t->right / t->total : 0.0;
}

static void print_split(int split, const char *name, char **voices, int nvoices, bool quiet)
{
	tally all[PHONE_LINES] = {0};
	printf("\n%s\n  %-6s", name, "line");
	for (int v = 0; v < nvoices; v++)
		printf(" %9s", voices[v]);
	printf(" %9s %9s\n", "all", "decode");
	for (int l = 0; l < PHONE_LINES; l++) {
		if (!run.lines[l])
			continue;
		printf("  %-6s", phone_line_name((phone_line)l));
		for (int v = 0; v < nvoices; v++) {
			tally *t = &run.tallies[split][l][v];
			printf(" %8.1f%%", pct(t));
			all[l].right += t->right;
			all[l].numbers += t->numbers;
			all[l].numbers_exact += t->numbers_exact;
			all[l].total += t->total;
			all[l].decode_ms += t->decode_ms;
			all[l].audio_ms += t->audio_ms;
		}
		printf(" %8.1f%% %6.0f ms  (%d/%d; %.1f%% of the audio's length)\n", pct(&all[l]),
		       all[l].total ? all[l].decode_ms / all[l].total : 0.0, all[l].right,
		       all[l].total,
		       all[l].audio_ms > 0 ? 100 * all[l].decode_ms / all[l].audio_ms : 0);
		if (all[l].numbers)
			printf("  %-6s numbers heard digit for digit: %d of %d\n",
			       phone_line_name((phone_line)l), all[l].numbers_exact,
			       all[l].numbers);
	}
	if (!quiet && run.confusions[split]->len)
		printf("  confusions (expected -> understood):\n%s", run.confusions[split]->str);
}

int main(int argc, char **argv)
{
	const char *split_opt = "all", *lines_opt = "pcmu,g722",
	           *voices_opt = "en-us,en-gb,en-us+f3,en-us+m3";
	int jobs = (int)g_get_num_processors();
	gboolean quiet = FALSE, every = FALSE;
	int pause_ms = 0;
	g_auto(GStrv) settings_opt = NULL;
	GOptionEntry entries[] = {
	        {"split", 's', 0, G_OPTION_ARG_STRING, &split_opt, "dev, held_out or all", "S"},
	        {"lines", 'l', 0, G_OPTION_ARG_STRING, &lines_opt, "pcmu,g722,clean,text", "L"},
	        {"voices", 'v', 0, G_OPTION_ARG_STRING, &voices_opt, "espeak-ng voices", "V"},
	        {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "trials side by side", "N"},
	        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "no confusions", NULL},
	        {"all", 'a', 0, G_OPTION_ARG_NONE, &every, "every trial, not only confusions",
	         NULL},
	        {"pause", 'p', 0, G_OPTION_ARG_INT, &pause_ms,
	         "ask what was heard at the end of the words, as the agent does, then this much "
	         "silence before the end of speech (the decode time is from there)",
	         "MS"},
	        {"option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &settings_opt, "a recogniser setting",
	         "KEY=VALUE"},
	        {NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) ctx = g_option_context_new("[set.json [kb.json]]");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_autoptr(GError) gerr = NULL;
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "phone_accuracy: %s\n", gerr->message);
		return 2;
	}
	g_autofree char *set_path =
	        g_strdup(argc > 1 ? argv[1] : SB_SOURCE_DIR "/tests/data/phone-phrasings.json");
	g_autofree char *kb_path =
	        g_strdup(argc > 2 ? argv[2] : SB_SOURCE_DIR "/conf/knowledge-base.json");
	g_auto(GStrv) voices = g_strsplit(voices_opt, ",", MAX_VOICES);
	int nvoices = (int)g_strv_length(voices);
	g_auto(GStrv) lines = g_strsplit(lines_opt, ",", -1);
	for (int i = 0; lines[i]; i++) {
		phone_line l;
		if (!phone_line_from_name(lines[i], &l)) {
			fprintf(stderr, "phone_accuracy: no line \"%s\"\n", lines[i]);
			return 2;
		}
		run.lines[l] = true;
	}
	char *error = NULL;
	g_autoptr(json_t) settings = json_object();
	for (int i = 0; settings_opt && settings_opt[i]; i++) {
		g_auto(GStrv) kv = g_strsplit(settings_opt[i], "=", 2);
		if (kv[0] && kv[1]) /* strings: the providers read .jcfg values so too */
			json_object_set_new(settings, kv[0], json_string(kv[1]));
	}
	run.ev = phone_eval_new(kb_path, settings, &error);
	json_t *sets[2] = {NULL, NULL};
	const char *split_names[2] = {"dev", "held_out"};
	for (int s = 0; run.ev && s < 2; s++) {
		if (strcmp(split_opt, "all") && strcmp(split_opt, split_names[s]))
			continue;
		json_t *r = NULL;
		sets[s] = phone_eval_load_set(set_path, split_names[s], &r, &error);
		if (!sets[s])
			break;
		json_incref(sets[s]);
		json_decref(r);
	}
	if (error) {
		fprintf(stderr, "phone_accuracy: %s\n", error);
		return 1;
	}
	run.every_trial = every;
	run.pause_ms = pause_ms;
	g_mutex_init(&run.lock);
	run.confusions[0] = g_string_new(NULL);
	run.confusions[1] = g_string_new(NULL);
	gint64 t0 = g_get_monotonic_time();
	GThreadPool *pool = g_thread_pool_new(run_job, NULL, MAX(1, jobs), TRUE, NULL);
	for (int s = 0; s < 2; s++) {
		size_t i;
		json_t *e;
		json_array_foreach(sets[s], i, e)
		{
			for (int v = 0; v < nvoices; v++) {
				job *jb = g_new0(job, 1);
				*jb = (job){split_names[s], e, voices[v], v};
				g_thread_pool_push(pool, jb, NULL);
			}
		}
	}
	g_thread_pool_free(pool, FALSE, TRUE);
	for (int s = 0; s < 2; s++)
		if (sets[s])
			print_split(s, split_names[s], voices, nvoices, quiet);
	/* CPU rather than the decode's wall time alone, which other work on
	 * the machine stretches: synthesis and codecs included (a few ms). */
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	int trials = 0;
	for (int s = 0; s < 2; s++)
		for (int l = 0; l < PHONE_LINES; l++)
			for (int v = 0; v < nvoices; v++)
				trials += run.tallies[s][l][v].total;
	printf("\n%.0f s, %d errors; CPU %.0f ms per utterance (all threads, synthesis included)\n",
	       (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC, run.errors,
	       trials ? 1000 * cpu / trials : 0.0);
	for (int s = 0; s < 2; s++) {
		json_decref(sets[s]);
		g_string_free(run.confusions[s], TRUE);
	}
	phone_eval_free(run.ev);
	sb_pocketsphinx_shutdown();
	sb_espeak_shutdown();
	return run.errors ? 1 : 0;
}
