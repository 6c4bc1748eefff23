// Media Streams marks tell the agent what the caller actually heard.  The
// agent (its language model a stub speaking the OpenAI wire format) answers
// a key press with three sentences; Switchboard sends a mark after each
// sentence's audio; the client — like Twilio — echoes only the first one
// (the rest is still "buffered" at Twilio) and then talks over the agent.
// After the barge-in (clear), the agent's memory, its turn record and the
// transcript hold only the first sentence; the next request to the model
// carries the cut reply.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startJanus, API_PORT } from '../lib/janus.mjs';
import { openNotifications } from '../lib/notifications.mjs';
import { postWebhook, twilioPluginConfig, socketOf, ACCOUNT_SID } from '../lib/twilio.mjs';
import { stub, sse, openaiChunks } from './providers-lib.mjs';

const FIRST = 'First, here is the quick answer.';
const SECOND = 'Second, there is a lot more detail that I would like to give you about this.';
const THIRD = 'Third, and this is the very last part of my long answer to you.';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let janus, notes, llm, workDir, speech;

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-twilio-marks-'));
	const wav = join(workDir, 'stop.wav');
	execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', wav, 'Wait, wait, stop please, I have a question about my order.'], { timeout: 60000 });
	const ul = join(workDir, 'stop.ul');
	execFileSync('sox', [wav, '-r', '8000', '-c', '1', '-e', 'mu-law', '-t', 'raw', ul], { timeout: 60000 });
	speech = readFileSync(ul);
	// The model: the long answer to the key press, a short one otherwise.
	llm = await stub((req, res, body) => {
		const messages = JSON.parse(body.toString()).messages || [];
		const last = messages.at(-1)?.content || '';
		return sse(res, openaiChunks(/pressed 1/.test(last) ? [`${FIRST} `, `${SECOND} `, THIRD] : ['Okay.']));
	});
	let conf = twilioPluginConfig().replace('llm = ["local"]', 'llm = ["stub"]');
	conf = conf.replace(/^providers: \{\n/m, `providers: {\n\tstub: { type = "openai", api_key = "sk-test", base_url = "${llm.base}/v1", model = "gpt-4o-mini" }\n`);
	assert.match(conf, /llm = \["stub"\]/);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
}, { timeout: 90000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	await llm?.close();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function until(what, pred, ms = 20000) {
	const deadline = Date.now() + ms;
	for (;;) {
		const v = pred();
		if (v) return v;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(20);
	}
}

test('a barge-in keeps only what Twilio played (marks echoed) in the agent memory and transcript', { timeout: 120000 }, async () => {
	const sid = `CA${crypto.randomBytes(16).toString('hex')}`;
	const room = `twilio-${sid}`;
	const streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
	const inRoom = (e) => e.room === room;
	const r = await postWebhook('/twilio/voice', [['CallSid', sid], ['AccountSid', ACCOUNT_SID], ['From', '+14155550123'], ['To', '+14155550100'], ['CallStatus', 'ringing']]);
	assert.equal(r.status, 200, r.text);
	const sock = socketOf(r.text);
	const ws = new WebSocket(sock.local, { headers: sock.headers });
	let timer;
	try {
		await bargeIn(ws, { sid, room, streamSid, inRoom }, (t) => { timer = t; });
	} finally {
		clearInterval(timer);
		ws.terminate();
	}
});

async function bargeIn(ws, { sid, room, streamSid, inRoom }, setTimer) {
	const marks = [], clears = [];
	let echoAll = true;
	const echo = (name) => ws.send(JSON.stringify({ event: 'mark', sequenceNumber: '0', streamSid, mark: { name } }));
	ws.on('message', (d) => {
		const m = JSON.parse(d.toString());
		if (m.event === 'mark') {
			marks.push(m.mark.name);
			if (echoAll) echo(m.mark.name); // played at once
		} else if (m.event === 'clear') clears.push(m);
	});
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
	ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
	ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { accountSid: ACCOUNT_SID, streamSid, callSid: sid, tracks: ['inbound'], customParameters: {}, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
	let talk = null, pos = 0, seq = 2;
	setTimer(setInterval(() => {
		if (ws.readyState !== WebSocket.OPEN) return;
		const f = Buffer.alloc(160, 0xff);
		if (talk) {
			talk.copy(f, 0, pos, Math.min(pos + 160, talk.length));
			pos += 160;
			if (pos >= talk.length) talk = null;
		}
		ws.send(JSON.stringify({ event: 'media', sequenceNumber: String(seq++), streamSid, media: { track: 'inbound', chunk: String(seq), timestamp: String(seq * 20), payload: f.toString('base64') } }));
	}, 20));
	// The greeting: one mark per sentence, all echoed (heard).
	await notes.until('greeting spoken', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'speaking'), 30000);
	await notes.until('greeting over', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening' && notes.events.some((x) => inRoom(x) && x.type === 'agent_state' && x.state === 'speaking' && x.at <= e.at)), 30000);
	await until('greeting marks', () => marks.length >= 1);
	assert.ok(marks.every((m) => /^agent-\d+$/.test(m)), JSON.stringify(marks));
	const greetingMarks = marks.length;
	echoAll = false;

	// A key press: the agent answers with three sentences.
	ws.send(JSON.stringify({ event: 'dtmf', streamSid, sequenceNumber: String(seq++), dtmf: { track: 'inbound_track', digit: '1' } }));
	await until('the first sentence played out', () => marks.length > greetingMarks, 30000);
	const first = marks[greetingMarks];
	assert.equal(Number(first.slice(6)), Number(marks[greetingMarks - 1].slice(6)) + 1);
	echo(first); // Twilio played the first sentence, the rest is buffered
	await sleep(100);
	talk = speech; // …and the caller talks over the second
	pos = 0;
	await until('clear', () => clears[0], 20000);
	const interrupted = await notes.until('interrupted', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_action' && e.action === 'interrupted'), 10000);
	assert.equal(interrupted.details.interrupted_reply, FIRST);
	// The turn record and the transcript: only what was heard.
	const turn = await notes.until('agent_turn', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_turn' && e.user_text === '(pressed 1 on the keypad)'), 10000);
	assert.equal(turn.interrupted, true);
	assert.equal(turn.agent_text, FIRST);
	const line = await notes.until('transcript', () => notes.events.find((e) => inRoom(e) && e.type === 'transcript' && e.final && e.text.startsWith('First,')), 10000);
	assert.equal(line.text, `${FIRST} [interrupted]`);
	assert.equal(notes.events.some((e) => inRoom(e) && e.type === 'transcript' && /Second, there is/.test(e.text)), false);

	// The next turn: the model's history holds the cut reply.
	const n = llm.requests.length;
	ws.send(JSON.stringify({ event: 'dtmf', streamSid, sequenceNumber: String(seq++), dtmf: { track: 'inbound_track', digit: '2' } }));
	await until('the next model request', () => llm.requests.slice(n).find((q) => /pressed 2/.test(JSON.stringify(JSON.parse(q.body.toString()).messages))));
	const messages = JSON.parse(llm.requests.at(-1).body.toString()).messages;
	const said = messages.filter((m) => m.role === 'assistant' && /^First,/.test(m.content || ''));
	assert.deepEqual(said.map((m) => m.content), [`${FIRST} [interrupted by the caller]`], JSON.stringify(messages));
	assert.equal(JSON.stringify(messages).includes('Second, there is'), false);
}
