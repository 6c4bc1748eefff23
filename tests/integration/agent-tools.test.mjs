// The agent acts on the business's own systems: tools declared in
// [agent] tools (a JSON file), called over HTTP with a signed request.
// A local HTTP server plays the business back end (it checks
// X-Switchboard-Signature); stand-in models speak the OpenAI and Anthropic
// wire formats and ask for tools (one, two in one turn, tools that time
// out, fail, answer garbage or 50 MB, arguments that break the schema); the
// embedded `local` engine calls lookup_order for "where is my order".  The
// caller is an RTP leg speaking espeak-ng speech.  Each call shows as an
// agent_tool event and a row of the call record; the answer is spoken.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { startJanus, adminRequest } from '../lib/janus.mjs';
import { pluginConfigWithStore, endedCall } from '../lib/store.mjs';
import { stub, sse, sleep } from './providers-lib.mjs';
import { speech8k as speechIn, callAgent, agentLine, toolEvents as toolEventsOf, asksOf, resultsOf, scenarioOf, openaiToolModel } from './agent-tools-lib.mjs';

const SECRET = crypto.randomBytes(24).toString('hex');
const API_TOKEN = `key-${crypto.randomBytes(8).toString('hex')}`;
let janus, notes, dir, backend, openai, anthropic, question, orderQuestion;

