// The AI agent on the embedded stack (pocketsphinx, local dialog engine,
// espeak-ng): a browser caller whose fake microphone asks a question in
// espeak-ng speech hears the answer from the knowledge base; a caller who
// talks over a long answer stops the agent (barge-in).
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { startJanus, adminRequest, repoRoot, API_URL, API_PORT, API_KEY, HTTP_URL } from '../lib/janus.mjs';
import { mulawEncode, mulawDecode, rtpPacket, parseRtp } from '../lib/audio.mjs';
import { builtProgram } from '../lib/programs.mjs';

// execFileSync blocks the event loop, and with it the test's timeout.
const TOOL = { timeout: 60000 };
const ARTIFACTS = join(repoRoot, 'tests', 'artifacts');
const KB = JSON.parse(readFileSync(join(repoRoot, 'conf', 'knowledge-base.json'), 'utf8'));
let janus, workDir, browser;
let notes, events;
const until = (...a) => notes.until(...a);
const api = rest;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// espeak-ng speech as 16-bit mono WAV at `rate`, with silence around it.
function speechWav(name, parts, rate) {
	const out = join(workDir, `${name}.wav`);
	const pieces = [];
	parts.forEach((p, i) => {
		const f = join(workDir, `${name}-${i}.wav`);
		if (typeof p === 'number') execFileSync('sox', ['-n', '-r', String(rate), '-c', '1', '-b', '16', f, 'trim', '0', String(p)], TOOL);
		else {
			const raw = join(workDir, `${name}-${i}-raw.wav`);
			execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, p], TOOL);
			execFileSync('sox', [raw, '-r', String(rate), '-c', '1', '-b', '16', f], TOOL);
		}
		pieces.push(f);
	});
	execFileSync('sox', [...pieces, out], TOOL);
	return out;
}

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-agent-'));
	mkdirSync(ARTIFACTS, { recursive: true });
	janus = await startJanus();
	notes = await openNotifications();
	events = notes.events;
}, { timeout: 120000 });
after(async () => {
	notes?.close();
	await browser?.close().catch(() => {});
	if (janus) await janus.stop();
});

test('a browser caller asks for the opening hours and hears the answer', { timeout: 120000 }, async () => {
	const room = `agent-e2e-${process.pid}`;
	const created = await api('POST', '/room/create', { roomName: room, agent: true });
	assert.equal(created.status, 201, JSON.stringify(created.json));
	// The greeting takes a few seconds: the question comes after it.
	const wav = speechWav('hours', [9, 'What are your opening hours?', 25], 48000);
	browser = await launchChromium(wav);
	const context = await browser.newContext({ permissions: ['microphone', 'camera'] });
	const page = await context.newPage();
	await page.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}&video=off`);
	await page.fill('#room', room);
	await page.fill('#display', 'Caller');
	await page.click('#join');

	const inRoom = (e) => e.room === room;
	await until('the agent joining', () => events.find((e) => inRoom(e) && e.type === 'participant_joined' && e.participant.kind === 'agent'), 20000);
	const greeting = await until('the greeting', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && /thank you for calling/i.test(e.text)), 20000);
	assert.match(greeting.text, new RegExp(KB.company.name));
	await until('the greeting to end', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 20000);
	// From here the caller's page records what it hears: the answer.
	assert.equal(await page.evaluate(() => window.switchboardTest.startRecording()), true);
	const heard = await until('the caller\'s question', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.speaker === 'Caller'), 40000);
	assert.match(heard.text, /opening hours/i, `recognised: ${heard.text}`);
	const answer = await until('the answer', () => events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.timestamp >= heard.timestamp && e.speaker !== 'Caller'), 20000);
	assert.match(answer.text, /Monday to Friday/, `answer: ${answer.text}`);
	const speaking = events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'speaking' && e.at >= heard.at && e.latency_ms !== undefined);
	assert.ok(speaking, 'agent_state speaking with latency');
	// The answer is audible in the browser.
	let loudest = -200;
	const until2 = Date.now() + 6000;
	while (Date.now() < until2) {
		const s = await page.evaluate(() => window.switchboardTest.spectrum());
		loudest = Math.max(loudest, s.level_db ?? -200);
		await sleep(100);
	}
	assert.ok(loudest > -70, `the caller heard the agent (loudest ${loudest} dB)`);
	// What reached the caller's ears, recognised against the agent's
	// possible answers: it must be the opening hours.
	const rec = await page.evaluate(() => window.switchboardTest.stopRecording());
	const recognised = recogniseAnswer(rec);
	assert.match(recognised, /monday to friday/, `the caller's audio recognised as: "${recognised}"`);
	await page.screenshot({ path: join(ARTIFACTS, 'agent-call.png') });
	const t = await adminRequest({ request: 'transcript', room });
	assert.ok(t.transcript.some((l) => /Monday to Friday/.test(l.text)));
	await page.click('#leave');
	await until('the agent leaving with the last human', () => events.find((e) => inRoom(e) && e.type === 'participant_left' && e.participant.kind === 'agent'), 10000);
});

