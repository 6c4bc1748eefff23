// The warm-transfer summary and the AI assist written by a cloud language
// model through the LLM chain, against a real Janus and a local stand-in
// for OpenAI's Chat Completions API (the documented streaming wire format,
// tests/integration/providers-lib.mjs).  [transfer] summary_llm = openai,
// ai_company = true.  The caller and Agent A are RTP legs, Agent B is a
// number on a SIP trunk played by a SIP peer on loopback.
//  - POST /api/generate-summary and /api/chat: the model's answers, the
//    request carries the transcript (and, for chat, the summary);
//  - a transfer starts at once with the summary at hand; the model's
//    replaces it; the AI agent keeps the caller company (no hold) and
//    leaves afterwards; the notifications and the call records (history,
//    /api/calls/{id}) carry it with its timings and outcome;
//  - a failing provider, or an answer that is not a summary: the
//    extractive summary and the knowledge base, saying why.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startJanus, adminRequest, repoRoot, SIP_PORT, API_URL, API_KEY, JanusHandle } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { SipPeer, RtpLeg, sdpOffer } from '../lib/sip.mjs';
import { makeAgent, signIn } from '../lib/console.mjs';
import { stub, sse, openaiChunks, openaiError } from './providers-lib.mjs';

const TRUNK_PORT = SIP_PORT + 11;
const ROOM = `tai-call-${process.pid}`;
const NUMBER = '+14155550177';
const MODEL_SUMMARY = {
	caller: { name: 'John Smith', order: '12345' },
	issue: 'Order 12345 has not arrived and the caller wants it today.',
	tried: ['Checked the order status: shipped on Monday'],
	mood: 'negative',
	next_step: 'Offer express re-delivery.',
	text: 'John Smith, order 12345, is upset that it has not arrived; offer express re-delivery.',
};
const ASSIST_REPLY = 'Tell him the parcel is with the courier and offer express re-delivery.';

let janus, notes, trunk, llm;
// REST, Admin API and a local model stub: each test takes ~1 s.
const T = { timeout: 60000 };
let mode = 'ok'; // ok | error | garbage
const legs = [];

