// Human agents' own credentials (docs/security.md): the operator makes
// accounts with the master key (hashes never shown), agents sign in with
// their password or the operator's single sign-on and get a console token
// whose role and dial grant come from the account; an unknown agent and a
// wrong password get the same answer after the same work; failed sign-ins
// are limited per agent and per address; a console token reaches no
// operator route, acts as nobody else, opens /ws/console (its own events)
// but not /ws/notifications; a self-declared or caller supervisor cannot
// listen in; a config account signs in with the store off.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startJanus, repoRoot, API_URL, API_KEY, JanusHandle } from '../lib/janus.mjs';
import { rest } from '../lib/notifications.mjs';
import {
	createAccount, makeAgent, signIn, signedIn, call, claimsOf, signJwt, hashPassword,
	openConsoleSocket, upgradeStatus, passwordOf,
} from '../lib/console.mjs';

const T = { timeout: 60000 };
const SSO_SECRET = 'sso-secret-of-the-operators-back-end-0123456789';
const PER_AGENT = 3;
const CONFIG_PASSWORD = 'config-agent-password';
let janus, configHash;
const sockets = [];
const handles = [];

function config({ store = true, perAddress = 1000 } = {}) {
	let conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8');
	conf += `
console: {
	sso_secret = "${SSO_SECRET}"
	signin_failures_per_agent = "${PER_AGENT}"
	signin_failures_per_address = "${perAddress}"
	signin_failure_window = "600"
	accounts = (
		{ agent = "cfg-agent", name = "Config Agent", role = "supervisor", dial = "true", hash = "${configHash}" },
		{ agent = "cfg-weak", role = "agent", hash = "plaintext" }
	)
}
`;
	if (!store) conf = conf.replace('\t#enabled = false', '\tenabled = false');
	return conf;
}

const metrics = () => fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } }).then((r) => r.text());
const metric = (text, name) => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
const HASHES = 'switchboard_console_password_hashes_total';

before(async () => {
	configHash = hashPassword(CONFIG_PASSWORD);
	assert.match(configHash, /^\$y\$/);
	janus = await startJanus({ pluginConfig: config() });
}, { timeout: 60000 });

after(async () => {
	for (const s of sockets) s.close();
	for (const h of handles) await h.destroy();
	if (janus) await janus.stop();
});

test('the operator makes, lists and deletes accounts; never a hash; bad input changes nothing', T, async () => {
	const made = await createAccount('ana', { name: 'Ana', role: 'agent', dial: true });
	assert.equal(made.status, 201, made.text);
	assert.deepEqual({ ...made.json.account, created: 0 },
		{ agentId: 'ana', name: 'Ana', role: 'agent', dial: true, created: 0, source: 'store' });
	assert.doesNotMatch(made.text, /\$y\$|password|hash/);

	// Twice: 409; the first password still works.
	assert.equal((await createAccount('ana', { password: 'another-password-123' })).status, 409);
	// Bad input: 400, nothing made.
	for (const [body, what] of [
		[{ agentId: 'bad id!', password: passwordOf('x') }, 'agent id'],
		[{ agentId: 'weak', password: 'short' }, 'short password'],
		[{ agentId: 'weak', password: 12345678901234 }, 'password not a string'],
		[{ agentId: 'weak', password: passwordOf('weak'), role: 'admin' }, 'role'],
		[{ agentId: 'weak', password: passwordOf('weak'), dial: 'yes' }, 'dial'],
		[{ agentId: 'weak' }, 'no password'],
	]) {
		const r = await rest('POST', '/api/agents/accounts', body);
		assert.equal(r.status, 400, `${what}: ${r.text}`);
	}
	// A config account is the config's.
	assert.equal((await createAccount('cfg-agent')).status, 409);

	const list = await rest('GET', '/api/agents/accounts');
	assert.equal(list.status, 200, list.text);
	const ids = list.json.accounts.map((a) => a.agentId);
	assert.ok(ids.includes('ana') && ids.includes('cfg-agent'), JSON.stringify(list.json));
	assert.ok(!ids.includes('weak'), 'bad input made nothing');
	assert.ok(!ids.includes('cfg-weak'), 'a config entry with no usable hash is left out');
	assert.equal(list.json.accounts.find((a) => a.agentId === 'cfg-agent').source, 'config');
	assert.doesNotMatch(list.text, /\$y\$|hash|password/);

	// Only the operator: no key, or a console token, gets 401.
	const token = (await signedIn('ana')).token;
	for (const [method, path, body] of [['GET', '/api/agents/accounts'], ['POST', '/api/agents/accounts', { agentId: 'eve', password: passwordOf('eve') }],
		['DELETE', '/api/agents/accounts/ana']]) {
		assert.equal((await call(method, path, body)).status, 401, `${method} ${path} without a key`);
		assert.equal((await call(method, path, body, token)).status, 401, `${method} ${path} with a console token`);
	}
	assert.equal((await signIn('eve')).status, 401, 'eve was not made');

	const del = await rest('DELETE', '/api/agents/accounts/ana');
	assert.equal(del.status, 200, del.text);
	assert.equal((await rest('DELETE', '/api/agents/accounts/ana')).status, 404);
	assert.equal((await rest('DELETE', '/api/agents/accounts/cfg-agent')).status, 409);
	assert.equal((await signIn('ana')).status, 401, 'a deleted account signs in no more');
});

