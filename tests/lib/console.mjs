// Human agents for the tests, the way they work now (docs/security.md):
// the operator makes an account (master key), the agent signs in with
// their own password (no key), and uses their console token for REST, the
// Janus API and /ws/console.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import WebSocket from 'ws';
import { API_URL, API_PORT, HTTP_URL, repoRoot } from './janus.mjs';
import { rest } from './notifications.mjs';
import { track } from './resources.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every test agent's password, unless a test says otherwise.
export const passwordOf = (agentId) => `pw-${agentId}-correct-horse`;

// POST /api/agents/accounts with the master key: {status, json}.
export async function createAccount(agentId, { role = 'agent', dial = false, name, password } = {}) {
	const body = { agentId, role, dial, password: password ?? passwordOf(agentId) };
	if (name) body.name = name;
	return rest('POST', '/api/agents/accounts', body);
}

// The same, asserting it was made.
export async function makeAgent(agentId, options = {}) {
	const r = await createAccount(agentId, options);
	assert.equal(r.status, 201, r.text);
	return r.json;
}

// A request with no key (or with a token): {status, json, text, ms}.
export async function call(method, path, body, token) {
	const headers = { 'content-type': 'application/json' };
	if (token) headers.authorization = `Bearer ${token}`;
	const t0 = performance.now();
	const res = await fetch(`${API_URL}${path}`, {
		method, headers, body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(20000),
	});
	const text = await res.text();
	const ms = performance.now() - t0;
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: res.status, json, text, ms };
}

// POST /api/agents/signin as the console does: {status, json}.
export const signIn = (agentId, password = passwordOf(agentId)) =>
	call('POST', '/api/agents/signin', { agentId, password });

// Signs in, asserting it worked: {agentId, desk, token}.
export async function signedIn(agentId, password) {
	const r = await signIn(agentId, password);
	assert.equal(r.status, 200, r.text);
	return r.json;
}

// The claims of a JWT (not verified: the server did).
export const claimsOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

// A JWT HS256, as the operator's back end signs a single sign-on token.
export function signJwt(secret, claims, header = { alg: 'HS256', typ: 'JWT' }) {
	const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
	const head = `${enc(header)}.${enc(claims)}`;
	const sig = header.alg === 'none' ? '' : createHmac('sha256', secret).update(head).digest('base64url');
	return `${head}.${sig}`;
}

// A yescrypt hash for [console] accounts (tests/tools/hash_password).
export function hashPassword(password) {
	return execFileSync(join(repoRoot, 'build', 'tests', 'tools', 'hash_password'), { input: `${password}\n` })
		.toString().trim();
}

// WS /ws/console with a console token: every event kept, as openNotifications.
export async function openConsoleSocket(token) {
	const events = [];
	const ws = new WebSocket(`ws://127.0.0.1:${API_PORT}/ws/console?token=${encodeURIComponent(token)}`);
	ws.on('message', (d) => events.push(JSON.parse(d.toString())));
	const untrack = track('/ws/console client', () => ws.terminate());
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
	return {
		events,
		close: () => { untrack(); ws.terminate(); },
		async until(what, pred, timeoutMs) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const found = pred();
				if (found) return found;
				if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.slice(-25))}`);
				await sleep(50);
			}
		},
	};
}

// The HTTP status a WebSocket upgrade gets (101 when it opens).
export function upgradeStatus(path) {
	return new Promise((resolve) => {
		const ws = new WebSocket(`ws://127.0.0.1:${API_PORT}${path}`);
		const untrack = track(`WebSocket ${path}`, () => ws.terminate());
		ws.on('unexpected-response', (req, res) => { untrack(); resolve(res.statusCode); ws.terminate(); });
		ws.on('open', () => { untrack(); resolve(101); ws.terminate(); });
		ws.on('error', () => { untrack(); resolve(0); });
	});
}

// The console page signed in as agentId with their password (the form,
// as a person fills it).  Waits until the desk is joined.
export async function consoleSignIn(page, agentId, { password = passwordOf(agentId), timeoutMs = 20000, apiUrl = API_URL, janusUrl = HTTP_URL } = {}) {
	await page.goto(`${apiUrl}/console.html?janus=${encodeURIComponent(janusUrl)}&agent=${agentId}`);
	await page.fill('#agent-password', password);
	await page.click('#signin-button');
	await page.waitForFunction(() => window.consoleTest?.state().phase === 'signed-in' ||
		window.consoleTest?.state().errors.length > 0, null, { timeout: timeoutMs });
	const s = await page.evaluate(() => window.consoleTest.state());
	assert.equal(s.phase, 'signed-in', `sign-in failed: ${JSON.stringify(s.errors)}`);
	assert.equal(s.room, `desk-${agentId}`);
	return s;
}
