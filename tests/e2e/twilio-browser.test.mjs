// A Twilio Media Streams caller and a browser in the same room, by ear:
// the browser (headless Chromium through html/index.html, fake microphone
// at 440 Hz) hears the caller's 1000 Hz μ-law tone, and the caller's
// stream carries the browser's 440 Hz back.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { launchChromium, writeToneWav } from '../lib/browser.mjs';
import { startJanus, API_URL, API_PORT, HTTP_URL } from '../lib/janus.mjs';
import { mulawEncode, mulawDecode, toneFrame, toneDb } from '../lib/audio.mjs';
import { twilioPluginConfig, voiceSocket, ACCOUNT_SID } from '../lib/twilio.mjs';

const ROOM = `twilio-e2e-${process.pid}`;
let janus, browser, page, workDir, stream;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-twilio-e2e-'));
	// No agent here: only the two humans are in the mix.
	const config = twilioPluginConfig().replace(/auto_join = \[[^\]]*\]/, 'auto_join = []');
	janus = await startJanus({ pluginConfig: config });
	const wav = join(workDir, 'tone-440.wav');
	writeToneWav(wav, 440);
	browser = await launchChromium(wav);
	const context = await browser.newContext({ permissions: ['microphone'] });
	page = await context.newPage();
	page.setDefaultTimeout(15000);
}, { timeout: 120000 });
after(async () => {
	stream?.terminate();
	await browser?.close().catch(() => {});
	if (janus) await janus.stop();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function eventually(check, ms = 20000) {
	const deadline = Date.now() + ms;
	for (;;) {
		try { return await check(); } catch (e) { if (Date.now() > deadline) throw e; await sleep(250); }
	}
}

test('a browser hears the Twilio caller, and the caller hears the browser', { timeout: 90000 }, async (t) => {
	await page.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}`);
	await page.fill('#room', ROOM);
	await page.fill('#display', 'Browser');
	await page.click('#join');
	await eventually(async () => assert.equal((await page.evaluate(() => window.switchboardTest.state())).phase, 'joined'));

	const callSid = `CA${crypto.randomBytes(16).toString('hex')}`;
	const streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
	// The call is sent into the browser's room as an operator would: the
	// voice webhook's URL names it, and the TwiML grants it to this call.
	const sock = await voiceSocket(callSid, { query: `room=${ROOM}` });
	stream = new WebSocket(sock.local, { headers: sock.headers });
	const heard = [];
	stream.on('message', (d) => { const m = JSON.parse(d.toString()); if (m.event === 'media') heard.push(Buffer.from(m.media.payload, 'base64')); });
	await new Promise((resolve, reject) => { stream.on('open', resolve); stream.on('error', reject); });
	stream.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
	stream.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { accountSid: ACCOUNT_SID, streamSid, callSid, tracks: ['inbound'], customParameters: sock.params, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
	let frame = 0;
	const timer = setInterval(() => {
		const pcm = toneFrame(1000, frame++);
		const payload = Buffer.from(Array.from(pcm, mulawEncode));
		stream.send(JSON.stringify({ event: 'media', sequenceNumber: String(frame + 1), streamSid, media: { track: 'inbound', chunk: String(frame), timestamp: String(frame * 20), payload: payload.toString('base64') } }));
	}, 20);
	try {
		await eventually(async () => {
			const p = await page.evaluate(() => window.switchboardTest.spectrum());
			assert.ok(p.level_db > -50, `browser hears near silence (${p.level_db.toFixed(1)} dB)`);
			assert.ok(Math.abs(p.freq - 1000) <= 25, `browser's dominant frequency ${p.freq.toFixed(1)} Hz, want 1000`);
		});
		await eventually(async () => {
			const last = heard.slice(-25);
			assert.equal(last.length, 25);
			const pcm = last.flatMap((b) => Array.from(b, mulawDecode));
			const at440 = toneDb(pcm, 440), at1000 = toneDb(pcm, 1000);
			t.diagnostic(`caller hears 440 Hz at ${at440.toFixed(1)} dB, 1000 Hz at ${at1000.toFixed(1)} dB`);
			assert.ok(at440 > at1000 + 20, `caller: 440 Hz ${at440.toFixed(1)} dB vs its own 1000 Hz ${at1000.toFixed(1)} dB`);
		});
	} finally {
		clearInterval(timer);
	}
});