test('sign-in: the account gives the role and dial grant, never the request', T, async () => {
	await makeAgent('bo', { name: 'Bo', role: 'agent', dial: false });
	await makeAgent('sam', { name: 'Sam', role: 'supervisor', dial: true });
	// The request asks for more than the account has: it gets the account's.
	const r = await call('POST', '/api/agents/signin', { agentId: 'bo', password: passwordOf('bo'), role: 'supervisor', dial: true });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.desk, 'desk-bo');
	const c = claimsOf(r.json.token);
	assert.equal(c.sub, 'bo');
	assert.equal(c.role, 'agent');
	assert.equal(c.scope, 'console');
	assert.equal(c.dial, undefined);
	assert.equal(c.name, 'Bo');
	assert.equal(c.room, 'desk-bo');
	const s = claimsOf((await signedIn('sam')).token);
	assert.equal(s.role, 'supervisor');
	assert.equal(s.dial, true);
	// A config account (yescrypt hash in [console] accounts).
	const cfg = claimsOf((await signedIn('cfg-agent', CONFIG_PASSWORD)).token);
	assert.deepEqual([cfg.sub, cfg.role, cfg.dial, cfg.name], ['cfg-agent', 'supervisor', true, 'Config Agent']);
	// Without a password (and without the master key): refused.
	assert.equal((await call('POST', '/api/agents/signin', { agentId: 'bo', role: 'agent' })).status, 401);
	assert.equal((await call('POST', '/api/agents/signin', { agentId: 'bo', password: '' })).status, 400);
	// The operator's own back end still signs anyone in, as it says.
	const op = await rest('POST', '/api/agents/signin', { agentId: 'backend-made', role: 'supervisor', dial: true });
	assert.equal(op.status, 200, op.text);
	assert.deepEqual([claimsOf(op.json.token).role, claimsOf(op.json.token).dial], ['supervisor', true]);
});

