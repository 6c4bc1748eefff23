// Warm transfer to a phone, end to end with real peers: a browser caller
// (440 Hz microphone) on the call page, Agent A "alice" on
// html/console.html (a silent microphone, so what the phone hears in the
// consult is the AI agent alone), and Agent B a real baresip that
// auto-answers and plays a 1000 Hz tone, reached through the SIP trunk
// ([sip] trunk points at it).  Alice takes the call, types B's number,
// transfers: baresip answers into the consult room, the AI agent reads the
// summary to it (baresip receives speech), the caller hears hold music and
// not the consult; Alice hears B; complete: the SIP leg is in the caller's
// room, the caller hears baresip, Alice is back at her desk, nothing is
// left behind, and the records and notifications say so.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, writeToneWav, eventuallyOn } from '../lib/browser.mjs';
import { startJanus, adminRequest, repoRoot, API_URL, HTTP_URL, SIP_PORT } from '../lib/janus.mjs';
import { makeAgent, consoleSignIn } from '../lib/console.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { toneDb } from '../lib/audio.mjs';
import { startBaresip, readWavPcm } from '../lib/sip.mjs';

// execFileSync blocks the event loop, and with it the test's timeout.
const TOOL = { timeout: 60000 };
const BARESIP_PORT = SIP_PORT + 13;
const ROOM = `tpb-call-${process.pid}`;
const NUMBER = '+14155550142';
const HOLD = [523, 659, 784]; // plugins/switchboard/hold.c
const WAIT_MS = 20000;
const PHONE_QUIET_S = 45; // B is silent this long after answering
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let workDir, janus, bus, phone;
const browsers = [];
const pages = {};
const logs = { caller: [], alice: [] };

async function openPage(key, tone) {
	const wav = join(workDir, `tone-${key}.wav`);
	writeToneWav(wav, tone, 60);
	const browser = await launchChromium(wav);
	browsers.push(browser);
	const page = await (await browser.newContext({ permissions: ['microphone'] })).newPage();
	page.setDefaultTimeout(15000);
	page.on('console', (m) => logs[key].push(`[${m.type()}] ${m.text()}`));
	page.on('pageerror', (e) => logs[key].push(`[pageerror] ${e.message}`));
	pages[key] = page;
}

const eventually = (key, check, timeoutMs = WAIT_MS) => eventuallyOn(key && { log: logs[key] }, key, check, timeoutMs);

const FREQS = [440, 1000, ...HOLD];
async function ears(key) {
	const hook = key === 'caller' ? 'switchboardTest' : 'consoleTest';
	return pages[key].evaluate(([hook, freqs]) => Object.fromEntries(freqs.map((f) => [f, window[hook].magnitudeAt(f)])), [hook, FREQS]);
}
const holdLevel = (at) => Math.max(...HOLD.map((f) => at[f]));
async function assertHears(key, freq, not, margin = 20, timeoutMs = WAIT_MS) {
	await eventually(key, async () => {
		const at = await ears(key);
		const level = freq === 'hold' ? holdLevel(at) : at[freq];
		assert.ok(level > -70, `${key} does not hear ${freq}: ${JSON.stringify(at)}`);
		for (const f of not) {
			const other = f === 'hold' ? holdLevel(at) : at[f];
			assert.ok(other <= level - margin, `${key} hears ${f} (want only ${freq}): ${JSON.stringify(at)}`);
		}
	}, timeoutMs);
}
const consoleState = () => pages.alice.evaluate(() => window.consoleTest.state());
const busFor = (id, type) => bus.events.find((e) => e.type === type && e.transfer_id === id);
const participants = async (room) => (await adminRequest({ request: 'listparticipants', room })).participants ?? [];

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-e2e-tpb-'));
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
		.replace(/allow = "[^"]*"/, 'allow = "127.0.0.1"')
		.replace('#trunk = "example.pstn.twilio.com"', `trunk = "127.0.0.1:${BARESIP_PORT}"`);
	assert.match(conf, /trunk = "127\.0\.0\.1/);
	janus = await startJanus({ pluginConfig: conf });
	bus = await openNotifications();
	// B listens to the summary first (a sound would be a barge-in that
	// stops the agent), then "talks": a 1000 Hz tone.
	const silence = join(workDir, 'phone-silence.wav'), tone = join(workDir, 'phone-tone.wav');
	const toneWav = join(workDir, 'phone.wav');
	execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', silence, 'trim', '0', String(PHONE_QUIET_S)], TOOL);
	execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', tone, 'synth', '120', 'sine', '1000', 'vol', '0.5'], TOOL);
	execFileSync('sox', [silence, tone, toneWav], TOOL);
	// B's phone: its account is the number, so the trunk's INVITE is for it.
	phone = await startBaresip({ port: BARESIP_PORT, autoAnswer: true, user: NUMBER, wav: toneWav, codecs: 'PCMU' });
	await openPage('caller', 440);
	await openPage('alice', 0);
}, { timeout: 120000 });

