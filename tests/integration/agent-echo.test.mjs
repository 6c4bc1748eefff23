// Echo cancellation from the mixer's ground truth, on the embedded stack
// (pocketsphinx, local dialog engine, espeak-ng): a phone caller on a
// speakerphone (plain RTP, PCMU) sends the agent's own voice back, 60 to
// 250 ms late and 6 to 20 dB down.  Silent, the caller neither stops nor
// ducks the agent nor makes a turn out of its echo; talking over that echo,
// a question still stops it, and a backchannel does not.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { rest } from '../lib/notifications.mjs';
import { adminRequest, metrics } from '../lib/janus.mjs';
import { LONG_ANSWER, echoConfig, phoneCaller, speech8k, spokenSeconds, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const LONG = LONG_ANSWER;

let env, notes, dir, longSeconds;

before(async () => {
	env = await startAgentJanus('sb-echo-', () => echoConfig('agent'));
	({ notes, dir } = env);
	longSeconds = spokenSeconds(dir, LONG);
}, { timeout: 60000 });
after(() => stopAgentJanus(env), { timeout: 60000 });

async function counters() {
	const m = await metrics(['switchboard_agent_barge_ins_total', 'switchboard_agent_ducks_total', 'switchboard_mixer_echo_frames_total']);
	return {
		bargeIns: m.switchboard_agent_barge_ins_total,
		ducks: m.switchboard_agent_ducks_total,
		echoFrames: m.switchboard_mixer_echo_frames_total,
	};
}

// A room with the agent and a speakerphone caller; resolves once the
// greeting is over and the agent has begun LONG.
async function agentTalking(room, echo) {
	const { events, until } = notes;
	const created = await rest('POST', '/room/create', { roomName: room, agent: true });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const caller = await phoneCaller(room, 'Caller', { echo });
	const inRoom = (e) => e.room === room;
	await until(`the greeting to end in ${room}`, () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
	assert.equal((await adminRequest({ request: 'say', room, text: LONG })).switchboard, 'success');
	const from = Date.now();
	await until(`the agent speaking in ${room}`, () => caller.received.filter((r) => r.at > from && r.level > 500).length > 25, 15000);
	return { caller, inRoom, from };
}

function story(events, inRoom, since, callerId) {
	return JSON.stringify(events.filter((e) => inRoom(e) && e.at >= since && ['transcript', 'agent_action', 'agent_state'].includes(e.type))
		.map((e) => [e.at - since, e.type === 'transcript' ? `${e.final ? 'final' : 'partial'} ${e.speaker_id === callerId ? 'caller' : 'agent'}: ${e.text}` : e.state ?? e.action, e.details]));
}

// Two speakerphones at a time, at the ends of the range.
for (const pair of [[{ delayMs: 60, gainDb: -6 }, { delayMs: 250, gainDb: -20 }],
	[{ delayMs: 250, gainDb: -6 }, { delayMs: 60, gainDb: -20 }]]) {
	const name = pair.map((e) => `${e.delayMs} ms ${e.gainDb} dB`).join(' and ');
	test(`the agent's own echo (${name}) neither stops nor ducks it, nor makes a turn`, { timeout: 150000 }, async () => {
		const { events, until } = notes;
		const before = await counters();
		const calls = [];
		try {
			for (const [i, echo] of pair.entries())
				calls.push({ echo, ...(await agentTalking(`echo-${i}-${echo.delayMs}-${-echo.gainDb}-${process.pid}`, echo)) });
			for (const { caller, inRoom, from, echo } of calls) {
				const done = await until('the answer played out', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && e.at >= from), 45000);
				const said = story(events, inRoom, from, caller.id);
				assert.ok(done.at - from >= longSeconds * 1000 * 0.85, `${JSON.stringify(echo)}: listening ${done.at - from} ms after the answer began; it takes ${Math.round(longSeconds * 1000)} ms: ${said}`);
			}
			await sleep(1500); // a late turn made of the echo's tail would have begun by now
			for (const { caller, inRoom, from, echo } of calls) {
				const said = story(events, inRoom, from, caller.id);
				const mine = events.filter((e) => inRoom(e) && e.at >= from);
				assert.equal(mine.filter((e) => e.type === 'agent_action' && e.action === 'interrupted').length, 0, `${JSON.stringify(echo)}: ${said}`);
				assert.equal(mine.filter((e) => e.type === 'transcript' && e.speaker_id === caller.id).length, 0, `${JSON.stringify(echo)}: no words heard from the caller: ${said}`);
				// The echo was there to cancel: the caller sent the agent's
				// voice back at about the level it was told to.
				assert.ok(caller.sentLevels().some((l) => l > 30), `${JSON.stringify(echo)}: the caller sent its echo`);
			}
			const after = await counters();
			assert.equal(after.bargeIns, before.bargeIns, 'no barge-in');
			assert.equal(after.ducks, before.ducks, 'no duck');
			assert.ok(after.echoFrames - before.echoFrames >= longSeconds * 50, `echo cancelled on ${after.echoFrames - before.echoFrames} frames`);
		} finally {
			for (const { caller } of calls) caller.stop();
			await Promise.all(pair.map((echo, i) => rest('DELETE', `/rooms/echo-${i}-${echo.delayMs}-${-echo.gainDb}-${process.pid}`)));
		}
	});
}

test('over its own echo, a question still stops the agent and is answered', { timeout: 150000 }, async (t) => {
	const { events, until } = notes;
	const room = `echo-talk-${process.pid}`;
	const question = speech8k(dir, 'hours', 'What are your opening hours?');
	const { caller, inRoom, from } = await agentTalking(room, { delayMs: 250, gainDb: -6 });
	try {
		await sleep(1500);
		assert.equal(events.filter((e) => inRoom(e) && e.at >= from && e.type === 'agent_action' && e.action === 'interrupted').length, 0,
			`its echo alone did not stop it: ${story(events, inRoom, from, caller.id)}`);
		const asked = Date.now();
		const spoke = caller.say(question);
		const interrupted = await until('the interruption', () => events.find((e) => inRoom(e) && e.type === 'agent_action' && e.action === 'interrupted' && e.at >= asked), 10000);
		t.diagnostic(`interrupted: ${JSON.stringify(interrupted.details)}`);
		await spoke;
		const heard = await until('the question', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.speaker_id === caller.id && e.at >= asked), 15000);
		assert.match(heard.text, /opening hours/, `${heard.text}: ${story(events, inRoom, from, caller.id)}`);
		const answer = await until('the answer', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.speaker_id !== caller.id && e.at >= heard.at), 20000);
		assert.match(answer.text, /Monday to Friday/, answer.text);
		// The answer's own echo makes no turn either: after it the agent
		// waits in silence.
		await until('the answer played out', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && e.at > answer.at), 20000);
		await sleep(2000);
		const later = events.filter((e) => inRoom(e) && e.at > answer.at && e.type === 'transcript' && e.speaker_id === caller.id);
		assert.equal(later.length, 0, `nothing heard after the answer: ${story(events, inRoom, from, caller.id)}`);
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});

