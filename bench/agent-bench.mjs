// Agent benchmark on the embedded stack (issue 18): N simultaneous calls
// (plain RTP callers playing espeak-ng speech, G.711 mu-law), each into its
// own room with the AI agent.  Measures, from the caller's side of the wire
// unless said otherwise:
//   turn latency  caller's last speech packet -> first agent audio packet
//   barge-in      caller starts talking over the agent -> agent audio stops
//   false stops   a backchannel ("Okay.") and café noise over an answer, and
//                 false turns from café noise while it listens (the agent's
//                 counters), with the VAD's pitch gate and, side by side up
//                 to BENCH_BASELINE_MAX calls, with energy alone
//   cut-offs      a caller pausing 700 ms inside a sentence ("my order
//                 number is … one two three four five"): the agent audible
//                 before the caller finished is a cut-off
//   echo          every caller a speakerphone (60-250 ms, -6 to -20 dB,
//                 spread over the calls) silent through an answer: answers
//                 the agent stopped on its own echo (its `interrupted`
//                 actions), then a real interruption over the echo
//                 (barge-in time); with echo_cancellation = "agent" and
//                 side by side, up to BENCH_ECHO_OFF_MAX calls,
//                 "off" (a second Janus: the switch is read at start)
//   ERLE          the echo's energy each speakerphone sent over what the
//                 agent got of that leg (the room's per-participant
//                 recording track, which is the frame after the canceller,
//                 as the mix and the agent take it)
// plus the mixer's late frames and the Janus process's CPU (over the turns
// and barge-in; and over the echo trials, with and without the canceller), and
// the held-out intent accuracy of build/tests/tools/phone_accuracy when it
// is built.
//
//   node bench/agent-bench.mjs              # N = 1, 10, 20
//   BENCH_CALLS="1 10 20 50" node bench/agent-bench.mjs
//   BENCH_PHASES=off BENCH_CALLS=4 …       # only the echo trials without a canceller
//   BENCH_ECHO_MIDCALL=1 …                 # also a speakerphone switched on mid-call
// BENCH_MAX_MINUTES (40) bounds the whole run: past it Janus is stopped and
// the bench exits 2.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startJanus, adminRequest, metric, metrics, repoRoot, speech8k, cafeNoise, percentile, cpuTicks, Caller, startPump, api, sleep, removeWork, untilQuiet } from './agent-lib.mjs';
import { echoConfig, speakerphone } from '../tests/lib/phone-caller.mjs';
import { openNotifications } from '../tests/lib/notifications.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CALLS = (process.env.BENCH_CALLS || '1 10 20').split(/\s+/).filter(Boolean).map(Number);
const TURNS = Number(process.env.BENCH_TURNS || 3);
// The energy-only baseline of the false trials runs up to this many calls,
// the echo trials without a canceller up to that many.
const BASELINE_MAX = Number(process.env.BENCH_BASELINE_MAX || 10);
const ECHO_OFF_MAX = Number(process.env.BENCH_ECHO_OFF_MAX || BASELINE_MAX);
// Mid-sentence pauses each caller makes (each a trial).
const CUTOFF_ROUNDS = Number(process.env.BENCH_CUTOFF_ROUNDS || 2);
// Also the echo trials with the speakerphone switched on after the turns.
const MIDCALL = process.env.BENCH_ECHO_MIDCALL === '1';
const PHASES = (process.env.BENCH_PHASES || 'main off').split(/\s+/);
const MAX_MINUTES = Number(process.env.BENCH_MAX_MINUTES || 40);
// The bench's own port ranges hold about 2000 RTP legs; far fewer calls
// than that already load a 2-core machine past any target.
if (CALLS.some((n) => !(n >= 1 && n <= 200))) throw new Error(`BENCH_CALLS: 1 to 200 calls, not "${process.env.BENCH_CALLS}"`);

const LONG = 'Let me read you our whole catalogue, page by page, with every product and every price, which takes a good while. '.repeat(2);
const PAUSE_MS = 700;
const agentEvents = (notes, room, since, type) => notes.events.filter((e) => e.room === room && e.at >= since && e.type === type);