test('an unknown agent and a wrong password: the same answer after the same work', T, async () => {
	await makeAgent('cy');
	const samples = { unknown: [], wrong: [] };
	let bodies = new Set();
	for (let i = 0; i < 2; i++) {
		const before = metric(await metrics(), HASHES);
		const wrong = await signIn('cy', `wrong-password-${i}`);
		const mid = metric(await metrics(), HASHES);
		const unknown = await signIn(`nobody-${i}`, `wrong-password-${i}`);
		const after = metric(await metrics(), HASHES);
		assert.equal(wrong.status, 401);
		assert.equal(unknown.status, 401);
		bodies.add(wrong.text).add(unknown.text);
		// One hash each: the unknown agent's password is checked against a
		// dummy hash, not skipped.
		assert.equal(mid - before, 1, 'the wrong password was hashed once');
		assert.equal(after - mid, 1, 'the unknown agent was hashed once too');
		samples.wrong.push(wrong.ms);
		samples.unknown.push(unknown.ms);
	}
	assert.equal(bodies.size, 1, `one answer for both: ${[...bodies]}`);
	assert.match([...bodies][0], /signin_failed/);
	// Both take a hash's time (yescrypt, ~20 ms of CPU): an unknown agent is
	// not answered at once.  Loose: the machine may be loaded.
	const min = (a) => Math.min(...a);
	assert.ok(min(samples.unknown) >= 0.3 * min(samples.wrong), JSON.stringify(samples));
	// The right password still works (2 failures < the limit of 3).
	assert.equal((await signIn('cy')).status, 200);
});

test('failed sign-ins are limited per agent id: locked even with the right password; others unaffected', T, async () => {
	await makeAgent('dee');
	await makeAgent('ed');
	const before = await metrics();
	for (let i = 0; i < PER_AGENT; i++) assert.equal((await signIn('dee', 'not-her-password')).status, 401);
	const hashes = metric(await metrics(), HASHES);
	const locked = await signIn('dee');
	assert.equal(locked.status, 429, locked.text);
	assert.equal(locked.json.error.code, 'limit_reached');
	assert.equal(metric(await metrics(), HASHES), hashes, 'a locked sign-in hashes nothing');
	// The same for an agent id that does not exist (no way to tell).
	for (let i = 0; i < PER_AGENT; i++) assert.equal((await signIn('ghost', 'guess')).status, 401);
	assert.equal((await signIn('ghost', 'guess')).status, 429);
	assert.equal((await signIn('ed')).status, 200, 'another agent signs in');
	const m = await metrics();
	const limit = 'switchboard_limit_refusals_total{limit="signin_failures_per_agent"}';
	assert.equal(metric(m, limit) - (metric(before, limit) || 0), 2, m);
	assert.ok(metric(m, 'switchboard_console_signins_total{result="limited"}') >= 2);
});

test('single sign-on: a token the operator signs with sso_secret; anything else refused', T, async () => {
	const now = Math.floor(Date.now() / 1000);
	const good = signJwt(SSO_SECRET, { sub: 'sso-ann', name: 'Ann', role: 'supervisor', dial: true, exp: now + 60 });
	const r = await call('POST', '/api/agents/signin', { token: good });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.desk, 'desk-sso-ann');
	const c = claimsOf(r.json.token);
	assert.deepEqual([c.sub, c.name, c.role, c.dial, c.scope], ['sso-ann', 'Ann', 'supervisor', true, 'console']);
	// dial only as JSON true; role agent by default.
	const plain = claimsOf((await call('POST', '/api/agents/signin', { token: signJwt(SSO_SECRET, { sub: 'sso-bea', dial: 'true', exp: now + 60 }) })).json.token);
	assert.deepEqual([plain.role, plain.dial], ['agent', undefined]);
	for (const [token, what] of [
		[signJwt('another-secret-of-the-same-length-0123456789', { sub: 'x', exp: now + 60 }), 'wrong secret'],
		[signJwt(SSO_SECRET, { sub: 'x', exp: now - 5 }), 'expired'],
		[signJwt(SSO_SECRET, { sub: 'x' }), 'no exp'],
		[signJwt(SSO_SECRET, { sub: 'x', exp: now + 86400 }), 'exp too far ahead'],
		[signJwt(SSO_SECRET, { sub: 'bad id!', exp: now + 60 }), 'bad sub'],
		[signJwt(SSO_SECRET, { sub: 'x', role: 'admin', exp: now + 60 }), 'bad role'],
		[signJwt(SSO_SECRET, { sub: 'x', exp: now + 60 }, { alg: 'none', typ: 'JWT' }), 'alg none'],
		[signJwt(SSO_SECRET, { sub: 'x', exp: now + 60 }, { alg: 'HS512', typ: 'JWT' }), 'another alg'],
		['not-a-jwt', 'garbage'],
	]) {
		const bad = await call('POST', '/api/agents/signin', { token });
		assert.equal(bad.status, 401, `${what}: ${bad.text}`);
		assert.equal(bad.json.error.code, 'signin_failed', what);
	}
	// A console token is no sign-on token (another secret).
	assert.equal((await call('POST', '/api/agents/signin', { token: r.json.token })).status, 401);
});