// A listener's "okay" over the agent's echo, early in the answer (the
// filter has had a second and a half): the agent goes on.
for (const echo of [{ delayMs: 250, gainDb: -6 }, { delayMs: 60, gainDb: -6 }, { delayMs: 150, gainDb: -12 }]) {
	test(`over its own echo (${echo.delayMs} ms ${echo.gainDb} dB), a backchannel does not stop the agent`, { timeout: 150000 }, async () => {
		const { events, until } = notes;
		const room = `echo-ok-${echo.delayMs}-${-echo.gainDb}-${process.pid}`;
		const okay = speech8k(dir, 'okay', 'Okay.');
		const { caller, inRoom, from } = await agentTalking(room, echo);
		try {
			await sleep(1500);
			await caller.say(okay);
			const done = await until('the answer played out', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && e.at >= from), 45000);
			const said = story(events, inRoom, from, caller.id);
			// It was heard, as what it is: the caller's words, not the
			// agent's echo, and no answer to them.
			const heard = events.filter((e) => inRoom(e) && e.at >= from && e.type === 'transcript' && e.final && e.speaker_id === caller.id);
			assert.equal(heard.length, 1, `one final from the caller: ${said}`);
			assert.match(heard[0].text, /^(okay|ok)\b/i, said);
			assert.equal(events.filter((e) => inRoom(e) && e.at >= from && e.type === 'agent_action' && e.action === 'interrupted').length, 0, `not interrupted: ${said}`);
			assert.ok(done.at - from >= longSeconds * 1000 * 0.85, `listening ${done.at - from} ms after the answer began; it takes ${Math.round(longSeconds * 1000)} ms: ${said}`);
		} finally {
			caller.stop();
			await rest('DELETE', `/rooms/${room}`);
		}
	});
}

// A caller with no echo path (the line sends digital silence back) and a
// voice 10 dB under the agent's: the canceller in the way must not take
// their question for the agent's echo.
test('with no echo path, a caller quieter than the agent still stops it', { timeout: 150000 }, async () => {
	const { events, until } = notes;
	const room = `echo-none-${process.pid}`;
	const question = speech8k(dir, 'hours', 'What are your opening hours?').map((s) => Math.round(s * 0.316));
	const { caller, inRoom, from } = await agentTalking(room, undefined);
	try {
		await sleep(1500);
		const asked = Date.now();
		const spoke = caller.say(question);
		await until('the interruption', () => events.find((e) => inRoom(e) && e.type === 'agent_action' && e.action === 'interrupted' && e.at >= asked), 10000);
		await spoke;
		const heard = await until('the question', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.speaker_id === caller.id && e.at >= asked), 15000);
		assert.match(heard.text, /opening hours/, `${heard.text}: ${story(events, inRoom, from, caller.id)}`);
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});
