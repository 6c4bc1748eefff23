// A call's context: what is known when a call starts — a SIP INVITE's X-
// headers and numbers, Twilio's parameters, REST metadata, a pre-call
// tool's answer — as {{variables}} of the agent's greeting and persona and
// of the business's tools.  Real peers: a UDP SIP user agent, a Twilio
// Media Streams client, REST, a local HTTP server as the business's CRM
// (it checks X-Switchboard-Signature) and an OpenAI-wire stand-in model
// that shows the persona it was given.  Bad input: bad names, oversize or
// too many variables are dropped, braces in values stay braces, a CRM that
// is down or slow does not hold the greeting.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { RoomServiceClient } from 'livekit-server-sdk';
import { startJanus, adminRequest, JanusHandle, API_URL, API_KEY, SIP_PORT } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { SipPeer, RtpLeg, placeCall, inDialog } from '../lib/sip.mjs';
import { phoneCaller } from '../lib/phone-caller.mjs';
import { twilioPluginConfig, voiceSocket, postWebhook, ACCOUNT_SID } from '../lib/twilio.mjs';
import { endedCall } from '../lib/store.mjs';
import { stub, sse, openaiChunks, sleep } from './providers-lib.mjs';

const SECRET = crypto.randomBytes(24).toString('hex');
const SLOW_TIMEOUT_MS = 800;
const LK_KEY = 'APIcontextKey1';
const LK_SECRET = crypto.randomBytes(24).toString('hex');
let janus, notes, dir, crm, model;