test('a console token reaches no operator route and acts as nobody else', T, async () => {
	await makeAgent('fay');
	await makeAgent('gus');
	const { token } = await signedIn('fay');
	for (const [method, path, body] of [
		['GET', '/rooms'], ['GET', '/sessions'], ['GET', '/metrics'], ['GET', '/api/calls'],
		['POST', '/api/admin', { request: 'list' }], ['POST', '/room/create', { roomName: 'fay-room' }],
		['POST', '/room/join', { roomName: 'demo', participantIdentity: 'x', role: 'supervisor' }],
		['POST', '/api/queue', { room: 'demo' }], ['POST', '/api/transcript', { room: 'demo', speaker: 'x', text: 'y' }],
		['DELETE', '/rooms/demo'],
	]) assert.equal((await call(method, path, body, token)).status, 401, `${method} ${path}`);
	// Its own console routes work.
	assert.equal((await call('GET', '/api/queue', undefined, token)).status, 200);
	assert.equal((await call('GET', '/api/agents', undefined, token)).status, 200);
	// As another agent: refused (api/principal.c, sb_console_acting_agent).
	const other = await call('POST', '/api/agents/status', { agentId: 'gus', status: 'offline' }, token);
	assert.equal(other.status, 403, other.text);
	const take = await call('POST', '/api/queue/take', { agentId: 'gus', room: 'demo' }, token);
	assert.equal(take.status, 403, take.text);
	// Nor sign anyone in (no password, no key).
	assert.equal((await call('POST', '/api/agents/signin', { agentId: 'gus', role: 'supervisor' }, token)).status, 401);
	// Nor the whole bus; its own socket, yes.
	assert.equal(await upgradeStatus(`/ws/notifications?token=${token}`), 401);
	assert.equal(await upgradeStatus(`/ws/notifications?api_key=${token}`), 401);
	assert.equal(await upgradeStatus('/ws/console'), 401);
	assert.equal(await upgradeStatus('/ws/console?token=forged.token.here'), 401);
	assert.equal(await upgradeStatus(`/ws/console?token=${token}`), 101);
});

test('/ws/console: the queue and presence for all, an agent\'s own events only to them', T, async () => {
	await makeAgent('hal');
	await makeAgent('ivy');
	const hal = await signedIn('hal');
	const ivy = await signedIn('ivy');
	const halWs = await openConsoleSocket(hal.token);
	const ivyWs = await openConsoleSocket(ivy.token);
	sockets.push(halWs, ivyWs);
	await halWs.until('hello', () => halWs.events.find((e) => e.type === 'connected' && e.agentId === 'hal'), 5000);
	// Hal at his desk takes a queued call.
	const h = await JanusHandle.attach();
	handles.push(h);
	const joined = await h.requestAsync({ request: 'join', room: hal.desk, token: hal.token });
	assert.equal(joined.data.switchboard, 'joined', JSON.stringify(joined.data));
	const room = `ca-call-${process.pid}`;
	assert.equal((await rest('POST', '/room/create', { roomName: room })).status, 201);
	assert.equal((await rest('POST', '/api/queue', { room })).status, 200);
	for (const ws of [halWs, ivyWs])
		await ws.until('queue_updated', () => ws.events.find((e) => e.type === 'queue_updated' && e.room === room), 5000);
	const taken = await call('POST', '/api/queue/take', { room }, hal.token);
	assert.equal(taken.status, 200, taken.text);
	await halWs.until('call_assigned', () => halWs.events.find((e) => e.type === 'call_assigned' && e.room === room), 5000);
	await ivyWs.until('queue removal', () => ivyWs.events.find((e) => e.type === 'queue_updated' && e.room === room && e.action === 'removed'), 5000);
	await ivyWs.until('presence', () => ivyWs.events.find((e) => e.type === 'agent_presence' && e.agentId === 'hal'), 5000);
	// Ivy never hears of Hal's call, nor of anything else on the bus.
	assert.ok(!ivyWs.events.some((e) => e.type === 'call_assigned'), JSON.stringify(ivyWs.events));
	const allowed = new Set(['connected', 'queue_updated', 'agent_presence']);
	assert.deepEqual(ivyWs.events.filter((e) => !allowed.has(e.type)), []);
	assert.ok(!halWs.events.some((e) => ['room_created', 'participant_joined', 'transcript'].includes(e.type)));
});

