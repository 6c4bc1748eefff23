// Agent benchmark on the embedded stack: N simultaneous calls (plain RTP
// callers playing espeak-ng speech, G.711 mu-law), each into its own room
// with the AI agent. Measures, from the caller's side of the wire:
//   turn latency  caller's last speech packet -> first agent audio packet
//   barge-in      caller starts talking over the agent -> agent audio stops
// plus the mixer's late frames and the Janus process's CPU.
//
// plus false stops (a backchannel, café noise over an answer) and false
// turns (café noise while it listens), with the VAD's pitch gate and,
// side by side up to BENCH_BASELINE_MAX calls, with energy alone.
//
//   node bench/agent-bench.mjs            # N = 1, 10, 20 (a few minutes)
//   BENCH_CALLS="1 5" node bench/agent-bench.mjs
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startJanus, adminRequest, speech8k, cafeNoise, percentile, cpuTicks, Caller, startPump, api, sleep, removeWork, untilQuiet, API_URL, API_KEY } from './agent-lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CALLS = (process.env.BENCH_CALLS || '1 10 20').split(/\s+/).filter(Boolean).map(Number);
const TURNS = Number(process.env.BENCH_TURNS || 3);
// The energy-only baseline of the false trials runs up to this many calls.
const BASELINE_MAX = Number(process.env.BENCH_BASELINE_MAX || 10);

async function run(janus, n, question, interruption) {
	const callers = [];
	const stopPump = startPump(callers);
	try {
		for (let i = 0; i < n; i++) {
			const room = `agentbench-${n}-${i}`;
			await api('POST', '/room/create', { roomName: room, agent: true });
			const c = new Caller(i);
			callers.push(c);
			await c.open(room);
		}
		return await measure(janus, n, callers, question, interruption);
	} finally {
		await stopPump();
		for (const c of callers) c.close();
		for (const c of callers) await adminRequest({ request: 'destroy', room: c.room }).catch(() => {});
	}
}

async function measure(janus, n, callers, question, interruption) {
	await sleep(9000); // greetings
	// False stops and false turns first, on agents nothing has happened to
	// yet: what the pitch gate keeps out, side by side (below) with energy
	// alone (vad_voiced_ms = -1, the VAD before it).
	const falses = { gate: await falseTrials(callers) };
	const before = await adminRequest({ request: 'stats' });
	const cpu0 = cpuTicks(janus.pid), w0 = performance.now();
	const latencies = [], missed = [], overlaps = [];
	for (let turn = 0; turn < TURNS; turn++) {
		for (const [i, c] of callers.entries()) setTimeout(() => c.say(question), (i * 997) % 1500);
		await sleep(1500 + question.length * 20 + 4000);
		for (const c of callers) {
			const t = c.turn();
			if (t.latency !== undefined) latencies.push(t.latency);
			else if (t.why === 'overlap') overlaps.push(c.i);
			else missed.push(c.i);
		}
		await sleep(6000); // let the answers finish
	}
	// Barge-in: a long answer, talked over once it is audible.
	const bargeStops = [];
	await Promise.all(callers.map((c) => adminRequest({ request: 'say', room: c.room, text: 'Let me read you our whole catalogue, page by page, with every product and every price, which takes a good while. '.repeat(2) })));
	await sleep(2500);
	const tb = performance.now();
	for (const c of callers) c.say(interruption);
	await sleep(2500);
	for (const c of callers) {
		const q = c.quietFrom(tb);
		if (q) bargeStops.push(q - tb);
	}
	await untilQuiet(callers, tb, 1500, 60000);
	const cpu1 = cpuTicks(janus.pid), w1 = performance.now();
	const after = await adminRequest({ request: 'stats' });
	if (n <= BASELINE_MAX) {
		await Promise.all(callers.map(async (c) => {
			await api('POST', `/room/${c.room}/agent`, { enable: false });
			await api('POST', `/room/${c.room}/agent`, { enable: true, config: { vad_voiced_ms: '-1' } });
		}));
		await sleep(9000); // greetings
		falses.energy = await falseTrials(callers);
	}
	const hz = 100; // USER_HZ
	return {
		calls: n,
		turns: latencies.length,
		missed: missed.length,
		overlaps: overlaps.length,
		latency_p50: percentile(latencies, 50), latency_p95: percentile(latencies, 95),
		barge_p50: percentile(bargeStops, 50), barge_p95: percentile(bargeStops, 95), barge_n: bargeStops.length,
		late_frames: after.mixer.late_frames - before.mixer.late_frames,
		ticks: after.mixer.ticks - before.mixer.ticks,
		cpu_pct: (100 * (cpu1 - cpu0) / hz) / ((w1 - w0) / 1000),
		falses,
	};
}

const LONG = 'Let me read you our whole catalogue, page by page, with every product and every price, which takes a good while. '.repeat(2);

async function metric(name) {
	const r = await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(15000) });
	return Number((await r.text()).split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
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
	const turns = await metric('switchboard_agent_turns_total');
	for (const c of callers) c.say(noise);
	await sleep(noise.length * 20 + 3000);
	out.noise_turns = (await metric('switchboard_agent_turns_total')) - turns;
	await sleep(4000); // an answer to it, if any, plays out
	return out;
}

const question = speech8k('What are your opening hours?');
const interruption = speech8k('Wait, wait, stop, I have another question for you.');
const backchannel = speech8k('Okay.');
const noise = cafeNoise(question, 4);
const janus = await startJanus();
const results = [];
try {
	for (const n of CALLS) {
		process.stderr.write(`[agent-bench] ${n} call(s)…\n`);
		results.push(await run(janus, n, question, interruption));
	}
} finally {
	await janus.stop();
	removeWork();
}
const f = (x) => (Number.isFinite(x) ? Math.round(x) : '-');
console.log(`AI agent on the embedded stack (pocketsphinx, local dialog, espeak-ng) - ${cpus().length} CPUs, ${new Date().toISOString()}`);
console.log('latency: caller\'s last speech packet -> first loud agent packet (wire, caller side); barge-in: caller starts -> agent quiet');
console.log('calls  turns  missed/overlap  latency p50  p95 ms  barge-in p50  p95 ms  mixer late/ticks  Janus CPU % core');
for (const r of results) {
	console.log(`${String(r.calls).padStart(5)}  ${String(r.turns).padStart(5)}  ${String(`${r.missed}/${r.overlaps}`).padStart(14)}  ${String(f(r.latency_p50)).padStart(11)}  ${String(f(r.latency_p95)).padStart(6)}  ${String(f(r.barge_p50)).padStart(12)}  ${String(f(r.barge_p95)).padStart(6)}  ${String(`${r.late_frames}/${r.ticks}`).padStart(16)}  ${r.cpu_pct.toFixed(1).padStart(16)}`);
}
console.log('\nfalse stops and turns, out of one trial per call: pitch gate (default) | energy alone (vad_voiced_ms = -1)');
console.log('calls  stops on "okay"  stops on cafe noise  turns from cafe noise');
const pair = (r, k) => `${r.falses.gate[k]}${r.falses.energy ? ` | ${r.falses.energy[k]}` : ''}`;
for (const r of results)
	console.log(`${String(r.calls).padStart(5)}  ${pair(r, 'backchannel').padStart(15)}  ${pair(r, 'noise_over_answer').padStart(19)}  ${pair(r, 'noise_turns').padStart(21)}`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'agent-latest.json'), JSON.stringify(results, null, 2));
