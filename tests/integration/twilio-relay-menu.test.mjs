// [agent] menu on ConversationRelay: Twilio says the menu's prompt (the
// TwiML's welcomeGreeting) and sends the caller's keys (`dtmf`) and words
// (`prompt`); the menu answers with text tokens, ends the session with a
// hand-off for a queue, looks an order number up on a signed back end and
// then lets the AI answer, and asks again after silence.  The client
// replays Twilio's messages against a real private Janus.
import { test, before, after, afterEach } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus } from '../lib/janus.mjs';
import { openNotifications } from '../lib/notifications.mjs';
import { postWebhook, relaySession, twilioPluginConfig } from '../lib/twilio.mjs';
import { stub } from './providers-lib.mjs';

const SECRET = crypto.randomBytes(24).toString('hex');
const PROMPT = 'Press 1 for sales, 2 for orders.';
let janus, notes, dir, backend;

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-relay-menu-'));
	backend = await stub(async (req, res, body) => {
		const signed = req.headers['x-switchboard-signature'] === `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
		backend.requests.at(-1).signed = signed;
		const call = JSON.parse(body.toString());
		res.writeHead(signed ? 200 : 401, { 'content-type': 'application/json' });
		res.end(JSON.stringify(signed ? { say: `Order ${call.arguments.order} shipped yesterday.` } : { error: 'bad signature' }));
	});
	writeFileSync(join(dir, 'tools.json'), JSON.stringify([{ name: 'lookup_order', description: 'Look up an order.', url: `${backend.base}/orders`, secret: SECRET }]));
	writeFileSync(join(dir, 'menu.json'), JSON.stringify({
		prompt: PROMPT, timeout_ms: 1000, retries: 1,
		options: [
			{ key: '1', words: ['sales'], say: 'Connecting you to sales.', queue: 'sales' },
			{ key: '2', words: ['orders', 'order'], menu: { prompt: 'Key in your order number, then hash.', min_digits: 3, then: { tool: 'lookup_order', argument: 'order' } } },
		],
		otherwise: { say: 'Let me get someone.', queue: 'general' },
	}));
	janus = await startJanus({ pluginConfig: twilioPluginConfig({
		twilio: { voice_mode: 'relay', relay_greeting: 'Hi, how can I help?' },
		agent: `\tmenu = "${join(dir, 'menu.json')}"\n\ttools = "${join(dir, 'tools.json')}"`,
	}) });
	notes = await openNotifications();
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	await backend?.close();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

const sockets = new Set();
afterEach(() => {
	for (const ws of sockets) ws.terminate();
	sockets.clear();
}, { timeout: 10000 });

const callSid = () => `CA${crypto.randomBytes(16).toString('hex')}`;

// A relay session of a call whose voice webhook named room relay-<sid>,
// terminated after its test whatever happened.
async function session(sid) {
	const s = await relaySession(sid);
	sockets.add(s.ws);
	return s;
}

test('the TwiML has Twilio say the menu\'s prompt first', { timeout: 15000 }, async () => {
	const sid = callSid();
	const r = await postWebhook('/twilio/voice', [['CallSid', sid], ['From', '+14155550123'], ['To', '+14155550100'], ['CallStatus', 'ringing']]);
	assert.equal(r.status, 200, r.text);
	assert.match(r.text, /<ConversationRelay url="[^"]+" welcomeGreeting="Press 1 for sales, 2 for orders\."/);
});

test('a key picks the sales queue: the session ends with a hand-off naming it', { timeout: 20000 }, async () => {
	const sid = callSid();
	const s = await session(sid);
	s.send({ type: 'dtmf', digit: '1' });
	await s.said(/Connecting you to sales\./);
	const data = await s.ended();
	assert.equal(data.reasonCode, 'live-agent-handoff');
	assert.equal(data.reason, 'menu');
	assert.equal(data.menu.queue, 'sales');
	assert.equal(data.menu.menu.key, '1');
	const ev = await notes.until('the hand-off', () => notes.events.find((e) => e.type === 'handoff_requested' && e.call_sid === sid), 5000);
	assert.equal(ev.details.queue, 'sales');
	assert.ok(!s.got.some((m) => m.type === 'text' && /Monday/.test(m.token)), 'the model was never asked');
});

test('"orders" said, then an order number keyed in: the back end answers, then the AI takes questions', { timeout: 30000 }, async () => {
	const sid = callSid();
	const s = await session(sid);
	const before = backend.requests.length;
	s.send({ type: 'prompt', voicePrompt: 'Orders please.', lang: 'en-US', last: true });
	await s.said(/Key in your order number, then hash\./);
	for (const d of '12345#') s.send({ type: 'dtmf', digit: d });
	await s.said(/Order 12345 shipped yesterday\./);
	const reqs = backend.requests.slice(before);
	assert.equal(reqs.length, 1);
	assert.equal(reqs[0].signed, true);
	const sent = JSON.parse(reqs[0].body.toString());
	assert.deepEqual(sent.arguments, { order: '12345' });
	assert.equal(sent.call.call_id, sid);
	const tool = await notes.until('the tool record', () => notes.events.find((e) => e.type === 'agent_tool' && e.room === `relay-${sid}` && e.menu), 5000);
	assert.equal(tool.status, 'ok');
	// The menu is over: a question goes to the model.
	s.send({ type: 'prompt', voicePrompt: 'What are your opening hours?', lang: 'en-US', last: true });
	await s.said(/Monday to Friday from 9 am to 6 pm/);
});

test('silence: the prompt again, then otherwise\'s queue', { timeout: 40000 }, async () => {
	const sid = callSid();
	const s = await session(sid);
	// The prompt's own time (Twilio says it) plus timeout_ms, before anything.
	await s.said(/^Sorry, I didn't get that\. Press 1 for sales/, 20000);
	await s.said(/Let me get someone\./, 20000);
	const data = await s.ended();
	assert.equal(data.menu.queue, 'general');
	assert.equal(data.menu.menu.status, 'no_input');
	const done = await notes.until('the outcome', () => notes.events.find((e) => e.type === 'agent_action' && e.action === 'menu' && e.room === `relay-${sid}`), 5000);
	assert.equal(done.details.outcome.attempts, 2);
});
