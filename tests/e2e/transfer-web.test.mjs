// Warm transfer between web agents, end to end: three headless Chromiums —
// a caller on the call page (a 440 Hz microphone), Agent A "alice" (880 Hz)
// and Agent B "bob" (1760 Hz) on html/console.html — and a real Janus.
// Alice takes the caller from the queue; starts a warm transfer to Bob; the
// caller hears the hold music and not the consult; Alice and Bob hear each
// other privately, with the AI summary of the call (fed as a transcript)
// naming the caller's issue; complete: the caller and Bob hear each other,
// Alice is back at her desk.  Then Bob → Alice declined and cancelled: Bob
// is back with the caller each time.  Bad input over REST changes nothing,
// and every flow leaves its notifications.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTonePage, eventuallyOn } from '../lib/browser.mjs';
import { readFileSync } from 'node:fs';
import { startJanus, adminRequest, repoRoot, API_URL, API_KEY, HTTP_URL } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { makeAgent, consoleSignIn } from '../lib/console.mjs';

const ROOM = `tw-call-${process.pid}`;
const WAIT_MS = 20000;
const RING_TIMEOUT_S = 12;
const MARGIN_DB = 20;
const HOLD = [523, 659, 784]; // plugins/switchboard/hold.c
const people = {
	caller: { tone: 440, display: 'Caller' },
	alice: { tone: 880, display: 'Alice' },
	bob: { tone: 1760, display: 'Bob' },
	sue: { tone: 3000, display: 'Sue' }, // a supervisor
};
const TONES = [440, 880, 1760];
const SUPERVISOR_TONE = 3000;

let workDir, janus, bus;
const browsers = [];

const openBrowser = (key) => openTonePage(people[key], workDir, browsers);
const eventually = (key, check, timeoutMs = WAIT_MS) => eventuallyOn(key && people[key], key, check, timeoutMs);

// What a page hears: dB at each test tone and at the hold notes.
async function ears(key) {
	const hook = key === 'caller' ? 'switchboardTest' : 'consoleTest';
	return people[key].page.evaluate(([hook, freqs]) => Object.fromEntries(
		freqs.map((f) => [f, window[hook].magnitudeAt(f)])), [hook, [...TONES, ...HOLD, SUPERVISOR_TONE]]);
}
const holdLevel = (at) => Math.max(...HOLD.map((f) => at[f]));

// key hears `freq` (above -70 dB) and every tone in `not` at least MARGIN_DB lower.
async function assertHears(key, freq, not) {
	await eventually(key, async () => {
		const at = await ears(key);
		const level = freq === 'hold' ? holdLevel(at) : at[freq];
		assert.ok(level > -70, `${key} does not hear ${freq}: ${JSON.stringify(at)}`);
		for (const f of not) assert.ok(at[f] <= level - MARGIN_DB, `${key} hears ${f} (want only ${freq}): ${JSON.stringify(at)}`);
	});
}

const consoleState = (key) => people[key].page.evaluate(() => window.consoleTest.state());

// With the account the operator made (before): the role is the account's.
async function signIn(key) {
	await consoleSignIn(people[key].page, key);
	await eventually(key, async () => {
		const s = await consoleState(key);
		assert.equal(s.phase, 'signed-in', `phase ${s.phase}, errors ${JSON.stringify(s.errors)}`);
		assert.equal(s.room, `desk-${key}`);
	});
}

async function roomOf(key) {
	return (await consoleState(key)).room;
}

async function startTransfer(from, to) {
	const { page } = people[from];
	await eventually(from, async () => {
		const s = await consoleState(from);
		assert.ok(s.agents.some((a) => a.agentId === to && a.status === 'available'), `${to} not available: ${JSON.stringify(s.agents)}`);
	});
	await page.waitForFunction((to) => [...document.querySelectorAll('#target-agent option')].some((o) => o.value === to && !o.disabled), to);
	await page.selectOption('#target-agent', to);
	await page.click('#transfer');
	return eventually(to, async () => {
		const s = await consoleState(to);
		assert.ok(s.incoming?.state === 'ringing', `${to} sees no incoming transfer: ${JSON.stringify(s)}`);
		return s.incoming;
	});
}

