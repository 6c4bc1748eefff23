// docs/security.md, "Operations": what a stranger on the Janus API may and
// may not do, against a real private Janus. Each refusal is a 488 that
// changes nothing; the same request with the proof it needs succeeds, so
// every refusal here is the access check and not some other error.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { startJanus, adminRequest, JanusHandle, API_URL, API_KEY } from '../lib/janus.mjs';

let janus;
const handles = [];
const T = { timeout: 30000 };
before(async () => { janus = await startJanus(); }, { timeout: 60000 });
after(async () => {
	for (const h of handles) await h.destroy();
	if (janus) await janus.stop();
});

async function attach() {
	const h = await JanusHandle.attach();
	handles.push(h);
	return h;
}
const unique = (p) => `${p}-${Math.random().toString(36).slice(2, 8)}`;
async function rest(method, path, body, token = API_KEY) {
	const res = await fetch(`${API_URL}${path}`, {
		method,
		headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: res.status, json, text };
}

// A room the operator made (as REST, SIP and Twilio make them), with a
// caller in it who joined with the token the back end gave her.
async function operatorRoom() {
	const room = unique('op');
	assert.equal((await adminRequest({ request: 'create', room, ephemeral: false })).switchboard, 'created');
	const caller = await attach();
	const { token } = await adminRequest({ request: 'token', room, identity: 'carol', name: 'Carol' });
	const joined = await caller.requestAsync({ request: 'join', room, token });
	assert.equal(joined.data.switchboard, 'joined', JSON.stringify(joined.data));
	return { room, caller, callerId: joined.data.id };
}

test('a stranger cannot steer, read or record a room it was not let into', T, async () => {
	const { room, callerId } = await operatorRoom();
	const stranger = await attach();
	const refused = [
		{ request: 'destroy', room },
		{ request: 'kick', room, id: callerId },
		{ request: 'mute', room, id: callerId },
		{ request: 'say', room, text: 'read me your card number' },
		{ request: 'agent', room, enable: true },
		{ request: 'start_recording', room },
		{ request: 'listparticipants', room },
		{ request: 'transcript', room },
		{ request: 'list' },
		{ request: 'sessions' },
		{ request: 'stats' },
		{ request: 'token', room, role: 'supervisor' },
		{ request: 'rtp_join', room, ip: '127.0.0.1', port: 40, codec: 'pcmu' },
		{ request: 'queue' },
		{ request: 'agents' },
		{ request: 'transfer', action: 'start', room, to: { uri: 'sip:x@127.0.0.1:9' } },
		{ request: 'dial', room, uri: 'sip:x@127.0.0.1:9' },
		{ request: 'summary', room },
		{ request: 'chat_history', conversation: 'whatsapp:+14155550100' },
	];
	for (const body of refused) {
		const r = await stranger.request(body);
		assert.equal(r.error_code, 488, `${JSON.stringify(body)} -> ${JSON.stringify(r)}`);
		assert.match(r.error, /^Unauthorized/);
	}
	// Nothing changed: the caller is still there, unmuted, and no agent or
	// recording started.
	const parts = await adminRequest({ request: 'listparticipants', room });
	assert.deepEqual(parts.participants.map((p) => [p.id, p.muted, p.kind]), [[callerId, false, 'web']]);
	const info = await rest('GET', `/rooms/${room}`);
	assert.equal(info.json.recording, false);
	assert.equal(info.json.agent, false);
	// The same reads with the proof they need succeed: the operator's, and
	// the caller's own (she is in the room).
	const { token: admin } = await adminRequest({ request: 'token', room, admin: true });
	assert.equal((await stranger.request({ request: 'listparticipants', room, token: admin })).participants.length, 1);
	assert.equal((await stranger.request({ request: 'mute', room, id: callerId, token: admin })).switchboard, 'success');
});

test('nobody makes themselves an agent, a supervisor or a room admin by saying so', T, async () => {
	const { room, caller } = await operatorRoom();
	const h = await attach();
	for (const role of ['agent', 'supervisor']) {
		const r = await h.requestAsync({ request: 'join', room: 'demo', role, display: 'Mallory' });
		assert.equal(r.data.error_code, 488, JSON.stringify(r.data));
		assert.match(r.data.error, /needs a join token/);
	}
	// A caller's token makes a caller: no supervisor's listen_in, no room
	// admin's kick, whatever the request adds.
	assert.equal((await caller.request({ request: 'listen_in', room })).error_code, 488);
	assert.equal((await caller.request({ request: 'kick', room, id: 1, admin: true })).error_code, 488);
	// A token signed with another secret is no token.
	const forged = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.' +
		Buffer.from(JSON.stringify({ room, role: 'supervisor', admin: true, exp: 9999999999 })).toString('base64url') +
		'.c2lnbmF0dXJl';
	const r = await h.requestAsync({ request: 'join', room, token: forged });
	assert.equal(r.data.error_code, 488);
	assert.equal((await h.request({ request: 'destroy', room, token: forged })).error_code, 488);
	assert.equal((await adminRequest({ request: 'exists', room })).exists, true);
});

test('a token for one room proves nothing in another', T, async () => {
	const a = await operatorRoom();
	const b = await operatorRoom();
	const { token } = await adminRequest({ request: 'token', room: a.room, admin: true });
	const h = await attach();
	assert.equal((await h.request({ request: 'destroy', room: b.room, token })).error_code, 488);
	assert.equal((await h.requestAsync({ request: 'join', room: b.room, token })).data.error_code, 488);
	assert.equal((await adminRequest({ request: 'exists', room: b.room })).exists, true);
	// Its own room, it steers.
	assert.equal((await h.request({ request: 'destroy', room: a.room, token })).switchboard, 'destroyed');
});

test('private rooms and rooms that need a token refuse guests, whatever they know of them', T, async () => {
	const secure = unique('secure');
	await adminRequest({ request: 'create', room: secure, require_token: true, ephemeral: false });
	const signin = await rest('POST', '/api/agents/signin', { agentId: unique('ann'), name: 'Ann' });
	assert.equal(signin.status, 200, signin.text);
	const h = await attach();
	for (const room of [secure, signin.json.desk]) {
		const r = await h.requestAsync({ request: 'join', room, display: 'guest' });
		assert.equal(r.data.error_code, 488, `${room}: ${JSON.stringify(r.data)}`);
	}
	// The desk's token is the agent's, and opens it.
	const desk = await h.requestAsync({ request: 'join', room: signin.json.desk, token: signin.json.token });
	assert.equal(desk.data.switchboard, 'joined');
});

test('a guest makes ephemeral rooms only, steers what it made, and no agent config', T, async () => {
	const h = await attach();
	const room = unique('guest');
	assert.equal((await h.request({ request: 'create', room, ephemeral: false })).error_code, 488);
	assert.equal((await h.request({ request: 'create', room, agent_config: { persona: 'x' } })).error_code, 488);
	assert.equal((await adminRequest({ request: 'exists', room })).exists, false, 'refusals made nothing');
	const created = await h.request({ request: 'create', room });
	assert.equal(created.switchboard, 'created');
	assert.equal(created.ephemeral, true);
	const joined = await h.requestAsync({ request: 'join', room, token: created.token, display: 'Host' });
	assert.equal(joined.data.switchboard, 'joined');
	// As its admin it may turn the agent on, but not give it a persona.
	assert.equal((await h.request({ request: 'agent', room, enable: false })).switchboard, 'agent');
	const config = await h.request({ request: 'agent', room, enable: true, config: { greeting: 'read me your card number' } });
	assert.equal(config.error_code, 488);
	assert.match(config.error, /operator/);
	await h.requestAsync({ request: 'leave' });
});
