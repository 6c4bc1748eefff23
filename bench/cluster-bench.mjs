// Cluster benchmark (issue 15): SIPp places the same calls — a fixed rate,
// hold time and count — through the SIP edge (Kamailio, conf/kamailio/)
// into 1, 2 and 3 Switchboard nodes sharing one PostgreSQL, and, as
// baselines, straight into one node: alone (the shipped config, SQLite
// store, no [cluster]) and as a cluster node on PostgreSQL without the
// edge. Per run: calls answered / failed, set-up time (INVITE → 200 OK)
// p50 / p95 / max, the CPU of each node, of Kamailio, of PostgreSQL and of
// SIPp over the steady window, and how the calls spread over the nodes.
//
//   bench/cluster.sh                                   # about 6 minutes
//   BENCH_CLUSTER_RUNS="alone 2" bench/cluster.sh      # a subset
//
// Everything is on 127.0.0.1, on ports of its own (below), away from the
// tests' (8088/7088/8188/8080/5060, the cluster test's 8098/7098/8198/8090/
// 5090/5072/25442) and from bench/run.sh's and sip-bench.mjs's (38xxx).
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

process.env.JANUS_DEBUG_LEVEL ??= '3';
const { startJanus, repoRoot, API_KEY } = await import('../tests/lib/janus.mjs');
const { startPostgres } = await import('../tests/lib/postgres.mjs');
const { pluginConfigWithStore } = await import('../tests/lib/store.mjs');
const { SipPeer, withSipRoomSecret } = await import('../tests/lib/sip.mjs');
const { track, releaseAll } = await import('../tests/lib/resources.mjs');

const here = dirname(fileURLToPath(import.meta.url));
const env = (k, d) => process.env[k] ?? d;
const RUNS = env('BENCH_CLUSTER_RUNS', 'alone direct 1 2 3').split(/\s+/).filter(Boolean);
const RATE = Number(env('BENCH_CLUSTER_RATE', 5)); // new calls per second
const CALLS = Number(env('BENCH_CLUSTER_CALLS', 200)); // calls per run
const HOLD = Number(env('BENCH_CLUSTER_HOLD', 10)); // seconds each call lasts
const PORT = Number(env('BENCH_CLUSTER_PORT_BASE', 39100));
// Node i: HTTP base+i, Admin base+10+i, WebSockets base+20+i, REST base+30+i,
// SIP base+40+i; Kamailio base+50, PostgreSQL base+60, SIPp base+70.
const nodePorts = (i) => ({
	http: PORT + i, admin: PORT + 10 + i, ws: PORT + 20 + i, api: PORT + 30 + i, sip: PORT + 40 + i,
	rtp: `${48000 + i * 600}-${48000 + i * 600 + 599}`, webrtc: `${50000 + i * 1000}-${50000 + i * 1000 + 999}`,
});
const EDGE_PORT = PORT + 50, PG_PORT = PORT + 60, SIPP_PORT = PORT + 70;
// SIPp's media: rtp_stream takes a port pair per call from here up.
const SIPP_RTP = 52000;
const HEARTBEAT_MS = 1000, DEAD_AFTER_MS = 5000; // the plugin's defaults
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(join(tmpdir(), 'sb-cluster-bench-'));
const runTag = Date.now().toString(16).slice(-8);

// ---- CPU of a process and everything under it ------------------------------

function procTable() {
	const t = new Map();
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		try {
			const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
			t.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) });
		} catch { /* gone */ }
	}
	return t;
}

// utime+stime of root and its live descendants, plus what root's reaped
// children used (cutime+cstime): PostgreSQL's and Kamailio's workers.
function treeTicks(table, root) {
	if (!table.has(root)) return 0;
	let sum = table.get(root).ticks + table.get(root).children;
	const kids = new Map();
	for (const [pid, p] of table) { if (!kids.has(p.ppid)) kids.set(p.ppid, []); kids.get(p.ppid).push(pid); }
	const stack = [...(kids.get(root) || [])];
	while (stack.length) {
		const pid = stack.pop();
		sum += table.get(pid).ticks;
		stack.push(...(kids.get(pid) || []));
	}
	return sum;
}

// ---- the pieces ---------------------------------------------------------------

