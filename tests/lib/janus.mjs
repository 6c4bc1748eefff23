// Starts the private Janus (scripts/janus-private.sh) for a test file and
// gives a small client for the Janus HTTP API and Admin API.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { track } from './resources.mjs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Janus has no default Admin API secret (scripts/janus-private.sh): each
// test process makes its own and hands it to the Janus it starts; so does
// the VideoRoom's admin_key, which only the plugin (and tests that play a
// stranger who knows it) may use.
export const ADMIN_SECRET = process.env.JANUS_ADMIN_SECRET || `test-admin-${randomBytes(12).toString('hex')}`;
export const VIDEOROOM_ADMIN_KEY = process.env.JANUS_VIDEOROOM_ADMIN_KEY || `test-vr-${randomBytes(12).toString('hex')}`;
// Ports follow the same variables as scripts/janus-private.sh.
export const HTTP_PORT = Number(process.env.JANUS_HTTP_PORT || 8088);
export const ADMIN_PORT = Number(process.env.JANUS_ADMIN_PORT || 7088);
export const WS_PORT = Number(process.env.JANUS_WS_PORT || 8188);
export const HTTP_URL = `http://127.0.0.1:${HTTP_PORT}/janus`;
export const ADMIN_URL = `http://127.0.0.1:${ADMIN_PORT}/admin`;
export const WS_URL = `ws://127.0.0.1:${WS_PORT}/`;
// The plugin's own HTTP server: REST, pages, notifications.
export const API_PORT = Number(process.env.SWITCHBOARD_HTTP_PORT || 8080);
export const API_URL = `http://127.0.0.1:${API_PORT}`;
export const SIP_PORT = Number(process.env.SWITCHBOARD_SIP_PORT || 5060);
export const API_KEY = process.env.SWITCHBOARD_API_KEY || 'test-api-key-0123456789';
export const PLUGIN = 'janus.plugin.switchboard';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let txCounter = 0;
const tx = () => `t${process.pid}-${++txCounter}`;

// A Janus API request answers at once (events come by long poll): one that
// takes longer than this is a hang, reported as such.
const REQUEST_MS = 20000;

async function post(url, body) {
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
		signal: AbortSignal.timeout(REQUEST_MS),
	});
	return res.json();
}

// Whether something accepts TCP connections on 127.0.0.1:port.
function listening(port) {
	return new Promise((resolve) => {
		const s = net.connect(port, '127.0.0.1');
		s.setTimeout(2000, () => { s.destroy(); resolve(false); });
		s.on('connect', () => { s.destroy(); resolve(true); });
		s.on('error', () => resolve(false));
	});
}

