// The agent's tools from MCP servers ([agent] mcp_servers): real servers
// built with the official @modelcontextprotocol/sdk (McpServer on its
// StreamableHTTPServerTransport, stateful, on loopback in this process)
// are listed at start-up, their tools offered to an OpenAI-wire stand-in
// model as <server>__<tool>, and called with tools/call when the model
// asks — the same tool-call operation as the HTTP tools: an agent_tool
// event, a row of the call record, the answer spoken.  Bad input: a tool
// whose schema Switchboard cannot check (skipped, said), a list over the
// cap, a tool that says it failed (isError), a JSON-RPC error, garbage, a
// huge answer, a server that drops the connection mid-call, a caller who
// talks while a tool runs (the call cancelled), an expired
// session (404: initialized again), a server down at start-up that
// reload_providers picks up once it is there.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { openNotifications, rest } from '../lib/notifications.mjs';
import { startJanus, adminRequest } from '../lib/janus.mjs';
import { track } from '../lib/resources.mjs';
import { pluginConfigWithStore, endedCall } from '../lib/store.mjs';
import { stub, sleep } from './providers-lib.mjs';
import { speech8k, callAgent, agentLine, toolEvents, asksOf, resultsOf, openaiToolModel } from './agent-tools-lib.mjs';

const TOKEN = `mcp-${crypto.randomBytes(8).toString('hex')}`;
let janus, notes, dir, openai, question, shop, many, late, latePort;

// An MCP server over Streamable HTTP, one transport per session (as the
// SDK's examples do), with what the test needs around it: every JSON-RPC
// message received (with its session header and Authorization), sessions
// that can be made to expire (their ids then answer 404, as the spec
// says), and a few tools whose answers are made outside the SDK (garbage,
// a huge body, a JSON-RPC error, a dropped connection).  json: answer
// application/json instead of SSE; pageSize: answer tools/list here, in
// pages of that many tools, following the cursor.
async function startMcp(name, register, { port = 0, json = false, pageSize = 0 } = {}) {
	const received = [];
	const sessions = new Map();
	const expired = new Set();
	const server = http.createServer(async (req, res) => {
		const chunks = [];
		for await (const c of req) chunks.push(c);
		const text = Buffer.concat(chunks).toString();
		let body;
		try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
		const sid = req.headers['mcp-session-id'];
		received.push({ method: req.method, body, sid, auth: req.headers.authorization, version: req.headers['mcp-protocol-version'] });
		if (req.headers.authorization !== `Bearer ${TOKEN}`) { res.writeHead(401).end(); return; }
		if (sid && (expired.has(sid) || !sessions.has(sid))) {
			res.writeHead(404, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
			return;
		}
		const call = body?.method === 'tools/call' ? body.params.name : null;
		if (call === 'vanish') { req.socket.destroy(); return; } // gone mid-call
		if (call === 'garbage') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('this is not JSON'); return; }
		if (call === 'rpc_error') {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: -32603, message: 'the order system threw' } }));
			return;
		}
		if (call === 'huge') { // 20 MB while anyone reads
			res.writeHead(200, { 'content-type': 'text/event-stream' });
			const mb = `data: ${'x'.repeat(1 << 20)}\n`;
			for (let i = 0; i < 20 && !res.destroyed; i++) await new Promise((r) => res.write(mb, r));
			res.end();
			return;
		}
		if (pageSize && body?.method === 'tools/list') {
			const tools = [];
			register({ registerTool: (n, { description }) => tools.push({ name: n, description, inputSchema: { type: 'object', properties: {} } }) });
			const from = Number(body.params?.cursor || 0);
			const next = from + pageSize < tools.length ? String(from + pageSize) : undefined;
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { tools: tools.slice(from, from + pageSize), nextCursor: next } }));
			return;
		}
		let transport = sid && sessions.get(sid);
		if (!transport) {
			transport = new StreamableHTTPServerTransport({
				enableJsonResponse: json,
				sessionIdGenerator: () => crypto.randomUUID(),
				onsessioninitialized: (id) => sessions.set(id, transport),
			});
			const mcp = new McpServer({ name, version: '1.0.0' });
			register(mcp);
			await mcp.connect(transport);
		}
		await transport.handleRequest(req, res, body);
	});
	await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
	const untrack = track(`MCP server ${name}`, () => server.closeAllConnections());
	return {
		url: `http://127.0.0.1:${server.address().port}/mcp`,
		port: server.address().port,
		received,
		expireSessions: () => { for (const id of sessions.keys()) expired.add(id); },
		calls: (tool) => received.filter((m) => m.body?.method === 'tools/call' && m.body.params.name === tool),
		close: async () => {
			untrack();
			server.closeAllConnections();
			await new Promise((r) => server.close(r));
		},
	};
}