const baseConf = () => readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8');
// What the bench changes in the shipped config, in every node: no agent in
// the calls (auto_join), no rate limits (all calls come from one address,
// SIPp's or Kamailio's: a higher BENCH_CLUSTER_RATE must meet the cluster,
// not a limit), room for the calls.
function benchConf(text) {
	const out = text
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []')
		.replace('calls_per_second = "20"', 'calls_per_second = "0"')
		.replace('calls_per_source = "10"', 'calls_per_source = "0"')
		.replace('max_calls = "200"', 'max_calls = "2000"');
	if (out.includes('auto_join = ["phone"') || out.includes('calls_per_source = "10"')) throw new Error('conf changed: update benchConf');
	return out;
}

function clusterConf(pg, id, p) {
	return `${benchConf(withSipRoomSecret(pluginConfigWithStore(pg.conninfo)))}
cluster: {
	node_id = "${id}"
	janus_url = "ws://127.0.0.1:${p.ws}/"
	rest_url = "http://127.0.0.1:${p.api}"
	sip_uri = "sip:127.0.0.1:${p.sip}"
	heartbeat_ms = "${HEARTBEAT_MS}"
	dead_after_ms = "${DEAD_AFTER_MS}"
}
`;
}

async function rest(node, path) {
	const res = await fetch(`${node.apiUrl}${path}`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(10000) });
	return res.text();
}

// Sum of a metric's samples (all label sets) in a node's /metrics.
async function metric(node, name) {
	const text = await rest(node, '/metrics');
	let sum = 0;
	for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
	return sum;
}

function portFree(port) {
	return new Promise((resolve) => {
		const s = net.connect(port, '127.0.0.1');
		s.on('connect', () => { s.destroy(); resolve(false); });
		s.on('error', () => resolve(true));
	});
}

// A child process, its output kept (tail) and to a file, released on exit.
function child(what, cmd, args, opts = {}) {
	const logPath = join(work, `${what.replace(/\W+/g, '-')}.log`);
	const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
	let log = '';
	const keep = (d) => { log += d; if (log.length > 2e6) log = log.slice(-1e6); };
	c.stdout.on('data', keep);
	c.stderr.on('data', keep);
	let gone = null; // { code, signal, at } once it has exited
	const exited = new Promise((r) => c.on('exit', (code, signal) => { gone = { code, signal, at: new Date().toISOString() }; r(gone); }));
	const killOnExit = () => { if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); };
	process.on('exit', killOnExit);
	const stop = async () => {
		untrack();
		if (c.exitCode === null && c.signalCode === null) {
			c.kill('SIGTERM');
			const t = setTimeout(() => c.kill('SIGKILL'), 5000);
			await exited;
			clearTimeout(t);
		}
		process.removeListener('exit', killOnExit);
		writeFileSync(logPath, log);
	};
	const untrack = track(`${what} (pid ${c.pid})`, stop);
	return { pid: c.pid, exited, stop, log: () => log, logPath, gone: () => gone };
}

// Kamailio with the shipped config; dispatcher set 1 = the run's nodes.
async function startEdge(pg, nodes) {
	const dir = mkdtempSync(join(work, 'kamailio-'));
	copyFileSync(join(repoRoot, 'conf', 'kamailio', 'kamailio.cfg'), join(dir, 'kamailio.cfg'));
	writeFileSync(join(dir, 'kamailio-local.cfg'), [
		`#!substdef "!SB_LISTEN!udp:127.0.0.1:${EDGE_PORT}!g"`,
		`#!substdef "!SB_DB_URL!${pg.conninfo.replace('postgresql://', 'postgres://')}!g"`,
		`#!substdef "!SB_DISPATCHER_LIST!${join(dir, 'dispatcher.list')}!g"`,
		`#!substdef "!SB_DEAD_AFTER!${DEAD_AFTER_MS} milliseconds!g"`,
		'#!substdef "!SB_PING_INTERVAL!1!g"', ''].join('\n'));
	writeFileSync(join(dir, 'dispatcher.list'), nodes.map((n) => `1 sip:127.0.0.1:${n.ports.sip}\n`).join(''));
	const k = child(`kamailio-${nodes[0].id}`, 'kamailio', ['-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-Y', dir, '-w', dir]);
	const probe = await new SipPeer().start();
	try {
		for (let i = 0; ; i++) {
			if ((await Promise.race([k.exited, sleep(0).then(() => null)]))) throw new Error(`kamailio exited:\n${k.log().slice(-3000)}`);
			const r = await probe.request('OPTIONS', `sip:127.0.0.1:${EDGE_PORT}`, { callId: `probe-${i}@bench`, fromTag: 'probe', target: `127.0.0.1:${EDGE_PORT}`, timeoutMs: 500 });
			if (r?.status === 200) break;
			if (i > 60) throw new Error(`kamailio did not answer OPTIONS:\n${k.log().slice(-3000)}`);
			await sleep(100);
		}
	} finally {
		probe.close();
	}
	// Let the dispatcher's first OPTIONS round see every node.
	await sleep(2500);
	return k;
}

