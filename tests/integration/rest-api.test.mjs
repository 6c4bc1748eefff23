// The REST facade, join tokens, pages and /ws/notifications of the plugin's
// embedded HTTP server, against a real private Janus.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { startJanus, JanusHandle, adminRequest, API_URL, API_PORT, API_KEY } from '../lib/janus.mjs';

let janus;
const handles = [];
// Plain REST and Janus API requests: each test takes well under a second.
const T = { timeout: 30000 };
before(async () => { janus = await startJanus(); }, { timeout: 60000 });
after(async () => {
	for (const h of handles) await h.destroy();
	if (janus) await janus.stop();
});

const auth = { authorization: `Bearer ${API_KEY}` };
async function api(method, path, body, headers = auth) {
	const init = { method, headers: { ...headers } };
	if (body !== undefined) {
		init.headers['content-type'] = 'application/json';
		init.body = typeof body === 'string' ? body : JSON.stringify(body);
	}
	const res = await fetch(`${API_URL}${path}`, init);
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: res.status, json, text, headers: res.headers };
}
const unique = (p) => `${p}-${Math.random().toString(36).slice(2, 8)}`;
function expectError(r, status, code) {
	assert.equal(r.status, status, r.text);
	assert.equal(typeof r.json?.error?.message, 'string', r.text);
	if (code) assert.equal(r.json.error.code, code, r.text);
}

// A raw HTTP request, for what fetch will not send (traversal, lying lengths).
function raw(request) {
	return new Promise((resolve, reject) => {
		const s = net.connect(API_PORT, '127.0.0.1', () => s.write(request));
		let data = '';
		s.on('data', (d) => { data += d; });
		s.on('end', () => resolve(data));
		s.on('error', reject);
		setTimeout(() => { s.destroy(); resolve(data); }, 3000);
	});
}

test('health is public; everything else needs the bearer key', T, async () => {
	const h = await api('GET', '/health', undefined, {});
	assert.equal(h.status, 200);
	assert.equal(h.json.status, 'ok');
	for (const path of ['/rooms', '/sessions', '/metrics']) {
		expectError(await api('GET', path, undefined, {}), 401, 'unauthorized');
		expectError(await api('GET', path, undefined, { authorization: 'Bearer wrong' }), 401);
		expectError(await api('GET', path, undefined, { authorization: API_KEY }), 401);
		assert.equal((await api('GET', path)).status, 200, path);
	}
	expectError(await api('POST', '/room/create', { roomName: unique('x') }, {}), 401);
});