// N rooms with the agent, a caller in each (speakerphones from the start
// with `speaker`), on one pump; everything released however body ends.
async function withCalls(n, tag, body, { speaker = false } = {}) {
	const callers = [];
	const stopPump = startPump(callers);
	try {
		const since = performance.now();
		for (let i = 0; i < n; i++) {
			const room = `agentbench-${tag}-${n}-${i}`;
			await api('POST', '/room/create', { roomName: room, agent: true });
			const c = new Caller(i);
			if (speaker) c.echo = speakerphone(echoPath(i));
			callers.push(c);
			await c.open(room);
		}
		await untilQuiet(callers, since, 1500, 20000 + 300 * n); // greetings
		return await body(callers);
	} finally {
		await stopPump();
		for (const c of callers) c.close();
		for (const c of callers) await adminRequest({ request: 'destroy', room: c.room }).catch(() => {});
	}
}

// The mixer's late frames and ticks and the Janus process's CPU (% of one
// core) over what fn does; and the machine's CPU that neither Janus nor
// this bench used (other work on a shared machine), in % of one core.
async function load(janus, fn) {
	const before = await adminRequest({ request: 'stats' });
	const cpu0 = cpuTicks(janus.pid), all0 = machineTicks(), own0 = process.cpuUsage(), w0 = performance.now();
	const value = await fn();
	const cpu1 = cpuTicks(janus.pid), all1 = machineTicks(), own1 = process.cpuUsage(own0), w1 = performance.now();
	const after = await adminRequest({ request: 'stats' });
	const hz = 100; // USER_HZ
	const pct = (ticks) => (100 * ticks / hz) / ((w1 - w0) / 1000);
	return {
		value,
		late_frames: after.mixer.late_frames - before.mixer.late_frames,
		ticks: after.mixer.ticks - before.mixer.ticks,
		cpu_pct: pct(cpu1 - cpu0),
		others_pct: Math.max(0, pct(all1 - all0 - (cpu1 - cpu0)) - (100 * (own1.user + own1.system) / 1e6) / ((w1 - w0) / 1000)),
	};
}

// Busy ticks of the whole machine (/proc/stat: all but idle and iowait).
function machineTicks() {
	const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
	return f.reduce((a, b) => a + b, 0) - f[3] - f[4];
}

// The main Janus (conf/'s, with echo_cancellation = "agent").
async function mainPhase(janus, notes, n) {
	return withCalls(n, 'main', async (callers) => {
		// False stops and false turns first, on agents nothing has happened
		// to yet: what the pitch gate keeps out, side by side (below) with
		// energy alone (vad_voiced_ms = -1, the VAD before it).
		const falses = { gate: await falseTrials(callers) };
		const timed = await load(janus, async () => ({ turns: await turns(notes, callers), barge: await bargeIn(callers) }));
		const cutoffs = await cutOffTrials(notes, callers);
		// A speakerphone switched on in the middle of the call.
		const echoMid = MIDCALL ? await echoUnderLoad(janus, notes, callers) : null;
		if (n <= BASELINE_MAX) {
			await Promise.all(callers.map(async (c) => {
				await api('POST', `/room/${c.room}/agent`, { enable: false });
				await api('POST', `/room/${c.room}/agent`, { enable: true, config: { vad_voiced_ms: '-1' } });
			}));
			await sleep(9000); // greetings
			falses.energy = await falseTrials(callers);
		}
		const { turns: t, barge } = timed.value;
		return {
			calls: n,
			turns: t.latencies.length, missed: t.missed, overlaps: t.overlaps,
			latency_p50: percentile(t.latencies, 50), latency_p95: percentile(t.latencies, 95),
			barge_p50: percentile(barge, 50), barge_p95: percentile(barge, 95), barge_n: barge.length, barge_trials: barge.trials,
			late_frames: timed.late_frames, ticks: timed.ticks, cpu_pct: timed.cpu_pct, others_pct: timed.others_pct,
			turn_stages: t.stages, falses, cutoffs, echo_midcall: echoMid,
		};
	});
}

// Speakerphone callers from the first packet on (the greeting's echo
// too): the echo trials in calls of their own.
function echoCalls(janus, notes, n) {
	return withCalls(n, 'echo', (callers) => echoUnderLoad(janus, notes, callers), { speaker: true });
}

async function echoUnderLoad(janus, notes, callers) {
	const { value, ...timed } = await load(janus, () => echoTrials(janus, notes, callers));
	return { ...value, ...timed };
}