test('listen_in: no self-declared supervisor, no caller; a supervisor account may', T, async () => {
	const room = `ca-listen-${process.pid}`;
	assert.equal((await rest('POST', '/room/create', { roomName: room })).status, 201);
	// Without a token, role supervisor: refused at join.
	const self = await JanusHandle.attach();
	handles.push(self);
	const declared = await self.requestAsync({ request: 'join', room, role: 'supervisor', display: 'Mallory' });
	assert.equal(declared.data.error_code, 488, JSON.stringify(declared.data));
	assert.equal((await self.request({ request: 'listen_in', room })).error_code, 488);
	// A caller's token: joins as a caller, may not listen in.
	const t = await rest('POST', '/room/join', { roomName: room, participantIdentity: 'carl', role: 'caller' });
	const caller = await JanusHandle.attach();
	handles.push(caller);
	assert.equal((await caller.requestAsync({ request: 'join', room, token: t.json.token })).data.switchboard, 'joined');
	const refused = await caller.request({ request: 'listen_in', room });
	assert.equal(refused.error_code, 488, JSON.stringify(refused));
	// A supervisor's console token (the account's role): listens.
	await makeAgent('sue', { role: 'supervisor' });
	const sue = await signedIn('sue');
	const sup = await JanusHandle.attach();
	handles.push(sup);
	assert.equal((await sup.requestAsync({ request: 'join', room: sue.desk, token: sue.token })).data.switchboard, 'joined');
	const ok = await sup.request({ request: 'listen_in', room });
	assert.equal(ok.switchboard, 'listening', JSON.stringify(ok));
	// An agent account's token is no supervisor's.
	await makeAgent('al');
	const al = await signedIn('al');
	const agent = await JanusHandle.attach();
	handles.push(agent);
	assert.equal((await agent.requestAsync({ request: 'join', room: al.desk, token: al.token })).data.switchboard, 'joined');
	assert.equal((await agent.request({ request: 'listen_in', room })).error_code, 488);
});

test('store off: config accounts sign in, none can be made; failures limited per address', T, async () => {
	await janus.stop();
	janus = await startJanus({ pluginConfig: config({ store: false, perAddress: 4 }) });
	const made = await createAccount('zed');
	assert.equal(made.status, 503, made.text);
	assert.match(made.text, /store/);
	assert.equal((await signIn('cfg-agent', CONFIG_PASSWORD)).status, 200);
	// Failures from one address, for different agents: the address is
	// limited (4), before any agent is (3).
	for (const id of ['a1', 'a2', 'a3', 'a4']) assert.equal((await signIn(id, 'guess')).status, 401);
	const limited = await signIn('cfg-agent', CONFIG_PASSWORD);
	assert.equal(limited.status, 429, limited.text);
	assert.match(limited.json.error.message, /address/);
	assert.match(await metrics(), /switchboard_limit_refusals_total\{limit="signin_failures_per_address"\} 1\n/);
	// Single sign-on is limited too, by address.
	const now = Math.floor(Date.now() / 1000);
	assert.equal((await call('POST', '/api/agents/signin', { token: signJwt(SSO_SECRET, { sub: 'x', exp: now + 60 }) })).status, 429);
});
