// Secrets stay secret (docs/security.md, "Secrets"): Janus has no default
// Admin API secret; only the call page's origin may use the Janus API from
// a browser (WebSockets from elsewhere are refused); the plugin never
// logs a key, token, pin or password, and without a configured REST key
// it makes none up: routes that need one refuse everything; ?api_key= is
// taken only on a WebSocket upgrade.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
	startJanus, adminRequest, JanusHandle, repoRoot, HTTP_URL, WS_URL, API_URL, API_PORT, API_KEY,
	ADMIN_SECRET, VIDEOROOM_ADMIN_KEY,
} from '../lib/janus.mjs';
import { rest } from '../lib/notifications.mjs';

const T = { timeout: 30000 }; // a few requests each
const OWN_ORIGIN = `http://127.0.0.1:${API_PORT}`;
const JWT_SECRET = `jwt-secret-for-this-test-${process.pid}-0123456789abcdef`;
let janus;
const handles = [];

after(async () => {
	await Promise.allSettled(handles.map((h) => h.destroy()));
	if (janus) await janus.stop();
});

// janus-private.sh with env; never left running (a timeout kills it).
function janusPrivate(env) {
	const dir = mkdtempSync(join(tmpdir(), 'sb-secrets-'));
	try {
		const childEnv = { ...process.env, SWITCHBOARD_RUN_DIR: join(dir, 'run'), ...env };
		for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
		return spawnSync(join(repoRoot, 'scripts', 'janus-private.sh'), [], { env: childEnv, encoding: 'utf8', timeout: 10000, killSignal: 'SIGKILL' });
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

test('janus-private.sh refuses to start without an Admin API secret, or with one it cannot quote', T, async () => {
	const none = janusPrivate({ JANUS_ADMIN_SECRET: undefined });
	assert.equal(none.status, 1, `it started (signal ${none.signal}): ${none.stderr}`);
	assert.match(none.stderr, /set JANUS_ADMIN_SECRET/);
	const quoted = janusPrivate({ JANUS_ADMIN_SECRET: 'bad"secret; x' });
	assert.equal(quoted.status, 1, quoted.stderr);
	assert.match(quoted.stderr, /JANUS_ADMIN_SECRET must be/);
	const origin = janusPrivate({ JANUS_ADMIN_SECRET: ADMIN_SECRET, JANUS_ALLOW_ORIGIN: 'http://a, http://b' });
	assert.equal(origin.status, 1, origin.stderr);
	assert.match(origin.stderr, /JANUS_ALLOW_ORIGIN must be one origin/);
});

test('the Janus the tests start takes their secret, not the old default', { timeout: 60000 }, async () => {
	janus = await startJanus({ env: { SWITCHBOARD_JWT_SECRET: JWT_SECRET } });
	assert.equal((await adminRequest({ request: 'list' })).switchboard, 'success');
	await assert.rejects(adminRequest({ request: 'list' }, 'switchboard-admin'), /admin error/);
});

test('Janus HTTP: answers are for the call page\'s origin only (a browser elsewhere cannot read them)', T, async () => {
	const evil = 'http://evil.example';
	const post = await fetch(HTTP_URL, { method: 'POST', headers: { origin: evil }, body: JSON.stringify({ janus: 'info', transaction: 'o1' }) });
	assert.equal(post.headers.get('access-control-allow-origin'), OWN_ORIGIN);
	await post.arrayBuffer();
	const preflight = await fetch(HTTP_URL, {
		method: 'OPTIONS', headers: { origin: evil, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
	});
	assert.equal(preflight.headers.get('access-control-allow-origin'), OWN_ORIGIN);
	await preflight.arrayBuffer();
});

// Opens a Janus WebSocket with this Origin (none: undefined); resolves
// 'open' or 'refused'.
function wsOpen(origin) {
	return new Promise((resolve) => {
		const ws = new WebSocket(WS_URL, 'janus-protocol', { origin, handshakeTimeout: 5000 });
		ws.on('open', () => {
			ws.send(JSON.stringify({ janus: 'create', transaction: 'w1' }));
			ws.once('message', (d) => { ws.terminate(); resolve(JSON.parse(d.toString()).janus === 'success' ? 'open' : 'no session'); });
		});
		ws.on('error', () => resolve('refused'));
		ws.on('unexpected-response', (req, res) => { res.resume(); ws.terminate(); resolve('refused'); });
	});
}

test('Janus WebSockets: refused from any origin but the call page\'s', T, async () => {
	assert.equal(await wsOpen('http://evil.example'), 'refused');
	assert.equal(await wsOpen(undefined), 'refused');
	assert.equal(await wsOpen(`http://127.0.0.1:${API_PORT + 1}`), 'refused');
	assert.equal(await wsOpen(OWN_ORIGIN), 'open');
});

test('?api_key= is taken on a WebSocket upgrade only; everywhere else the header', T, async () => {
	const inQuery = await fetch(`${API_URL}/rooms?api_key=${encodeURIComponent(API_KEY)}`);
	assert.equal(inQuery.status, 401);
	await inQuery.arrayBuffer();
	assert.equal((await rest('GET', '/rooms')).status, 200);
	const opened = await new Promise((resolve) => {
		const ws = new WebSocket(`ws://127.0.0.1:${API_PORT}/ws/notifications?api_key=${encodeURIComponent(API_KEY)}`, { handshakeTimeout: 5000 });
		ws.on('open', () => { ws.terminate(); resolve(true); });
		ws.on('error', () => resolve(false));
	});
	assert.equal(opened, true);
	const wrong = await new Promise((resolve) => {
		const ws = new WebSocket(`ws://127.0.0.1:${API_PORT}/ws/notifications?api_key=wrong`, { handshakeTimeout: 5000 });
		ws.on('open', () => { ws.terminate(); resolve('open'); });
		ws.on('unexpected-response', (req, res) => { res.resume(); ws.terminate(); resolve(res.statusCode); });
		ws.on('error', () => resolve('error'));
	});
	assert.equal(wrong, 401);
});

test('the log holds no key, secret, token or pin, after they were all used', T, async () => {
	const room = `secrets-${process.pid}`;
	assert.equal((await rest('POST', '/room/create', { roomName: room, requireToken: true })).status, 201);
	const token = (await rest('POST', '/room/join', { roomName: room, participantIdentity: 'p', participantName: 'P' })).json.token;
	const h = await JanusHandle.attach();
	handles.push(h);
	const { data } = await h.requestAsync({ request: 'join', room, token });
	assert.equal(data.switchboard, 'joined', JSON.stringify(data));
	const forged = await (await JanusHandle.attach().then((x) => { handles.push(x); return x; }))
		.requestAsync({ request: 'join', room, token: `${token.slice(0, -4)}AAAA` });
	assert.equal(forged.data.error_code, 488);
	assert.ok(data.video?.pin, 'a pin was made');
	await adminRequest({ request: 'destroy', room });
	await new Promise((r) => setTimeout(r, 500)); // the VideoRoom's destroy
	const log = janus.output();
	const tokenParts = token.split('.');
	for (const [what, value] of [['REST key', API_KEY], ['Admin API secret', ADMIN_SECRET], ['VideoRoom admin_key', VIDEOROOM_ADMIN_KEY],
		['jwt secret', JWT_SECRET], ['join token signature', tokenParts[2]], ['VideoRoom pin', data.video.pin]]) {
		assert.ok(!log.includes(value), `the log shows the ${what}`);
	}
});

test('without a configured REST key none is made up or logged: routes that need one refuse every request', { timeout: 60000 }, async () => {
	await janus.stop();
	janus = await startJanus({ env: { SWITCHBOARD_API_KEY: '' } });
	for (const key of [API_KEY, '', 'undefined', 'null']) {
		const r = await fetch(`${API_URL}/rooms`, { headers: { authorization: `Bearer ${key}` } });
		assert.equal(r.status, 401, `Bearer "${key}"`);
		await r.arrayBuffer();
	}
	assert.equal((await fetch(`${API_URL}/health`)).status, 200, 'public routes still answer');
	const log = janus.output();
	assert.match(log, /no api_key configured .*refuse every request/);
	assert.doesNotMatch(log, /generated one for this run/);
});