async function turns(notes, callers) {
	const latencies = [], stages = [];
	let missed = 0, overlaps = 0;
	for (let turn = 0; turn < TURNS; turn++) {
		const since = Date.now();
		for (const [i, c] of callers.entries()) setTimeout(() => c.say(question), (i * 997) % 1500);
		await sleep(1500 + question.length * 20 + 4000);
		for (const c of callers) {
			const t = c.turn();
			if (t.latency !== undefined) latencies.push(t.latency);
			else if (t.why === 'overlap') overlaps++;
			else missed++;
		}
		await sleep(6000); // let the answers finish
		for (const c of callers) stages.push(...turnStages(notes, c.room, since));
	}
	return { latencies, missed, overlaps, stages };
}

// A long answer, talked over once it is audible: ms from the caller's
// first word to the agent quiet, per caller that stopped it.  A trial is a
// caller who heard the agent in the 300 ms before talking (on a machine too
// busy to have started the answer by then there is nothing to stop).
async function bargeIn(callers) {
	await Promise.all(callers.map((c) => adminRequest({ request: 'say', room: c.room, text: LONG })));
	await sleep(2500);
	const tb = performance.now();
	for (const c of callers) c.say(interruption);
	await sleep(2500);
	const talking = callers.filter((c) => c.heard.some((h) => h.loud && h.at > tb - 300 && h.at <= tb));
	const stops = talking.map((c) => c.quietFrom(tb)).filter(Boolean).map((q) => q - tb);
	await untilQuiet(callers, tb, 1500, 60000);
	return Object.assign(stops, { trials: talking.length });
}

// Each caller, over a long answer: a backchannel, then café noise; then,
// while the agent listens, café noise again.  Counted from the agent's own
// counters: stops (barge-ins) and turns, out of one trial per caller.
async function falseTrials(callers) {
	const out = {};
	for (const [name, frames] of [['backchannel', backchannel], ['noise_over_answer', noise]]) {
		const stops = await metric('switchboard_agent_barge_ins_total');
		await Promise.all(callers.map((c) => adminRequest({ request: 'say', room: c.room, text: LONG })));
		await sleep(2500);
		const t = performance.now();
		for (const c of callers) c.say(frames);
		await sleep(frames.length * 20 + 3000);
		out[name] = (await metric('switchboard_agent_barge_ins_total')) - stops;
		await untilQuiet(callers, t, 1500, 60000);
	}
	const before = await metric('switchboard_agent_turns_total');
	for (const c of callers) c.say(noise);
	await sleep(noise.length * 20 + 3000);
	out.noise_turns = (await metric('switchboard_agent_turns_total')) - before;
	await sleep(4000); // an answer to it, if any, plays out
	return out;
}

// CUTOFF_ROUNDS sentences per caller with a 700 ms pause inside: a cut-off
// is the agent audible between the first half's end and the caller's last
// word (it answered the pause).  Also the latency of the answers that
// waited (from the caller's last word).
async function cutOffTrials(notes, callers) {
	let trials = 0, cut = 0, split = 0;
	const waited = [], bySentence = {}, heardAs = [], waitedStages = [];
	for (let round = 0; round < CUTOFF_ROUNDS; round++) {
		const said = callers.map((c, i) => paused[(i + round) % paused.length]);
		const since = Date.now();
		for (const [i, c] of callers.entries()) setTimeout(() => c.say(said[i].frames), (i * 997) % 1500);
		await sleep(1500 + Math.max(...said.map((s) => s.frames.length)) * 20 + 3500);
		await untilQuiet(callers, performance.now() - 3500, 1500, 20000);
		for (const [i, c] of callers.entries()) {
			if (!c.sayAt || !c.lastSpeech) continue; // not sent (a stalled pump): no trial
			trials++;
			const tally = (bySentence[said[i].text] ??= { cut: 0, trials: 0 });
			tally.trials++;
			const firstEnd = c.sayAt + said[i].first * 20;
			if (c.heard.some((h) => h.loud && h.at > firstEnd && h.at <= c.lastSpeech)) {
				cut++;
				tally.cut++;
				// What the recogniser made of it (finals), to see why: two
				// or more is the sentence split at the pause; one, agent
				// audio in the pause that answered something else (a late
				// answer to an earlier utterance, on a busy machine).
				const finals = agentEvents(notes, c.room, since, 'transcript').filter((e) => e.final && e.speaker_id === c.remote.id).map((e) => e.text);
				heardAs.push(finals);
				if (finals.length >= 2) split++;
			} else if (c.firstLoudAfter(c.lastSpeech)) {
				waited.push(c.firstLoudAfter(c.lastSpeech) - c.lastSpeech);
				waitedStages.push(...turnStages(notes, c.room, since).slice(-1));
			}
		}
	}
	return { trials, cut, split, by_sentence: bySentence, cut_heard_as: heardAs, waited_stages: waitedStages, waited_n: waited.length, waited_p50: percentile(waited, 50), waited_p95: percentile(waited, 95) };
}