// The business's CRM: answers a caller's details by number; /down is never
// reached (its tool points at a closed port), /slow answers too late.
async function startCrm() {
	return stub(async (req, res, body) => {
		const rec = crm.requests.at(-1);
		const expected = `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
		rec.signed = req.headers['x-switchboard-signature'] === expected;
		rec.json = JSON.parse(body.toString());
		const json = (status, obj) => {
			res.writeHead(status, { 'content-type': 'application/json' });
			res.end(JSON.stringify(obj));
		};
		if (!rec.signed) return json(401, { error: 'bad signature' });
		if (rec.path === '/slow') {
			await sleep(3000);
			return json(200, { variables: { crm_name: 'Too Late' } });
		}
		return json(200, { variables: { crm_name: 'Fatima', crm_tier: 'platinum', 'Bad Name!': 'x', crm_count: 3, crm_note: '{{x_customer_name}}' } });
	});
}

// A model that answers every turn with one sentence; its requests (and the
// persona in them) are kept.
async function startModel() {
	return stub(async (req, res) => sse(res, openaiChunks(['Thank you.'])));
}

function toolsFile() {
	const tools = [
		{ name: 'crm_lookup', description: 'The caller in our CRM.', url: `${crm.base}/lookup`, secret: SECRET },
		{ name: 'crm_slow', description: 'A slow CRM.', url: `${crm.base}/slow`, secret: SECRET, timeout_ms: SLOW_TIMEOUT_MS },
		// Nothing listens on port 9 of loopback: connection refused.
		{ name: 'crm_down', description: 'A CRM that is down.', url: 'http://127.0.0.1:9/lookup', secret: SECRET, timeout_ms: 2000 },
	];
	const file = join(dir, 'tools.json');
	writeFileSync(file, JSON.stringify(tools));
	return file;
}

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-context-'));
	crm = await startCrm();
	model = await startModel();
	let conf = twilioPluginConfig({ agent: `\ttools = "${toolsFile()}"\n\tgreeting = "Hello {{x_customer_name|there}}"` });
	// Its own call records (SQLite), where each call's context is kept.
	const withStore = conf.replace(/^\tstore = "sqlite"$/m, `store = "sqlite"\n\tpath = "${join(dir, 'calls.db')}"`);
	assert.notEqual(withStore, conf, 'a [store] line to replace');
	conf = withStore;
	conf = conf.replace('providers: {', `providers: {
	standin_openai: { type = "openai", base_url = "${model.base}/v1", api_key = "sk-test", llm_model = "gpt-4o-mini" }`);
	conf += `\nlivekit: {\n\tkeys: {\n\t\t${LK_KEY} = "${LK_SECRET}"\n\t}\n}\n`;
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
}, { timeout: 120000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	await crm?.close();
	await model?.close();
	if (dir) rmSync(dir, { recursive: true, force: true });
}, { timeout: 60000 });

// The agent's final transcript lines in room.
const agentLines = (room) => notes.events.filter((e) => e.type === 'transcript' && e.room === room && e.final && e.speaker === 'AI Agent');
const greetingIn = (room, ms = 30000) => notes.until(`the greeting in ${room}`, () => agentLines(room)[0], ms);
const metric = async (name) => {
	const text = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
	const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
	assert.ok(m, `no ${name} in /metrics`);
	return Number(m[1]);
};

test('a SIP call: X- headers and numbers are variables, the greeting says the caller\'s name', { timeout: 60000 }, async () => {
	const peer = await new SipPeer().start();
	const leg = await new RtpLeg().start();
	try {
		const long = 'y'.repeat(200);
		const call = await placeCall(peer, { sipPort: SIP_PORT, user: '+14155550100', rtpPort: leg.port,
			headers: { 'X-Customer-Name': 'Aisha', 'X-Customer-Id': 'C-42', 'X-Note': `{{x_customer_id}} ${long}` } });
		assert.equal(call.res?.status, 200, call.res?.first);
		const joined = await notes.until('the call\'s room', () => notes.events.find((e) => e.type === 'participant_joined' && e.participant?.kind === 'sip' && e.participant.info?.call_id), 10000);
		const name = joined.room;
		assert.ok(name.startsWith('sip-'), name);
		const greeting = await greetingIn(name);
		assert.equal(greeting.text, 'Hello Aisha');
		// The operator sees the call's context; the values are as sent.
		const info = (await rest('GET', `/rooms/${name}`)).json;
		assert.equal(info.variables.x_customer_name, 'Aisha');
		assert.equal(info.variables.x_customer_id, 'C-42');
		assert.equal(info.variables.x_note, `{{x_customer_id}} ${long}`);
		assert.equal(info.variables.from, '+15005550006');
		assert.equal(info.variables.to, '+14155550100');
		// Nobody else: the room list, the Janus API's list and a member's view have none.
		const listed = (await rest('GET', '/rooms')).json.rooms.find((r) => r.room === name);
		assert.ok(listed && listed.variables === undefined, JSON.stringify(listed));
		const admin = await adminRequest({ request: 'variables', room: name });
		assert.equal(admin.variables.x_customer_name, 'Aisha', 'the Admin API is the operator');
		// A Janus API client (a browser) is refused them.
		const browser = await JanusHandle.attach();
		try {
			const refused = await browser.request({ request: 'variables', room: name });
			assert.ok(refused.error_code, JSON.stringify(refused));
			assert.equal(refused.variables, undefined);
		} finally {
			await browser.destroy();
		}
		assert.equal((await inDialog(peer, call, 'BYE'))?.status, 200);
		// The call's record keeps its context.
		const record = await endedCall(name);
		assert.equal(record.variables.x_customer_name, 'Aisha');
		assert.equal(record.variables.from, '+15005550006');
		const listedCall = (await rest('GET', `/api/calls?q=${encodeURIComponent(name)}`)).json.calls[0];
		assert.equal(listedCall.variables, undefined, 'lists leave it out');
	} finally {
		leg.close();
		peer.close();
	}
});

test('Twilio Media Streams: the webhook\'s fields and the stream\'s <Parameter>s reach the greeting and the persona', { timeout: 90000 }, async () => {
	const sid = `CA${crypto.randomBytes(16).toString('hex')}`;
	const room = `twilio-${sid}`;
	const sock = await voiceSocket(sid);
	const config = { llm: ['standin_openai'], greeting: 'Hi {{customer_name|friend}}, calling from {{from}}.', persona: 'You help {{customer_name}} ({{account_tier|standard}}), call {{call_sid}}.' };
	const set = await adminRequest({ request: 'agent', room, enable: true, config });
	assert.equal(set.enabled, true, JSON.stringify(set));
	const ws = new WebSocket(sock.local, { headers: sock.headers });
	const marks = [];
	ws.on('message', (d) => {
		const m = JSON.parse(d.toString());
		// Played at once: the agent's lines are final once heard.
		if (m.event === 'mark') ws.send(JSON.stringify({ event: 'mark', streamSid, sequenceNumber: '99', mark: m.mark }));
		if (m.event === 'mark') marks.push(m);
	});
	const streamSid = `MZ${crypto.randomBytes(16).toString('hex')}`;
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
	let timer;
	try {
		ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
		ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { accountSid: ACCOUNT_SID, streamSid, callSid: sid, tracks: ['inbound'],
			customParameters: { ...sock.params, customerName: 'Priya', account_tier: 'gold', 'bad name': 'dropped' }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
		let seq = 2;
		timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ event: 'media', streamSid, sequenceNumber: String(seq++), media: { track: 'inbound', payload: Buffer.alloc(160, 0xff).toString('base64') } })), 20);
		const greeting = await greetingIn(room);
		assert.equal(greeting.text, 'Hi Priya, calling from +14155550123.');
		const vars = (await rest('GET', `/rooms/${room}`)).json.variables;
		assert.equal(vars.customer_name, 'Priya');
		assert.equal(vars.call_sid, sid);
		assert.equal(vars.account_sid, ACCOUNT_SID, 'the voice webhook\'s form fields');
		assert.equal(vars.call_status, 'ringing');
		assert.equal(vars.room_grant, undefined, 'the grant is not context');
		assert.equal(vars.bad_name, undefined);
		// A key press is a turn: the model gets the persona with the variables.
		const asked = model.requests.length;
		ws.send(JSON.stringify({ event: 'dtmf', streamSid, sequenceNumber: '98', dtmf: { track: 'inbound_track', digit: '1' } }));
		const req = await notes.until('the model asked', () => model.requests[asked], 20000);
		const system = JSON.parse(req.body.toString()).messages[0].content;
		assert.ok(system.startsWith(`You help Priya (gold), call ${sid}.`), system.slice(0, 300));
		assert.doesNotMatch(system, /\{\{/);
	} finally {
		clearInterval(timer);
		ws.terminate();
		await rest('DELETE', `/rooms/${room}`);
	}
});

test('a WhatsApp call: the caller\'s number and profile name are variables', { timeout: 30000 }, async () => {
	const sid = `CA${crypto.randomBytes(16).toString('hex')}`;
	const r = await postWebhook('/twilio/voice', [['CallSid', sid], ['AccountSid', ACCOUNT_SID], ['From', 'whatsapp:+14155550199'], ['To', 'whatsapp:+14155550100'],
		['CallStatus', 'ringing'], ['Direction', 'inbound'], ['ProfileName', 'Aisha\u0007 B'], ['CallToken', 'secret-token']]);
	assert.equal(r.status, 200, r.text);
	const room = `twilio-${sid}`;
	try {
		const vars = (await rest('GET', `/rooms/${room}`)).json.variables;
		assert.equal(vars.whatsapp_number, '+14155550199');
		assert.equal(vars.profile_name, 'Aisha B', 'control characters removed');
		assert.equal(vars.call_token, undefined, 'the CallToken is not context');
	} finally {
		await rest('DELETE', `/rooms/${room}`);
	}
});

test('REST metadata: a JSON object\'s strings are variables; bad names, oversize values and non-strings are dropped', { timeout: 60000 }, async () => {
	const room = `context-rest-${process.pid}`;
	const metadata = { customer_name: 'Bob', plan: '{{customer_name|x}}', 'Bad Name!': 'x', nested: { a: 1 }, huge: 'z'.repeat(1025), ctrl: 'a\u0007b\nc' };
	const r = await rest('POST', '/room/create', { roomName: room, agent: { greeting: 'Welcome {{customer_name|guest}}, plan {{plan}}{{unknown}}.' }, metadata });
	assert.equal(r.status, 201, JSON.stringify(r.json));
	const info = (await rest('GET', `/rooms/${room}`)).json;
	assert.deepEqual(info.variables, { customer_name: 'Bob', plan: '{{customer_name|x}}', ctrl: 'abc' });
	const caller = await phoneCaller(room);
	try {
		// A value is data: its braces are spoken as they are, never expanded.
		const greeting = await greetingIn(room);
		assert.equal(greeting.text, 'Welcome Bob, plan {{customer_name|x}}.');
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
	// Not JSON, or not an object: the metadata is kept as text, no variables.
	const text = `context-text-${process.pid}`;
	assert.equal((await rest('POST', '/room/create', { roomName: text, metadata: 'plain words' })).status, 201);
	assert.deepEqual((await rest('GET', `/rooms/${text}`)).json.variables, {});
	await rest('DELETE', `/rooms/${text}`);
	// At most 64: the rest are dropped, the room is made.
	const many = `context-many-${process.pid}`;
	const lots = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`v${i}`, String(i)]));
	assert.equal((await rest('POST', '/room/create', { roomName: many, metadata: lots })).status, 201);
	assert.equal(Object.keys((await rest('GET', `/rooms/${many}`)).json.variables).length, 64);
	await rest('DELETE', `/rooms/${many}`);
	// metadata that is neither a string nor an object: a clear error, nothing made.
	const bad = await rest('POST', '/room/create', { roomName: `context-bad-${process.pid}`, metadata: 42 });
	assert.equal(bad.status, 400);
	assert.match(bad.json.error.message, /metadata must be a string or an object/);
	assert.equal((await rest('GET', `/rooms/context-bad-${process.pid}`)).status, 404);
});

test('LiveKit CreateRoom metadata is the room\'s context; a room admin\'s UpdateRoomMetadata is not', { timeout: 30000 }, async () => {
	const svc = new RoomServiceClient(API_URL, LK_KEY, LK_SECRET);
	const name = `context-lk-${process.pid}`;
	await svc.createRoom({ name, metadata: JSON.stringify({ customer_name: 'Lee', 'no good': 'x' }) });
	try {
		assert.deepEqual((await rest('GET', `/rooms/${name}`)).json.variables, { customer_name: 'Lee' });
		// The room's admin (what the SDK's token is) changes the text only.
		const updated = await svc.updateRoomMetadata(name, JSON.stringify({ customer_name: 'Mallory' }));
		assert.equal(updated.metadata, JSON.stringify({ customer_name: 'Mallory' }));
		assert.deepEqual((await rest('GET', `/rooms/${name}`)).json.variables, { customer_name: 'Lee' });
	} finally {
		await svc.deleteRoom(name);
	}
});

// A room whose agent asks pre_call_tool before greeting; returns the
// greeting and how long after the caller joined it came.
async function preCallRoom(room, tool, metadata) {
	const r = await rest('POST', '/room/create', { roomName: room, agent: { pre_call_tool: tool, greeting: 'Hello {{crm_name|there}}, {{crm_tier|new}} caller {{crm_note}}' }, metadata });
	assert.equal(r.status, 201, JSON.stringify(r.json));
	const t0 = Date.now();
	const caller = await phoneCaller(room, 'Dana');
	try {
		const greeting = await greetingIn(room);
		return { greeting, ms: Date.now() - t0 };
	} finally {
		caller.stop();
		await rest('DELETE', `/rooms/${room}`);
	}
}

test('a pre-call tool is asked, signed, before the greeting; its variables are merged within the bounds', { timeout: 60000 }, async () => {
	const room = `context-crm-${process.pid}`;
	const before = crm.requests.length;
	const { greeting } = await preCallRoom(room, 'crm_lookup', { account: 'A-1' });
	// Its note is data: "{{x_customer_name}}" is said as is.
	assert.equal(greeting.text, 'Hello Fatima, platinum caller {{x_customer_name}}');
	const q = crm.requests.slice(before).find((x) => x.path === '/lookup');
	assert.ok(q, 'the CRM was asked');
	assert.equal(q.signed, true);
	assert.equal(q.json.tool, 'crm_lookup');
	assert.equal(q.json.arguments.caller.name, 'Dana');
	assert.equal(q.json.call.room, room);
	assert.deepEqual(q.json.call.variables, { account: 'A-1' }, 'the tool sees the call\'s variables');
	const tool = await notes.until('the pre-call record', () => notes.events.find((e) => e.type === 'agent_tool' && e.room === room), 5000);
	assert.equal(tool.status, 'ok');
	assert.equal(tool.pre_call, true);
	// The record: the metadata and the CRM's answer, within the bounds.
	const record = await endedCall(room);
	assert.deepEqual(record.variables, { account: 'A-1', crm_name: 'Fatima', crm_tier: 'platinum', crm_note: '{{x_customer_name}}' });
	assert.ok(record.tool_calls.some((t) => t.tool === 'crm_lookup' && t.status === 'ok'), JSON.stringify(record.tool_calls));
	// A room may only name a configured tool.
	const refused = await rest('POST', '/room/create', { roomName: `context-nope-${process.pid}`, agent: { pre_call_tool: 'http://example.com/crm' } });
	assert.equal(refused.status, 400);
	assert.match(refused.json.error.message, /pre_call_tool: the name of a tool \[agent\] tools declares/);
});

test('a pre-call tool that is down or slow does not hold the call: the greeting comes with the defaults', { timeout: 60000 }, async () => {
	const failures = await metric('switchboard_agent_pre_call_failures_total');
	const down = await preCallRoom(`context-down-${process.pid}`, 'crm_down');
	assert.equal(down.greeting.text, 'Hello there, new caller');
	const slow = await preCallRoom(`context-slow-${process.pid}`, 'crm_slow');
	assert.equal(slow.greeting.text, 'Hello there, new caller');
	// It waited for the tool, and no longer than its timeout and a margin
	// (espeak-ng and a loaded machine included).
	assert.ok(slow.ms >= SLOW_TIMEOUT_MS - 100, `greeted after ${slow.ms} ms`);
	assert.ok(slow.ms < SLOW_TIMEOUT_MS + 6000, `greeted after ${slow.ms} ms`);
	assert.equal(await metric('switchboard_agent_pre_call_failures_total'), failures + 2);
	assert.match(janus.output(), /pre-call tool crm_slow failed \(.*\): greeting with the defaults/);
});
