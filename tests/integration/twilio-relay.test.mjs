// ConversationRelay against a real private Janus: a client replays
// Twilio's messages (setup, prompt, interrupt, dtmf) and gets the agent's
// language model answer as streamed `text` tokens, memory across turns,
// and `end` with handoffData when the caller asks for a person.  Bad
// input: an unsigned handshake, 10 malformed messages in a row → 1007.
import { test, before, after, afterEach } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { startJanus } from '../lib/janus.mjs';
import { openNotifications } from '../lib/notifications.mjs';
import { postWebhook, twilioPluginConfig, twilioSignature, voiceSocket, AUTH_TOKEN, ACCOUNT_SID } from '../lib/twilio.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let janus, notes;
// Webhooks and a relay session with the local dialog engine: a few seconds.
const T = { timeout: 30000 };
before(async () => {
	janus = await startJanus({ pluginConfig: twilioPluginConfig({ twilio: { voice_mode: 'relay', relay_greeting: 'Hi <there> & welcome' } }) });
	notes = await openNotifications();
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
});

const callSid = () => `CA${crypto.randomBytes(16).toString('hex')}`;

// The relay clients a test opened are terminated after it, whatever happened.
const sockets = new Set();
afterEach(() => {
	for (const ws of sockets) ws.terminate();
	sockets.clear();
}, { timeout: 10000 });

// sock: the socket of a call's TwiML (voiceSocket); headers replace its
// signature.
async function openRelay(sock, headers = sock.headers) {
	const ws = new WebSocket(sock.local, { headers });
	sockets.add(ws);
	const got = [];
	let closed = null;
	ws.on('message', (d) => got.push(JSON.parse(d.toString())));
	const closing = new Promise((resolve) => ws.on('close', (code, reason) => { closed = { code, reason: reason.toString() }; resolve(closed); }));
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); ws.on('unexpected-response', (q, res) => reject(new Error(`HTTP ${res.statusCode}`))); });
	const r = {
		ws, got, closing, closed: () => closed,
		send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
		// Waits for the text tokens of one answer (up to last:true).
		async answer(from) {
			const deadline = Date.now() + 10000;
			for (;;) {
				const i = got.findIndex((m, k) => k >= from && m.type === 'text' && m.last === true);
				if (i >= 0) return { tokens: got.slice(from, i + 1).filter((m) => m.type === 'text'), next: i + 1 };
				if (Date.now() > deadline) throw new Error(`no answer; got ${JSON.stringify(got.slice(from))}`);
				await sleep(20);
			}
		},
	};
	return r;
}

// A call in relay mode: the voice webhook names its room (relay-<sid>);
// the TwiML's socket and parameters are what Twilio would use.
const relayCall = async (sid) => voiceSocket(sid, { query: `room=relay-${sid}` });
const setup = (sid, params, extra = {}) => ({ type: 'setup', sessionId: `VX${crypto.randomBytes(16).toString('hex')}`, accountSid: ACCOUNT_SID, parentCallSid: '', callSid: sid, from: '+14155550123', to: '+14155550100', forwardedFrom: '', callType: 'PSTN', callerName: '', direction: 'inbound', callStatus: 'RINGING', customParameters: params, ...extra });

test('relay mode answers the voice webhook with escaped ConversationRelay TwiML', T, async () => {
	const sid = callSid();
	const r = await postWebhook('/twilio/voice', [['CallSid', sid], ['From', '+14155550123'], ['To', '+14155550100'], ['CallStatus', 'ringing']]);
	assert.equal(r.status, 200, r.text);
	assert.match(r.text, new RegExp(`<Connect action="https://switchboard.test/twilio/handoff\\?room=twilio-${sid}"><ConversationRelay url="wss://switchboard.test/twilio/relay/\\d+\\.[0-9a-f]{32}" welcomeGreeting="Hi &lt;there&gt; &amp; welcome" language="en-US">`));
	// After the session, handoffData brings the call into its room for a human.
	const a = await postWebhook('/twilio/handoff', [['CallSid', sid], ['HandoffData', '{"reasonCode":"live-agent-handoff"}']], { query: `room=twilio-${sid}` });
	assert.equal(a.status, 200, a.text);
	assert.match(a.text, /<Connect><Stream url="wss:\/\/switchboard.test\/twilio\/stream\/\d+\.[0-9a-f]{32}"><Parameter name="handoff" value="[^"]*"\/><Parameter name="room" value="twilio-CA[0-9a-f]{32}"\/><Parameter name="room_grant" value="\d+\.[0-9a-f]{64}"\/>/);
	const h = await postWebhook('/twilio/handoff', [['CallSid', sid]], { query: `room=twilio-${sid}` });
	assert.match(h.text, /<Hangup\/>/);
});

