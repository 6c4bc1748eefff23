// The analysis of every call, on the embedded stack: a phone caller asks
// the AI agent a question; each of the caller's final transcript lines
// carries its sentiment live (the agent's do not); when the call ends its
// analysis — disposition, goal, sentiment over the call and at its end,
// the fields [analysis] fields asks for — is in the call record, filters
// /api/calls, and reaches the [webhooks] receiver as `call_analysis`,
// signed.  A call where the caller never speaks is "abandoned".  With a
// language model ([analysis] llm: an OpenAI-wire stand-in here) its answer
// corrects the engine's; a model that answers garbage or too late leaves
// the engine's analysis, with why.  Bad filters are refused; a fields
// schema the analysis cannot follow turns it off with a clear log line,
// and the calls go on.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest, startJanus, API_URL, API_KEY, repoRoot } from '../lib/janus.mjs';
import { openNotifications } from '../lib/notifications.mjs';
import { phoneCaller, speech8k } from '../lib/phone-caller.mjs';
import { stub, sse, openaiChunks } from './providers-lib.mjs';

const SECRET = 'analysis-secret-0123456789abcdef';
const FIELDS = { type: 'object', properties: { order_number: { type: 'string' }, callback_time: { type: 'string' }, hours_asked: { type: 'boolean', pattern: '(?i)hours' } } };
let janus, notes, dir, server, port;
const hooks = []; // verified webhook bodies

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rest = async (path) => {
	const res = await fetch(`${API_URL}${path}`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(5000) });
	return { status: res.status, json: await res.json().catch(() => null) };
};

function verified(raw, authorization) {
	const [h, c, sig] = String(authorization).split('.');
	if (createHmac('sha256', SECRET).update(`${h}.${c}`).digest('base64url') !== sig) return false;
	return JSON.parse(Buffer.from(c, 'base64url')).sha256 === createHash('sha256').update(raw).digest('base64');
}

const config = (fields, { model } = {}) => {
	let conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []');
	if (model) conf = conf.replace('providers: {', `providers: {\n\tstandin_openai: { type = "openai", base_url = "${model.base}/v1", api_key = "sk-test", llm_model = "gpt-4o-mini" }`);
	return conf +
		`\nwebhooks: {\n\turls = ["http://127.0.0.1:${port}/events"]\n\tsecret = "${SECRET}"\n\tevents = ["call_analysis"]\n}\n` +
		`\nanalysis: {\n\tfields = "${fields}"\n${model ? '\tllm = ["standin_openai"]\n\ttimeout_ms = 3000\n' : ''}}\n`;
};

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-analysis-'));
	server = createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			const raw = Buffer.concat(chunks).toString('utf8');
			hooks.push({ ok: verified(raw, req.headers.authorization), ev: JSON.parse(raw) });
			res.writeHead(200).end();
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	port = server.address().port;
	writeFileSync(join(dir, 'fields.json'), JSON.stringify(FIELDS));
	janus = await startJanus({ pluginConfig: config(join(dir, 'fields.json')) });
	notes = await openNotifications();
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	server.closeAllConnections();
	await new Promise((r) => server.close(r));
	if (dir) rmSync(dir, { recursive: true, force: true });
}, { timeout: 30000 });

async function callOf(room) {
	const end = Date.now() + 15000;
	for (;;) {
		const listed = (await rest(`/api/calls?q=${encodeURIComponent(room)}`)).json?.calls?.[0];
		if (listed) {
			const call = (await rest(`/api/calls/${listed.id}`)).json;
			if (call?.analysis) return { listed: (await rest(`/api/calls?q=${encodeURIComponent(room)}`)).json.calls[0], call };
		}
		if (Date.now() > end) throw new Error(`no analysed call for ${room}`);
		await sleep(200);
	}
}