// The agent's own account of its turns in a room since then (the
// agent_turn events' stages, ms after the caller's end of speech by the
// VAD): where a slow answer's time went.
function turnStages(notes, room, since) {
	return agentEvents(notes, room, since, 'agent_turn').map((e) => e.stages).filter(Boolean);
}

// Where caller i's speakerphone puts the echo: delays 60-250 ms and
// losses 6-20 dB, spread so that any four calls in a row have all four of
// each (one call: 60 ms at -6 dB, the loudest).
const echoPath = (i) => ({ delayMs: [60, 120, 180, 250][i % 4], gainDb: [-6, -20, -10, -15][(i + Math.floor(i / 4)) % 4] });

// Every caller a speakerphone, silent through a long answer: the answers
// the agent stopped on its own echo (`interrupted`), the ducks and turns
// its echo caused, the ERLE of each leg from the room's recording; then a
// real interruption over the echo.
async function echoTrials(janus, notes, callers) {
	for (const [i, c] of callers.entries()) c.echo ??= speakerphone(echoPath(i));
	try {
		const m0 = await metrics(['switchboard_agent_ducks_total', 'switchboard_mixer_echo_frames_total']);
		const recs = await Promise.all(callers.map((c) => adminRequest({ request: 'start_recording', room: c.room, format: 'wav', tracks: true })));
		for (const c of callers) c.echoSent = { sum: 0, samples: 0 };
		const since = Date.now(), t = performance.now();
		await Promise.all(callers.map((c) => adminRequest({ request: 'say', room: c.room, text: LONG })));
		// The answer takes ~15 s; an agent answering its own echo may go on
		// answering the echo of that: bounded.
		await untilQuiet(callers, t, 2000, 30000);
		const sent = callers.map((c) => ({ ...c.echoSent }));
		await Promise.all(callers.map((c) => adminRequest({ request: 'stop_recording', room: c.room }).catch(() => {})));
		const m1 = await metrics(['switchboard_agent_ducks_total', 'switchboard_mixer_echo_frames_total']);
		const stopped = callers.filter((c) => agentEvents(notes, c.room, since, 'agent_action').some((e) => e.action === 'interrupted')).length;
		const selfTurns = callers.reduce((s, c) => s + agentEvents(notes, c.room, since, 'agent_turn').length, 0);
		const erle = await erleOf(notes, callers, recs, sent);
		const barge = await bargeIn(callers);
		return {
			trials: callers.length, stopped, self_turns: selfTurns,
			ducks: m1.switchboard_agent_ducks_total - m0.switchboard_agent_ducks_total,
			echo_frames: m1.switchboard_mixer_echo_frames_total - m0.switchboard_mixer_echo_frames_total,
			erle_p50: percentile(erle, 50), erle_min: Math.min(...erle), erle_n: erle.length,
			barge_p50: percentile(barge, 50), barge_p95: percentile(barge, 95), barge_n: barge.length, barge_trials: barge.trials,
		};
	} finally {
		for (const c of callers) c.echo = null;
	}
}

// ERLE (dB) per leg: the mean square of what the speakerphone sent (its
// echo alone: the caller was silent) over the mean square of its track in
// the room's recording, over the same span.  The mix writes a frame under
// silence_level (-70 dBov) as silence: a leg whose echo was all taken
// below that counts as 99 dB.
async function erleOf(notes, callers, recs, sent) {
	const out = [];
	for (const [i, c] of callers.entries()) {
		const path = recs[i]?.recording?.path?.replace(/\.wav$/, `-p${c.remote.id}.wav`);
		if (!path || !sent[i].samples) continue;
		const closed = await notes.until(`the track ${path}`, () => notes.events.find((e) => e.type === 'recording_stopped' && e.path === path), 15000).catch(() => null);
		if (!closed || !existsSync(path)) continue;
		const pcm = readFileSync(path).subarray(44);
		let sum = 0;
		for (let o = 0; o + 1 < pcm.length; o += 2) sum += pcm.readInt16LE(o) ** 2;
		const heard = sum / Math.max(1, pcm.length / 2), echo = sent[i].sum / sent[i].samples;
		if (echo > 0) out.push(heard > 0 ? Math.min(99, 10 * Math.log10(echo / heard)) : 99);
	}
	return out;
}