const busFor = (id, type) => bus.events.find((e) => e.type === type && e.transfer_id === id);

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-e2e-transfer-'));
	// A ring timeout the no-answer test can wait for (the others accept or
	// decline long before it).
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
		.replace(/(transfer: \{[^}]*?)ring_timeout = "30"/, `$1ring_timeout = "${RING_TIMEOUT_S}"`);
	assert.match(conf, new RegExp(`ring_timeout = "${RING_TIMEOUT_S}"`));
	janus = await startJanus({ pluginConfig: conf });
	for (const key of ['alice', 'bob']) await makeAgent(key, { name: people[key].display });
	await makeAgent('sue', { name: people.sue.display, role: 'supervisor' });
	bus = await openNotifications();
	await Promise.all(Object.keys(people).map(openBrowser));
}, { timeout: 120000 });

after(async () => {
	bus?.close();
	await Promise.allSettled(browsers.map((b) => b.close()));
	if (janus) await janus.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('agents sign in at their desks; the caller joins and waits in the queue', { timeout: 90000 }, async () => {
	await signIn('alice');
	await signIn('bob');
	const agents = await rest('GET', '/api/agents');
	assert.equal(agents.status, 200);
	for (const id of ['alice', 'bob'])
		assert.equal(agents.json.agents.find((a) => a.agentId === id)?.status, 'available', JSON.stringify(agents.json));
	// Desks are private: not in the public room list.
	const rooms = await rest('GET', '/rooms');
	assert.ok(!JSON.stringify(rooms.json).includes('desk-alice'), JSON.stringify(rooms.json));

	assert.equal((await rest('POST', '/room/create', { roomName: ROOM })).status, 201);
	const { page } = people.caller;
	await page.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}&video=off`);
	await page.fill('#room', ROOM);
	await page.fill('#display', 'Caller');
	await page.click('#join');
	await eventually('caller', async () => assert.equal((await page.evaluate(() => window.switchboardTest.state())).phase, 'joined'));
	// What the call was about, as a recogniser would have written it.
	for (const text of ['my name is john', 'my order 12345 has not arrived and I am upset'])
		assert.equal((await rest('POST', '/api/transcript', { room: ROOM, speaker: 'Caller', text })).status, 200);
	const q = await rest('POST', '/api/queue', { room: ROOM, reason: 'asked for a human' });
	assert.equal(q.status, 200, q.text);
	await eventually('alice', async () => assert.ok((await consoleState('alice')).queue.some((e) => e.room === ROOM)));
});

test('Alice takes the call from the queue: she and the caller hear each other', { timeout: 60000 }, async () => {
	await people.alice.page.click(`#queue button[data-room="${ROOM}"]`);
	await eventually('alice', async () => assert.equal(await roomOf('alice'), ROOM));
	assert.deepEqual((await rest('GET', '/api/queue')).json.queue, []);
	await assertHears('caller', 880, [440, 1760]);
	await assertHears('alice', 440, [880, 1760]);
});

test('a supervisor listens in silently: hears both, heard by nobody', { timeout: 60000 }, async () => {
	await signIn('sue');
	const { page } = people.sue;
	await page.waitForSelector(`#rooms button[data-room="${ROOM}"]`);
	assert.equal(await page.isVisible(`#rooms button[data-room^="desk-"]`), false, 'desks are private');
	await page.click(`#rooms button[data-room="${ROOM}"]`);
	await eventually('sue', async () => assert.equal(await roomOf('sue'), ROOM));
	await eventually('sue', async () => {
		const at = await ears('sue');
		assert.ok(at[440] > -70 && at[880] > -70, `sue hears ${JSON.stringify(at)}`);
	});
	// Nobody hears her, and she does not keep the room open.
	await assertHears('caller', 880, [SUPERVISOR_TONE]);
	await assertHears('alice', 440, [SUPERVISOR_TONE]);
	const me = (await adminRequest({ request: 'listparticipants', room: ROOM })).participants.find((p) => p.display === 'Sue');
	assert.equal(me.role, 'supervisor');
	assert.equal(me.muted, true);
	await page.click('#back-to-desk');
	await eventually('sue', async () => assert.equal(await roomOf('sue'), 'desk-sue'));
});

let first;
test('warm transfer to Bob: hold for the caller, a private consult with the summary', { timeout: 90000 }, async () => {
	const incoming = await startTransfer('alice', 'bob');
	first = incoming.transfer_id;
	assert.match(incoming.summary.issue, /order 12345/, JSON.stringify(incoming.summary));
	assert.equal(incoming.summary.caller.name?.toLowerCase(), 'john');
	assert.equal(incoming.summary.mood, 'negative');
	// Alice is in the consult room; the caller hears hold music only.
	await eventually('alice', async () => assert.match(await roomOf('alice'), /^consult-/));
	await assertHears('caller', 'hold', TONES);
	// Alice sees the same summary.
	assert.match((await consoleState('alice')).summary.issue, /order 12345/);

	await people.bob.page.click('#accept');
	await eventually('bob', async () => assert.equal(await roomOf('bob'), await roomOf('alice')));
	await assertHears('alice', 1760, [440, 880]);
	await assertHears('bob', 880, [440, 1760]);
	// Still nothing of the consult reaches the caller.
	await assertHears('caller', 'hold', TONES);
	const call = await adminRequest({ request: 'listparticipants', room: ROOM });
	assert.deepEqual(call.participants.map((p) => p.display), ['Caller']);
	assert.equal(call.participants[0].on_hold, true);
});

test('complete: the caller and Bob hear each other, Alice is back at her desk', { timeout: 60000 }, async () => {
	await people.alice.page.click('#complete');
	await eventually('alice', async () => assert.equal(await roomOf('alice'), 'desk-alice'));
	await eventually('bob', async () => assert.equal(await roomOf('bob'), ROOM));
	await assertHears('caller', 1760, [440, 880]);
	await assertHears('bob', 440, [880, 1760]);
	const call = await adminRequest({ request: 'listparticipants', room: ROOM });
	assert.deepEqual(call.participants.map((p) => p.display).sort(), ['Bob', 'Caller']);
	assert.ok(!call.participants.some((p) => p.on_hold));
	// The consult room is gone.
	const all = await adminRequest({ request: 'exists', room: (busFor(first, 'transfer_initiated') || {}).consult_room || 'x' });
	assert.equal(all.exists, false);
	await eventually(null, async () => {
		for (const type of ['transfer_initiated', 'transfer_accepted', 'transfer_completed']) {
			const n = busFor(first, type);
			assert.ok(n, `no ${type}: ${JSON.stringify(bus.events.filter((e) => e.type.startsWith('transfer')))}`);
			assert.equal(n.room, ROOM);
			assert.equal(n.from, 'alice');
			assert.equal(n.to, 'bob');
			assert.equal(n.target_kind, 'agent');
			assert.match(n.consult_room, /^consult-/);
		}
		assert.ok(busFor(first, 'transfer_completed').duration_ms >= 0);
		assert.match(busFor(first, 'transfer_initiated').summary.issue, /order 12345/);
	});
});

test('completing twice, cancelling a completed transfer, offline targets: clear errors, nothing changes', { timeout: 30000 }, async () => {
	let r = await rest('POST', '/api/transfer/complete', { transferId: first });
	assert.equal(r.status, 409, r.text);
	assert.equal(r.json.error.code, 'invalid_state');
	r = await rest('POST', '/api/transfer/cancel', { transferId: first });
	assert.equal(r.status, 409, r.text);
	r = await rest('POST', '/api/transfer/cancel', { transferId: 'tr-nope' });
	assert.equal(r.status, 404, r.text);
	const bob = (await rest('GET', '/api/agents')).json.agents.find((a) => a.agentId === 'bob');
	r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: bob.participant, to: { agentId: 'nobody' } });
	assert.equal(r.status, 409, r.text);
	assert.equal(r.json.error.code, 'agent_unavailable');
	r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: bob.participant, to: { agentId: 'alice', number: '+15551234567' } });
	assert.equal(r.status, 400, r.text);
	r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: bob.participant, to: { number: '+15551234567' } });
	assert.equal(r.status, 502, r.text); // no SIP trunk configured here: nothing dialled
	assert.equal(r.json.error.code, 'dial_failed');
	r = await rest('POST', '/api/transfer/blind', { room: ROOM, uri: 'sip:x@example.com' });
	assert.equal(r.status, 400, r.text); // blind transfer (SIP REFER) needs the call to refer
	assert.equal(r.json.error.code, 'invalid_request');
	r = await rest('POST', '/api/transfer/initiate', { room: 'no-such-room', from: bob.participant, to: { agentId: 'alice' } });
	assert.equal(r.status, 404, r.text);
	// Nothing moved.
	assert.equal(await roomOf('bob'), ROOM);
	assert.equal(await roomOf('alice'), 'desk-alice');
	await assertHears('caller', 1760, [440, 880]);
});