function registerShop(mcp) {
	mcp.registerTool('lookup_order', { description: 'Look up an order by its number.', inputSchema: { order: z.string().min(3).max(12) } },
		async ({ order }) => ({ content: [{ type: 'text', text: `Order ${order} left our warehouse this morning.` }], structuredContent: { status: 'shipped' }, }));
	mcp.registerTool('broken', { description: 'Fails.', inputSchema: {} },
		async () => ({ content: [{ type: 'text', text: 'The order database is down.' }], isError: true }));
	mcp.registerTool('slow', { description: 'Slow.', inputSchema: {} },
		async () => { await sleep(3000); return { content: [{ type: 'text', text: 'Too late.' }] }; });
	for (const name of ['vanish', 'garbage', 'rpc_error', 'huge'])
		mcp.registerTool(name, { description: `Misbehaves (${name}).`, inputSchema: {} }, async () => ({ content: [] }));
	// A pattern is outside the schema subset Switchboard checks: skipped.
	mcp.registerTool('regex_tool', { description: 'x', inputSchema: { code: z.string().regex(/^a+$/) } }, async () => ({ content: [] }));
}

function registerMany(mcp) {
	for (let i = 0; i < 70; i++) mcp.registerTool(`t${i}`, { description: `Tool ${i}.`, inputSchema: {} }, async () => ({ content: [] }));
}

function registerLate(mcp) {
	mcp.registerTool('opening_hours', { description: 'Today\'s opening hours.', inputSchema: {} },
		async () => ({ content: [{ type: 'text', text: 'We are open from nine to five.' }] }));
}

const SCENARIOS = {
	one: [{ name: 'shop__lookup_order', arguments: { order: '12345' } }],
	failing: ['broken', 'vanish', 'garbage', 'rpc_error', 'huge'].map((t) => ({ name: `shop__${t}`, arguments: {} })),
	invalid: [{ name: 'shop__lookup_order', arguments: { order: 12345 } }],
	late: [{ name: 'late__opening_hours', arguments: {} }],
	hold: [{ name: 'shop__slow', arguments: {} }],
};

// What the model says once the tools answered: an MCP result's text, or
// that the tool failed.
function answerFrom(results) {
	return results.map(({ name, content }) => {
		const c = JSON.parse(content);
		return c.error ? `The ${name.replace('shop__', '').replace('_', ' ')} failed.` : c.content;
	}).join(' ');
}

// A loopback port nothing listens on yet.
async function freePort() {
	const s = http.createServer();
	await new Promise((r) => s.listen(0, '127.0.0.1', r));
	const { port } = s.address();
	await new Promise((r) => s.close(r));
	return port;
}

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'sb-mcp-'));
	shop = await startMcp('shop', registerShop);
	many = await startMcp('many', registerMany, { pageSize: 30 });
	latePort = await freePort();
	// Once its call was cut off, the hold scenario just listens.
	openai = await stub(openaiToolModel(SCENARIOS, answerFrom, ['hold']));
	question = speech8k(dir, 'hours', 'What are your opening hours?');
	let conf = pluginConfigWithStore(join(dir, 'calls.db'));
	conf = conf.replace('providers: {', `providers: {
	standin_openai: { type = "openai", base_url = "${openai.base}/v1", api_key = "sk-test", llm_model = "gpt-4o-mini" }`);
	const auth = 'headers = { Authorization = "env:SB_TEST_MCP_AUTH" }';
	conf = conf.replace(/^agent: \{\n/m, `agent: {
	mcp_servers = (
		{ name = "shop", url = "${shop.url}", ${auth}, timeout_ms = "3000" },
		{ name = "many", url = "${many.url}", ${auth} },
		{ name = "late", url = "http://127.0.0.1:${latePort}/mcp", ${auth}, timeout_ms = "2000" },
		{ name = "bad name!", url = "${shop.url}" },
		{ name = "ftp", url = "ftp://127.0.0.1/mcp" },
		{ name = "unset", url = "${shop.url}", headers = { Authorization = "env:SB_TEST_NO_SUCH_VARIABLE" } }
	)
`);
	janus = await startJanus({ pluginConfig: conf, env: { SB_TEST_MCP_AUTH: `Bearer ${TOKEN}` } });
	notes = await openNotifications();
	// Listed off the start-up path: wait for the log lines.
	await notes.until('the listings', () => /mcp: shop: \d+ tools listed/.test(janus.output()) && /mcp: many: \d+ tools listed/.test(janus.output()) && /mcp: late \(/.test(janus.output()), 20000);
	await many.close();
}, { timeout: 120000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
	await shop?.close();
	await late?.close();
	await openai?.close();
	if (dir) rmSync(dir, { recursive: true, force: true });
}, { timeout: 60000 });