before(async () => {
	llm = await stub((req, res, body) => {
		const q = JSON.parse(body.toString());
		if (mode === 'error') return openaiError(res, 500, 'The server had an error');
		const summary = /hand-over note/.test(q.messages[0].content);
		const answer = mode === 'garbage' ? 'Sorry, I cannot help with that.'
			: summary ? '```json\n' + JSON.stringify(MODEL_SUMMARY) + '\n```' : ASSIST_REPLY;
		// Streamed in pieces, as the API does.
		const parts = answer.match(/.{1,40}/gs);
		return sse(res, openaiChunks(parts), { pauseMs: 2 });
	});
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
		.replace(/allow = "[^"]*"/, 'allow = "127.0.0.1"')
		.replace('#trunk = "example.pstn.twilio.com"', `trunk = "127.0.0.1:${TRUNK_PORT}"`)
		.replace(/^\topenai: \{[^\n]*\}$/m,
			`\topenai: { type = "openai", api_key = "sk-test", base_url = "${llm.base}/v1", llm_model = "gpt-4o-mini", timeout_ms = "5000" }`)
		.replace('\tai_company = "false"', '\tai_company = "true"\n\tsummary_llm = "openai"');
	assert.match(conf, /summary_llm = "openai"/);
	assert.match(conf, /base_url = "http:\/\/127\.0\.0\.1/);
	janus = await startJanus({ pluginConfig: conf });
	notes = await openNotifications();
	trunk = await new SipPeer({ port: TRUNK_PORT }).start();
}, { timeout: 60000 });

after(async () => {
	for (const l of legs) l.close();
	notes?.close();
	trunk?.close();
	if (janus) await janus.stop();
	await llm?.close();
});

async function rtpJoin(display) {
	const leg = await new RtpLeg().start();
	legs.push(leg);
	const r = await adminRequest({ request: 'rtp_join', room: ROOM, ip: '127.0.0.1', port: leg.port, codec: 'pcmu', display });
	assert.equal(r.switchboard, 'rtp_joined', JSON.stringify(r));
	leg.id = r.id;
	return leg;
}

const say = async (speaker, text) =>
	assert.equal((await rest('POST', '/api/transcript', { room: ROOM, speaker, text })).status, 200);
const participants = async (room) => (await adminRequest({ request: 'listparticipants', room })).participants ?? [];
const modelRequests = (kind) => llm.requests.map((r, i) => llm.json(i))
	.filter((b) => (kind === 'summary') === /hand-over note/.test(b.messages[0].content));

let caller;
test('generate-summary: the model writes it from the transcript; provider openai', T, async () => {
	assert.ok((await rest('POST', '/room/create', { roomName: ROOM })).status < 300);
	caller = await rtpJoin('Caller');
	await say('Caller', 'hello my name is john smith');
	await say('AI Agent', 'Hello John, how can I help?');
	await say('Caller', 'my order 12345 has not arrived and I am upset');

	const r = await rest('POST', '/api/generate-summary', { room: ROOM });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.room, ROOM);
	const s = r.json.summary;
	assert.equal(s.provider, 'openai', JSON.stringify(s));
	assert.equal(s.issue, MODEL_SUMMARY.issue);
	assert.deepEqual(s.caller, MODEL_SUMMARY.caller);
	assert.equal(s.next_step, MODEL_SUMMARY.next_step);
	assert.equal(s.text, MODEL_SUMMARY.text);
	assert.deepEqual(s.tried, MODEL_SUMMARY.tried);
	assert.equal(s.fallback_reason, undefined);

	// The request: Chat Completions, the model configured, the transcript in it.
	const q = llm.requests.at(-1);
	assert.equal(q.path, '/v1/chat/completions');
	assert.equal(q.headers.authorization, 'Bearer sk-test');
	const body = llm.json();
	assert.equal(body.model, 'gpt-4o-mini');
	assert.equal(body.stream, true);
	assert.equal(body.messages[0].role, 'system');
	assert.match(body.messages[0].content, /"issue"/);
	assert.equal(body.messages[1].role, 'user');
	assert.match(body.messages[1].content, /Caller: my order 12345 has not arrived and I am upset/);
	assert.match(body.messages[1].content, /AI Agent: Hello John, how can I help\?/);
	assert.equal(body.tools, undefined, 'no tools offered for a summary');

	// Nothing new was said: the summary op (Janus API) gives the model's too.
	const op = await adminRequest({ request: 'summary', room: ROOM });
	assert.equal(op.summary.provider, 'openai');
	// Bad input: a clear error, nothing asked.
	const before = llm.requests.length;
	assert.equal((await rest('POST', '/api/generate-summary', { room: 'no-such-room' })).status, 404);
	assert.equal((await rest('POST', '/api/generate-summary', {})).status, 400);
	assert.equal(llm.requests.length, before);
});

test('chat: the AI assist answers through the model with the call summary in context', T, async () => {
	const r = await rest('POST', '/api/chat', { room: ROOM, message: 'what should I offer him?' });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.reply, ASSIST_REPLY);
	assert.equal(r.json.provider, 'openai');
	assert.equal(r.json.summary.provider, 'openai');
	const body = modelRequests('assist').at(-1);
	assert.ok(body, 'the model was asked');
	assert.deepEqual(body.messages.slice(1), [{ role: 'user', content: 'what should I offer him?' }]);
	assert.match(body.messages[0].content, /Order 12345 has not arrived/);
	assert.equal((await rest('POST', '/api/chat', { room: ROOM })).status, 400);
	assert.equal((await rest('POST', '/api/chat', { room: 'nope', message: 'x' })).status, 404);
});