test('Bob → Alice, declined: Bob is back with the caller', { timeout: 60000 }, async () => {
	const incoming = await startTransfer('bob', 'alice');
	await assertHears('caller', 'hold', TONES);
	await people.alice.page.click('#decline');
	await eventually('bob', async () => assert.equal(await roomOf('bob'), ROOM));
	await assertHears('caller', 1760, [440, 880]);
	await assertHears('bob', 440, [880, 1760]);
	assert.equal(await roomOf('alice'), 'desk-alice');
	await eventually(null, async () => assert.equal(busFor(incoming.transfer_id, 'transfer_failed')?.reason, 'declined'));
});

test('Bob → Alice, accepted then cancelled: Bob is back with the caller, Alice at her desk', { timeout: 60000 }, async () => {
	const incoming = await startTransfer('bob', 'alice');
	await people.alice.page.click('#accept');
	await assertHears('alice', 1760, [440, 880]);
	await people.bob.page.click('#cancel');
	await eventually('bob', async () => assert.equal(await roomOf('bob'), ROOM));
	await eventually('alice', async () => assert.equal(await roomOf('alice'), 'desk-alice'));
	await assertHears('caller', 1760, [440, 880]);
	await eventually(null, async () => assert.equal(busFor(incoming.transfer_id, 'transfer_cancelled')?.reason, 'cancelled'));
	const agents = (await rest('GET', '/api/agents')).json.agents;
	assert.equal(agents.find((a) => a.agentId === 'alice').status, 'available');
});