const call = (room, agent, done) => callAgent(notes, room, agent, question, done);

test('start-up lists each server\'s tools: bad entries, a schema it cannot check, too many tools and a server that is down are said, the rest offered', { timeout: 20000 }, async () => {
	const log = janus.output();
	assert.match(log, /mcp: shop: 7 tools listed/);
	assert.match(log, /mcp: shop: tool "regex_tool" skipped: inputSchema: properties.code: unknown keyword "pattern"/);
	assert.match(log, /mcp: many: 6 more tools skipped: 64 at most per server/);
	assert.match(log, /mcp: many: 64 tools listed/);
	// Its list came in pages, the cursor followed.
	const pages = many.received.filter((m) => m.body?.method === 'tools/list');
	assert.deepEqual(pages.map((m) => m.body.params?.cursor), [undefined, '30', '60']);
	assert.match(log, new RegExp(`mcp: late \\(http://127.0.0.1:${latePort}/mcp\\): initialize: .*: no tools from it until reload_providers`));
	assert.match(log, /mcp_servers entry 3 \("bad name!"\) skipped: "name" must be 1 to 32 of a-z A-Z 0-9 _ -/);
	assert.match(log, /mcp_servers entry 4 \("ftp"\) skipped: "url" must be an http:\/\/ or https:\/\/ URL/);
	assert.match(log, /mcp_servers entry 5 \("unset"\) skipped: header "Authorization": env:SB_TEST_NO_SUCH_VARIABLE is not set/);
	assert.doesNotMatch(log, new RegExp(TOKEN), 'the header\'s secret is never logged');
	// The lifecycle: initialize (no session yet), the initialized
	// notification and tools/list with the session and the version agreed,
	// the operator's header on each.
	const [init, initialized, list] = shop.received;
	assert.equal(init.body.method, 'initialize');
	assert.equal(init.body.params.protocolVersion, '2025-11-25');
	assert.equal(init.sid, undefined);
	assert.equal(initialized.body.method, 'notifications/initialized');
	assert.equal(initialized.body.id, undefined);
	assert.equal(list.body.method, 'tools/list');
	assert.ok(list.sid && initialized.sid === list.sid, JSON.stringify(shop.received.slice(0, 3)));
	assert.equal(list.version, '2025-11-25');
	assert.ok(shop.received.every((m) => m.auth === `Bearer ${TOKEN}`));
	// A room may name the MCP tools like any other.
	const made = await rest('POST', '/room/create', { roomName: `mcp-named-${process.pid}`, agent: { tools: ['shop__lookup_order'] } });
	assert.equal(made.status, 201, JSON.stringify(made.json));
	assert.ok([200, 204].includes((await rest('DELETE', `/rooms/mcp-named-${process.pid}`)).status));
	for (const tools of [['shop__regex_tool'], ['late__opening_hours'], ['lookup_order']]) {
		const r = await rest('POST', '/room/create', { roomName: `mcp-refused-${process.pid}`, agent: { tools } });
		assert.equal(r.status, 400, `${tools}: ${JSON.stringify(r.json)}`);
	}
	const metrics = (await rest('GET', '/metrics')).text;
	assert.match(metrics, /switchboard_mcp_tools\{server="shop"\} 7/);
	assert.match(metrics, /switchboard_mcp_tools\{server="many"\} 64/);
	assert.match(metrics, /switchboard_mcp_server_up\{server="late"\} 0/);
});

