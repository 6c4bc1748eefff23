// Interruptions that mean it, on the embedded stack (pocketsphinx, local
// dialog engine, espeak-ng): a phone caller (plain RTP, PCMU) talks over a
// long answer.  A caller's onset ducks the agent's voice at once; a
// backchannel ("okay", "uh-huh") lets it go on to the end of its answer
// (no barge-in, no answer to the backchannel); a real question stops it and
// is answered.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { rest } from '../lib/notifications.mjs';
import { adminRequest, metrics } from '../lib/janus.mjs';
import { LONG_ANSWER, phoneCaller, speech8k, spokenSeconds, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LONG = LONG_ANSWER;

let env, notes, dir, longSeconds;

before(async () => {
	env = await startAgentJanus('sb-interrupt-');
	({ notes, dir } = env);
	longSeconds = spokenSeconds(dir, LONG);
}, { timeout: 60000 });
after(() => stopAgentJanus(env), { timeout: 60000 });

async function counters() {
	const m = await metrics(['switchboard_agent_barge_ins_total', 'switchboard_agent_ducks_total',
		'switchboard_agent_ducks_resumed_total', 'switchboard_agent_backchannels_total']);
	return {
		bargeIns: m.switchboard_agent_barge_ins_total,
		ducks: m.switchboard_agent_ducks_total,
		resumed: m.switchboard_agent_ducks_resumed_total,
		backchannels: m.switchboard_agent_backchannels_total,
	};
}

const mean = (xs) => xs.reduce((n, x) => n + x, 0) / Math.max(1, xs.length);
const db = (x) => 20 * Math.log10(Math.max(1, x));

// A room with the agent and a phone caller; resolves once the greeting is
// over and the agent is saying LONG (its audio reaching the caller).
async function agentTalking(room) {
	const { events, until } = notes;
	const created = await rest('POST', '/room/create', { roomName: room, agent: true });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const caller = await phoneCaller(room);
	const inRoom = (e) => e.room === room;
	await until('the greeting to end', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
	assert.equal((await adminRequest({ request: 'say', room, text: LONG })).switchboard, 'success');
	const from = Date.now();
	await until('the agent speaking', () => caller.received.filter((r) => r.at > from && r.level > 500).length > 25, 15000);
	return { caller, inRoom, from };
}

test('backchannels over an answer duck it, and it goes on to the end', { timeout: 120000 }, async (t) => {
	const { events, until } = notes;
	const room = `backchannel-${process.pid}`;
	const okay = speech8k(dir, 'okay', 'okay');
	const uhHuh = speech8k(dir, 'uh-huh', 'uh-huh');
	const before = await counters();
	const { caller, inRoom, from: saidAt } = await agentTalking(room);
	try {
		await sleep(600);
		const start1 = Date.now();
		await caller.say(okay);
		await sleep(2500);
		await caller.say(uhHuh);
		// The whole answer is played out: the agent listens again only once
		// all of LONG has gone out.
		const done = await until('the answer played out', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && e.at >= saidAt), 40000);
		const story = () => JSON.stringify(events.filter((e) => inRoom(e) && e.at >= saidAt && ['transcript', 'agent_action', 'agent_state'].includes(e.type)).map((e) => [e.at - start1, e.type === 'transcript' ? `${e.final ? 'final' : 'partial'} ${e.speaker_id === caller.id ? 'caller' : 'agent'}: ${e.text}` : e.state ?? e.action, e.details]));
		assert.ok(done.at - saidAt >= longSeconds * 1000 * 0.85, `listening ${done.at - saidAt} ms after the answer began; it takes ${Math.round(longSeconds * 1000)} ms: ${story()}`);
		await sleep(1500); // a late answer to "okay" would have started by now
		const mine = events.filter((e) => inRoom(e) && e.at >= saidAt);
		assert.equal(mine.filter((e) => e.type === 'agent_action' && e.action === 'interrupted').length, 0,
			story());
		const heard = mine.filter((e) => e.type === 'transcript' && e.final && e.speaker_id === caller.id).map((e) => e.text);
		assert.ok(heard.length >= 1, `the backchannels were heard: ${story()}`);
		// No answer to the backchannels: the agent said nothing after LONG.
		const agentLines = mine.filter((e) => e.type === 'transcript' && e.final && e.speaker_id !== caller.id);
		assert.deepEqual(agentLines.map((e) => e.text), [LONG], `heard: ${JSON.stringify(heard)}; ${story()}`);
		const after = await counters();
		assert.equal(after.bargeIns, before.bargeIns, `no barge-in counted: ${story()}`);
		assert.ok(after.ducks >= before.ducks + 1, `the caller's onset ducked the agent: ${story()}`);
		assert.ok(after.resumed >= before.resumed + 1, `and it went on: ${story()}`);
		assert.ok(after.backchannels >= before.backchannels + 1, `backchannels counted (heard ${JSON.stringify(heard)}): ${story()}`);
		// Ducked at once: the agent's level on the line while the caller says
		// "okay" is well below what it was just before.
		const levels = (a, b) => caller.received.filter((r) => r.at >= a && r.at < b).map((r) => r.level);
		const normal = mean(levels(start1 - 500, start1));
		const ducked = mean(levels(start1 + 250, start1 + 450));
		t.diagnostic(`heard ${JSON.stringify(heard)}; the agent's level ${(db(normal) - db(ducked)).toFixed(1)} dB lower 250-450 ms after the caller began`);
		assert.ok(db(normal) - db(ducked) >= 6, `level before ${db(normal).toFixed(1)} dB, while ducked ${db(ducked).toFixed(1)} dB`);
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});

test('a real question over an answer stops it, and is answered', { timeout: 120000 }, async (t) => {
	const { events, until } = notes;
	const room = `interrupt-${process.pid}`;
	const question = speech8k(dir, 'hours', 'What are your opening hours?');
	const before = await counters();
	const { caller, inRoom } = await agentTalking(room);
	try {
		const from = Date.now();
		await sleep(600);
		const spoke = caller.say(question);
		const interrupted = await until('the interruption', () => events.find((e) => inRoom(e) && e.type === 'agent_action' && e.action === 'interrupted' && e.at >= from), 10000);
		t.diagnostic(`interrupted: ${JSON.stringify(interrupted.details)}`);
		assert.equal(interrupted.details.audible, true);
		// Confirmed by enough speech with words that are no backchannel.
		assert.ok(interrupted.details.confirm_ms >= 400, JSON.stringify(interrupted.details));
		assert.ok(interrupted.details.stop_ms <= 400, JSON.stringify(interrupted.details));
		await spoke;
		const heard = await until('the question', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.speaker_id === caller.id && e.at >= from), 15000);
		assert.match(heard.text, /opening hours/, heard.text);
		const answer = await until('the answer', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.speaker_id !== caller.id && e.at >= heard.at), 20000);
		assert.match(answer.text, /Monday to Friday/, answer.text);
		const after = await counters();
		assert.ok(after.bargeIns >= before.bargeIns + 1, 'a barge-in counted');
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});
