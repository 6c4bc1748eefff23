// Noise on the embedded stack (issue 18, noise handling): a phone caller
// (plain RTP, PCMU) in a noisy room — a fan's steady hum and hiss, or a
// café's babble of several espeak-ng voices — sends only that noise for
// seconds: no caller turn, no answer, no barge-in (nor duck) over the
// greeting.  The same caller then asks a question 10 dB above the noise and
// is answered.  The noise comes from fixed seeds, so every run sends the same.
// Plain RTP joins have noise suppression on here ([rtp] noise_suppression),
// as an operator with noisy callers would set it: the recogniser hears the
// question, not the fan.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rest } from '../lib/notifications.mjs';
import { API_URL, API_KEY } from '../lib/janus.mjs';
import { phoneCaller, speech8k, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RATE = 8000;
const NOISE_RMS = 32768 * 10 ** (-30 / 20); // -30 dBFS
const NOISE_ONLY_MS = 6000;

let env, notes, question, noises;

// A small seeded generator (mulberry32): the same noise every run.
function seeded(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const rms = (x) => Math.sqrt(x.reduce((n, v) => n + v * v, 0) / Math.max(1, x.length));

function scaled(x, target) {
	const gain = target / rms(x);
	return Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * gain))));
}

// A fan: 120 Hz hum and its harmonics over the air's hiss, 4 s (looped).
function fan(seed) {
	const random = seeded(seed), x = new Float64Array(4 * RATE);
	for (let i = 0; i < x.length; i++) {
		let v = 0;
		for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * 120 * h * i / RATE + h) / h;
		x[i] = v + 0.3 * (random() * 2 - 1);
	}
	return scaled(x, NOISE_RMS);
}

// A café: five talkers at once, each from its own point of its own line.
function babble(dir, seed) {
	const random = seeded(seed);
	const talkers = [
		['en-us', 'I told her we would meet at the station around five, but the train was late again.'],
		['en+f3', 'Could you pass the sugar please, this coffee is far too bitter for me.'],
		['en-us+m3', 'The meeting went on for hours and nobody agreed on anything at all.'],
		['en+f2', 'We are thinking of going to the coast next weekend if the weather holds.'],
		['en-us+f4', 'He said the new place around the corner does a really good breakfast.'],
	];
	const x = new Float64Array(6 * RATE);
	for (const [k, [voice, line]] of talkers.entries()) {
		const s = speech8k(dir, `babble-${k}`, line, { voice });
		const offset = Math.floor(random() * s.length);
		for (let i = 0; i < x.length; i++) x[i] += s[(i + offset) % s.length];
	}
	return scaled(x, NOISE_RMS);
}

// The talker's level while talking: 20 ms frames within 30 dB of the loudest.
function activeRms(x) {
	const frames = [];
	for (let i = 0; i + 160 <= x.length; i += 160) frames.push(rms(x.subarray(i, i + 160)));
	const top = Math.max(...frames);
	return rms(Float64Array.from(frames.filter((f) => f > top / 31.6)));
}

before(async () => {
	env = await startAgentJanus('sb-noise-', () =>
		`${readFileSync('conf/janus.plugin.switchboard.jcfg', 'utf8')}\nrtp: {\n\tnoise_suppression = true\n}\n`);
	notes = env.notes;
	const said = speech8k(env.dir, 'hours', 'What are your opening hours?');
	// 10 dB SNR: the question's active level 10 dB above the noise's.
	const gain = NOISE_RMS * 10 ** (10 / 20) / activeRms(said);
	question = Int16Array.from(said, (v) => Math.max(-32768, Math.min(32767, Math.round(v * gain))));
	noises = { fan: fan(18), babble: babble(env.dir, 18) };
}, { timeout: 60000 });
after(() => stopAgentJanus(env), { timeout: 60000 });

async function counters() {
	const r = await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
	const text = await r.text();
	const value = (name) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? 0);
	return { bargeIns: value('switchboard_agent_barge_ins_total'), ducks: value('switchboard_agent_ducks_total') };
}

async function noisyCall(kind) {
	const { events, until } = notes;
	const room = `noise-${kind}-${process.pid}`;
	const created = await rest('POST', '/room/create', { roomName: room, agent: true });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const before = await counters();
	const start = Date.now();
	const caller = await phoneCaller(room, 'Caller', { background: noises[kind] });
	const inRoom = (e) => e.room === room && e.at >= start;
	try {
		await until('the greeting to end', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
		const spokeAt = (Date.now() - start);
		// Noise only, for a while after the greeting too.
		await sleep(Math.max(0, NOISE_ONLY_MS - spokeAt) + 2000);
		const story = () => JSON.stringify(events.filter((e) => inRoom(e) && ['transcript', 'agent_action', 'agent_state', 'agent_turn'].includes(e.type))
			.map((e) => [e.at - start, e.type, e.text ?? e.state ?? e.action ?? e.agent_text]));
		const heard = events.filter((e) => inRoom(e) && e.type === 'transcript' && e.speaker_id === caller.id);
		assert.deepEqual(heard.map((e) => e.text), [], `the noise was heard as words: ${story()}`);
		assert.equal(events.filter((e) => inRoom(e) && e.type === 'agent_turn').length, 0, `a turn on noise: ${story()}`);
		assert.equal(events.filter((e) => inRoom(e) && e.type === 'agent_action' && e.action === 'interrupted').length, 0, story());
		const during = await counters();
		assert.equal(during.bargeIns - before.bargeIns, 0, `barge-ins on noise: ${story()}`);
		assert.equal(during.ducks - before.ducks, 0, `ducks on noise: ${story()}`);
		// The same caller asks, 10 dB above the noise.
		const askedAt = Date.now();
		await caller.say(question);
		const turn = await until('the answer', () => events.find((e) => inRoom(e) && e.type === 'agent_turn' && e.at >= askedAt), 20000);
		assert.match(turn.agent_text, /Monday to Friday/, `${turn.agent_text}: ${story()}`);
		return Date.now() - start;
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
}

test('a fan\'s hum and hiss alone gives no turn and no barge-in; a question over it is answered', { timeout: 90000 }, async () => {
	await noisyCall('fan');
});

test('café babble alone gives no turn and no barge-in; a question 10 dB above it is answered', { timeout: 90000 }, async () => {
	await noisyCall('babble');
});