// Starts Janus and waits until its HTTP API answers. `pluginConfig` is the
// text of a janus.plugin.switchboard.jcfg to use instead of conf/'s.
// `ports` ({http, admin, ws, api, sip, rtp: "a-b", webrtc: "a-b"}) moves a
// second Janus of the same test off the default ones (a cluster's nodes);
// its URLs come back with it (httpUrl, adminUrl, wsUrl, apiUrl).
export async function startJanus({ pluginConfig, env = {}, ports: own = null } = {}) {
	const http = own?.http ?? HTTP_PORT, admin = own?.admin ?? ADMIN_PORT, ws = own?.ws ?? WS_PORT;
	const api = own?.api ?? API_PORT, sip = own?.sip ?? SIP_PORT;
	const httpUrl = `http://127.0.0.1:${http}/janus`;
	// Another Janus on our ports (one a test left, another run on this
	// machine) would answer in place of ours: say so instead.
	const ports = { JANUS_HTTP_PORT: http, JANUS_ADMIN_PORT: admin, JANUS_WS_PORT: ws, SWITCHBOARD_HTTP_PORT: api };
	const taken = [];
	for (const [name, port] of Object.entries(ports)) if (await listening(port)) taken.push(`${port} (${name})`);
	if (taken.length) throw new Error(`cannot start a private Janus: something already listens on 127.0.0.1 port ${taken.join(', ')}`);
	const dir = mkdtempSync(join(tmpdir(), 'sb-janus-'));
	const childEnv = {
		...process.env,
		SWITCHBOARD_RUN_DIR: join(dir, 'run'),
		SWITCHBOARD_STATE_DIR: join(dir, 'state'),
		SWITCHBOARD_API_KEY: API_KEY,
		SWITCHBOARD_HTTP_PORT: String(api),
		SWITCHBOARD_SIP_PORT: String(sip),
		...(own ? { JANUS_HTTP_PORT: String(http), JANUS_ADMIN_PORT: String(admin), JANUS_WS_PORT: String(ws) } : {}),
		...(own?.rtp ? { SWITCHBOARD_RTP_PORT_RANGE: own.rtp } : {}),
		...(own?.webrtc ? { JANUS_RTP_PORT_RANGE: own.webrtc } : {}),
		JANUS_ADMIN_SECRET: ADMIN_SECRET,
		JANUS_VIDEOROOM_ADMIN_KEY: VIDEOROOM_ADMIN_KEY,
		...env,
	};
	if (pluginConfig) {
		const file = join(dir, 'janus.plugin.switchboard.jcfg');
		writeFileSync(file, pluginConfig);
		childEnv.SWITCHBOARD_PLUGIN_CONFIG = file;
	}
	const logPath = join(dir, 'janus.log');
	const log = createWriteStream(logPath);
	// Not detached: Janus stays in the test runner's process group, so
	// whatever kills the runner (scripts/test.sh's timeout) kills Janus too.
	const child = spawn(join(repoRoot, 'scripts', 'janus-private.sh'), [], {
		env: childEnv,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	const collect = (d) => {
		output += d.toString();
		if (output.length > 4e6) output = output.slice(-2e6);
		log.write(d);
	};
	child.stdout.on('data', collect);
	child.stderr.on('data', collect);
	let exited = null;
	const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));
	child.on('error', (e) => { output += `\nspawn error: ${e.message}\n`; });
	// The runner exiting on its own (process.exit) must not leave Janus up.
	const killOnExit = () => { if (!exited) child.kill('SIGKILL'); };
	process.on('exit', killOnExit);

	let stopping = null;
	// SIGINT (Janus shuts its plugins down cleanly: records are written),
	// SIGKILL if it is not gone within graceMs; resolves once it has exited.
	// Idempotent. A Janus that needed SIGKILL is said on stderr: a plugin
	// whose shutdown hangs is a bug to look at (the log is at logPath).
	const stop = (graceMs = 10000) => {
		stopping ??= (async () => {
			untrack();
			if (!exited) {
				child.kill('SIGINT');
				const t0 = Date.now();
				let timer;
				const killed = await Promise.race([exit.then(() => false),
					new Promise((r) => { timer = setTimeout(() => r(true), graceMs); })]);
				clearTimeout(timer);
				if (killed) {
					process.stderr.write(`janus (pid ${child.pid}) did not exit within ${graceMs} ms of SIGINT: SIGKILL; log: ${logPath}\n`);
					child.kill('SIGKILL');
				}
				await exit;
				if (!killed && Date.now() - t0 > 3000) process.stderr.write(`janus (pid ${child.pid}) took ${Date.now() - t0} ms to stop; log: ${logPath}\n`);
			}
			process.removeListener('exit', killOnExit);
			await new Promise((r) => log.end(r));
			// A crash on the way out (SIGSEGV in a module's stop) is a bug
			// like any other: the test that stopped it fails.
			if (exited.signal && exited.signal !== 'SIGKILL' && exited.signal !== 'SIGINT')
				throw new Error(`janus (pid ${child.pid}) died of ${exited.signal} while stopping; log: ${logPath}\n${output.slice(-3000)}`);
			return exited;
		})();
		return stopping;
	};
	const untrack = track(`janus (pid ${child.pid}, log ${logPath})`, () => stop());

	const deadline = Date.now() + 20000;
	let lastInfo = null;
	for (;;) {
		if (exited) {
			await stop();
			throw new Error(`janus exited early (${JSON.stringify(exited)}):\n${output.slice(-4000)}`);
		}
		try {
			lastInfo = await post(httpUrl, { janus: 'info', transaction: tx() });
			if (lastInfo.plugins && lastInfo.plugins[PLUGIN]) break;
		} catch {
			/* not listening yet */
		}
		if (Date.now() > deadline) {
			child.kill('SIGKILL');
			await stop();
			throw new Error(`janus did not start with ${PLUGIN} (last info: ${JSON.stringify(lastInfo)?.slice(0, 300)}):\n${output.slice(-4000)}`);
		}
		await sleep(200);
	}
	return {
		pid: child.pid,
		httpUrl,
		adminUrl: `http://127.0.0.1:${admin}/admin`,
		wsUrl: `ws://127.0.0.1:${ws}/`,
		apiUrl: `http://127.0.0.1:${api}`,
		logPath,
		output: () => output,
		exited: () => exited,
		stop: () => stop(),
	};
}

// Admin API message_plugin: the plugin's synchronous requests without a session.
/**
 * Values of /metrics series without labels, read at once: {name: number}
 * (NaN for a series not there).  `url`: another node's API.
 */
export async function metrics(names, url = API_URL) {
	const r = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(10000) });
	const lines = (await r.text()).split('\n');
	return Object.fromEntries(names.map((name) => [name, Number(lines.find((l) => l.startsWith(`${name} `))?.split(' ')[1])]));
}

/** One /metrics series without labels, as a number (NaN when not there). */
export async function metric(name, url = API_URL) {
	return (await metrics([name], url))[name];
}