test('the Janus API gives a console agent the same answers: the model\'s, as an event', T, async () => {
	// Zoe signs in with her own account (no master key on the console).
	await makeAgent('zoe', { name: 'Zoe' });
	const signin = await signIn('zoe');
	assert.equal(signin.status, 200, signin.text);
	const h = await JanusHandle.attach();
	try {
		const joined = await h.requestAsync({ request: 'join', room: signin.json.desk, token: signin.json.token, display: 'Zoe' });
		assert.equal(joined.data.switchboard, 'joined', JSON.stringify(joined.data));
		// An agent asks about the call they are in: not yet.
		assert.equal((await h.requestAsync({ request: 'summary', room: ROOM })).data.error_code, 488);
		assert.equal((await rest('POST', '/api/queue', { room: ROOM })).status, 200);
		const taken = await h.request({ request: 'queue_take', room: ROOM });
		assert.equal(taken.switchboard, 'taken', JSON.stringify(taken));
		const asked = modelRequests('assist').length;
		// The answer cannot be synchronous: it is an event with the transaction.
		const assist = await h.requestAsync({ request: 'assist', room: ROOM, message: 'what should I offer him?' }, null, 10000);
		assert.equal(assist.data.switchboard, 'assist');
		assert.equal(assist.data.reply, ASSIST_REPLY);
		assert.equal(assist.data.provider, 'openai');
		assert.equal(modelRequests('assist').length, asked + 1);
		await rest('POST', '/api/transcript', { room: ROOM, speaker: 'Caller', text: 'and I want a refund' });
		const summary = await h.requestAsync({ request: 'summary', room: ROOM }, null, 10000);
		assert.equal(summary.data.switchboard, 'summary');
		assert.equal(summary.data.summary.provider, 'openai', JSON.stringify(summary.data));
		assert.equal(summary.data.summary.issue, MODEL_SUMMARY.issue);
		// Bad input still answers at once, with the error.
		const bad = await h.requestAsync({ request: 'summary', room: 'no-such-room' });
		assert.equal(bad.data.error_code, 486);
	} finally {
		await h.destroy();
	}
});

test('a phone transfer: the model\'s summary replaces the one at hand; the AI agent keeps the caller company; history has it all', T, async () => {
	try {
		await phoneTransfer();
	} finally {
		trunk.onRequest = null;
	}
});