test('barge-in: a caller talking over a long answer stops the agent', { timeout: 90000 }, async () => {
	const room = `agent-barge-${process.pid}`;
	await api('POST', '/room/create', { roomName: room, agent: true });
	const sock = dgram.createSocket('udp4');
	await new Promise((r) => sock.bind(0, '127.0.0.1', r));
	const received = [];
	sock.on('message', (m) => { const p = parseRtp(m); if (p) received.push({ at: Date.now(), level: rms(p.payload) }); });
	const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display: 'Phone caller' });
	const speech = readFileSync(speechWav('stop', ['Wait, wait, stop please, I have a question.'], 8000)).subarray(44);
	let seq = 0, ts = 0, talking = false, offset = 0;
	const timer = setInterval(() => {
		const frame = new Uint8Array(160);
		for (let i = 0; i < 160; i++) {
			const s = talking && offset + 2 * i + 1 < speech.length ? speech.readInt16LE(offset + 2 * i) : 0;
			frame[i] = mulawEncode(s);
		}
		if (talking) offset += 320;
		sock.send(rtpPacket({ pt: 0, seq: seq++, ts: (ts += 160), ssrc: 4242, payload: frame }), joined.port, joined.ip);
	}, 20);
	try {
		const inRoom = (e) => e.room === room;
		await until('the agent', () => events.find((e) => inRoom(e) && e.type === 'participant_joined' && e.participant.kind === 'agent'), 20000);
		await until('the greeting to end', () => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000);
		const long = 'Let me tell you everything about our company, our history, our products and our services, which will take quite a while. '.repeat(3);
		assert.equal((await adminRequest({ request: 'say', room, text: long })).switchboard, 'success');
		await until('the agent speaking', () => received.filter((r) => r.level > 500).length > 25, 15000);
		talking = true;
		const interrupted = await until('the interruption', () => events.find((e) => inRoom(e) && e.type === 'agent_action' && e.action === 'interrupted'), 5000);
		assert.ok(interrupted.details.stop_ms <= 400, `stop time ${interrupted.details.stop_ms} ms`);
		await sleep(1100);
		// After the interruption the agent is silent on the line (the caller
		// keeps talking, and the agent listens).
		const after = received.filter((r) => r.at > interrupted.at + 150 && r.at < interrupted.at + 1000);
		assert.ok(after.length > 10, `packets kept flowing: ${after.length}; last at ${received.at(-1)?.at - interrupted.at} ms after the interruption, total ${received.length}`);
		assert.ok(after.every((r) => r.level < 300), `agent audio stopped: ${JSON.stringify(after.map((r) => Math.round(r.level)))}`);
	} finally {
		clearInterval(timer);
		sock.close();
	}
});

// The recording as a 16 kHz WAV without leading/trailing silence, through
// the embedded recogniser with a grammar of the knowledge base's answers.
function recogniseAnswer(rec) {
	const raw = join(workDir, 'heard.raw'), wav = join(workDir, 'heard16.wav');
	writeFileSync(raw, Buffer.from(rec.base64, 'base64'));
	execFileSync('sox', ['-t', 'raw', '-r', String(rec.rate), '-e', 'signed', '-b', '16', '-c', '1', raw,
		'-r', '16000', wav, 'silence', '1', '0.05', '1%', 'reverse', 'silence', '1', '0.05', '1%', 'reverse'], TOOL);
	const en = (t) => (typeof t === 'string' ? t : t.en);
	const fill = (s) => s.replace(/\{(\w+)\}/g, (m, k) => KB.company[k] ?? m);
	const answers = [...KB.faqs.map((f) => fill(en(f.answer))), fill(en(KB.greeting)), fill(en(KB.fallback))];
	const variant = { ...KB, faqs: answers.map((a, i) => ({ id: `answer${i}`, question: a, paraphrases: [], answer: 'x' })) };
	const kbFile = join(workDir, 'answers-kb.json');
	writeFileSync(kbFile, JSON.stringify(variant));
	return execFileSync(builtProgram(join('tests', 'tools', 'recognise')), [wav, kbFile], { encoding: 'utf8', timeout: 120000 }).trim();
}

function rms(payload) {
	let sum = 0;
	for (const b of payload) { const s = mulawDecode(b); sum += s * s; }
	return Math.sqrt(sum / Math.max(1, payload.length));
}