test('create a room, get a token, list, inspect, close', T, async () => {
	const name = unique('rest');
	const c = await api('POST', '/room/create', { roomName: name, hostIdentity: 'host-1', hostName: 'Host' });
	assert.equal(c.status, 201, c.text);
	assert.equal(c.json.room.room, name);
	assert.match(c.json.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
	assert.equal(c.json.janus.plugin, 'janus.plugin.switchboard');
	expectError(await api('POST', '/room/create', { roomName: name }), 409, 'room_exists');

	const j = await api('POST', '/room/join', { roomName: name, participantIdentity: 'u-2', participantName: 'Bob' });
	assert.equal(j.status, 200, j.text);
	assert.equal(j.json.room, name);
	assert.match(j.json.token, /\./);
	assert.ok(j.json.janus.url.startsWith('http://127.0.0.1:'));

	const list = await api('GET', '/rooms');
	assert.ok(list.json.rooms.some((r) => r.room === name));
	const one = await api('GET', `/rooms/${name}`);
	assert.equal(one.status, 200);
	assert.deepEqual(one.json.participants, []);

	const agentOn = await api('POST', `/room/${name}/agent`, { enable: true });
	assert.equal(agentOn.status, 200, agentOn.text);
	assert.equal(agentOn.json.agent.enabled, true);
	assert.equal((await api('GET', `/rooms/${name}`)).json.agent, true);
	expectError(await api('POST', `/room/${name}/agent`, { enable: 'yes' }), 400);
	expectError(await api('POST', '/room/no-such-room/agent', { enable: true }), 404, 'room_not_found');

	const del = await api('DELETE', `/rooms/${name}`);
	assert.equal(del.status, 200);
	expectError(await api('GET', `/rooms/${name}`), 404, 'room_not_found');
	expectError(await api('DELETE', `/rooms/${name}`), 404);
	expectError(await api('POST', '/room/join', { roomName: name, participantIdentity: 'u' }), 404, 'room_not_found');
});

test('bad requests get JSON errors with the right status and create nothing', T, async () => {
	const before = (await api('GET', '/rooms')).json.rooms.length;
	expectError(await api('POST', '/room/create', '{"roomName": '), 400, 'invalid_json');
	expectError(await api('POST', '/room/create', '[1,2]'), 400, 'invalid_json');
	expectError(await api('POST', '/room/create', '{"roomName":"a","roomName":"b"}'), 400, 'invalid_json');
	expectError(await api('POST', '/room/create', {}), 400, 'invalid_request');
	expectError(await api('POST', '/room/create', { roomName: 42 }), 400);
	expectError(await api('POST', '/room/create', { roomName: 'no spaces allowed' }), 400, 'invalid_room_name');
	expectError(await api('POST', '/room/create', { roomName: '../../etc' }), 400, 'invalid_room_name');
	expectError(await api('POST', '/room/create', { roomName: 'r'.repeat(65) }), 400, 'invalid_room_name');
	expectError(await api('POST', '/room/create', { roomName: unique('a'), agent: 'maybe' }), 400);
	const wrongType = await fetch(`${API_URL}/room/create`, {
		method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: JSON.stringify({ roomName: unique('t') }),
	});
	assert.equal(wrongType.status, 415);
	const big = JSON.stringify({ roomName: unique('big'), pad: 'x'.repeat(70000) });
	expectError(await api('POST', '/room/create', big), 413, 'payload_too_large');
	expectError(await api('POST', '/room/join', { roomName: 'demo' }), 400);
	expectError(await api('GET', '/no/such/route'), 404, 'not_found');
	expectError(await api('PUT', '/rooms'), 405);
	expectError(await api('GET', '/sessions/type/fax'), 400);
	assert.equal((await api('GET', '/rooms')).json.rooms.length, before, 'nothing half-created');
});

test('join tokens: a room that requires one refuses forged, foreign and missing tokens', T, async () => {
	const name = unique('tok');
	const c = await api('POST', '/room/create', { roomName: name, requireToken: true });
	assert.equal(c.status, 201, c.text);
	const other = unique('other');
	await api('POST', '/room/create', { roomName: other });
	const mine = (await api('POST', '/room/join', { roomName: name, participantIdentity: 'u1', participantName: 'Una' })).json.token;
	const foreign = (await api('POST', '/room/join', { roomName: other, participantIdentity: 'u1' })).json.token;
	const [h64, p64, sig] = mine.split('.');
	const payload = JSON.parse(Buffer.from(p64, 'base64url'));
	payload.role = 'supervisor';
	const forged = `${h64}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;

	const h = await JanusHandle.attach();
	handles.push(h);
	for (const [token, why] of [[undefined, 'needs a join token'], [forged, 'signature'], [foreign, 'another room'], ['abc', 'malformed']]) {
		const r = await h.requestAsync({ request: 'join', room: name, display: 'x', ...(token ? { token } : {}) });
		assert.equal(r.data.error_code, 488, JSON.stringify(r.data));
		assert.match(r.data.error, new RegExp(why));
	}
	const ok = await h.requestAsync({ request: 'join', room: name, token: mine, display: 'Not Una' });
	assert.equal(ok.data.switchboard, 'joined', JSON.stringify(ok.data));
	assert.equal(ok.data.display, 'Una', 'the name comes from the token, whatever the client says');
	assert.equal(ok.data.me.identity, 'u1');
	assert.equal(ok.data.agent, false);
	assert.equal((await h.requestAsync({ request: 'configure', display: 'Renamed' })).data.error_code, 488);
	const sessions = await api('GET', '/sessions/type/web');
	const s = sessions.json.sessions.find((x) => x.room === name);
	assert.ok(s, JSON.stringify(sessions.json));
	assert.equal(s.identity, 'u1');
	assert.equal(s.type, 'web');
	assert.equal((await api('GET', '/sessions/type/phone')).json.sessions.filter((x) => x.room === name).length, 0);
	await h.requestAsync({ request: 'leave' });
	// Minting tokens is for trusted callers: not through the plain Janus API.
	assert.equal((await h.request({ request: 'token', room: name })).error_code, 488);
	assert.ok((await adminRequest({ request: 'token', room: name })).token);
});

test('notifications: a WS client sees rooms and participants come and go', T, async () => {
	const refused = new WebSocket(`ws://127.0.0.1:${API_PORT}/ws/notifications`);
	const refusedCode = await new Promise((resolve) => {
		refused.on('unexpected-response', (req, res) => resolve(res.statusCode));
		refused.on('open', () => resolve('open'));
		refused.on('error', () => {});
	}).finally(() => refused.terminate());
	assert.equal(refusedCode, 401);

	const ws = new WebSocket(`ws://127.0.0.1:${API_PORT}/ws/notifications`, { headers: auth });
	const viaQuery = new WebSocket(`ws://127.0.0.1:${API_PORT}/ws/notifications?api_key=${API_KEY}`);
	try {
		await notifications(ws, viaQuery);
	} finally {
		ws.terminate();
		viaQuery.terminate();
	}
});

async function notifications(ws, viaQuery) {
	const seen = [];
	ws.on('message', (d) => seen.push(JSON.parse(d.toString())));
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
	await new Promise((resolve, reject) => { viaQuery.on('open', resolve); viaQuery.on('error', reject); });
	viaQuery.close();

	const name = unique('notif');
	await api('POST', '/room/create', { roomName: name });
	const h = await JanusHandle.attach();
	handles.push(h);
	const joined = await h.requestAsync({ request: 'join', room: name, display: 'Nora' });
	await h.requestAsync({ request: 'leave' });
	await api('DELETE', `/rooms/${name}`);
	const deadline = Date.now() + 5000;
	const has = (type, pred = () => true) => seen.some((e) => e.type === type && e.room === name && pred(e));
	while (Date.now() < deadline && !has('room_closed')) await new Promise((r) => setTimeout(r, 50));
	ws.close();
	assert.ok(seen.some((e) => e.type === 'connected'));
	assert.ok(has('room_created'), JSON.stringify(seen));
	assert.ok(has('participant_joined', (e) => e.participant.id === joined.data.id && e.participant.display === 'Nora' && e.interface === 'web'));
	assert.ok(has('participant_left', (e) => e.participant.id === joined.data.id));
	assert.ok(has('room_closed'));
	assert.ok(seen.every((e) => typeof e.timestamp === 'number'));
}

test('pages and janus.js are served; traversal is refused', T, async () => {
	const page = await fetch(`${API_URL}/`);
	assert.equal(page.status, 200);
	assert.match(page.headers.get('content-type'), /text\/html/);
	assert.match(await page.text(), /Switchboard/);
	const js = await fetch(`${API_URL}/janus.js`);
	assert.equal(js.status, 200);
	assert.match(js.headers.get('content-type'), /javascript/);
	for (const path of ['/../conf/janus.jcfg.in', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/html/../../etc/passwd']) {
		const r = await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
		assert.match(r, /^HTTP\/1\.1 (404|400)/, `${path}: ${r.slice(0, 80)}`);
		assert.doesNotMatch(r, /root:|general:/);
	}
	const chunked = await raw(`POST /room/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{"a":\r\n0\r\n\r\n`);
	assert.match(chunked, /^HTTP\/1\.1 411/);
});

test('metrics speak Prometheus text', T, async () => {
	const m = await api('GET', '/metrics');
	assert.equal(m.status, 200);
	assert.match(m.headers.get('content-type'), /text\/plain/);
	for (const name of ['switchboard_rooms', 'switchboard_participants{kind="web"}', 'switchboard_mixer_late_frames_total',
		'switchboard_packets_total{type="in"}', 'switchboard_http_requests_total{code="4xx"}']) {
		assert.ok(m.text.includes(name), name);
	}
	assert.match(m.text, /^switchboard_http_unauthorized_total [1-9]\d*$/m);
});