// The records of a transfer once the (asynchronous) writer has them.
async function history(id, state) {
	return eventually(null, async () => {
		const h = (await rest('GET', '/api/transfers/history')).json.transfers.find((x) => x.transfer_id === id);
		assert.equal(h?.state, state, JSON.stringify(h));
		return h;
	});
}

test('history: each flow left its record with timings and outcome, in the call record too', { timeout: 30000 }, async () => {
	const declined = bus.events.find((e) => e.type === 'transfer_failed' && e.reason === 'declined');
	const cancelled = bus.events.find((e) => e.type === 'transfer_cancelled');
	const done = await history(first, 'completed');
	assert.equal(done.from_agent, 'alice');
	assert.equal(done.to_target, 'bob');
	assert.equal(done.target_kind, 'agent');
	assert.match(done.consult_room, /^consult-/);
	assert.ok(done.initiated <= done.accepted && done.accepted <= done.completed, JSON.stringify(done));
	assert.match(JSON.parse(done.summary).issue, /order 12345/);
	const d = await history(declined.transfer_id, 'failed');
	assert.equal(d.failure, 'declined');
	assert.equal(d.accepted, null);
	assert.ok(d.ended >= d.initiated);
	const c = await history(cancelled.transfer_id, 'cancelled');
	assert.equal(c.failure, 'cancelled');
	assert.ok(c.initiated <= c.accepted && c.accepted <= c.ended, JSON.stringify(c));
	// Per agent, and in the call's own record.
	const bobs = (await rest('GET', '/api/transfers/history?agent_id=bob')).json.transfers.map((x) => x.transfer_id);
	for (const id of [first, declined.transfer_id, cancelled.transfer_id]) assert.ok(bobs.includes(id), JSON.stringify(bobs));
	assert.deepEqual((await rest('GET', '/api/transfers/history?agent_id=sue')).json.transfers, []);
	const calls = (await rest('GET', `/api/calls?q=${ROOM}`)).json.calls;
	const call = (await rest('GET', `/api/calls/${calls.find((x) => x.room === ROOM).id}`)).json;
	assert.deepEqual(call.transfers.map((x) => x.transfer_id).sort(), [first, declined.transfer_id, cancelled.transfer_id].sort());
	// Each transfer's notifications, in order.
	for (const [id, types] of [[first, ['transfer_initiated', 'transfer_accepted', 'transfer_completed']],
		[declined.transfer_id, ['transfer_initiated', 'transfer_failed']],
		[cancelled.transfer_id, ['transfer_initiated', 'transfer_accepted', 'transfer_cancelled']]]) {
		assert.deepEqual(bus.events.filter((e) => e.transfer_id === id && e.type.startsWith('transfer_')).map((e) => e.type), types);
	}
});

