// Knowing when the caller is done, on the embedded stack: a phone caller
// (plain RTP, PCMU) who pauses 700 ms inside a sentence ("my order number
// is … one two three four five") gives one turn, not two, because what was
// heard so far is unfinished and the agent waits longer (bounded by
// turn_max_wait_ms); with that bound at the plain hangover (300 ms) the
// same caller is cut off into two turns.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { rest } from '../lib/notifications.mjs';
import { API_URL, API_KEY } from '../lib/janus.mjs';
import { phoneCaller, speech8k, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The recogniser's language-model passes so far (/metrics).
async function lmPasses() {
	const r = await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
	const m = /^switchboard_embedded_stt_lm_passes_total (\d+)$/m.exec(await r.text());
	assert.ok(m, 'no switchboard_embedded_stt_lm_passes_total in /metrics');
	return Number(m[1]);
}
const PAUSE_MS = 700;
let env, notes, sentence, hello;

before(async () => {
	env = await startAgentJanus('sb-endturn-');
	notes = env.notes;
	const { dir } = env;
	const first = speech8k(dir, 'first', 'My order number is');
	const second = speech8k(dir, 'second', 'one two three four five.');
	// espeak-ng leaves some silence at both ends: trim it so the pause is
	// the 700 ms we mean (anything under 1 % of full scale is silence).
	const trim = (x) => {
		const loud = (v) => Math.abs(v) > 327;
		let a = 0, b = x.length;
		while (a < b && !loud(x[a])) a++;
		while (b > a && !loud(x[b - 1])) b--;
		return x.subarray(a, b);
	};
	const a = trim(first), b = trim(second);
	hello = speech8k(dir, 'hello', 'Hello.');
	sentence = new Int16Array(a.length + (PAUSE_MS * 8) + b.length);
	sentence.set(a, 0);
	sentence.set(b, a.length + PAUSE_MS * 8);
}, { timeout: 60000 });
after(() => stopAgentJanus(env), { timeout: 60000 });

// The caller's finals and the agent's answers in a room after one sentence.
async function callWithPause(room, agent) {
	const { events, until } = notes;
	const created = await rest('POST', '/room/create', { roomName: room, agent });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const caller = await phoneCaller(room);
	try {
		const inRoom = (e) => e.room === room;
		await until('the greeting to end', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
		// A caller says hello first, as callers do (and the recogniser's live
		// decoder, whose partials the end of turn follows, adapts to the line).
		const hi = Date.now();
		await caller.say(hello);
		await until('the answer to hello', () => events.find((e) => inRoom(e) && e.type === 'agent_turn' && e.at >= hi), 20000);
		await until('listening again', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && e.at >= hi), 20000);
		const from = Date.now();
		await caller.say(sentence);
		await until('an answer', () => events.find((e) => inRoom(e) && e.type === 'agent_turn' && e.at >= from), 20000);
		await sleep(3000); // a second turn would have come by now
		const mine = events.filter((e) => inRoom(e) && e.at >= from);
		// What was heard when, for a failure's message: partials, finals,
		// the agent's states (ms after the sentence began).
		const story = JSON.stringify(mine.filter((e) => ['transcript', 'agent_state'].includes(e.type))
			.map((e) => [e.at - from, e.type === 'transcript' ? `${e.final ? 'final' : 'partial'}: ${e.text}` : e.state]));
		return {
			story,
			finals: mine.filter((e) => e.type === 'transcript' && e.final && e.speaker_id === caller.id).map((e) => e.text),
			turns: mine.filter((e) => e.type === 'agent_turn'),
		};
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
}

test('a 700 ms pause after "my order number is" gives one turn, answered', { timeout: 120000 }, async (t) => {
	const passesBefore = await lmPasses();
	const { finals, turns, story } = await callWithPause(`endturn-${process.pid}`, true);
	t.diagnostic(`caller turns: ${JSON.stringify(finals)}; ${story}`);
	assert.equal(finals.length, 1, `caller turns: ${JSON.stringify(finals)}; ${story}`);
	// Both halves in the one turn (at 8 kHz the recogniser may mishear a
	// digit: "one" as "one eight", or add one at the end — phone-band
	// recognition is another item).
	assert.match(finals[0], /order number\b(.*\b(zero|one|two|three|four|five|six|seven|eight|nine)\b){3}/, finals[0]);
	assert.equal(turns.length, 1, JSON.stringify(turns));
	assert.match(turns[0].agent_text, /order/i, turns[0].agent_text);
	// The digits the grammar heard were checked against the language model
	// (the pass /metrics counts; docs/security.md bounds how many run).
	assert.ok(await lmPasses() > passesBefore, 'the number was not checked');
});

test('with turn_max_wait_ms at the plain hangover, the same pause cuts the caller off', { timeout: 120000 }, async () => {
	const { finals } = await callWithPause(`endturn-cut-${process.pid}`, { turn_max_wait_ms: '300' });
	assert.ok(finals.length >= 2, `caller turns: ${JSON.stringify(finals)}`);
});

test('bad end-of-turn and barge-in settings in a room\'s agent config are refused and change nothing', { timeout: 30000 }, async () => {
	const bad = [
		{ turn_max_wait_ms: 'soon' },
		{ turn_min_wait_ms: -5 },
		{ barge_in_confirm_ms: '1e3' },
		{ barge_in_duck_db: 'loud' },
		{ backchannels: { en: ['okay'] } }, // the config file's, never a room's
	];
	for (const [i, agent] of bad.entries()) {
		const room = `endturn-bad-${i}-${process.pid}`;
		const r = await rest('POST', '/room/create', { roomName: room, agent });
		assert.equal(r.status, 400, `${JSON.stringify(agent)}: ${JSON.stringify(r.json)}`);
		assert.match(r.json.error.message, /agent config/i, JSON.stringify(r.json));
		assert.equal((await rest('GET', `/rooms/${room}`)).status, 404, 'no room was made');
	}
});