// ---- one run ------------------------------------------------------------------

function pct(sorted, p) {
	if (!sorted.length) return null;
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// SIPp's semicolon CSVs: header row, data rows.
function readCsv(path) {
	const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim());
	const head = lines[0].split(';');
	return lines.slice(1).map((l) => Object.fromEntries(l.split(';').map((v, i) => [head[i], v])));
}

async function runOnce(run, pg) {
	const cluster = run !== 'alone';
	const viaEdge = /^\d+$/.test(run);
	const n = viaEdge ? Number(run) : 1;
	const label = run === 'alone' ? '1 node alone, SIPp direct' : run === 'direct' ? '1 cluster node, SIPp direct (no edge)' : `${n} node${n > 1 ? 's' : ''} via Kamailio`;
	console.error(`[cluster-bench] ${label}: starting`);
	const dir = mkdtempSync(join(work, `run-${run}-`));
	const nodes = [];
	let edge = null, sipp = null;
	try {
		for (let i = 0; i < n; i++) {
			const ports = nodePorts(i);
			for (const p of [ports.sip, ports.http]) if (!(await portFree(p))) throw new Error(`port ${p} is taken`);
			const id = `bench-${run}-${i + 1}`;
			const conf = cluster ? clusterConf(pg, id, ports) : benchConf(baseConf());
			const j = await startJanus({ pluginConfig: conf, ports });
			nodes.push({ id, ports, janus: j, apiUrl: j.apiUrl });
		}
		if (cluster) {
			const alive = async () => {
				const r = JSON.parse(await rest(nodes[0], '/api/cluster/nodes'));
				return nodes.every((x) => r.nodes.some((y) => y.node === x.id && y.alive));
			};
			const end = Date.now() + 15000;
			while (!(await alive())) { if (Date.now() > end) throw new Error('nodes not all alive in the directory'); await sleep(200); }
		}
		if (viaEdge) edge = await startEdge(pg, nodes);
		const target = viaEdge ? EDGE_PORT : nodes[0].ports.sip;

		// One CallSid per call (CA + 32 letters and digits: the run tag, the
		// run, the call number), and the caller's speech.
		const csv = join(dir, 'calls.csv');
		const sidPrefix = `${runTag}${run.padStart(6, '0')}`.slice(0, 14);
		writeFileSync(csv, `SEQUENTIAL\n${Array.from({ length: CALLS + 10 }, (_, i) => `CA${sidPrefix}${String(i).padStart(32 - sidPrefix.length, '0')};`).join('\n')}\n`);
		copyFileSync(join(work, 'speech.wav'), join(dir, 'speech.wav'));
		const placing = CALLS / RATE;
		const timeout = Math.ceil(placing + HOLD + 40);
		const args = [`127.0.0.1:${target}`, '-sf', join(here, 'cluster-uac.xml'), '-inf', csv,
			'-i', '127.0.0.1', '-p', String(SIPP_PORT), '-mi', '127.0.0.1',
			'-mp', String(SIPP_RTP),
			'-r', String(RATE), '-m', String(CALLS), '-l', String(Math.ceil(RATE * HOLD * 3)),
			'-d', String(HOLD * 1000), '-recv_timeout', '15000', '-timeout', `${timeout}s`,
			// 1 ms timers (default 10 ms). Its clock still steps 4 ms on this
			// machine: set-up times come in 4 ms steps.
			'-timer_resol', '1',
			'-nostdin', '-trace_stat', '-stf', join(dir, 'stat.csv'), '-fd', '1',
			'-trace_rtt', '-rtt_freq', '1', '-trace_err', '-error_file', join(dir, 'errors.log'),
			'-trace_screen', '-screen_file', join(dir, 'screen.log')];
		const t0 = Date.now();
		sipp = child(`sipp-${run}`, 'sipp', args, { cwd: dir });

		// The steady window: from HOLD + 2 s (every call of the window's
		// concurrency placed) to the last call placed.
		const winStart = (HOLD + 2) * 1000, winEnd = placing * 1000;
		await sleep(Math.max(0, t0 + winStart - Date.now()));
		const pids = { nodes: nodes.map((x) => x.janus.pid), kamailio: edge?.pid, postgres: cluster ? pg.pid : null, sipp: sipp.pid };
		const tbl0 = procTable(), w0 = Date.now();
		await sleep(Math.max(1000, t0 + winEnd - Date.now()) / 2);
		const concurrent = [];
		for (const x of nodes) concurrent.push(await metric(x, 'switchboard_sip_calls').catch(() => null));
		await sleep(Math.max(0, t0 + winEnd - Date.now()));
		const tbl1 = procTable(), secs = (Date.now() - w0) / 1000;
		const cpu = (pid) => (pid ? +(((treeTicks(tbl1, pid) - treeTicks(tbl0, pid)) / HZ / secs) * 100).toFixed(1) : null);
		let timer;
		const exit = await Promise.race([sipp.exited, new Promise((r) => { timer = setTimeout(() => r(null), (timeout + 30) * 1000); })]);
		clearTimeout(timer);
		if (!exit) throw new Error('SIPp did not finish');
		await sipp.stop();
		// Kamailio stopped by someone else while the calls ran (e.g.
		// scripts/deps.sh, which every scripts/test.sh runs: `pkill -x
		// kamailio` ends every Kamailio on the machine): the run's failures
		// are that, not the cluster's.
		const edgeGone = edge?.gone() ?? null;
		if (edgeGone) console.error(`[cluster-bench] WARNING: Kamailio exited during the run (${edgeGone.signal ?? `code ${edgeGone.code}`} at ${edgeGone.at}), not stopped by the bench: the run's failed calls are that`);

		const stats = readCsv(join(dir, 'stat.csv'));
		const last = stats[stats.length - 1];
		const answered = Number(last['SuccessfulCall(C)']);
		const failed = Number(last['FailedCall(C)']);
		const created = Number(last['TotalCallCreated']);
		const rttFile = readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
		const rtts = rttFile ? readCsv(join(dir, rttFile)).filter((r) => r.rtd_no === '1')
			.map((r) => Number(r.response_time_ms)).filter((v) => Number.isFinite(v)).sort((a, b) => a - b) : [];
		// Where the calls went: each node's ended calls, and (cluster) the
		// call store's node column.
		await sleep(1500);
		const byNode = [];
		for (const x of nodes) byNode.push(await metric(x, 'switchboard_calls_total').catch(() => null));
		let byStore = null;
		if (cluster) {
			byStore = Object.fromEntries(pg.psql(`SELECT node || '=' || count(*) FROM calls WHERE room LIKE 'twilio-CA${sidPrefix}%' GROUP BY node ORDER BY node`)
				.split('\n').filter(Boolean).map((l) => l.split('=')).map(([k, v]) => [k, Number(v)]));
		}
		const r = {
			run, label, nodes: n, via: viaEdge ? 'kamailio' : 'direct', cluster,
			calls: CALLS, created, answered, failed, sipp_exit: exit.code,
			setup_ms: { samples: rtts.length, p50: pct(rtts, 50), p95: pct(rtts, 95), max: rtts[rtts.length - 1] ?? null },
			window_s: +secs.toFixed(1),
			cpu_pct_of_core: {
				nodes: pids.nodes.map(cpu), nodes_total: +pids.nodes.map(cpu).reduce((a, b) => a + b, 0).toFixed(1),
				kamailio: cpu(pids.kamailio), postgres: cpu(pids.postgres), sipp: cpu(pids.sipp),
			},
			concurrent_calls_by_node: concurrent,
			calls_by_node: Object.fromEntries(nodes.map((x, i) => [x.id, byNode[i]])),
			calls_by_node_store: byStore,
			kamailio_died: edgeGone,
		};
		console.error(`[cluster-bench] ${label}: ${answered}/${CALLS} answered, ${failed} failed, set-up p50 ${r.setup_ms.p50} ms`);
		return r;
	} finally {
		if (sipp) await sipp.stop();
		if (edge) await edge.stop();
		for (const x of nodes.reverse()) await x.janus.stop();
	}
}