async function phoneTransfer() {
	const b = await new RtpLeg().start();
	legs.push(b);
	trunk.onRequest = (req) => req.method !== 'INVITE' ? { status: 200 }
		: { status: 200, toTag: 'tt', body: sdpOffer({ port: b.port, codecs: [[0, 'PCMU/8000']] }) };
	const alice = await rtpJoin('Alice');
	await say('Caller', 'can you send it by express');
	const asked = modelRequests('summary').length;

	const r = await rest('POST', '/api/transfer/initiate', { room: ROOM, from: alice.id, to: { number: NUMBER }, reason: 'delivery' });
	assert.equal(r.status, 200, r.text);
	const id = r.json.transfer_id;
	// Started with the summary at hand (something new was said since the
	// model's): never waiting for a model.
	assert.equal(r.json.summary.provider, 'local', JSON.stringify(r.json.summary));
	// The model's comes and replaces it.
	let t;
	for (let i = 0; i < 100; i++) {
		t = (await rest('GET', `/api/transfers/${id}`)).json;
		if (t.summary?.provider === 'openai') break;
		await new Promise((res) => setTimeout(res, 100));
	}
	assert.equal(t.summary.provider, 'openai', JSON.stringify(t));
	assert.equal(t.summary.issue, MODEL_SUMMARY.issue);
	const q = modelRequests('summary');
	assert.equal(q.length, asked + 1);
	assert.match(q.at(-1).messages[1].content, /Caller: can you send it by express/);

	await notes.until('transfer_accepted', () => notes.events.find((e) => e.type === 'transfer_accepted' && e.transfer_id === id), 10000);
	// ai_company: the AI agent is with the caller, who is not on hold.
	const inRoom = await participants(ROOM);
	assert.ok(inRoom.some((p) => p.kind === 'agent'), JSON.stringify(inRoom));
	assert.deepEqual(inRoom.filter((p) => p.kind !== 'agent').map((p) => [p.display, !!p.on_hold]), [['Caller', false]]);
	assert.ok(!inRoom.some((p) => p.id === alice.id), 'Alice is in the consult room');
	const initiated = notes.events.find((e) => e.type === 'transfer_initiated' && e.transfer_id === id);
	assert.equal(initiated.ai_company, true);

	const done = await rest('POST', '/api/transfer/complete', { transferId: id });
	assert.equal(done.status, 200, done.text);
	assert.equal(done.json.summary.provider, 'openai');
	const after = await participants(ROOM);
	assert.deepEqual(after.filter((p) => p.kind === 'sip').length, 1, JSON.stringify(after));
	assert.ok(!after.some((p) => p.kind === 'agent'), `the AI agent left again: ${JSON.stringify(after)}`);
	assert.ok(!after.some((p) => p.id === alice.id));
	const completed = await notes.until('transfer_completed', () => notes.events.find((e) => e.type === 'transfer_completed' && e.transfer_id === id), 5000);
	assert.equal(completed.summary.provider, 'openai');
	assert.ok(completed.duration_ms >= 0);

	// History: the record has the model's summary, the timings, the outcome.
	let h;
	for (let i = 0; i < 100; i++) {
		h = (await rest('GET', '/api/transfers/history')).json?.transfers?.find((x) => x.transfer_id === id);
		if (h?.state === 'completed') break;
		await new Promise((res) => setTimeout(res, 100));
	}
	assert.equal(h?.state, 'completed', JSON.stringify(h));
	assert.equal(h.from_agent, String(alice.id));
	assert.equal(h.to_target, NUMBER);
	assert.equal(h.target_kind, 'number');
	assert.equal(h.reason, 'delivery');
	assert.ok(h.initiated <= h.accepted && h.accepted <= h.completed, JSON.stringify(h));
	assert.equal(JSON.parse(h.summary).provider, 'openai');
	const calls = (await rest('GET', `/api/calls?q=${ROOM}`)).json.calls;
	const call = (await rest('GET', `/api/calls/${calls.find((c) => c.room === ROOM).id}`)).json;
	const rec = call.transfers.find((x) => x.transfer_id === id);
	assert.equal(rec?.state, 'completed', JSON.stringify(call.transfers));
	assert.ok(rec.completed >= rec.initiated);
	alice.close();
}

test('a failing provider: the extractive summary and the knowledge base, saying why', T, async () => {
	try {
		await failingProvider();
	} finally {
		mode = 'ok';
	}
});

async function failingProvider() {
	mode = 'error';
	await say('Caller', 'I am still waiting');
	const before = llm.requests.length;
	const r = await rest('POST', '/api/generate-summary', { room: ROOM });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.summary.provider, 'local');
	assert.match(r.json.summary.fallback_reason, /openai.*500/, JSON.stringify(r.json.summary));
	assert.match(r.json.summary.issue, /order 12345/);
	assert.equal(r.json.summary.caller.order, '12345');
	assert.ok(llm.requests.length > before, 'the model was asked first');

	const c = await rest('POST', '/api/chat', { room: ROOM, message: 'what is the status of order 12345' });
	assert.equal(c.status, 200, c.text);
	assert.equal(c.json.provider, 'local');
	assert.match(c.json.reply, /shipped on Monday/);
	assert.match(c.json.fallback_reason, /500/);

	// A model that answers something else than a summary: the same fallback.
	mode = 'garbage';
	const g = await rest('POST', '/api/generate-summary', { room: ROOM });
	assert.equal(g.status, 200, g.text);
	assert.equal(g.json.summary.provider, 'local');
	assert.match(g.json.summary.fallback_reason, /not a summary/);
	mode = 'ok';
	// Counted.
	const m = await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } }).then((r) => r.text());
	assert.match(m, /switchboard_transfer_ai_answers_total\{by="model"\} 5\n/);
	assert.match(m, /switchboard_transfer_ai_answers_total\{by="fallback"\} 3\n/);
	// Recovered: the model's again.
	await say('Caller', 'thanks');
	assert.equal((await rest('POST', '/api/generate-summary', { room: ROOM })).json.summary.provider, 'openai');
}
