// The AI agent hands a caller over to a human: a browser caller whose
// microphone plays espeak-ng speech gives their name and asks for a human;
// the agent publishes handoff_requested, the room joins the queue with the
// call's summary, and a console agent (html/console.html, a second
// browser) sees it, takes it — the AI agent leaves, the human is in the
// caller's room with the summary in front of them.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { launchChromium, writeToneWav } from '../lib/browser.mjs';
import { startJanus, adminRequest, API_URL, HTTP_URL } from '../lib/janus.mjs';
import { makeAgent, consoleSignIn } from '../lib/console.mjs';

// execFileSync blocks the event loop, and with it the test's timeout.
const TOOL = { timeout: 60000 };
const ROOM = `handoff-${process.pid}`;
let janus, workDir, notes;
const browsers = [];

function speechWav(name, parts, rate = 48000) {
	const out = join(workDir, `${name}.wav`);
	const pieces = parts.map((p, i) => {
		const f = join(workDir, `${name}-${i}.wav`);
		if (typeof p === 'number') execFileSync('sox', ['-n', '-r', String(rate), '-c', '1', '-b', '16', f, 'trim', '0', String(p)], TOOL);
		else {
			const raw = join(workDir, `${name}-${i}-raw.wav`);
			execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, p], TOOL);
			execFileSync('sox', [raw, '-r', String(rate), '-c', '1', '-b', '16', f], TOOL);
		}
		return f;
	});
	execFileSync('sox', [...pieces, out], TOOL);
	return out;
}

async function page(wav) {
	const browser = await launchChromium(wav);
	browsers.push(browser);
	const p = await (await browser.newContext({ permissions: ['microphone'] })).newPage();
	p.setDefaultTimeout(15000);
	return p;
}

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-handoff-'));
	janus = await startJanus();
	notes = await openNotifications();
}, { timeout: 120000 });
after(async () => {
	notes?.close();
	await Promise.allSettled(browsers.map((b) => b.close()));
	if (janus) await janus.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a caller asks the AI agent for a human; a console agent gets the call with the summary', { timeout: 180000 }, async () => {
	const inRoom = (e) => e.room === ROOM;
	assert.equal((await rest('POST', '/room/create', { roomName: ROOM, agent: true })).status, 201);
	// Greeting first, then the name, a pause for the answer, then the ask.
	const caller = await page(speechWav('handoff', [9, 'My name is John.', 7, 'Talk to a human.', 40]));
	await caller.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}&video=off`);
	await caller.fill('#room', ROOM);
	await caller.fill('#display', 'Caller');
	await caller.click('#join');

	const handoff = await notes.until('handoff_requested', () => notes.events.find((e) => inRoom(e) && e.type === 'handoff_requested'), 90000);
	assert.equal(handoff.action, 'transfer');
	const queued = await notes.until('the room in the queue', () => notes.events.find((e) => inRoom(e) && e.type === 'queue_updated' && e.action === 'added'), 10000);
	assert.equal(queued.reason, 'handoff_requested');
	const q = (await rest('GET', '/api/queue')).json.queue.find((e) => e.room === ROOM);
	assert.ok(q, 'the room waits in GET /api/queue');
	assert.equal(q.details.summary.caller.name?.toLowerCase(), 'john', JSON.stringify(q.details.summary));
	assert.ok(q.details.summary.topics.includes('talk_to_human'), JSON.stringify(q.details.summary));
	// While the caller waits for a human, the AI agent keeps them company.
	const waiting = (await adminRequest({ request: 'listparticipants', room: ROOM })).participants;
	assert.deepEqual(waiting.map((p) => p.kind).sort(), ['agent', 'web'], JSON.stringify(waiting));
	assert.ok(!waiting.some((p) => p.on_hold), 'nobody on hold');

	// A human signs in on the console and takes it.
	const wav = join(workDir, 'agent.wav');
	writeToneWav(wav, 880);
	const agent = await page(wav);
	await makeAgent('alice', { name: 'Alice' });
	await consoleSignIn(agent, 'alice');
	const state = () => agent.evaluate(() => window.consoleTest.state());
	await notes.until('alice at her desk', async () => (await state()).room === 'desk-alice', 20000).catch(async (e) => {
		throw new Error(`${e.message}\n${JSON.stringify(await state())}`);
	});
	await agent.waitForSelector(`#queue button[data-room="${ROOM}"]:not([disabled])`);
	assert.match(await agent.textContent('#queue'), /handoff_requested/);
	await agent.click(`#queue button[data-room="${ROOM}"]`);
	// The console moves first, then fetches the call's summary: wait for both.
	for (let i = 0; i < 80; i++) {
		const now = await state();
		if (now.room === ROOM && now.summary?.caller) break;
		await new Promise((r) => setTimeout(r, 250));
	}
	const s = await state();
	assert.equal(s.room, ROOM);
	assert.equal(s.summary?.caller?.name?.toLowerCase(), 'john', JSON.stringify(s.summary));
	await notes.until('call_assigned', () => notes.events.find((e) => inRoom(e) && e.type === 'call_assigned' && e.agentId === 'alice'), 10000);
	// The AI agent hands over and leaves; the queue is empty.
	await notes.until('the AI agent leaving', () => notes.events.find((e) => inRoom(e) && e.type === 'participant_left' && e.participant.kind === 'agent'), 15000);
	assert.equal((await rest('GET', '/api/queue')).json.queue.length, 0);
	// Taking it twice is refused.
	const again = await rest('POST', '/api/queue/take', { room: ROOM, agentId: 'alice' });
	assert.equal(again.status, 409, again.text);
});
