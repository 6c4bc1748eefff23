// What a tool call adds to a turn of the AI agent, on the embedded stack
// (pocketsphinx, `local` dialog engine, espeak-ng).  In one Janus and one
// run, for N simultaneous plain-RTP G.711 callers (N = 1, then 10), each
// in its own room with the agent, rounds of two kinds alternate:
//   plain  "What are your opening hours?": answered from the knowledge base
//   tool   "Order one, two, three, four, five.": the local engine calls
//          lookup_order ([agent] tools) on a local HTTP back end that waits
//          BENCH_TOOL_DELAY_MS (50) and answers {"say": "Order … shipped …"}
// Measured from the caller's side of the wire: caller's last speech packet
// -> first loud agent packet.  A tool turn counts only when the back end got
// that room's request after the caller stopped and had answered before the
// first agent audio; a plain round that reaches the back end, or a run in
// which no tool turn reached it, fails the bench (exit 1).
//
//   node bench/tool-bench.mjs                  # N = 1 and 10, about 5 minutes
//   BENCH_CALLS=1 BENCH_TURNS=3 node bench/tool-bench.mjs
import crypto from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startJanus, adminRequest, repoRoot, speech8k, percentile, Caller, startPump, untilQuiet, api, sleep, removeWork } from './agent-lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CALLS = (process.env.BENCH_CALLS || '1 10').split(/\s+/).filter(Boolean).map(Number);
const TURNS = Number(process.env.BENCH_TURNS || 5); // rounds of each kind
const DELAY_MS = Number(process.env.BENCH_TOOL_DELAY_MS || 50);
const BUDGET_S = Number(process.env.BENCH_BUDGET || 900);
// Commas: without them pocketsphinx hears "one two" as 182.
const ORDER_LINE = process.env.BENCH_ORDER_LINE || 'Order one, two, three, four, five.';
const SECRET = crypto.randomBytes(24).toString('hex');
const deadline = performance.now() + BUDGET_S * 1000;

// The business back end: lookup_order answers after DELAY_MS.  Every
// request is recorded on the callers' clock (performance.now) with when it
// arrived, when its answer was written, the room and the order asked for.
function startBackend() {
	const requests = [];
	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			const rec = { at: performance.now(), path: req.url };
			requests.push(rec);
			const body = Buffer.concat(chunks);
			rec.signed = req.headers['x-switchboard-signature'] === `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
			let call;
			try { call = JSON.parse(body.toString()); } catch { call = {}; }
			rec.room = call.call?.room;
			rec.order = call.arguments?.order;
			res.on('finish', () => { rec.done = performance.now(); });
			setTimeout(() => {
				res.writeHead(200, { 'content-type': 'application/json' });
				// The sentence the knowledge base gives for 12345 without the tool,
				// so that the control turns speak the same words.
				res.end(JSON.stringify({ say: `Thanks. Order ${rec.order} was shipped on Monday and should arrive by Thursday.`, status: 'shipped' }));
			}, DELAY_MS);
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
		requests,
		url: `http://127.0.0.1:${server.address().port}/orders`,
		close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
	})));
}