test('a call answered by the agent: live sentiment on the caller\'s lines, then its analysis in the record and at the webhook', { timeout: 90000 }, async () => {
	const room = `analysed-${Math.random().toString(36).slice(2, 8)}`;
	const question = speech8k(dir, 'hours', 'What are your opening hours?');
	assert.equal((await adminRequest({ request: 'create', room })).switchboard, 'created');
	assert.equal((await adminRequest({ request: 'agent', room, enable: true })).switchboard, 'agent');
	const caller = await phoneCaller(room);
	try {
		await notes.until('the greeting to end', () => notes.events.find((e) => e.room === room && e.type === 'agent_state' && e.state === 'listening'), 30000);
		const from = Date.now();
		await caller.say(question);
		const turn = await notes.until('the answer', () => notes.events.find((e) => e.room === room && e.type === 'agent_turn' && e.timestamp >= from), 30000);
		assert.match(turn.agent_text, /monday|friday|open/i);
	} finally {
		caller.stop();
	}
	const finals = notes.events.filter((e) => e.room === room && e.type === 'transcript' && e.final);
	const callerLines = finals.filter((e) => e.speaker !== 'AI Agent');
	const agentLines = finals.filter((e) => e.speaker === 'AI Agent');
	assert.ok(callerLines.length >= 1 && agentLines.length >= 1, JSON.stringify(finals));
	for (const l of callerLines) {
		assert.ok(['negative', 'neutral', 'positive'].includes(l.sentiment?.label), JSON.stringify(l));
		assert.equal(typeof l.sentiment.mood, 'number');
	}
	for (const l of agentLines) assert.equal(l.sentiment, undefined, 'the agent\'s words are not the caller\'s mood');

	assert.equal((await adminRequest({ request: 'destroy', room })).switchboard, 'destroyed');
	const { listed, call } = await callOf(room);
	const a = call.analysis;
	assert.equal(a.engine, 'local');
	assert.equal(a.disposition, 'resolved', JSON.stringify(a));
	assert.equal(a.goal_met, true);
	assert.ok(a.topics.includes('hours'), JSON.stringify(a.topics));
	assert.match(a.summary, /hours/i);
	assert.equal(a.sentiment.timeline.length, a.caller_turns);
	assert.ok(a.caller_turns >= 1);
	assert.ok(['negative', 'neutral', 'positive'].includes(a.sentiment.overall));
	assert.ok(a.sentiment.score >= -1 && a.sentiment.score <= 1);
	assert.deepEqual(Object.keys(a.fields).sort(), ['callback_time', 'hours_asked', 'order_number']);
	assert.equal(a.fields.hours_asked, true, 'the pattern found "hours" in the caller\'s words');
	assert.equal(a.fields.order_number, null, 'no order was said');
	assert.equal(listed.disposition, 'resolved');
	assert.equal(listed.sentiment, a.sentiment.overall);

	// Filters: this call is among the resolved, not the abandoned.
	const resolved = (await rest(`/api/calls?disposition=resolved&q=${room}`)).json.calls;
	assert.deepEqual(resolved.map((c) => c.id), [call.id]);
	assert.deepEqual((await rest(`/api/calls?disposition=abandoned&q=${room}`)).json.calls, []);
	assert.deepEqual((await rest(`/api/calls?sentiment=${a.sentiment.overall}&q=${room}`)).json.calls.map((c) => c.id), [call.id]);

	// The webhook: signed, the same analysis.
	const hook = await notes.until('call_analysis at the webhook', () => hooks.find((h) => h.ev.room === room), 15000);
	assert.equal(hook.ok, true, 'signed by [webhooks] secret over the exact body');
	assert.equal(hook.ev.type, 'call_analysis');
	assert.deepEqual(hook.ev.analysis, a);
});

test('a call where the caller never speaks is abandoned; bad filters are refused', { timeout: 60000 }, async () => {
	const room = `silent-${Math.random().toString(36).slice(2, 8)}`;
	assert.equal((await adminRequest({ request: 'create', room })).switchboard, 'created');
	const caller = await phoneCaller(room);
	await sleep(500);
	caller.stop();
	assert.equal((await adminRequest({ request: 'destroy', room })).switchboard, 'destroyed');
	const { call } = await callOf(room);
	assert.equal(call.analysis.disposition, 'abandoned');
	assert.equal(call.analysis.goal_met, false);
	assert.equal(call.analysis.caller_turns, 0);
	assert.deepEqual(call.analysis.sentiment.timeline, []);
	for (const [q, word] of [['disposition=happy', 'disposition'], ['sentiment=angry', 'sentiment'], ['disposition=', 'disposition']]) {
		const r = await rest(`/api/calls?${q}`);
		assert.equal(r.status, 400, q);
		assert.match(r.json.error?.message || JSON.stringify(r.json), new RegExp(word));
	}
});