test('the model calls an MCP tool: tools/call with its arguments in the session, the result spoken, an agent_tool event and a call-record row', { timeout: 120000 }, async () => {
	const room = `mcp-one-${process.pid}`;
	const before = shop.calls('lookup_order').length;
	const { answer, tool } = await call(room, { llm: ['standin_openai'], persona: 'Scenario: one' }, async (inRoom) => {
		const tool = await notes.until('the agent_tool event', () => toolEvents(notes, inRoom)[0], 40000);
		const answer = await notes.until('the answer', () => notes.events.find(agentLine(inRoom, /left our warehouse/)), 30000);
		return { answer, tool };
	});
	const sent = shop.calls('lookup_order').slice(before);
	assert.ok(sent.length >= 1);
	const q = sent.at(-1);
	assert.deepEqual(q.body.params.arguments, { order: '12345' });
	assert.equal(q.body.params._meta['switchboard/call'].room, room);
	assert.ok(q.sid, 'sent in the session');
	assert.equal(q.version, '2025-11-25');
	// Offered with its schema; the result given back as the tool's.
	const asks = asksOf(openai, 'one');
	const offered = asks[0].tools.find((t) => t.function.name === 'shop__lookup_order');
	assert.ok(offered, asks[0].tools.map((t) => t.function.name).join());
	assert.equal(offered.function.description, 'Look up an order by its number.');
	assert.deepEqual(offered.function.parameters.required, ['order']);
	const told = JSON.parse(resultsOf(asks[1])[0].content);
	assert.equal(told.content, 'Order 12345 left our warehouse this morning.');
	assert.deepEqual(told.structured, { status: 'shipped' });
	assert.match(answer.text, /Order 12345 left our warehouse this morning\./);
	assert.equal(tool.tool, 'shop__lookup_order');
	assert.equal(tool.status, 'ok');
	assert.deepEqual(tool.arguments, { order: '12345' });
	assert.ok(Number.isInteger(tool.latency_ms), JSON.stringify(tool));
	const record = await endedCall(room);
	const row = record.tool_calls.find((r) => r.status === 'ok');
	assert.ok(row, JSON.stringify(record.tool_calls));
	assert.equal(row.tool, 'shop__lookup_order');
	assert.deepEqual(JSON.parse(row.arguments), { order: '12345' });
	assert.match((await rest('GET', '/metrics')).text, /switchboard_mcp_calls_total\{server="shop",status="ok"\} [1-9]/);
});

test('an isError result, a JSON-RPC error, garbage, a huge answer and a server gone mid-call are failed tools; the caller hears why', { timeout: 120000 }, async () => {
	const room = `mcp-failing-${process.pid}`;
	const answer = await call(room, { llm: ['standin_openai'], persona: 'Scenario: failing' }, async (inRoom) => {
		await notes.until('five agent_tool events', () => toolEvents(notes, inRoom).length >= 5, 40000);
		return notes.until('the answer', () => notes.events.find(agentLine(inRoom, /failed/)), 30000);
	});
	assert.match(answer.text, /The broken failed\. The vanish failed\. The garbage failed\. The rpc error failed\. The huge failed\./);
	const byTool = Object.fromEntries(toolEvents(notes, (e) => e.room === room).map((e) => [e.tool, e]));
	assert.equal(byTool.shop__broken.status, 'tool_error');
	assert.equal(byTool.shop__broken.error, 'The order database is down.');
	assert.equal(byTool.shop__vanish.status, 'failed');
	assert.match(byTool.shop__vanish.error, /Empty reply|reset|closed|recv/i);
	assert.equal(byTool.shop__garbage.status, 'bad_reply');
	assert.match(byTool.shop__garbage.error, /not a JSON-RPC response/);
	assert.equal(byTool.shop__rpc_error.status, 'tool_error');
	assert.equal(byTool.shop__rpc_error.error, 'JSON-RPC error -32603: the order system threw');
	assert.equal(byTool.shop__huge.status, 'bad_reply');
	assert.match(byTool.shop__huge.error, /larger than 1048576 bytes/);
	const told = resultsOf(asksOf(openai, 'failing')[1]).map((m) => JSON.parse(m.content));
	assert.deepEqual(told.map((c) => c.status), ['tool_error', 'failed', 'bad_reply', 'tool_error', 'bad_reply']);
	assert.match(told[0].error, /tool_error: The order database is down\./);
	const record = await endedCall(room);
	for (const status of ['tool_error', 'failed', 'bad_reply'])
		assert.ok(record.tool_calls.some((r) => r.status === status), `${status}: ${JSON.stringify(record.tool_calls)}`);
	const metrics = (await rest('GET', '/metrics')).text;
	assert.match(metrics, /switchboard_mcp_calls_total\{server="shop",status="tool_error"\} [2-9]/);
	assert.match(metrics, /switchboard_agent_tool_calls_total\{status="tool_error"\} [2-9]/);
});

test('arguments that break the tool\'s schema never reach the MCP server', { timeout: 120000 }, async () => {
	const room = `mcp-invalid-${process.pid}`;
	const before = shop.calls('lookup_order').length;
	await call(room, { llm: ['standin_openai'], persona: 'Scenario: invalid' }, async (inRoom) =>
		notes.until('the answer', () => notes.events.find(agentLine(inRoom, /failed/)), 40000));
	assert.equal(shop.calls('lookup_order').length, before, 'nothing was sent');
	const ev = toolEvents(notes, (e) => e.room === room)[0];
	assert.equal(ev.status, 'invalid_arguments');
	assert.match(ev.error, /order: must be a string/);
});