test('setup, prompts answered with streamed tokens, memory, interrupt, end with handoffData', { timeout: 30000 }, async () => {
	const sid = callSid();
	const sock = await relayCall(sid);
	const r = await openRelay(sock);
	r.send(setup(sid, sock.params));
	r.send({ type: 'prompt', voicePrompt: 'What are your opening hours?', lang: 'en-US', last: true });
	let a = await r.answer(0);
	assert.ok(a.tokens.length >= 2, JSON.stringify(a.tokens));
	assert.ok(a.tokens.slice(0, -1).every((t) => t.last === false && typeof t.token === 'string'));
	assert.match(a.tokens.map((t) => t.token).join(''), /Monday to Friday from 9 am to 6 pm/);
	// A prompt in pieces (last:false) is one turn; memory carries over.
	r.send({ type: 'prompt', voicePrompt: 'Hello, my name ', lang: 'en-US', last: false });
	r.send({ type: 'prompt', voicePrompt: 'is Alice.', lang: 'en-US', last: true });
	a = await r.answer(a.next);
	assert.match(a.tokens.map((t) => t.token).join(''), /Alice/);
	// The caller interrupts: the session goes on.
	r.send({ type: 'interrupt', utteranceUntilInterrupt: 'Nice to meet', durationUntilInterruptMs: '700' });
	// A key press is a user turn for the model, answered with streamed tokens.
	r.send({ type: 'dtmf', digit: '5' });
	await notes.until('dtmf', () => notes.events.find((e) => e.type === 'dtmf' && e.call_sid === sid && e.digit === '5'), 5000);
	a = await r.answer(a.next);
	assert.ok(a.tokens.length >= 2, JSON.stringify(a.tokens));
	assert.ok(a.tokens.at(-1).last === true && a.tokens.slice(0, -1).every((t) => t.last === false));
	assert.ok(a.tokens.map((t) => t.token).join('').trim().length > 0);
	r.send({ type: 'prompt', voicePrompt: 'What is my name?', lang: 'en-US', last: true });
	a = await r.answer(a.next);
	assert.match(a.tokens.map((t) => t.token).join(''), /Your name is Alice/);
	// A person, please: the answer, then end with handoffData.
	r.send({ type: 'prompt', voicePrompt: 'I want to talk to a human.', lang: 'en-US', last: true });
	a = await r.answer(a.next);
	const end = await (async () => { for (let i = 0; i < 200; i++) { const e = r.got.find((m) => m.type === 'end'); if (e) return e; await sleep(20); } return null; })();
	assert.ok(end, JSON.stringify(r.got.slice(-5)));
	const data = JSON.parse(end.handoffData);
	assert.equal(data.reasonCode, 'live-agent-handoff');
	assert.equal(data.callSid, sid);
	assert.equal(data.room, `relay-${sid}`);
	assert.match(data.summary, /Alice/);
	// The key press is in the conversation as the caller's turn.
	assert.match(data.summary, /The caller pressed 5 on the keypad/);
	const ev = await notes.until('handoff', () => notes.events.find((e) => e.type === 'handoff_requested' && e.call_sid === sid), 5000);
	assert.equal(ev.interface, 'phone');
	assert.equal(ev.from, '+14155550123');
	r.ws.close();
});

test('an unsigned or replayed handshake is refused', T, async () => {
	const sock = await relayCall(callSid());
	await assert.rejects(openRelay(sock, {}), /HTTP 403/);
	await assert.rejects(openRelay(sock, { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, sock.url.replace('/relay/', '/stream/')) }), /HTTP 403/);
	const r = await openRelay(sock);
	r.ws.close();
	await r.closing;
	await assert.rejects(openRelay(sock), /HTTP 403/);
});

test('a setup naming a room its call was not granted is closed with 1008', T, async () => {
	const victim = callSid();
	const theirs = await relayCall(victim);
	const sid = callSid();
	const r = await openRelay(await relayCall(sid));
	r.send(setup(sid, theirs.params));
	const c = await r.closing;
	assert.equal(c.code, 1008);
	assert.match(c.reason, /room_grant/);
	// Without a grant at all.
	const sid2 = callSid();
	const r2 = await openRelay(await relayCall(sid2));
	r2.send(setup(sid2, { room: `relay-${victim}` }));
	assert.equal((await r2.closing).code, 1008);
});

test('malformed messages: nine are forgiven, ten in a row close with 1007', { timeout: 20000 }, async () => {
	const sid = callSid();
	const sock = await relayCall(sid);
	const r = await openRelay(sock);
	r.send({ type: 'prompt', voicePrompt: 'before setup' }); // 1: setup must come first
	r.send(setup(sid, sock.params));
	const junk = ['{bad json', '[]', '{"type":"nonsense"}', '{"type":"prompt"}', '{"type":"dtmf","digit":"xx"}', '"string"', '{}', '{"type":"setup"}', '{"type":"prompt","voicePrompt":1}'];
	for (const j of junk) r.send(j);
	r.send({ type: 'prompt', voicePrompt: 'Where are you located?', last: true });
	const a = await r.answer(0);
	assert.match(a.tokens.map((t) => t.token).join(''), /Harbor Street/);
	assert.equal(r.closed(), null);
	for (let i = 0; i < 10; i++) r.send(`{"type": ${i}`);
	const c = await r.closing;
	assert.equal(c.code, 1007);
});