test('a fields schema the analysis cannot follow: the analysis is off, said in the log, and calls go on', { timeout: 60000 }, async () => {
	notes.close();
	notes = null;
	await janus.stop();
	janus = null;
	writeFileSync(join(dir, 'bad.json'), JSON.stringify({ type: 'object', properties: { order: { type: 'string', pattern: '(unclosed' } } }));
	janus = await startJanus({ pluginConfig: config(join(dir, 'bad.json')) });
	assert.match(janus.output(), /\[analysis\] fields: property "order": pattern/);
	assert.match(janus.output(), /the analysis of every call did not start: that part is OFF/);
	assert.equal((await adminRequest({ request: 'create', room: 'after-bad-fields' })).switchboard, 'created');
	const text = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
	assert.doesNotMatch(text, /switchboard_calls_analysed_total/);
});

// The stand-in model: the first analysis is a good one, the second is not
// JSON, the third comes after the 3 s the analysis waits.
let model;
const modelAnswers = [
	(res) => sse(res, openaiChunks(['```json\n{"summary": "The caller asked when the shop opens and was told.", ',
		'"disposition": "resolved", "goal_met": true, "sentiment": {"overall": "positive", "end": "positive"}, ',
		'"fields": {"order_number": "A-77", "callback_time": 5, "hours_asked": true, "invented": "x"}}\n```'])),
	(res) => sse(res, openaiChunks(['I think the call went well.'])),
	async (res) => { await sleep(5000); return sse(res, openaiChunks(['{}'])); },
];

async function spokenCall(prefix) {
	const room = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
	const question = speech8k(dir, 'hours', 'What are your opening hours?');
	assert.equal((await adminRequest({ request: 'create', room })).switchboard, 'created');
	assert.equal((await adminRequest({ request: 'agent', room, enable: true })).switchboard, 'agent');
	const caller = await phoneCaller(room);
	try {
		await notes.until('the greeting to end', () => notes.events.find((e) => e.room === room && e.type === 'agent_state' && e.state === 'listening'), 30000);
		const from = Date.now();
		await caller.say(question);
		await notes.until('the answer', () => notes.events.find((e) => e.room === room && e.type === 'agent_turn' && e.timestamp >= from), 30000);
	} finally {
		caller.stop();
	}
	assert.equal((await adminRequest({ request: 'destroy', room })).switchboard, 'destroyed');
	return (await callOf(room)).call.analysis;
}

test('a language model corrects the engine\'s analysis; garbage or a late answer leaves the engine\'s, with why', { timeout: 120000 }, async () => {
	notes?.close();
	await janus?.stop();
	janus = null;
	model = await stub((req, res, body, n) => modelAnswers[Math.min(n, modelAnswers.length) - 1](res));
	try {
		janus = await startJanus({ pluginConfig: config(join(dir, 'fields.json'), { model }) });
		notes = await openNotifications();
		const a = await spokenCall('by-model');
		assert.equal(a.engine, 'llm', JSON.stringify(a));
		assert.equal(a.provider, 'standin_openai');
		assert.equal(a.summary, 'The caller asked when the shop opens and was told.');
		assert.equal(a.disposition, 'resolved');
		assert.equal(a.sentiment.overall, 'positive');
		assert.equal(a.sentiment.timeline.length, a.caller_turns, 'the timeline stays the lexicon\'s');
		assert.equal(a.fields.order_number, 'A-77', 'the model\'s reading of a field');
		assert.equal(a.fields.callback_time, null, 'a value of the wrong type is not taken');
		assert.equal(a.fields.invented, undefined, 'only the fields the schema asks for');
		// What the model was asked: the transcript, the schema, the engine's reading.
		const asked = model.json(0);
		const prompt = JSON.stringify(asked.messages);
		assert.match(prompt, /You analyse a finished phone call/);
		assert.match(prompt, /Caller: .*hours/i);
		assert.match(prompt, /order_number/);

		const garbage = await spokenCall('model-garbage');
		assert.equal(garbage.engine, 'local');
		assert.equal(garbage.fallback_reason, 'the model\'s answer is not an analysis');
		assert.equal(garbage.disposition, 'resolved', 'the engine\'s own');

		const t0 = Date.now();
		const late = await spokenCall('model-late');
		assert.equal(late.engine, 'local');
		// The chain's first-output bound (timeout_ms) or the analysis's wait, whichever says it first.
		assert.match(late.fallback_reason, /no (output|answer) within 3000 ms/, late.fallback_reason);
		assert.ok(Date.now() - t0 < 60000);
	} finally {
		await model.close();
	}
});
