// Noise is no caller (issue 18 item 2), on the embedded stack: a phone
// caller (plain RTP, PCMU) in a fan's hum, in traffic and in café babble
// (six espeak-ng voices talking at once) makes no turn while the agent
// listens, and neither ducks nor stops it while it talks; a question said
// 10 dB over that babble still makes a turn.  The VAD's pitch gate is what
// keeps the noise out (tests/unit/test_vad shows energy alone opening on it).
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rest } from '../lib/notifications.mjs';
import { adminRequest, metric } from '../lib/janus.mjs';
import { phoneCaller, speech8k, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TOOL = { timeout: 60000 };
const SENTENCES = ['We went to the market and then had lunch by the river', 'I told him the train was late again this morning',
	'She said the new place downtown has great coffee', 'They are painting the house blue this summer',
	'My brother is coming over for dinner on Friday', 'The match was cancelled because of the rain'];
const VOICES = ['en-us', 'en-gb', 'en-us+f3', 'en-us+m3', 'en-gb+f2', 'en-us+m7'];

let env, fan, traffic, cafe, question;

// sox's synthesised noise (effects after the output) as 8 kHz samples.
function sox(dir, name, effects) {
	const raw = join(dir, `${name}.raw`);
	execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed', '-t', 'raw', raw, ...effects], TOOL);
	const b = readFileSync(raw);
	return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + (b.length & ~1)));
}

const rms = (x) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

// a + b·gain, b starting at `at` samples, as long as the longer.
function mix(a, b, gain = 1, at = 0) {
	const out = new Int16Array(Math.max(a.length, at + b.length));
	for (let i = 0; i < out.length; i++) {
		const v = (a[i] ?? 0) + (i >= at && i - at < b.length ? b[i - at] * gain : 0);
		out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
	}
	return out;
}

before(async () => {
	env = await startAgentJanus('sb-noise-');
	const { dir } = env;
	question = speech8k(dir, 'question', 'What are your opening hours?');
	// Noise about 10 dB under the question's level.
	const level = rms(question) / 3.16;
	const scaled = (x) => { const g = level / rms(x); return x.map((v) => Math.max(-32768, Math.min(32767, Math.round(v * g)))); };
	fan = scaled(sox(dir, 'fan', ['synth', '6', 'brownnoise']));
	traffic = scaled(sox(dir, 'traffic', ['synth', '6', 'brownnoise', 'tremolo', '0.3', '90']));
	// Six people talking at once, starting at different moments.
	let babble = new Int16Array(0);
	VOICES.forEach((voice, i) => {
		const words = speech8k(dir, `babble-${i}`, `${SENTENCES[i]}. ${SENTENCES[(i + 2) % 6]}. ${SENTENCES[(i + 4) % 6]}.`, { voice });
		babble = mix(babble, words, 1, Math.round(i * 0.31 * 8000));
	});
	cafe = scaled(babble.subarray(2 * 8000, 7 * 8000)); // 5 s where all six talk
}, { timeout: 120000 });
after(() => stopAgentJanus(env), { timeout: 60000 });

// A room with the agent and a caller, once the greeting is over.
async function listeningRoom(room) {
	const { events, until } = env.notes;
	const created = await rest('POST', '/room/create', { roomName: room, agent: true });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const caller = await phoneCaller(room, 'Caller');
	const inRoom = (e) => e.room === room;
	await until('the greeting to end', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
	return { caller, inRoom };
}

const heardFrom = (events, inRoom, caller, since) => events.filter((e) => inRoom(e) && e.at >= since &&
	((e.type === 'transcript' && e.speaker_id === caller.id) || e.type === 'agent_turn' || (e.type === 'agent_state' && e.state === 'thinking')));

test('a fan, traffic and café babble make no turn while the agent listens', { timeout: 120000 }, async () => {
	const room = `noise-listen-${process.pid}`;
	const { caller, inRoom } = await listeningRoom(room);
	try {
		const since = Date.now();
		for (const noise of [fan, traffic, cafe]) await caller.say(noise);
		await sleep(2000); // a turn made of the noise's end would have begun
		const heard = heardFrom(env.notes.events, inRoom, caller, since);
		assert.deepEqual(heard, [], `noise made a turn: ${JSON.stringify(heard)}`);
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});

test('noise over the agent\'s answer neither ducks nor stops it', { timeout: 120000 }, async () => {
	const room = `noise-talk-${process.pid}`;
	const { events, until } = env.notes;
	const { caller, inRoom } = await listeningRoom(room);
	try {
		const ducks = await metric('switchboard_agent_ducks_total');
		const long = 'Let me tell you about our company, our history and our products. We started as a small shop and grew year after year, and today we ship all over the country.';
		assert.equal((await adminRequest({ request: 'say', room, text: long })).switchboard, 'success');
		const since = Date.now();
		await until('the agent speaking', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'speaking' && e.at >= since - 1000), 15000);
		await caller.say(mix(traffic, cafe));
		await until('the answer played out', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && e.at >= since), 45000);
		assert.equal(events.filter((e) => inRoom(e) && e.at >= since && e.type === 'agent_action' && e.action === 'interrupted').length, 0);
		assert.equal(await metric('switchboard_agent_ducks_total'), ducks, 'the noise ducked the agent');
		assert.deepEqual(heardFrom(events, inRoom, caller, since).filter((e) => e.type !== 'agent_state'), []);
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});

test('a question 10 dB over the babble still makes a turn', { timeout: 120000 }, async (t) => {
	const room = `noise-question-${process.pid}`;
	const { events, until } = env.notes;
	const { caller, inRoom } = await listeningRoom(room);
	try {
		const since = Date.now();
		await caller.say(mix(cafe, question, 1, 1.5 * 8000));
		const turn = await until('a turn', () => events.find((e) => inRoom(e) && e.type === 'agent_turn' && e.at >= since), 30000);
		t.diagnostic(`heard over the babble: "${turn.user_text}"`);
		assert.ok(turn.user_text.length > 0);
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});