export async function adminRequest(request, secret = ADMIN_SECRET, plugin = PLUGIN, url = ADMIN_URL) {
	const r = await post(url, {
		janus: 'message_plugin', transaction: tx(), admin_secret: secret,
		plugin, request,
	});
	if (r.janus !== 'success') throw new Error(`admin error: ${JSON.stringify(r)}`);
	return r.response;
}

// A Janus session with one handle on the plugin, over HTTP long-poll.
export class JanusHandle {
	// base: another Janus's API (a cluster's second node), else ours.
	static async attach(plugin = PLUGIN, base = HTTP_URL) {
		const s = await post(base, { janus: 'create', transaction: tx() });
		if (s.janus !== 'success') throw new Error(JSON.stringify(s));
		const sessionId = s.data.id;
		const h = await post(`${base}/${sessionId}`, { janus: 'attach', plugin, transaction: tx() });
		if (h.janus !== 'success') throw new Error(JSON.stringify(h));
		const handle = new JanusHandle(sessionId, h.data.id, base);
		handle.#untrack = track(`janus session ${sessionId}`, () => handle.destroy());
		handle.#poll();
		return handle;
	}
	#untrack = () => {};
	#abort = new AbortController();
	constructor(sessionId, handleId, base = HTTP_URL) {
		this.base = base;
		this.sessionId = sessionId;
		this.handleId = handleId;
		this.events = [];
		this.waiters = [];
		this.closed = false;
	}
	async #poll() {
		while (!this.closed) {
			try {
				const res = await fetch(`${this.base}/${this.sessionId}?maxev=10&rid=${Date.now()}`, { signal: this.#abort.signal });
				const body = await res.json();
				for (const ev of Array.isArray(body) ? body : [body]) {
					if (ev.janus === 'keepalive') continue;
					this.events.push(ev);
					this.waiters = this.waiters.filter((w) => !w(ev));
					// The session is gone (Janus answers at once from now on).
					if (ev.janus === 'error' && ev.error?.code === 458) this.closed = true;
				}
			} catch {
				if (!this.closed) await sleep(100);
			}
		}
	}
	// Synchronous plugin request: returns the plugin's JSON answer.
	async request(body) {
		const r = await post(`${this.base}/${this.sessionId}/${this.handleId}`, {
			janus: 'message', transaction: tx(), body,
		});
		if (r.janus === 'success') return r.plugindata.data;
		if (r.janus === 'ack') return { ack: true, transaction: r.transaction };
		throw new Error(`janus error: ${JSON.stringify(r)}`);
	}
	// Asynchronous request: waits for the event carrying the same transaction.
	async requestAsync(body, jsep, timeoutMs = 5000) {
		const t = tx();
		const msg = { janus: 'message', transaction: t, body };
		if (jsep) msg.jsep = jsep;
		const wait = this.waitFor((ev) => ev.transaction === t && ev.janus === 'event', timeoutMs);
		let r;
		try {
			r = await post(`${this.base}/${this.sessionId}/${this.handleId}`, msg);
		} catch (e) {
			wait.cancel();
			throw e;
		}
		if (r.janus === 'success') { wait.cancel(); return { data: r.plugindata.data }; }
		if (r.janus !== 'ack') { wait.cancel(); throw new Error(`janus error: ${JSON.stringify(r)}`); }
		const ev = await wait;
		return { data: ev.plugindata.data, jsep: ev.jsep };
	}
	// Resolves with the first event (already received or future) matching pred.
	waitFor(pred, timeoutMs = 5000) {
		let cancel;
		const p = new Promise((resolve, reject) => {
			const found = this.events.find(pred);
			if (found) return resolve(found);
			const timer = setTimeout(() => {
				this.waiters = this.waiters.filter((w) => w !== waiter);
				reject(new Error(`timeout waiting for event; got ${JSON.stringify(this.events.slice(-5))}`));
			}, timeoutMs);
			const waiter = (ev) => {
				if (!pred(ev)) return false;
				clearTimeout(timer);
				resolve(ev);
				return true;
			};
			this.waiters.push(waiter);
			cancel = () => { clearTimeout(timer); this.waiters = this.waiters.filter((w) => w !== waiter); };
		});
		p.cancel = () => cancel && cancel();
		return p;
	}
	pluginEvents() {
		return this.events.filter((e) => e.plugindata).map((e) => e.plugindata.data);
	}
	async detach() {
		await post(`${this.base}/${this.sessionId}/${this.handleId}`, { janus: 'detach', transaction: tx() });
	}
	// Ends the session (and its long poll). Idempotent.
	async destroy() {
		if (this.closed && !this.#abort) return;
		this.closed = true;
		this.#untrack();
		const abort = this.#abort;
		this.#abort = null;
		await post(`${this.base}/${this.sessionId}`, { janus: 'destroy', transaction: tx() }).catch(() => {});
		abort.abort();
	}
}
