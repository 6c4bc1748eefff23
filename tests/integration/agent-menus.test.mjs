// Menus the phone way: "for sales, press or say 1".  A real softphone
// (baresip) presses keys through a menu and ends up in the sales queue;
// an RTP leg over SIP keys in an order number in a submenu and the
// business back end (a local HTTP server checking the signature) answers;
// silence is asked about again and then routed to the menu's `otherwise`;
// a caller says "two"; a stand-in OpenAI model uses the gather tool and is
// told the digits; bad menus are refused with their place named.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus, SIP_PORT } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { pluginConfigWithStore } from '../lib/store.mjs';
import { SipPeer, RtpLeg, placeCall, inDialog, startBaresip, withSipRoomSecret, roomSignature, signedRoomUri } from '../lib/sip.mjs';
import { phoneCaller, speech8k } from '../lib/phone-caller.mjs';
import { stub, sse, openaiChunks } from './providers-lib.mjs';

const SECRET = crypto.randomBytes(24).toString('hex');
const BARESIP_PORT = SIP_PORT + 31;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let janus, notes, dir, backend, model, peer;

const SALES_PROMPT = 'For sales, press or say one. For an order, press or say two.';
const ORDER_PROMPT = 'Please key in your order number, then press the hash key.';
// The menu the rooms below use (each test may change a copy).
const MENU = {
	prompt: SALES_PROMPT,
	timeout_ms: 8000,
	retries: 1,
	variable: 'department',
	options: [
		{ key: '1', words: ['sales'], value: 'sales', say: 'Putting you through to sales.', queue: 'sales' },
		{ key: '2', words: ['order'], value: 'orders', menu: { prompt: ORDER_PROMPT, min_digits: 3, max_digits: 10, then: { tool: 'lookup_order', argument: 'order' } } },
	],
	otherwise: { say: 'Let me find someone to help you.', queue: 'general' },
};

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-menus-'));
	// The business back end: checks the signature, answers with a say.
	backend = await stub(async (req, res, body) => {
		const expected = `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
		const signed = req.headers['x-switchboard-signature'] === expected;
		backend.requests.at(-1).signed = signed;
		res.writeHead(signed ? 200 : 401, { 'content-type': 'application/json' });
		const call = JSON.parse(body.toString());
		res.end(JSON.stringify(signed ? { say: `Order ${call.arguments.order} shipped yesterday.` } : { error: 'bad signature' }));
	});
	// An OpenAI-wire model that asks for the keypad once, then says what it got.
	model = await stub(async (req, res, body) => {
		const q = JSON.parse(body.toString());
		const last = q.messages.at(-1);
		if (last.role === 'tool') {
			const r = JSON.parse(last.content);
			return sse(res, openaiChunks([r.digits ? `Thanks, account ${r.digits.split('').join(' ')} is on file.` : `That did not work: ${r.status}.`]));
		}
		if (q.messages.some((m) => m.tool_calls)) return sse(res, openaiChunks(['Okay.']));
		const scenario = /Scenario: (\w+)/.exec(q.messages[0].content)?.[1];
		const args = scenario === 'bad'
			? { prompt: 'Press one.', options: [{ key: '1', queue: 'x' }] }
			: { prompt: 'Please key in your account number, then press hash.', min_digits: 4, max_digits: 8 };
		const json = JSON.stringify(args);
		const toolCalls = [{ index: 0, id: `call_${crypto.randomBytes(4).toString('hex')}`, type: 'function', function: { name: 'gather', arguments: '' } }];
		for (let i = 0; i < json.length; i += 7) toolCalls.push({ index: 0, function: { arguments: json.slice(i, i + 7) } });
		return sse(res, openaiChunks(['Sure.'], { toolCalls }));
	});
	const tools = [{ name: 'lookup_order', description: 'Look up an order.', url: `${backend.base}/orders`, secret: SECRET,
		parameters: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'] } }];
	writeFileSync(join(dir, 'tools.json'), JSON.stringify(tools));
	let conf = withSipRoomSecret(pluginConfigWithStore(join(dir, 'calls.db')))
		.replace(/^\tallow = "[^"]*"/m, '\tallow = "127.0.0.1"')
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []');
	conf = conf.replace('providers: {', `providers: {
	standin_openai: { type = "openai", base_url = "${model.base}/v1", api_key = "sk-test", llm_model = "gpt-4o-mini" }`);
	conf = conf.replace(/^agent: \{\n/m, `agent: {\n\ttools = "${join(dir, 'tools.json')}"\n`);
	assert.match(conf, /tools = "/);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
	peer = await new SipPeer().start();
}, { timeout: 60000 });

after(async () => {
	notes?.close();
	peer?.close();
	if (janus) await janus.stop();
	await backend?.close();
	await model?.close();
	if (dir) rmSync(dir, { recursive: true, force: true });
}, { timeout: 30000 });

const agentSaid = (room, re) => () => notes.events.find((e) => e.room === room && e.type === 'transcript' && e.final && e.speaker !== 'Caller' && !/^sip/.test(e.speaker || '') && re.test(e.text));
const menuDone = (room) => () => notes.events.find((e) => e.room === room && e.type === 'agent_action' && e.action === 'menu');

async function createRoom(room, agent) {
	const r = await rest('POST', '/room/create', { roomName: room, agent });
	assert.equal(r.status, 201, JSON.stringify(r.json));
}

test('a softphone presses 1: the caller waits in the sales queue, the choice is a variable', { timeout: 90000 }, async () => {
	const room = `menu-sales-${process.pid}`;
	await createRoom(room, { menu: MENU });
	const phone = await startBaresip({ port: BARESIP_PORT, dial: signedRoomUri(room, `127.0.0.1:${SIP_PORT}`) });
	try {
		await phone.waitFor(/Call established/, 15000);
		await notes.until('the menu prompt', agentSaid(room, /For sales, press or say one/), 30000);
		phone.keys('1');
		const dtmf = await notes.until('the key', () => notes.events.find((e) => e.room === room && e.type === 'dtmf' && e.digit === '1'), 10000);
		assert.equal(dtmf.method, 'rfc4733');
		const done = await notes.until('the menu outcome', menuDone(room), 10000);
		assert.deepEqual({ ...done.details.outcome, attempts: undefined }, { status: 'matched', input: 'dtmf', key: '1', value: 'sales', attempts: undefined });
		const handoff = await notes.until('the hand-off', () => notes.events.find((e) => e.room === room && e.type === 'handoff_requested'), 10000);
		assert.equal(handoff.details.queue, 'sales');
		assert.equal(handoff.details.reason, 'menu');
		await notes.until('the option\'s words', agentSaid(room, /Putting you through to sales/), 20000);
		const queued = await rest('GET', '/api/queue');
		const entry = queued.json.queue.find((q) => q.room === room);
		assert.ok(entry, JSON.stringify(queued.json));
		assert.equal(entry.details.queue, 'sales');
		const info = await rest('GET', `/rooms/${room}`);
		assert.equal(info.status, 200);
		assert.equal(info.json.variables.department, 'sales', 'the menu\'s variable is the call\'s');
	} finally {
		await phone.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});

test('2 then an order number: the back end is asked with the digits, its answer spoken', { timeout: 90000 }, async () => {
	const room = `menu-order-${process.pid}`;
	await createRoom(room, { menu: MENU });
	const leg = await new RtpLeg().start();
	const before = backend.requests.length;
	try {
		const call = await placeCall(peer, { sipPort: SIP_PORT, user: room, rtpPort: leg.port, headers: roomSignature(room) });
		assert.equal(call.res?.status, 200);
		await notes.until('the menu prompt', agentSaid(room, /For sales, press or say one/), 30000);
		const key = (d) => leg.sendDigit(call.media.ip, call.media.port, d, call.media.dtmf);
		await key('2');
		await notes.until('the submenu prompt', agentSaid(room, /key in your order number/), 20000);
		for (const d of '12345#') await key(d);
		const tool = await notes.until('the tool call', () => notes.events.find((e) => e.room === room && e.type === 'agent_tool' && e.menu), 15000);
		assert.equal(tool.tool, 'lookup_order');
		assert.deepEqual(tool.arguments, { order: '12345' });
		assert.equal(tool.status, 'ok');
		await notes.until('the back end\'s answer, spoken', agentSaid(room, /Order 12345 shipped yesterday/), 20000);
		const reqs = backend.requests.slice(before);
		assert.equal(reqs.length, 1);
		assert.equal(reqs[0].signed, true, 'the request is signed with the tool\'s secret');
		const sent = JSON.parse(reqs[0].body.toString());
		assert.equal(sent.tool, 'lookup_order');
		assert.equal(sent.call.room, room);
		const outcomes = notes.events.filter((e) => e.room === room && e.type === 'agent_action' && e.action === 'menu').map((e) => e.details.outcome);
		assert.deepEqual(outcomes.map((o) => o.status), ['matched', 'collected']);
		assert.equal(outcomes[1].digits, '12345');
		assert.equal((await inDialog(peer, call, 'BYE'))?.status, 200);
	} finally {
		leg.close();
		await rest('DELETE', `/rooms/${room}`);
	}
});

test('silence is asked about again, then the menu\'s otherwise routes the call', { timeout: 60000 }, async () => {
	const room = `menu-silence-${process.pid}`;
	await createRoom(room, { menu: { ...MENU, timeout_ms: 1000, retries: 1 } });
	const caller = await phoneCaller(room);
	try {
		await notes.until('the prompt again', agentSaid(room, /^Sorry, I didn't get that\. For sales/), 40000);
		const done = await notes.until('the menu outcome', menuDone(room), 20000);
		assert.equal(done.details.outcome.status, 'no_input');
		assert.equal(done.details.outcome.attempts, 2);
		const handoff = await notes.until('the hand-off', () => notes.events.find((e) => e.room === room && e.type === 'handoff_requested'), 10000);
		assert.equal(handoff.details.queue, 'general');
		await notes.until('otherwise\'s words', agentSaid(room, /Let me find someone to help you/), 20000);
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});

test('a caller who says "two" is understood like the key', { timeout: 90000 }, async () => {
	const room = `menu-speech-${process.pid}`;
	await createRoom(room, { menu: { ...MENU, timeout_ms: 15000 } });
	const two = speech8k(dir, 'two', 'two');
	const caller = await phoneCaller(room);
	try {
		await notes.until('the prompt', agentSaid(room, /For sales, press or say one/), 30000);
		await notes.until('the prompt played', () => notes.events.find((e) => e.room === room && e.type === 'agent_state' && e.state === 'listening'), 30000);
		await caller.say(two);
		const done = await notes.until('the menu outcome', menuDone(room), 20000);
		assert.equal(done.details.outcome.status, 'matched', JSON.stringify(done.details));
		assert.equal(done.details.outcome.input, 'speech');
		assert.equal(done.details.outcome.key, '2');
		await notes.until('the submenu prompt', agentSaid(room, /key in your order number/), 20000);
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
});

test('the model asks for the keypad with the gather tool and is told the digits', { timeout: 90000 }, async () => {
	const room = `menu-model-${process.pid}`;
	await createRoom(room, { llm: ['standin_openai'], persona: 'Scenario: digits', gather_tool: true, greeting: 'Hello.' });
	const leg = await new RtpLeg().start();
	const question = speech8k(dir, 'account', 'I want to check my account please.');
	const from = model.requests.length;
	try {
		const call = await placeCall(peer, { sipPort: SIP_PORT, user: room, rtpPort: leg.port, headers: roomSignature(room) });
		assert.equal(call.res?.status, 200);
		await notes.until('the greeting', () => notes.events.find((e) => e.room === room && e.type === 'agent_state' && e.state === 'listening'), 30000);
		await speakOver(leg, call, question);
		// The prompt is part of the model's answer, whose line comes once it is over.
		const gather = await notes.until('the gather', () => notes.events.find((e) => e.room === room && e.type === 'agent_action' && e.action === 'gather'), 30000);
		assert.match(gather.details.prompt, /key in your account number/);
		for (const d of '4321#') await leg.sendDigit(call.media.ip, call.media.port, d, call.media.dtmf);
		await notes.until('the model\'s answer', agentSaid(room, /account 4 3 2 1 is on file/), 30000);
		const asks = model.requests.slice(from).map((r) => JSON.parse(r.body.toString()));
		const offered = asks[0].tools.find((t) => t.function.name === 'gather');
		assert.ok(offered, 'the gather tool is offered');
		assert.equal(offered.function.parameters.type, 'object');
		const told = asks.find((q) => q.messages.at(-1).role === 'tool');
		const result = JSON.parse(told.messages.at(-1).content);
		assert.deepEqual({ status: result.status, digits: result.digits, input: result.input }, { status: 'collected', digits: '4321', input: 'dtmf' });
		const rec = await notes.until('the tool record', () => notes.events.find((e) => e.room === room && e.type === 'agent_tool' && e.tool === 'gather'), 10000);
		assert.equal(rec.status, 'ok');
		assert.equal((await inDialog(peer, call, 'BYE'))?.status, 200);
	} finally {
		leg.close();
		await rest('DELETE', `/rooms/${room}`);
	}
});

// A G.711 leg plays samples over the call's RTP, 20 ms a packet.
async function speakOver(leg, call, samples) {
	const { mulawEncode, rtpPacket } = await import('../lib/audio.mjs');
	for (let off = 0; off + 160 <= samples.length; off += 160) {
		const f = new Uint8Array(160);
		for (let i = 0; i < 160; i++) f[i] = mulawEncode(samples[off + i]);
		leg.send(rtpPacket({ pt: 0, seq: leg.seq++ & 0xffff, ts: (leg.ts += 160) >>> 0, ssrc: leg.ssrc, payload: f }), call.media.port, call.media.ip);
		await sleep(20);
	}
	for (let i = 0; i < 50; i++) {
		leg.send(rtpPacket({ pt: 0, seq: leg.seq++ & 0xffff, ts: (leg.ts += 160) >>> 0, ssrc: leg.ssrc, payload: new Uint8Array(160).fill(0xff) }), call.media.port, call.media.ip);
		await sleep(20);
	}
}

test('bad menus are refused with their place named; a model\'s bad gather is told so', { timeout: 60000 }, async () => {
	const cases = [
		[{ prompt: 'x', options: [{ key: '12' }] }, /menu: options\[0\]: key: one of 0-9 \* #/],
		[{ prompt: 'x', options: [{ key: '1', queue: 'a b' }] }, /menu: options\[0\]\.queue: 1-64 of/],
		[{ options: [{ key: '1' }] }, /menu: prompt: a string of 1-1000 characters/],
		['/etc/passwd', /menu: a gather must be an object/],
	];
	for (const [menu, why] of cases) {
		const r = await rest('POST', '/room/create', { roomName: `menu-bad-${process.pid}`, agent: { menu } });
		assert.equal(r.status, 400, JSON.stringify(r.json));
		assert.match(r.json.error.message, why);
	}
	assert.equal((await rest('GET', `/rooms/menu-bad-${process.pid}`)).status, 404, 'nothing was made');
	const badTool = await rest('POST', '/room/create', { roomName: `menu-bad-${process.pid}`, agent: { gather_tool: 'yes' } });
	assert.equal(badTool.status, 400);
	assert.match(badTool.json.error.message, /gather_tool: true or false/);

	// The model passes options with actions: refused before anything is said.
	const room = `menu-model-bad-${process.pid}`;
	await createRoom(room, { llm: ['standin_openai'], persona: 'Scenario: bad', gather_tool: true, greeting: 'Hello.' });
	const leg = await new RtpLeg().start();
	const question = speech8k(dir, 'menu', 'I want the menu please.');
	try {
		const call = await placeCall(peer, { sipPort: SIP_PORT, user: room, rtpPort: leg.port, headers: roomSignature(room) });
		assert.equal(call.res?.status, 200);
		await notes.until('the greeting', () => notes.events.find((e) => e.room === room && e.type === 'agent_state' && e.state === 'listening'), 30000);
		await speakOver(leg, call, question);
		const rec = await notes.until('the tool record', () => notes.events.find((e) => e.room === room && e.type === 'agent_tool' && e.tool === 'gather'), 30000);
		assert.equal(rec.status, 'invalid_arguments');
		assert.match(rec.error, /options\[0\]\.queue: an option of the gather tool has key, words and value only/);
		await notes.until('the model was told', agentSaid(room, /That did not work: invalid_arguments/), 20000);
		assert.equal((await inDialog(peer, call, 'BYE'))?.status, 200);
	} finally {
		leg.close();
		await rest('DELETE', `/rooms/${room}`);
	}
});
