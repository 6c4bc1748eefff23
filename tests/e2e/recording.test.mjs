// A browser call with [recording] enabled, end to end: headless Chromium
// with a fake microphone playing 660 Hz joins a room through html/index.html;
// the room records by itself; when the caller leaves, the recording is
// finalised, its Ogg/Opus mix (decoded by opusdec) holds the browser's
// tone, and the dashboard's call page plays it (the <audio> element loads
// it: duration > 0).  Screenshot in tests/artifacts/.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, writeToneWav } from '../lib/browser.mjs';
import { startJanus, repoRoot, API_URL, API_KEY, HTTP_URL } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { pluginConfigWithStore } from '../lib/store.mjs';
import { toneShare, parseOggOpus, decodeOpus, download, callOf, finishedRecordings } from '../lib/recording.mjs';

const ARTIFACTS = join(repoRoot, 'tests', 'artifacts');
const ROOM = `e2e-rec-${process.pid}`;
const TONE = 660;
let janus, dir, notes, browser;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-e2e-rec-'));
	mkdirSync(ARTIFACTS, { recursive: true });
	const conf = pluginConfigWithStore(join(dir, 'calls.db')).replace(/^(recording: \{[\s\S]*?^\tenabled = )false$/m, '$1true');
	assert.match(conf, /^recording: \{[\s\S]*?^\tenabled = true$/m);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
	const wav = join(dir, `tone-${TONE}.wav`);
	writeToneWav(wav, TONE);
	browser = await launchChromium(wav);
}, { timeout: 120000 });
after(async () => {
	notes?.close();
	await browser?.close().catch(() => {});
	if (janus) await janus.stop();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a browser call is recorded by configuration and plays on the dashboard', { timeout: 120000 }, async () => {
	const created = await rest('POST', '/room/create', { roomName: ROOM });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	const context = await browser.newContext({ permissions: ['microphone', 'camera'] });
	const page = await context.newPage();
	await page.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}&video=off`);
	await page.fill('#room', ROOM);
	await page.fill('#display', 'Caller');
	await page.click('#join');
	const started = await notes.until('recording_started', () => notes.events.find((e) => e.type === 'recording_started' && e.room === ROOM && e.kind === 'mix'), 20000);
	assert.equal(started.format, 'ogg');
	// Let the browser's audio flow into the recording for a while.
	await sleep(5000);
	await page.click('#leave');
	await page.close();
	// The room may close with its last human; if not, close it.
	const gone = await rest('DELETE', `/rooms/${ROOM}`);
	assert.ok([200, 404].includes(gone.status), JSON.stringify(gone.json));
	const stopped = await notes.until('recording_stopped', () => notes.events.find((e) => e.type === 'recording_stopped' && e.id === started.id), 10000);
	assert.equal(stopped.reason, 'room_closed');
	assert.ok(stopped.seconds >= 3, JSON.stringify(stopped));

	const callId = await callOf(ROOM);
	const [row] = await finishedRecordings(callId, 1);
	assert.equal(row.bytes, stopped.bytes);
	const res = await download(`/api/calls/${callId}/recording`);
	assert.equal(res.status, 200);
	assert.equal(res.type, 'audio/ogg');
	const ogg = parseOggOpus(res.body);
	const pcm = decodeOpus(dir, 'browser', res.body, ogg.head.rate === 8000 ? 8000 : 16000);
	// The loudest second holds the browser's tone, nothing like it at 440 Hz.
	const rate = pcm.rate;
	let best = 0;
	for (let s = 0; s + rate <= pcm.pcm.length; s += rate / 2) {
		const block = pcm.pcm.subarray(s, s + rate);
		best = Math.max(best, toneShare(block, TONE, rate));
	}
	assert.ok(best > 0.5, `${TONE} Hz in the recording: ${best}`);
	assert.ok(toneShare(pcm.pcm, 440, rate) < 0.05);

	// The dashboard's call page: a player that loads the recording.
	const dash = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	const errors = [];
	dash.on('pageerror', (e) => errors.push(e.message));
	await dash.goto(`${API_URL}/dashboard.html#call/${callId}`);
	// The key is typed in, never put in the page's address.
	await dash.waitForSelector('#key-form:not([hidden])');
	await dash.fill('#key-input', API_KEY);
	await dash.click('#key-form button');
	await dash.waitForSelector('#call-audio', { timeout: 10000 });
	const duration = await dash.waitForFunction(() => {
		const a = document.getElementById('call-audio');
		return a && a.src.startsWith('blob:') && Number.isFinite(a.duration) && a.duration > 0 ? a.duration : false;
	}, null, { timeout: 15000 });
	const seconds = await duration.jsonValue();
	assert.ok(Math.abs(seconds - stopped.seconds) < 0.5, `player says ${seconds} s, recorder ${stopped.seconds} s`);
	assert.equal(await dash.$eval('#call-audio-status', (e) => e.textContent), '');
	// The key never rides in the audio URL.
	assert.ok(!(await dash.$eval('#call-audio', (a) => a.src)).includes(API_KEY));
	await dash.screenshot({ path: join(ARTIFACTS, 'dashboard-recording.png'), fullPage: true });
	assert.deepEqual(errors, []);
});