// The business back end: every request recorded with whether its
// signature is right; the answer depends on the path.
async function startBackend() {
	return stub(async (req, res, body) => {
		const rec = backend.requests.at(-1);
		const expected = `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
		rec.signed = req.headers['x-switchboard-signature'] === expected;
		const json = (status, obj) => {
			res.writeHead(status, { 'content-type': 'application/json' });
			res.end(JSON.stringify(obj));
		};
		if (!rec.signed) return json(401, { error: 'bad signature' });
		const call = JSON.parse(body.toString());
		switch (rec.path) {
		case '/orders':
			return json(200, { say: `Order ${call.arguments.order} left our warehouse this morning.`, status: 'shipped' });
		case '/weather':
			return json(200, { temp_c: 21, sky: 'clear' });
		case '/slow':
			await sleep(3000); // beyond its timeout_ms
			return json(200, { say: 'too late' });
		case '/broken':
			return json(500, { error: 'the database is down' });
		case '/huge': { // 50 MB, a megabyte at a time, while anyone reads
			res.writeHead(200, { 'content-type': 'application/json' });
			res.write('{"say":"');
			const mb = 'x'.repeat(1 << 20);
			for (let i = 0; i < 50 && !res.destroyed; i++) await new Promise((r) => res.write(mb, r));
			return res.end('"}');
		}
		default:
			res.writeHead(200, { 'content-type': 'text/plain' });
			return res.end('this is not JSON');
		}
	});
}

function toolsFile() {
	const url = (p) => `${backend.base}${p}`;
	const orderSchema = { type: 'object', properties: { order: { type: 'string', minLength: 3, maxLength: 12 } }, required: ['order'], additionalProperties: false };
	const tools = [
		{ name: 'lookup_order', description: 'Look up an order by its number.', parameters: orderSchema, url: url('/orders'), secret: 'env:SB_TEST_TOOL_SECRET', headers: { 'X-Api-Key': 'env:SB_TEST_TOOL_KEY' }, say_while_waiting: 'One moment, let me check.' },
		{ name: 'weather', description: 'The weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, url: url('/weather'), secret: SECRET },
		{ name: 'slow_tool', description: 'Slow.', url: url('/slow'), secret: SECRET, timeout_ms: 600 },
		{ name: 'broken_tool', description: 'Fails.', url: url('/broken'), secret: SECRET },
		{ name: 'garbage_tool', description: 'Answers garbage.', url: url('/garbage'), secret: SECRET },
		{ name: 'huge_tool', description: 'Answers too much.', url: url('/huge'), secret: SECRET },
		{ name: 'hold_tool', description: 'Slow but within its time.', url: url('/slow'), secret: SECRET, timeout_ms: 8000, say_while_waiting: 'Please hold on.' },
		// Refused at load, each with its reason; the rest load.
		{ name: 'bad name!', description: 'x', url: url('/orders') },
		{ name: 'lookup_order', description: 'A second one.', url: url('/orders') },
		{ name: 'no_url', description: 'x' },
		{ name: 'ftp_tool', description: 'x', url: 'ftp://example.com/x' },
		{ name: 'regex_tool', description: 'x', url: url('/orders'), parameters: { type: 'object', properties: { a: { type: 'string', pattern: '^a' } } } },
		{ name: 'unset_secret', description: 'x', url: url('/orders'), secret: 'env:SB_TEST_NO_SUCH_VARIABLE' },
		{ name: 'slow_forever', description: 'x', url: url('/slow'), timeout_ms: 3600000 },
		'not an object',
	];
	const file = join(dir, 'tools.json');
	writeFileSync(file, JSON.stringify(tools, null, 1));
	return file;
}

// What a scenario's model asks for; the scenario is in the room's persona.
const SCENARIOS = {
	one: [{ name: 'lookup_order', arguments: { order: '12345' } }],
	two: [{ name: 'lookup_order', arguments: { order: '777' } }, { name: 'weather', arguments: { city: 'Paris' } }],
	failing: [{ name: 'slow_tool', arguments: {} }, { name: 'broken_tool', arguments: {} }, { name: 'garbage_tool', arguments: {} }, { name: 'huge_tool', arguments: {} }],
	invalid: [{ name: 'lookup_order', arguments: { order: 12345 } }, { name: 'no_such_tool', arguments: {} }],
	hold: [{ name: 'hold_tool', arguments: {} }],
};

// The answer a model gives once the tools answered: each result's say,
// else what it said or that it failed.
function answerFrom(results) {
	return results.map(({ name, content }) => {
		const c = JSON.parse(content);
		if (c.say) return c.say;
		if (c.error) return `The ${name.replace('_', ' ')} failed.`;
		return `The ${name} is ${Object.values(c).join(' and ')}.`;
	}).join(' ');
}

// Once its call was cut off, the hold scenario just listens.
const openaiModel = openaiToolModel(SCENARIOS, answerFrom, ['hold']);

async function anthropicModel(req, res, body) {
	const q = JSON.parse(body.toString());
	const last = q.messages.at(-1);
	const ev = (type, data) => ({ event: type, data: { type, ...data } });
	const stream = [ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: q.model, usage: { input_tokens: 1, output_tokens: 0 } } })];
	const results = Array.isArray(last.content) ? last.content.filter((b) => b.type === 'tool_result') : [];
	if (results.length) {
		const uses = q.messages.at(-2).content.filter((b) => b.type === 'tool_use');
		const text = answerFrom(results.map((r) => ({ name: uses.find((u) => u.id === r.tool_use_id).name, content: r.content })));
		stream.push(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
			ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }),
			ev('content_block_stop', { index: 0 }));
	} else {
		stream.push(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
			ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Let me look.' } }),
			ev('content_block_stop', { index: 0 }));
		(SCENARIOS[scenarioOf(q.system)] || []).forEach((c, i) => {
			const index = i + 1;
			const args = JSON.stringify(c.arguments);
			stream.push(ev('content_block_start', { index, content_block: { type: 'tool_use', id: `toolu_${index}_${crypto.randomBytes(4).toString('hex')}`, name: c.name, input: {} } }));
			for (let k = 0; k < args.length; k += 4) stream.push(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: args.slice(k, k + 4) } }));
			stream.push(ev('content_block_stop', { index }));
		});
	}
	stream.push(ev('message_delta', { delta: { stop_reason: results.length ? 'end_turn' : 'tool_use' }, usage: { output_tokens: 5 } }), ev('message_stop', {}));
	return sse(res, stream);
}

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-tools-'));
	backend = await startBackend();
	openai = await stub(openaiModel);
	anthropic = await stub(anthropicModel);
	question = speech8k('hours', 'What are your opening hours?');
	orderQuestion = speech8k('order', 'Order one two three four five.', 160);
	let conf = pluginConfigWithStore(join(dir, 'calls.db'));
	conf = conf.replace('providers: {', `providers: {
	standin_openai: { type = "openai", base_url = "${openai.base}/v1", api_key = "sk-test", llm_model = "gpt-4o-mini" }
	standin_anthropic: { type = "anthropic", base_url = "${anthropic.base}/v1", api_key = "ak-test", llm_model = "claude-haiku-4-5" }`);
	conf = conf.replace(/^agent: \{\n/m, `agent: {\n\ttools = "${toolsFile()}"\n`);
	janus = await startJanus({ pluginConfig: conf, env: { SB_TEST_TOOL_SECRET: SECRET, SB_TEST_TOOL_KEY: API_TOKEN } });
	notes = await openNotifications();
}, { timeout: 120000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	await backend?.close();
	await openai?.close();
	await anthropic?.close();
	if (dir) rmSync(dir, { recursive: true, force: true });
}, { timeout: 60000 });

const speech8k = (name, text, speed) => speechIn(dir, name, text, speed);
const call = (room, agent, done, speech = question) => callAgent(notes, room, agent, speech, done);
const toolEvents = (inRoom) => toolEventsOf(notes, inRoom);

test('bad entries of tools.json are refused with clear log lines, the rest load', { timeout: 10000 }, async () => {
	const log = janus.output();
	assert.match(log, /tools: 7 loaded from /);
	for (const why of [
		/entry 7 \("bad name!"\) skipped: "name" must be 1 to 64 of a-z A-Z 0-9 _ -/,
		/entry 8 \("lookup_order"\) skipped: "lookup_order" is declared twice/,
		/entry 9 \("no_url"\) skipped: "url" must be an http:\/\/ or https:\/\/ URL/,
		/entry 10 \("ftp_tool"\) skipped: "url" must be/,
		/entry 11 \("regex_tool"\) skipped: "parameters": properties.a: unknown keyword "pattern"/,
		/entry 12 \("unset_secret"\) skipped: "secret": env:SB_TEST_NO_SUCH_VARIABLE is not set/,
		/entry 13 \("slow_forever"\) skipped: "timeout_ms" must be a whole number from 1 to 30000/,
		/entry 14 skipped: must be an object/,
	]) assert.match(log, why);
	assert.doesNotMatch(log, new RegExp(SECRET), 'the secret is never logged');
	// A room names tools by name only: an unknown name or a URL is refused.
	for (const tools of [['lookup_order', 'no_such_tool'], [`${backend.base}/orders`], 'lookup_order']) {
		const r = await rest('POST', '/room/create', { roomName: `tools-refused-${process.pid}`, agent: { tools } });
		assert.equal(r.status, 400, JSON.stringify(r.json));
		assert.match(r.json.error.message, /tools: a list of the names \[agent\] tools declares/);
	}
	assert.equal((await rest('GET', `/rooms/tools-refused-${process.pid}`)).status, 404, 'nothing was made');
});

test('OpenAI: a tool call is signed, answered, fed back as role tool, and the answer spoken and recorded', { timeout: 120000 }, async () => {
	const room = `tools-openai-one-${process.pid}`;
	const before = backend.requests.length;
	const { answer, tool } = await call(room, { llm: ['standin_openai'], persona: 'Scenario: one' }, async (inRoom) => {
		const tool = await notes.until('the agent_tool event', () => toolEvents(inRoom)[0], 40000);
		const answer = await notes.until('the answer', () => notes.events.find(agentLine(inRoom, /left our warehouse/)), 30000);
		return { answer, tool };
	});
	// The back end got one signed request with the tool, the arguments and the call.
	const reqs = backend.requests.slice(before);
	assert.ok(reqs.length >= 1);
	const q = reqs.at(-1);
	assert.equal(q.signed, true);
	assert.equal(q.method, 'POST');
	assert.equal(q.headers['x-api-key'], API_TOKEN);
	assert.equal(q.headers['content-type'], 'application/json');
	const sent = JSON.parse(q.body.toString());
	assert.equal(sent.tool, 'lookup_order');
	assert.deepEqual(sent.arguments, { order: '12345' });
	assert.equal(sent.call.room, room);
	assert.equal(sent.call.caller, 'Caller');
	assert.equal(typeof sent.call.interface, 'string');
	// The model: offered the tool with its schema, then given the result.
	const asks = asksOf(openai, 'one');
	const offered = asks[0].tools.map((t) => t.function.name);
	assert.deepEqual(offered.slice(0, 2), ['transfer_to_human', 'end_call']);
	assert.ok(offered.includes('lookup_order') && offered.includes('weather'), offered.join());
	assert.equal(asks[0].tools.find((t) => t.function.name === 'lookup_order').function.parameters.required[0], 'order');
	const msgs = asks[1].messages;
	const assistant = msgs.at(-2);
	assert.equal(assistant.role, 'assistant');
	assert.equal(assistant.tool_calls[0].function.name, 'lookup_order');
	assert.deepEqual(JSON.parse(assistant.tool_calls[0].function.arguments), { order: '12345' });
	assert.equal(msgs.at(-1).role, 'tool');
	assert.equal(msgs.at(-1).tool_call_id, assistant.tool_calls[0].id);
	assert.equal(JSON.parse(msgs.at(-1).content).status, 'shipped');
	// Spoken while waiting, then the answer, in the agent's transcript line.
	assert.match(answer.text, /One moment, let me check\. Order 12345 left our warehouse this morning\./);
	assert.equal(tool.tool, 'lookup_order');
	assert.equal(tool.status, 'ok');
	assert.deepEqual(tool.arguments, { order: '12345' });
	assert.ok(Number.isInteger(tool.latency_ms) && tool.latency_ms >= 0, JSON.stringify(tool));
	assert.equal(tool.http_status, 200);
	// The call record has the row.
	const record = await endedCall(room);
	const row = record.tool_calls.find((r) => r.status === 'ok');
	assert.ok(row, JSON.stringify(record.tool_calls));
	assert.equal(row.tool, 'lookup_order');
	assert.equal(row.status, 'ok');
	assert.deepEqual(JSON.parse(row.arguments), { order: '12345' });
	assert.ok(Number.isInteger(row.latency_ms), JSON.stringify(row));
});

test('OpenAI: two tools in one turn, both answered, one spoken answer', { timeout: 120000 }, async () => {
	const room = `tools-openai-two-${process.pid}`;
	const answer = await call(room, { llm: ['standin_openai'], persona: 'Scenario: two' }, async (inRoom) => {
		await notes.until('two agent_tool events', () => toolEvents(inRoom).length >= 2, 40000);
		return notes.until('the answer', () => notes.events.find(agentLine(inRoom, /weather is 21/)), 30000);
	});
	assert.match(answer.text, /Order 777 left our warehouse this morning\. The weather is 21 and clear\./);
	const tools = toolEvents((e) => e.room === room).map((e) => `${e.tool}:${e.status}`).sort();
	assert.deepEqual(tools, ['lookup_order:ok', 'weather:ok']);
	const asks = asksOf(openai, 'two');
	const results = resultsOf(asks[1]);
	assert.equal(results.length, 2);
	const ids = asks[1].messages.at(-3).tool_calls.map((c) => c.id);
	assert.deepEqual(results.map((m) => m.tool_call_id), ids);
	const record = await endedCall(room);
	assert.deepEqual(record.tool_calls.filter((r) => r.status === 'ok').map((r) => r.tool).sort(), ['lookup_order', 'weather']);
});

test('Anthropic: tool_use blocks streamed as input_json_delta, results as tool_result, the answer spoken', { timeout: 120000 }, async () => {
	const room = `tools-anthropic-${process.pid}`;
	const answer = await call(room, { llm: ['standin_anthropic'], persona: 'Scenario: two' }, async (inRoom) => {
		await notes.until('two agent_tool events', () => toolEvents(inRoom).length >= 2, 40000);
		return notes.until('the answer', () => notes.events.find(agentLine(inRoom, /weather is 21/)), 30000);
	});
	assert.match(answer.text, /Let me look\. Order 777 left our warehouse this morning\. The weather is 21 and clear\./);
	const asks = asksOf(anthropic, 'two', (b) => b.system);
	assert.ok(asks[0].tools.some((t) => t.name === 'lookup_order' && t.input_schema.properties.order));
	const [assistant, results] = asks[1].messages.slice(-2);
	assert.equal(assistant.role, 'assistant');
	assert.deepEqual(assistant.content.map((b) => b.type), ['text', 'tool_use', 'tool_use']);
	assert.deepEqual(assistant.content[1].input, { order: '777' });
	assert.equal(results.role, 'user');
	assert.deepEqual(results.content.map((b) => b.type), ['tool_result', 'tool_result']);
	assert.deepEqual(results.content.map((b) => b.tool_use_id), assistant.content.slice(1).map((b) => b.id));
	const record = await endedCall(room);
	assert.deepEqual(record.tool_calls.filter((r) => r.status === 'ok').map((r) => `${r.tool}:${r.status}`).sort(), ['lookup_order:ok', 'weather:ok']);
});

test('a tool that times out, answers 500, garbage or 50 MB is reported to the model; the call goes on', { timeout: 120000 }, async () => {
	const room = `tools-failing-${process.pid}`;
	const t0 = Date.now();
	const answer = await call(room, { llm: ['standin_openai'], persona: 'Scenario: failing' }, async (inRoom) => {
		await notes.until('four agent_tool events', () => toolEvents(inRoom).length >= 4, 40000);
		return notes.until('the answer', () => notes.events.find(agentLine(inRoom, /failed/)), 30000);
	});
	assert.match(answer.text, /The slow tool failed\. The broken tool failed\. The garbage tool failed\. The huge tool failed\./);
	const byTool = Object.fromEntries(toolEvents((e) => e.room === room).map((e) => [e.tool, e]));
	assert.equal(byTool.slow_tool.status, 'timeout');
	assert.ok(byTool.slow_tool.latency_ms < 2500, `the timeout held: ${byTool.slow_tool.latency_ms} ms`);
	assert.equal(byTool.broken_tool.status, 'http_error');
	assert.equal(byTool.broken_tool.http_status, 500);
	assert.equal(byTool.garbage_tool.status, 'bad_reply');
	assert.match(byTool.garbage_tool.error, /not a JSON object/);
	assert.equal(byTool.huge_tool.status, 'bad_reply');
	assert.match(byTool.huge_tool.error, /larger than 65536 bytes/);
	// What the model was told.
	const asks = asksOf(openai, 'failing');
	const told = resultsOf(asks[1]).map((m) => JSON.parse(m.content));
	assert.deepEqual(told.map((c) => c.status), ['timeout', 'http_error', 'bad_reply', 'bad_reply']);
	assert.match(told[1].error, /HTTP 500/);
	assert.ok(Date.now() - t0 < 100000);
	const metrics = (await rest('GET', '/metrics')).text;
	for (const status of ['timeout', 'http_error', 'bad_reply']) assert.match(metrics, new RegExp(`switchboard_agent_tool_calls_total\\{status="${status}"\\} [1-9]`));
	const record = await endedCall(room);
	for (const status of ['bad_reply', 'http_error', 'timeout'])
		assert.ok(record.tool_calls.some((r) => r.status === status), `${status}: ${JSON.stringify(record.tool_calls)}`);
});

test('arguments that break the schema and unknown tools are never sent; the model hears why', { timeout: 120000 }, async () => {
	const room = `tools-invalid-${process.pid}`;
	const before = backend.requests.length;
	await call(room, { llm: ['standin_openai'], persona: 'Scenario: invalid' }, async (inRoom) => {
		await notes.until('two agent_tool events', () => toolEvents(inRoom).length >= 2, 40000);
		return notes.until('the answer', () => notes.events.find(agentLine(inRoom, /failed/)), 30000);
	});
	assert.equal(backend.requests.length, before, 'nothing reached the back end');
	const byTool = Object.fromEntries(toolEvents((e) => e.room === room).map((e) => [e.tool, e]));
	assert.equal(byTool.lookup_order.status, 'invalid_arguments');
	assert.match(byTool.lookup_order.error, /order: must be a string/);
	assert.equal(byTool.no_such_tool.status, 'unknown_tool');
	const asks = asksOf(openai, 'invalid');
	const told = resultsOf(asks[1]).map((m) => JSON.parse(m.content));
	assert.match(told[0].error, /invalid_arguments: order: must be a string/);
	assert.match(told[1].error, /unknown_tool/);
});

// Over 8 kHz G.711 the recogniser may mishear a digit ("one eight two …"):
// the number is whatever it heard, and the answer must be the back end's
// for that number, never the knowledge base's.
test('the embedded engine calls lookup_order for an order number and speaks the back end\'s answer', { timeout: 120000 }, async () => {
	const room = `tools-local-${process.pid}`;
	const before = backend.requests.length;
	const answer = await call(room, { llm: ['local'], tools: ['lookup_order'] }, async (inRoom) =>
		notes.until('the answer', () => notes.events.find(agentLine(inRoom, /left our warehouse/)), 60000), orderQuestion);
	const q = backend.requests.slice(before).find((r) => r.path === '/orders');
	assert.ok(q, 'the back end was asked');
	assert.equal(q.signed, true);
	const sent = JSON.parse(q.body.toString());
	assert.equal(sent.tool, 'lookup_order');
	assert.deepEqual(Object.keys(sent.arguments), ['order']);
	assert.match(sent.arguments.order, /^\d{3,}$/);
	assert.match(answer.text, new RegExp(`Order ${sent.arguments.order} left our warehouse this morning\\.`));
	assert.doesNotMatch(answer.text, /shipped on|couldn't find/i, 'not the knowledge base\'s answer');
	const record = await endedCall(room);
	assert.ok(record.tool_calls.some((r) => r.tool === 'lookup_order' && r.status === 'ok'), JSON.stringify(record.tool_calls));
});

test('a caller who talks while a tool runs cancels it: its answer is never spoken', { timeout: 120000 }, async () => {
	const room = `tools-hold-${process.pid}`;
	await call(room, { llm: ['standin_openai'], persona: 'Scenario: hold' }, async (inRoom, speakAgain) => {
		await notes.until('the back end asked', () => backend.requests.some((r) => r.path === '/slow' && JSON.parse(r.body.toString()).call.room === room), 40000);
		await sleep(1000); // "Please hold on." under way
		speakAgain(); // while the back end takes 3 s
		const cancelled = await notes.until('the cancelled call', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_tool' && e.status === 'cancelled'), 20000);
		assert.equal(cancelled.tool, 'hold_tool');
		// Past the back end's answer: it is never spoken.
		await sleep(4000);
		assert.ok(!notes.events.some(agentLine(inRoom, /too late/)), 'the cancelled answer was not spoken');
	});
	const record = await endedCall(room);
	assert.ok(record.tool_calls.some((r) => r.tool === 'hold_tool' && r.status === 'cancelled'), JSON.stringify(record.tool_calls));
});

test('reload_providers reads tools.json again: agents that start afterwards get the new set', { timeout: 20000 }, async () => {
	const file = join(dir, 'tools.json');
	const tools = JSON.parse(readFileSync(file, 'utf8'));
	writeFileSync(file, JSON.stringify(tools.filter((t) => t.name === 'lookup_order').slice(0, 1)));
	const r = await adminRequest({ request: 'reload_providers' });
	assert.equal(r.switchboard, 'success', JSON.stringify(r));
	await notes.until('the reload logged', () => /tools: 1 loaded from /.test(janus.output()), 5000);
	const refused = await rest('POST', '/room/create', { roomName: `tools-reloaded-${process.pid}`, agent: { tools: ['weather'] } });
	assert.equal(refused.status, 400, JSON.stringify(refused.json));
	const made = await rest('POST', '/room/create', { roomName: `tools-reloaded-${process.pid}`, agent: { tools: ['lookup_order'] } });
	assert.equal(made.status, 201, JSON.stringify(made.json));
	assert.ok([200, 204, 404].includes((await rest('DELETE', `/rooms/tools-reloaded-${process.pid}`)).status));
});