test('a caller who talks while an MCP tool runs cancels the call: its answer is never spoken', { timeout: 120000 }, async () => {
	const room = `mcp-hold-${process.pid}`;
	await call(room, { llm: ['standin_openai'], persona: 'Scenario: hold' }, async (inRoom, speakAgain) => {
		await notes.until('the server asked', () => shop.calls('slow').some((m) => m.body.params._meta['switchboard/call'].room === room), 40000);
		speakAgain(); // while the server takes 3 s
		const cancelled = await notes.until('the cancelled call', () => notes.events.find((e) => inRoom(e) && e.type === 'agent_tool' && e.status === 'cancelled'), 20000);
		assert.equal(cancelled.tool, 'shop__slow');
		await sleep(4000); // past the server's answer
		assert.ok(!notes.events.some(agentLine(inRoom, /Too late/)), 'the cancelled answer was not spoken');
	});
	const record = await endedCall(room);
	assert.ok(record.tool_calls.some((r) => r.tool === 'shop__slow' && r.status === 'cancelled'), JSON.stringify(record.tool_calls));
	assert.match((await rest('GET', '/metrics')).text, /switchboard_mcp_calls_total\{server="shop",status="cancelled"\} [1-9]/);
});

test('an expired session (404) is initialized again once and the call repeated', { timeout: 120000 }, async () => {
	shop.expireSessions();
	const inits = shop.received.filter((m) => m.body?.method === 'initialize').length;
	const room = `mcp-expired-${process.pid}`;
	await call(room, { llm: ['standin_openai'], persona: 'Scenario: one' }, async (inRoom) =>
		notes.until('the answer', () => notes.events.find(agentLine(inRoom, /left our warehouse/)), 40000));
	const after = shop.received.slice(shop.received.findLastIndex((m) => m.body?.method === 'initialize') - 1);
	assert.ok(shop.received.filter((m) => m.body?.method === 'initialize').length > inits, 'initialized again');
	// The refused call (old session), initialize, initialized, the call again.
	assert.equal(after[0].body.method, 'tools/call');
	assert.equal(after[1].body.method, 'initialize');
	assert.equal(after[2].body.method, 'notifications/initialized');
	assert.equal(after[3].body.method, 'tools/call');
	assert.notEqual(after[3].sid, after[0].sid);
	assert.match(janus.output(), /mcp: shop: session expired, initializing again/);
	const ev = toolEvents(notes, (e) => e.room === room).find((e) => e.tool === 'shop__lookup_order');
	assert.equal(ev.status, 'ok');
});

test('reload_providers lists a server that came up late; its tool is then called', { timeout: 120000 }, async () => {
	late = await startMcp('late', registerLate, { port: latePort, json: true });
	const shopSession = shop.received.findLast((m) => m.sid).sid;
	const r = await adminRequest({ request: 'reload_providers' });
	assert.equal(r.switchboard, 'success', JSON.stringify(r));
	await notes.until('the late listing', () => /mcp: late: 1 tools listed/.test(janus.output()), 15000);
	const room = `mcp-late-${process.pid}`;
	const answer = await call(room, { llm: ['standin_openai'], persona: 'Scenario: late', tools: ['late__opening_hours'] }, async (inRoom) =>
		notes.until('the answer', () => notes.events.find(agentLine(inRoom, /open from nine to five/)), 40000));
	assert.match(answer.text, /We are open from nine to five\./);
	assert.equal(late.calls('opening_hours').length >= 1, true);
	// The room's list was the one tool: nothing else was offered.
	const asks = asksOf(openai, 'late');
	assert.deepEqual(asks[0].tools.map((t) => t.function.name).filter((n) => n.includes('__')), ['late__opening_hours']);
	// The shop is still there after the reload; "many" is down now: its
	// tools are gone.
	await notes.until('the shop listed again', () => (janus.output().match(/mcp: shop: 7 tools listed/g) || []).length >= 2, 15000);
	// The shop's old session was ended (DELETE with its id).
	await notes.until('the old session ended', () => shop.received.some((m) => m.method === 'DELETE' && m.sid === shopSession), 10000);
	await notes.until('many found down', () => /mcp: many \(.*no tools from it/.test(janus.output()), 15000);
	const metrics = (await rest('GET', '/metrics')).text;
	assert.match(metrics, /switchboard_mcp_server_up\{server="many"\} 0/);
	assert.match(metrics, /switchboard_mcp_tools\{server="many"\} 0/);
	assert.match(metrics, /switchboard_mcp_server_up\{server="late"\} 1/);
});