// ---- main ---------------------------------------------------------------------

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
	process.on(sig, async () => {
		if (interrupted) return;
		interrupted = true;
		console.error(`[cluster-bench] ${sig}: stopping everything`);
		await releaseAll({ perItemMs: 15000 });
		rmSync(work, { recursive: true, force: true });
		process.exit(130);
	});
}

const results = [];
let pg = null, failure = null;
const started = new Date();
const load0 = loadavg();
try {
	// The caller's speech: μ-law WAV at 8 kHz, looped by SIPp's rtp_stream.
	const raw = join(work, 'raw.wav');
	execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, 'Hello, I would like to know where my order is. It was placed last week and has not arrived.']);
	execFileSync('sox', [raw, '-r', '8000', '-c', '1', '-e', 'u-law', join(work, 'speech.wav'), 'pad', '0', '3']);
	if (RUNS.some((r) => r !== 'alone')) {
		pg = await startPostgres({ port: PG_PORT });
		pg.pid = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
	}
	for (const run of RUNS) {
		// A run whose Kamailio someone else ended is run again (twice at
		// most); the JSON keeps how many tries it took.
		let r;
		for (let attempt = 1; attempt <= 3; attempt++) {
			const la = loadavg()[0];
			r = await runOnce(run, pg);
			r.load_before = +la.toFixed(2);
			r.attempt = attempt;
			if (!r.kamailio_died) break;
		}
		results.push(r);
	}
} catch (e) {
	failure = e;
	console.error(`[cluster-bench] FAILED: ${e.stack || e}\n  logs kept in ${work}`);
} finally {
	if (pg) await pg.destroy();
	await releaseAll();
}