after(async () => {
	bus?.close();
	await phone?.stop();
	await Promise.allSettled(browsers.map((b) => b.close()));
	if (janus) await janus.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('the caller joins and talks with Alice, who took the call from the queue', { timeout: 90000 }, async () => {
	// Transfers to numbers need the dial grant: Alice's account has it.
	await makeAgent('alice', { name: 'Alice', dial: true });
	await consoleSignIn(pages.alice, 'alice');
	await eventually('alice', async () => assert.equal((await consoleState()).room, 'desk-alice'));
	assert.equal((await rest('POST', '/room/create', { roomName: ROOM })).status, 201);
	await pages.caller.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}&video=off`);
	await pages.caller.fill('#room', ROOM);
	await pages.caller.fill('#display', 'Caller');
	await pages.caller.click('#join');
	await eventually('caller', async () => assert.equal((await pages.caller.evaluate(() => window.switchboardTest.state())).phase, 'joined'));
	for (const text of ['my name is john', 'my order 12345 has not arrived and I am upset'])
		assert.equal((await rest('POST', '/api/transcript', { room: ROOM, speaker: 'Caller', text })).status, 200);
	assert.equal((await rest('POST', '/api/queue', { room: ROOM, reason: 'asked for a human' })).status, 200);
	await eventually('alice', async () => assert.ok((await consoleState()).queue.some((e) => e.room === ROOM)));
	await pages.alice.click(`#queue button[data-room="${ROOM}"]`);
	await eventually('alice', async () => assert.equal((await consoleState()).room, ROOM));
	await assertHears('alice', 440, [1000]);
});

let id, consult, accepted;
test('Alice transfers to the number: baresip answers into the consult room and hears the summary read aloud', { timeout: 150000 }, async () => {
	await pages.alice.fill('#target-number', NUMBER);
	await pages.alice.fill('#transfer-reason', 'delivery problem');
	await pages.alice.click('#transfer');
	const t = await eventually('alice', async () => {
		const s = await consoleState();
		assert.ok(s.transfer?.transfer_id, `no transfer: ${JSON.stringify(s.errors)}`);
		return s.transfer;
	});
	id = t.transfer_id;
	consult = t.consult_room;
	assert.equal(t.target_kind, 'number');
	assert.match(t.summary.issue, /order 12345/);
	accepted = await bus.until('transfer_accepted', () => busFor(id, 'transfer_accepted'), 20000)
		.catch((e) => { throw new Error(`${e.message.slice(0, 400)}\nbaresip: ${phone.output().slice(-1500)}`); });
	const answered = bus.events.find((e) => e.type === 'call_status' && e.status === 'answered' && e.room === consult);
	assert.ok(answered, 'the trunk call was answered into the consult room');
	await eventually('alice', async () => assert.equal((await consoleState()).transfer?.state, 'consulting'));
	// In the consult room: Alice, B's SIP leg, the AI agent reading the summary.
	const inConsult = await participants(consult);
	assert.ok(inConsult.some((p) => p.kind === 'sip' && p.id === accepted.to_participant), JSON.stringify(inConsult));
	assert.ok(inConsult.some((p) => p.kind === 'agent'), JSON.stringify(inConsult));
	assert.equal((await consoleState()).room, consult);
	// The agent reads the summary in the consult room, to the end.
	const spoke = await bus.until('the agent speaking in the consult', () => bus.events.find((e) => e.type === 'agent_state' && e.room === consult && e.state === 'speaking'), 20000);
	await bus.until('the agent done speaking', () => bus.events.find((e) => e.type === 'agent_state' && e.room === consult && e.state === 'listening' && e.at >= spoke.at), (PHONE_QUIET_S + 15) * 1000);
	const cut = bus.events.find((e) => e.type === 'agent_action' && e.room === consult && e.action === 'interrupted');
	assert.equal(cut, undefined, `the summary was cut off: ${JSON.stringify(cut)}`);
	const call = await participants(ROOM);
	assert.deepEqual(call.filter((p) => p.kind !== 'agent').map((p) => [p.display, !!p.on_hold]), [['Caller', true]]);
	// Alice hears B (once B talks); the caller hears hold music, nothing of the consult.
	await assertHears('alice', 1000, [440], 20, (PHONE_QUIET_S + 10) * 1000);
	await assertHears('caller', 'hold', [1000]);
});

test('complete: the SIP leg is in the caller\'s room, the caller hears baresip, Alice is at her desk', { timeout: 90000 }, async () => {
	await pages.alice.click('#complete');
	await eventually('alice', async () => assert.equal((await consoleState()).room, 'desk-alice'));
	const completed = await bus.until('transfer_completed', () => busFor(id, 'transfer_completed'), 10000);
	const inRoom = await participants(ROOM);
	assert.deepEqual(inRoom.filter((p) => p.kind !== 'agent').map((p) => p.kind).sort(), ['sip', 'web'], JSON.stringify(inRoom));
	const leg = inRoom.find((p) => p.kind === 'sip');
	assert.equal(leg.id, accepted.to_participant);
	assert.ok(!inRoom.some((p) => p.on_hold), 'the hold is over');
	// The sessions list shows the phone leg in the caller's room.
	const sessions = (await rest('GET', '/sessions')).json;
	assert.ok(JSON.stringify(sessions).includes(ROOM), JSON.stringify(sessions).slice(0, 500));
	await assertHears('caller', 1000, ['hold']);
	// Nothing left behind: the consult room is gone (hidden rooms too).
	const all = (await adminRequest({ request: 'list', hidden: true })).list.map((r) => r.room);
	assert.ok(!all.includes(consult), JSON.stringify(all));
	assert.ok(all.includes('desk-alice'));
	const calls = (await rest('GET', '/sip/calls')).json.calls;
	assert.equal(calls.length, 1, JSON.stringify(calls));
	// Notifications with timings; the history record.
	for (const type of ['transfer_initiated', 'transfer_accepted', 'transfer_completed']) {
		const n = busFor(id, type);
		assert.ok(n, type);
		assert.equal(n.to, NUMBER);
		assert.equal(n.from, 'alice');
		assert.equal(n.target_kind, 'number');
	}
	assert.ok(completed.duration_ms > 0);
	const h = await eventually(null, async () => {
		const r = (await rest('GET', '/api/transfers/history?agent_id=alice')).json.transfers.find((x) => x.transfer_id === id);
		assert.equal(r?.state, 'completed', JSON.stringify(r));
		return r;
	});
	assert.equal(h.to_target, NUMBER);
	assert.equal(h.reason, 'delivery problem');
	assert.ok(h.initiated <= h.accepted && h.accepted <= h.completed, JSON.stringify(h));
	// Complete twice / cancel a completed one: clear errors, nothing changes.
	assert.equal((await rest('POST', '/api/transfer/complete', { transferId: id })).status, 409);
	assert.equal((await rest('POST', '/api/transfer/cancel', { transferId: id })).status, 409);
	assert.equal((await participants(ROOM)).filter((p) => p.kind === 'sip').length, 1);
});

test('what baresip received: the summary read aloud in the consult, the caller afterwards', { timeout: 60000 }, async () => {
	const completedAt = busFor(id, 'transfer_completed').at;
	const consultMs = completedAt - accepted.at;
	// A few seconds of the caller for B's recording, then B hangs up.
	await sleep(Math.max(0, completedAt + 5000 - Date.now()));
	// B hangs up: the caller stays in their room, the call record goes on.
	await phone.stop();
	const callId = bus.events.find((e) => e.type === 'call_status' && e.status === 'answered' && e.room === consult).call_id;
	await bus.until('completed', () => bus.events.find((e) => e.type === 'call_status' && e.call_id === callId && e.status === 'completed'), 10000);
	assert.deepEqual((await participants(ROOM)).filter((p) => p.kind !== 'agent').map((p) => p.kind), ['web']);
	assert.deepEqual((await rest('GET', '/sip/calls')).json.calls, []);

	const files = phone.recordings();
	assert.equal(files.length, 1, `baresip recordings: ${files}`);
	const { rate, pcm } = readWavPcm(files[0]);
	const consultPart = pcm.slice(0, Math.floor((rate * consultMs) / 1000));
	const afterPart = pcm.slice(Math.floor((rate * (consultMs + 1500)) / 1000));
	// Speech in the consult (Alice is silent, the caller is not there).
	let loudest = 0;
	for (let i = 0; i + rate / 2 <= consultPart.length; i += rate / 4) {
		let sum = 0;
		for (let j = i; j < i + rate / 2; j++) sum += consultPart[j] * consultPart[j];
		loudest = Math.max(loudest, Math.sqrt(sum / (rate / 2)));
	}
	assert.ok(loudest > 300, `baresip heard no speech in the consult (loudest RMS ${loudest.toFixed(0)} over ${consultPart.length} samples)`);
	assert.ok(toneDb(consultPart, 440, rate) < toneDb(afterPart, 440, rate) - 15, 'the caller was not heard in the consult');
	// After the transfer: the caller's 440 Hz.
	assert.ok(afterPart.length > rate, `${afterPart.length} samples after the transfer`);
	assert.ok(toneDb(afterPart, 440, rate) - toneDb(afterPart, 1000, rate) > 15, 'baresip hears the caller after the transfer');
});