test('Bob → Alice, nobody answers: after the ring timeout Bob is back with the caller, the offer withdrawn', { timeout: 60000 }, async () => {
	const incoming = await startTransfer('bob', 'alice');
	await assertHears('caller', 'hold', TONES);
	const failed = await eventually(null, async () => {
		const n = busFor(incoming.transfer_id, 'transfer_failed');
		assert.equal(n?.reason, 'no_answer');
		return n;
	}, (RING_TIMEOUT_S + 10) * 1000);
	await eventually('bob', async () => assert.equal(await roomOf('bob'), ROOM));
	await assertHears('caller', 1760, [440, 880]);
	await eventually('alice', async () => assert.equal((await consoleState('alice')).incoming, null));
	assert.equal(await roomOf('alice'), 'desk-alice');
	assert.equal((await adminRequest({ request: 'exists', room: failed.consult_room })).exists, false);
	const agents = (await rest('GET', '/api/agents')).json.agents;
	assert.equal(agents.find((a) => a.agentId === 'alice').status, 'available');
	assert.equal((await history(incoming.transfer_id, 'failed')).failure, 'no_answer');
});

test('the AI assist answers the agent from the knowledge base with the call in context', { timeout: 20000 }, async () => {
	const r = await rest('POST', '/api/chat', { room: ROOM, message: 'what is the status of order 12345' });
	assert.equal(r.status, 200, r.text);
	assert.match(r.json.reply, /shipped on Monday/);
	assert.match(r.json.summary.issue, /order 12345/);
	const s = await rest('POST', '/api/generate-summary', { room: ROOM });
	assert.equal(s.status, 200);
	assert.equal(s.json.summary.caller.order, '12345');
	assert.equal((await rest('POST', '/api/generate-summary', { room: 'nope' })).status, 404);
	assert.equal((await rest('POST', '/api/chat', { room: ROOM })).status, 400);
	// The outcomes are counted.
	const m = await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } }).then((r) => r.text());
	assert.match(m, /switchboard_transfers_total\{outcome="completed"\} 1\n/);
	assert.match(m, /switchboard_transfers_total\{outcome="cancelled"\} 1\n/);
	assert.match(m, /switchboard_transfers_total\{outcome="failed"\} 2\n/);
	assert.match(m, /switchboard_transfers_active 0\n/);
});

test('Agent A hangs up while B rings: the caller is off hold and queued; another agent takes the call', { timeout: 90000 }, async () => {
	const incoming = await startTransfer('bob', 'alice');
	await people.bob.page.click('#signout');
	const failed = await eventually(null, async () => {
		const n = busFor(incoming.transfer_id, 'transfer_failed');
		assert.equal(n?.reason, 'from_left');
		return n;
	});
	assert.equal((await adminRequest({ request: 'exists', room: failed.consult_room })).exists, false);
	const call = await adminRequest({ request: 'listparticipants', room: ROOM });
	assert.deepEqual(call.participants.map((p) => [p.display, !!p.on_hold]), [['Caller', false]]);
	assert.equal((await consoleState('alice')).incoming, null, 'the offer is withdrawn');
	await eventually('alice', async () => assert.ok((await consoleState('alice')).queue.some((e) => e.room === ROOM && e.reason === 'agent_left')));
	await people.alice.page.click(`#queue button[data-room="${ROOM}"]`);
	await eventually('alice', async () => assert.equal(await roomOf('alice'), ROOM));
	await assertHears('caller', 880, [440, 1760]);
	await signIn('bob');
});