// What build/tests/tools/phone_accuracy (held-out intent accuracy at
// 8 kHz mu-law and G.722) prints as its summary, or why there is none.
function intentAccuracy() {
	const tool = join(repoRoot, 'build', 'tests', 'tools', 'phone_accuracy');
	if (!existsSync(tool)) return ['not built (no build/tests/tools/phone_accuracy)'];
	try {
		const args = ['-s', 'held_out', '-l', 'pcmu,g722', '-q'];
		const lines = execFileSync(tool, args, { cwd: repoRoot, timeout: 600000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n');
		// Its table: a row per line (codec), a column per voice, then "all".
		const header = lines.find((l) => /^\s+line\s/.test(l));
		const rows = lines.filter((l) => /^\s+(pcmu|g722)\s/.test(l));
		const tidy = (l) => l.trim().replace(/\s+/g, ' ');
		return rows.length ? [header, ...rows].filter(Boolean).map(tidy) : lines.slice(-3);
	} catch (e) {
		return [`failed: ${String(e.message).split('\n')[0]}`];
	}
}

// One Janus (echo_cancellation = mode), its notifications, fn for each of
// counts; both released however it ends.
async function withJanus(mode, counts, fn) {
	const janus = await startJanus({ pluginConfig: echoConfig(mode) });
	running.add(janus);
	let notes;
	try {
		notes = await openNotifications();
		const out = [];
		for (const n of counts) {
			process.stderr.write(`[agent-bench] ${new Date().toISOString()} echo_cancellation = ${mode}: ${n} call(s)…\n`);
			const la = loadavg()[0];
			out.push({ ...(await fn(janus, notes, n)), loadavg: la });
		}
		return out;
	} finally {
		notes?.close();
		await janus.stop();
		running.delete(janus);
	}
}

const running = new Set();
const watchdog = setTimeout(async () => {
	process.stderr.write(`[agent-bench] over BENCH_MAX_MINUTES (${MAX_MINUTES}): stopping\n`);
	await Promise.allSettled([...running].map((j) => j.stop()));
	removeWork();
	process.exit(2);
}, MAX_MINUTES * 60000);
watchdog.unref();

const question = speech8k('What are your opening hours?');
const interruption = speech8k('Wait, wait, stop, I have another question for you.');
const backchannel = speech8k('Okay.');
const noise = cafeNoise(question, 4);
const paused = [['My order number is', 'one two three four five.'], ['I would like to', 'change my delivery address.'],
	['My phone number is', 'five five five, one two three four.'], ['I am calling about, um,', 'the invoice I got yesterday.']]
	.map(([a, b]) => {
		const first = speech8k(a);
		const pause = Array.from({ length: PAUSE_MS / 20 }, () => new Uint8Array(160).fill(0xff));
		return { text: `${a} … ${b}`, first: first.length, frames: [...first, ...pause, ...speech8k(b)] };
	});
const started = new Date(), load0 = loadavg();
let main = [], off = [];
try {
	if (PHASES.includes('main')) main = await withJanus('agent', CALLS, async (janus, notes, n) => ({ ...(await mainPhase(janus, notes, n)), echo: await echoCalls(janus, notes, n) }));
	const offCounts = CALLS.filter((n) => n <= ECHO_OFF_MAX);
	if (PHASES.includes('off') && offCounts.length) off = await withJanus('off', offCounts, echoCalls); // the echo trials alone
} finally {
	removeWork();
}
const load1 = loadavg();
const accuracy = intentAccuracy();
clearTimeout(watchdog);

// One markdown table, a row per call count; "cancel | off" is
// echo_cancellation = "agent" | "off".
const f = (x) => (Number.isFinite(x) ? String(Math.round(x)) : '-');
const db = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const pair = (a, b) => `${f(a)} / ${f(b)}`;
const side = (r, k) => (r ? `${r.falses.gate[k]}${r.falses.energy ? ` \\| ${r.falses.energy[k]}` : ''} of ${r.calls}` : '-');
const barge = (x) => `${pair(x.barge_p50, x.barge_p95)} (${x.barge_n} of ${x.barge_trials})`;
const cost = (x) => `${x.late_frames} / ${x.ticks}, ${x.cpu_pct.toFixed(0)}`;
console.log(`AI agent on the embedded stack (pocketsphinx, local dialog, espeak-ng), G.711 mu-law callers - ${cpus().length} CPUs, ${started.toISOString()} to ${new Date().toISOString()}`);
console.log(`load average (1, 5, 15 min) before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`command: ${Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v]) => `${k}="${v}" `).join('')}node bench/agent-bench.mjs\n`);
console.log('| calls | turns (missed / overlap) | turn p50 / p95 ms | barge-in p50 / p95 ms (stopped of trials) | stops on "okay" (gate \\| energy) | stops on café noise | turns from café noise | cut-offs on a 700 ms pause | echo: answers stopped (cancel \\| off) | echo: ducks / self-turns | barge-in over echo p50 / p95 ms | ERLE dB p50 / min | turns: mixer late / ticks, Janus CPU % core | echo trials: the same | other work: CPU % core (load avg) during the turns \\| echo trials without canceller |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const n of CALLS) {
	const r = main.find((x) => x.calls === n), e = r?.echo, o = off.find((x) => x.trials === n);
	const both = (fn) => `${e ? fn(e) : '-'}${o ? ` \\| ${fn(o)}` : ''}`;
	console.log(`| ${n} | ${r ? `${r.turns} (${r.missed} / ${r.overlaps})` : '-'} | ${r ? pair(r.latency_p50, r.latency_p95) : '-'} | ${r ? barge(r) : '-'}`
		+ ` | ${side(r, 'backchannel')} | ${side(r, 'noise_over_answer')} | ${side(r, 'noise_turns')} | ${r ? `${r.cutoffs.cut} of ${r.cutoffs.trials}` : '-'}`
		+ ` | ${both((x) => `${x.stopped}`)} of ${n} | ${both((x) => `${x.ducks} / ${x.self_turns}`)} | ${both(barge)}`
		+ ` | ${both((x) => `${db(x.erle_p50)} / ${db(x.erle_min)}`)} | ${r ? cost(r) : '-'} | ${both(cost)}`
		+ ` | ${r ? `${f(r.others_pct)} (${r.loadavg.toFixed(1)})` : '-'}${o ? ` \\| ${f(o.others_pct)} (${o.loadavg.toFixed(1)})` : ''} |`);
}
for (const r of main.filter((x) => x.echo_midcall)) {
	const m = r.echo_midcall;
	console.log(`speakerphone switched on mid-call at ${r.calls} call(s): answers stopped ${m.stopped} of ${m.trials}, ducks / self-turns ${m.ducks} / ${m.self_turns}, ERLE p50 / min ${db(m.erle_p50)} / ${db(m.erle_min)} dB, barge-in over echo ${barge(m)}`);
}
// p50 / p95 of each stage over a list of stages objects.
const stageLine = (list) => ['stt_final', 'llm_first_token', 'tts_first_audio', 'first_packet']
	.map((k) => { const xs = list.map((x) => x[k]).filter(Number.isFinite); return `${k} ${pair(percentile(xs, 50), percentile(xs, 95))}`; }).join(', ');
for (const r of main)
	console.log(`agent_turn stages at ${r.calls} call(s), p50 / p95 ms after the end of speech: questions (${r.turn_stages.length}) ${stageLine(r.turn_stages)}; paused sentences that waited (${r.cutoffs.waited_stages.length}) ${stageLine(r.cutoffs.waited_stages)}`);
for (const r of main)
	console.log(`cut-offs at ${r.calls} call(s): ${r.cutoffs.cut} of ${r.cutoffs.trials}, of which with two or more caller finals (split, or a late final of an earlier utterance) ${r.cutoffs.split}; by sentence: ${Object.entries(r.cutoffs.by_sentence).map(([k, v]) => `"${k}" ${v.cut} of ${v.trials}`).join(', ')}; answers that waited: p50 / p95 ${pair(r.cutoffs.waited_p50, r.cutoffs.waited_p95)} ms after the last word (${r.cutoffs.waited_n}); the cut-off ones heard as ${JSON.stringify(r.cutoffs.cut_heard_as.slice(0, 4))}`);
console.log(`\nintent accuracy (held-out set, 8 kHz mu-law and G.722; build/tests/tools/phone_accuracy): ${accuracy.join('; ')}`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'agent-latest.json'), JSON.stringify({ started, load: [load0, load1], main, off, accuracy }, null, 2));
