// A phone call through the SIP bridge meets a browser user and the AI agent:
// baresip plays the trunk's caller (G.722, a WAV as its microphone, a dump of
// what it hears); headless Chromium is the browser user.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus, repoRoot, API_URL, HTTP_URL, SIP_PORT } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { launchChromium, writeToneWav } from '../lib/browser.mjs';
import { toneDb } from '../lib/audio.mjs';
import { startBaresip, readWavPcm, withSipRoomSecret, signedRoomUri } from '../lib/sip.mjs';
import { endedCall } from '../lib/store.mjs';
import { builtProgram } from '../lib/programs.mjs';

// execFileSync blocks the event loop, and with it the test's timeout.
const TOOL = { timeout: 60000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const KB = JSON.parse(readFileSync(join(repoRoot, 'conf', 'knowledge-base.json'), 'utf8'));
const BARESIP_PORT = SIP_PORT + 21;
let janus, notes, workDir, browser;

function wavOf(name, parts, rate) {
	const pieces = parts.map((p, i) => {
		const f = join(workDir, `${name}-${i}.wav`);
		if (typeof p === 'number') execFileSync('sox', ['-n', '-r', String(rate), '-c', '1', '-b', '16', f, 'trim', '0', String(p)], TOOL);
		else if (p.tone) execFileSync('sox', ['-n', '-r', String(rate), '-c', '1', '-b', '16', f, 'synth', String(p.seconds), 'sine', String(p.tone), 'vol', '0.5'], TOOL);
		else {
			const raw = join(workDir, `${name}-${i}-raw.wav`);
			execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, p], TOOL);
			execFileSync('sox', [raw, '-r', String(rate), '-c', '1', '-b', '16', f], TOOL);
		}
		return f;
	});
	const out = join(workDir, `${name}.wav`);
	execFileSync('sox', [...pieces, out], TOOL);
	return out;
}

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-sip-e2e-'));
	const conf = withSipRoomSecret(readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8'))
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []');
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
}, { timeout: 120000 });
after(async () => {
	notes?.close();
	await browser?.close().catch(() => {});
	if (janus) await janus.stop();
});