test('Alice → Bob, three-way: Alice introduces Bob to the caller, then leaves', { timeout: 90000 }, async () => {
	const incoming = await startTransfer('alice', 'bob');
	await people.bob.page.click('#accept');
	await eventually('bob', async () => assert.equal(await roomOf('bob'), await roomOf('alice')));
	await people.alice.page.click('#three-way');
	await eventually('alice', async () => assert.equal(await roomOf('alice'), ROOM));
	await eventually('bob', async () => assert.equal(await roomOf('bob'), ROOM));
	// All three together, the hold over.
	await assertHears('caller', 880, [440]);
	await assertHears('caller', 1760, [440]);
	await assertHears('bob', 440, [1760]);
	const call = await adminRequest({ request: 'listparticipants', room: ROOM });
	assert.deepEqual(call.participants.map((p) => [p.display, !!p.on_hold]).sort(), [['Alice', false], ['Bob', false], ['Caller', false]]);
	assert.equal((await rest('GET', `/api/transfers/${incoming.transfer_id}`)).json.state, 'three_way');
	await people.alice.page.click('#complete');
	await eventually('alice', async () => assert.equal(await roomOf('alice'), 'desk-alice'));
	await assertHears('caller', 1760, [440, 880]);
	assert.equal(await roomOf('bob'), ROOM);
	await eventually(null, async () => assert.ok(busFor(incoming.transfer_id, 'transfer_completed')));
	assert.equal((await adminRequest({ request: 'exists', room: busFor(incoming.transfer_id, 'transfer_initiated').consult_room })).exists, false);
	const h = await history(incoming.transfer_id, 'completed');
	assert.ok(h.accepted <= h.completed);
});

test('the caller hangs up mid-consult: both agents are back at their desks, nothing is left over', { timeout: 60000 }, async () => {
	const incoming = await startTransfer('bob', 'alice');
	await people.alice.page.click('#accept');
	await eventually('alice', async () => assert.equal(await roomOf('alice'), await roomOf('bob')));
	// A supervisor listens to the caller (on hold); the call closing sends
	// her back to her desk, told why — not signed out.
	await people.sue.page.click(`#rooms button[data-room="${ROOM}"]`);
	await eventually('sue', async () => assert.equal(await roomOf('sue'), ROOM));
	await people.caller.page.click('#leave');
	await eventually('sue', async () => {
		const s = await consoleState('sue');
		assert.equal(s.room, 'desk-sue');
		assert.equal(s.phase, 'signed-in');
		assert.match(s.notice || '', new RegExp(`${ROOM} ended`));
	});
	assert.deepEqual((await consoleState('sue')).errors, []);
	await eventually('bob', async () => assert.equal(await roomOf('bob'), 'desk-bob'));
	await eventually('alice', async () => assert.equal(await roomOf('alice'), 'desk-alice'));
	const failed = await eventually(null, async () => {
		const n = busFor(incoming.transfer_id, 'transfer_failed');
		assert.equal(n?.reason, 'caller_left');
		return n;
	});
	assert.equal((await adminRequest({ request: 'exists', room: failed.consult_room })).exists, false);
	assert.equal((await adminRequest({ request: 'exists', room: ROOM })).exists, false);
	const agents = (await rest('GET', '/api/agents')).json.agents;
	for (const id of ['alice', 'bob']) assert.equal(agents.find((a) => a.agentId === id).status, 'available');
	// The consoles were told why.
	assert.equal((await consoleState('bob')).lastTransfer?.end_reason, 'caller_left');
	assert.equal((await consoleState('alice')).lastTransfer?.end_reason, 'caller_left');
	assert.equal((await history(incoming.transfer_id, 'failed')).failure, 'caller_left');
	// Nothing left over: only the desks, among the hidden rooms too.
	const rooms = (await adminRequest({ request: 'list', hidden: true })).list.map((r) => r.room).sort();
	assert.deepEqual(rooms.filter((r) => !/^desk-/.test(r) && r !== 'demo'), [], JSON.stringify(rooms));
});

test('a supervisor listening to a room that is destroyed outright is back at her desk, signed in', { timeout: 60000 }, async () => {
	const other = `tw-other-${process.pid}`;
	assert.equal((await rest('POST', '/room/create', { roomName: other })).status, 201);
	const { page } = people.sue;
	await page.waitForSelector(`#rooms button[data-room="${other}"]`);
	await page.click(`#rooms button[data-room="${other}"]`);
	await eventually('sue', async () => assert.equal(await roomOf('sue'), other));
	assert.equal((await rest('DELETE', `/rooms/${other}`)).status < 300, true);
	await eventually('sue', async () => {
		const s = await consoleState('sue');
		assert.equal(s.phase, 'signed-in');
		assert.equal(s.room, 'desk-sue');
		assert.match(s.notice || '', new RegExp(`${other} was closed`));
	});
	// The page's state says signed-in before it has drawn the console (it
	// renders after its first refresh of the queue): wait for the notice.
	await eventually('sue', async () => assert.equal(await page.isVisible('#notice'), true));
});