function pluginConfig(toolsFile) {
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8');
	const out = conf.replace(/^agent: \{\n/m, `agent: {\n\ttools = "${toolsFile}"\n`);
	if (out === conf) throw new Error('no "agent: {" block in conf/janus.plugin.switchboard.jcfg');
	return out;
}

const checkBudget = () => {
	if (performance.now() > deadline) throw new Error(`BENCH_BUDGET (${BUDGET_S} s) spent`);
};

// One round: every caller says its line (spread over 1.5 s, as calls
// come), then the answers are waited for until all are over.
async function round(callers, speech) {
	checkBudget();
	const start = performance.now();
	for (const [i, c] of callers.entries()) setTimeout(() => c.say(speech), (i * 997) % 1500);
	await sleep(1500 + speech.length * 20 + 4000);
	await untilQuiet(callers, start, 800, 15000);
	return { start, end: performance.now(), turns: callers.map((c) => c.turn()) };
}

// Rooms whose agent has agentConfig, one caller each, all at once; the
// rounds of kinds in turn, each turn filed by kind into r.
async function phase(n, tag, agentConfig, kinds, backend, lines, r) {
	const callers = [];
	const stopPump = startPump(callers);
	try {
		for (let i = 0; i < n; i++) {
			const room = `toolbench-${tag}-${n}-${i}`;
			await api('POST', '/room/create', { roomName: room, agent: agentConfig });
			const c = new Caller(i);
			callers.push(c);
			await c.open(room);
		}
		const t0 = performance.now();
		if (!(await untilQuiet(callers, t0, 1000, 40000))) process.stderr.write('[tool-bench] not every greeting was heard within 40 s\n');
		for (const [k, kind] of kinds.entries()) {
			const { start, end, turns } = await round(callers, lines[kind]);
			const reqs = backend.requests.filter((q) => q.at >= start && q.at < end);
			if (kind === 'tool') r.tool_requests.push(...reqs);
			else r.stray_requests[kind] += reqs.length;
			turns.forEach((t, i) => {
				if (t.latency === undefined) {
					r[t.why === 'overlap' ? 'overlaps' : 'missed'][kind]++;
				} else if (kind !== 'tool') {
					r.ms[kind].push(t.latency);
				} else {
					// Through the back end: its request came after the caller
					// stopped and was answered before the agent spoke.
					const q = reqs.find((x) => x.room === callers[i].room && x.at > t.end);
					if (!q) r.no_tool_call++;
					else if (!(q.done <= t.first)) r.early++;
					else {
						r.ms.tool.push(t.latency);
						r.split.push({ to_request: q.at - t.end, back_end: q.done - q.at, from_answer: t.first - q.done });
					}
				}
			});
			process.stderr.write(`[tool-bench] ${n} call(s), ${tag} round ${k + 1}/${kinds.length} (${kind}): ${reqs.length} back-end request(s)\n`);
		}
	} finally {
		await stopPump();
		for (const c of callers) c.close();
		for (const c of callers) await adminRequest({ request: 'destroy', room: c.room }).catch(() => {});
	}
}

async function run(n, backend, lines) {
	const kinds = ['plain', 'tool', 'order'];
	const per = (v) => Object.fromEntries(kinds.map((k) => [k, v()]));
	const r = { calls: n, ms: per(() => []), missed: per(() => 0), overlaps: per(() => 0), stray_requests: per(() => 0), no_tool_call: 0, early: 0, tool_requests: [], split: [] };
	// Plain and tool turns alternate in the same calls, whose agent is
	// offered lookup_order; then the control: the same order question in
	// calls whose agent is offered no tool, answered from the knowledge
	// base's demo order table with the same sentence.
	await phase(n, 'tools', true, Array.from({ length: 2 * TURNS }, (_, k) => (k % 2 ? 'tool' : 'plain')), backend, lines, r);
	await phase(n, 'notools', { tools: [] }, Array(TURNS).fill('order'), backend, lines, r);
	return r;
}

// The last resort if something hangs: Janus is killed on exit (tests/lib).
const watchdog = setTimeout(() => {
	process.stderr.write(`[tool-bench] still running ${BUDGET_S + 60} s after start: giving up\n`);
	process.exit(2);
}, (BUDGET_S + 60) * 1000);
watchdog.unref();

const dir = mkdtempSync(join(tmpdir(), 'sb-tool-bench-'));
let backend, janus;
const results = [];
try {
	backend = await startBackend();
	const toolsFile = join(dir, 'tools.json');
	writeFileSync(toolsFile, JSON.stringify([{
		name: 'lookup_order',
		description: 'Look up an order by its number.',
		parameters: { type: 'object', properties: { order: { type: 'string', minLength: 3, maxLength: 12 } }, required: ['order'], additionalProperties: false },
		url: backend.url,
		secret: SECRET,
		timeout_ms: 5000,
		// No say_while_waiting: the first audio of a tool turn is the answer.
	}]));
	const order = speech8k(ORDER_LINE, 160);
	const lines = { plain: speech8k('What are your opening hours?'), tool: order, order };
	janus = await startJanus({ pluginConfig: pluginConfig(toolsFile) });
	if (!/tools: 1 loaded from /.test(janus.output())) throw new Error(`lookup_order did not load:\n${janus.output().slice(-3000)}`);
	for (const n of CALLS) {
		process.stderr.write(`[tool-bench] ${n} call(s)…\n`);
		results.push(await run(n, backend, lines));
	}
} finally {
	await janus?.stop();
	await backend?.close();
	rmSync(dir, { recursive: true, force: true });
	removeWork();
	clearTimeout(watchdog);
}

const f = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const signed = (x) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(0)}` : '-');
const stats = (xs) => ({ n: xs.length, p50: percentile(xs, 50), p95: percentile(xs, 95), max: xs.length ? Math.max(...xs) : NaN });
const LABEL = { plain: 'plain (KB: opening hours)', order: 'order, no tool (KB table)', tool: 'tool (lookup_order)' };
console.log(`Tool turn vs plain turn, AI agent on the embedded stack (pocketsphinx, local dialog, espeak-ng) - ${cpus().length} CPUs, ${new Date().toISOString()}`);
console.log(`latency: caller's last speech packet -> first loud agent packet (wire, caller side); tool: lookup_order on a local HTTP back end answering after ${DELAY_MS} ms; ${TURNS} rounds of each kind`);
console.log('calls  turn                       samples  missed/overlap  p50 ms  p95 ms  max ms');
const problems = [];
const out = [];
for (const r of results) {
	const s = Object.fromEntries(Object.entries(r.ms).map(([k, v]) => [k, stats(v)]));
	const service = r.tool_requests.map((q) => q.done - q.at).filter(Number.isFinite);
	const orders = {};
	for (const q of r.tool_requests) orders[q.order] = (orders[q.order] || 0) + 1;
	const unsigned = r.tool_requests.filter((q) => !q.signed).length;
	const n = String(r.calls).padStart(5);
	for (const kind of ['plain', 'order', 'tool'])
		console.log(`${n}  ${LABEL[kind].padEnd(25)}  ${String(s[kind].n).padStart(7)}  ${`${r.missed[kind]}/${r.overlaps[kind]}`.padStart(14)}  ${f(s[kind].p50).padStart(6)}  ${f(s[kind].p95).padStart(6)}  ${f(s[kind].max).padStart(6)}`);
	const added = { plain: s.tool.p50 - s.plain.p50, order: s.tool.p50 - s.order.p50 };
	console.log(`${n}  tool turn - plain turn: p50 ${signed(added.plain)} ms (x${(s.tool.p50 / s.plain.p50).toFixed(2)}), p95 ${signed(s.tool.p95 - s.plain.p95)} ms;  tool turn - same question without the tool: p50 ${signed(added.order)} ms (x${(s.tool.p50 / s.order.p50).toFixed(2)}), p95 ${signed(s.tool.p95 - s.order.p95)} ms`);
	console.log(`${n}  back end: ${r.tool_requests.length} request(s) in tool rounds (order ${Object.entries(orders).map(([o, c]) => `${o} x${c}`).join(', ') || '-'}; ${unsigned} badly signed), answer written ${f(percentile(service, 50))} ms p50 / ${f(Math.max(...service))} ms max after the request arrived; ${r.stray_requests.plain} in plain rounds, ${r.stray_requests.order} in no-tool rounds; tool turns not counted: ${r.no_tool_call} without a request, ${r.early} spoken before the answer`);
	const part = (k) => f(percentile(r.split.map((x) => x[k]), 50));
	console.log(`${n}  a counted tool turn, p50 of each part: caller stops -> request at the back end ${part('to_request')} ms, back end ${part('back_end')} ms, answer written -> first agent audio ${part('from_answer')} ms`);
	if (!r.tool_requests.length) problems.push(`${r.calls} call(s): no tool turn reached the back end`);
	for (const kind of ['plain', 'order']) if (r.stray_requests[kind]) problems.push(`${r.calls} call(s): ${r.stray_requests[kind]} request(s) reached the back end during ${kind} turns`);
	if (unsigned) problems.push(`${r.calls} call(s): ${unsigned} request(s) without the right signature`);
	for (const kind of ['plain', 'order', 'tool']) if (!s[kind].n) problems.push(`${r.calls} call(s): no ${kind} turn measured`);
	out.push({ calls: r.calls, delay_ms: DELAY_MS, turns_per_kind: TURNS, ...s, added_vs_plain_p50_ms: added.plain, ratio_vs_plain_p50: s.tool.p50 / s.plain.p50, added_vs_order_p50_ms: added.order, ratio_vs_order_p50: s.tool.p50 / s.order.p50, missed: r.missed, overlaps: r.overlaps, no_tool_call: r.no_tool_call, spoken_before_answer: r.early, backend: { tool_round_requests: r.tool_requests.length, stray_requests: r.stray_requests, orders, unsigned, service_p50_ms: percentile(service, 50), service_max_ms: Math.max(...service) }, samples_ms: r.ms, tool_turn_parts_ms: r.split });
}
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'tool-latest.json'), JSON.stringify(out, null, 2));
if (problems.length) {
	console.error(`[tool-bench] FAILED:\n  ${problems.join('\n  ')}`);
	process.exitCode = 1;
}