test('a browser user and a SIP caller hear each other', { timeout: 90000 }, async () => {
	const room = 'sip-meets-web';
	assert.equal((await rest('POST', '/room/create', { roomName: room })).status, 201);
	const micWav = join(workDir, 'browser-880.wav');
	writeToneWav(micWav, 880);
	browser = await launchChromium(micWav);
	const page = await (await browser.newContext({ permissions: ['microphone', 'camera'] })).newPage();
	await page.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}&video=off`);
	await page.fill('#room', room);
	await page.fill('#display', 'Web user');
	await page.click('#join');
	await notes.until('browser in', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === room && e.participant.kind === 'web'), 20000);

	const phone = await startBaresip({ port: BARESIP_PORT, codecs: 'G722', wav: wavOf('tone440', [{ tone: 440, seconds: 12 }], 16000),
		dial: signedRoomUri(room, `127.0.0.1:${SIP_PORT}`) });
	try {
		await phone.waitFor(/Call established/, 10000);
		const joined = await notes.until('sip in', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === room && e.participant.kind === 'sip'), 10000);
		assert.equal(joined.interface, 'phone');
		// The browser hears the phone's 440 Hz, not its own 880 Hz.
		let heard = null;
		for (const end = Date.now() + 15000; Date.now() < end; await sleep(250)) {
			heard = await page.evaluate(() => ({ a: window.switchboardTest.magnitudeAt(440), b: window.switchboardTest.magnitudeAt(880) }));
			if (heard.a > -60 && heard.a - heard.b > 10) break;
		}
		assert.ok(heard.a > -60 && heard.a - heard.b > 10, `browser spectrum: ${JSON.stringify(heard)}`);
		await sleep(3000);
	} finally {
		await phone.stop();
	}
	// The phone heard the browser's 880 Hz, not its own 440 Hz (G.722, 16 kHz).
	const [dump] = phone.recordings();
	const { rate, pcm } = readWavPcm(dump);
	assert.equal(rate, 16000, 'G.722 was negotiated (wideband)');
	const tail = pcm.slice(Math.max(0, pcm.length - rate * 3));
	assert.ok(toneDb(tail, 880, rate) - toneDb(tail, 440, rate) > 15, 'the SIP caller hears the browser');
	await notes.until('sip left', () => notes.events.find((e) => e.type === 'participant_left' && e.room === room && e.participant.kind === 'sip'), 10000);
	await browser.close();
	browser = null;
});

test('a SIP caller on G.722, the AI agent and a browser user in one room: the caller asks, everyone hears the answer', { timeout: 120000 }, async () => {
	const room = 'sip-agent';
	assert.equal((await rest('POST', '/room/create', { roomName: room, agent: true })).status, 201);
	// A quiet browser user listens in (its microphone plays silence).
	browser = await launchChromium(wavOf('quiet', [10], 48000));
	const page = await (await browser.newContext({ permissions: ['microphone', 'camera'] })).newPage();
	await page.goto(`${API_URL}/?janus=${encodeURIComponent(HTTP_URL)}&video=off`);
	await page.fill('#room', room);
	await page.fill('#display', 'Listener');
	await page.click('#join');
	await notes.until('browser in', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === room && e.participant.kind === 'web'), 20000);
	await notes.until('the agent in', () => notes.events.find((e) => e.type === 'participant_joined' && e.room === room && e.participant.kind === 'agent'), 20000);
	const wav = wavOf('question', [9, 'What are your opening hours?', 22], 16000);
	const phone = await startBaresip({ port: BARESIP_PORT, codecs: 'G722', wav, dial: signedRoomUri(room, `127.0.0.1:${SIP_PORT}`) });
	let answer, answeredAt;
	let browserLoudest = -200;
	try {
		await phone.waitFor(/Call established/, 10000);
		answeredAt = Date.now();
		const inRoom = (e) => e.room === room;
		const heard = await notes.until('the caller\'s question', () => notes.events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && /opening hours/i.test(e.text)), 40000);
		answer = await notes.until('the answer', () => notes.events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.at >= heard.at && /Monday to Friday/.test(e.text)), 20000);
		for (const end = Date.now() + 4000; Date.now() < end; await sleep(100))
			browserLoudest = Math.max(browserLoudest, (await page.evaluate(() => window.switchboardTest.spectrum())).level_db ?? -200);
		await notes.until('the answer spoken', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && e.at > answer.at), 20000);
		await sleep(500);
	} finally {
		await phone.stop();
		await browser.close();
		browser = null;
	}
	assert.ok(browserLoudest > -70, `the browser user heard the answer too (loudest ${browserLoudest} dB)`);
	// What reached the phone, from the answer on, through the recogniser
	// with a grammar of the knowledge base's answers.
	const [dump] = phone.recordings();
	const { rate, pcm } = readWavPcm(dump);
	const from = Math.max(0, Math.floor(((answer.at - answeredAt) / 1000 - 1.5) * rate));
	const raw = join(workDir, 'answer.raw'), cut = join(workDir, 'answer16.wav');
	writeFileSync(raw, Buffer.from(pcm.slice(from).buffer));
	execFileSync('sox', ['-t', 'raw', '-r', String(rate), '-e', 'signed', '-b', '16', '-c', '1', raw, '-r', '16000', cut,
		'silence', '1', '0.05', '1%', 'reverse', 'silence', '1', '0.05', '1%', 'reverse'], TOOL);
	const en = (t) => (typeof t === 'string' ? t : t.en);
	const fill = (s) => s.replace(/\{(\w+)\}/g, (m, k) => KB.company[k] ?? m);
	const answers = [...KB.faqs.map((f) => fill(en(f.answer))), fill(en(KB.greeting)), fill(en(KB.fallback))];
	const kbFile = join(workDir, 'answers-kb.json');
	writeFileSync(kbFile, JSON.stringify({ ...KB, faqs: answers.map((a, i) => ({ id: `answer${i}`, question: a, paraphrases: [], answer: 'x' })) }));
	const recognised = execFileSync(builtProgram(join('tests', 'tools', 'recognise')), [cut, kbFile], { encoding: 'utf8', timeout: 120000 }).trim();
	assert.match(recognised, /monday to friday/, `the phone's audio recognised as: "${recognised}"`);

	// The call's record holds the SIP caller, the agent and the listener,
	// the caller's question and the answer, and the turn's providers.
	assert.ok([200, 204, 404].includes((await rest('DELETE', `/rooms/${room}`)).status));
	const record = await endedCall(room, 30000);
	assert.deepEqual(record.participants.map((x) => x.kind).sort(), ['agent', 'sip', 'web'], JSON.stringify(record.participants));
	const sipLeg = record.participants.find((x) => x.kind === 'sip');
	const lines = record.transcript.map((l) => `${l.speaker}: ${l.text}`).join('\n');
	assert.ok(record.transcript.some((l) => l.speaker === sipLeg.display && /opening hours/i.test(l.text)), lines);
	assert.ok(record.transcript.some((l) => l.speaker !== sipLeg.display && /Monday to Friday/.test(l.text)), lines);
	const turn = record.agent_turns.find((t) => /opening hours/i.test(t.user_text));
	assert.ok(turn, JSON.stringify(record.agent_turns));
	assert.deepEqual([turn.stt, turn.llm, turn.tts], ['pocketsphinx', 'local', 'espeak-ng']);
	assert.equal(record.outcome, 'ai_handled');
});