if (failure) process.exit(1);
const fmt = (v) => (v === null || v === undefined ? '-' : String(v));
const rows = [['run', 'answered', 'failed', 'set-up p50/p95/max ms', 'node CPU % (each)', 'nodes total', 'Kamailio', 'PostgreSQL', 'SIPp', 'calls per node', 'load']];
for (const r of results) {
	rows.push([r.label + (r.kamailio_died ? ' (KAMAILIO KILLED)' : ''), `${r.answered}/${r.calls}`, String(r.failed), `${fmt(r.setup_ms.p50)} / ${fmt(r.setup_ms.p95)} / ${fmt(r.setup_ms.max)}`,
		r.cpu_pct_of_core.nodes.join(' / '), String(r.cpu_pct_of_core.nodes_total), fmt(r.cpu_pct_of_core.kamailio), fmt(r.cpu_pct_of_core.postgres),
		fmt(r.cpu_pct_of_core.sipp), Object.values(r.calls_by_node).join(' / '), fmt(r.load_before)]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
console.log(`\nSwitchboard cluster: ${CALLS} calls per run at ${RATE}/s, ${HOLD} s each (~${RATE * HOLD} at once); CPU in % of one core over the steady window\n`);
for (const row of rows) console.log(`  ${row.map((c, i) => c.padEnd(widths[i])).join('  ')}`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'cluster.json'), JSON.stringify({
	when: started.toISOString(), host: { cpus: cpus().length, model: cpus()[0]?.model, loadavg_start: load0, loadavg_end: loadavg() },
	rate_per_s: RATE, calls: CALLS, hold_s: HOLD, heartbeat_ms: HEARTBEAT_MS, dead_after_ms: DEAD_AFTER_MS, results,
}, null, 2));
console.log(`\n  written: bench/results/cluster.json`);
if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
else console.log(`  logs: ${work}`);
// Exit now: nothing of the bench is left running, and a keep-alive socket
// of fetch() must not hold the process.
process.exit(results.some((r) => r.answered !== r.calls) ? 1 : 0);
