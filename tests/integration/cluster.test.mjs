// Three Switchboard nodes (three private Janus processes on their own
// ports) sharing one real PostgreSQL as the cluster's directory and call
// store, and Kamailio as their SIP edge: all register and heartbeat; a
// room lives on one node and the others say where (REST and the Janus
// API) or carry requests about it there (REST, the Admin API); a closed
// room is free for any node; SIP calls through the edge reach a room's
// node and new ones are spread; a draining node takes no new room and
// names the least-loaded live one; a node killed with SIGKILL mid-call is
// found lost, its rooms released and its open call closed
// failed/node_lost by a live node.  (A console agent moving between
// nodes: tests/e2e/cluster-console.test.mjs.)
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import WebSocket from 'ws';
import { RoomServiceClient } from 'livekit-server-sdk';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJanus, adminRequest, JanusHandle, ADMIN_SECRET, PLUGIN, API_KEY, SIP_PORT, repoRoot } from '../lib/janus.mjs';
import { openNotifications } from '../lib/notifications.mjs';
import { startPostgres, pgBinDir } from '../lib/postgres.mjs';
import { mulawEncode, rtpPacket } from '../lib/audio.mjs';
import { track } from '../lib/resources.mjs';
import { withSection, twilioSettings, twilioSignature, AUTH_TOKEN, ACCOUNT_SID } from '../lib/twilio.mjs';
import { SipPeer, RtpLeg, placeCall, inDialog, roomSignature, startBaresip, signedRoomUri } from '../lib/sip.mjs';
import { clusterNodeConfig, restOn } from '../lib/cluster.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// LiveKit's server API on every node, with the same key.
const LK_KEY = 'APIclusterkey';
const LK_SECRET = 'cluster-livekit-secret-abcdefghijklmnopqrstuvwxyz';
// Heartbeats every 200 ms; a node silent for 1.5 s is lost.
const HEARTBEAT_MS = 200;
const DEAD_AFTER_MS = 1500;
const B_PORTS = { http: 8098, admin: 7098, ws: 8198, api: 8090, sip: 5090, rtp: '41000-41499', webrtc: '30000-30999' };
const C_PORTS = { http: 8099, admin: 7099, ws: 8199, api: 8091, sip: 5091, rtp: '41500-41999', webrtc: '31000-31999' };
// The SIP edge (conf/kamailio/), the trunk's one address.
const EDGE_PORT = 5072;
const BARESIP_PORT = 5076;
const SIPP_PORT = 5078;
const SIPP_RTP = 46000;
let pg, a, b, c, notesB, edge, edgeDir, peer;

function nodeConfig(id, janusUrl, restUrl, sipPort) {
	// Twilio's webhooks may reach either node; each node's public URL is
	// the REST URL it advertises.
	return clusterNodeConfig(pg.conninfo, {
		id, janusUrl, restUrl, sipPort, heartbeatMs: HEARTBEAT_MS, deadAfterMs: DEAD_AFTER_MS,
		base: (conf) => `${withSection(conf, 'twilio', twilioSettings({ public_url: restUrl }))}
livekit: {
	keys: {
		${LK_KEY} = "${LK_SECRET}"
	}
}
`,
	});
}

before(async () => {
	pg = await startPostgres({ port: 25442 });
	a = await startJanus({ pluginConfig: nodeConfig('node-a', 'ws://127.0.0.1:8188/', 'http://127.0.0.1:8080', SIP_PORT) });
	b = await startB();
	c = await startJanus({ pluginConfig: nodeConfig('node-c', `ws://127.0.0.1:${C_PORTS.ws}/`, `http://127.0.0.1:${C_PORTS.api}`, C_PORTS.sip), ports: C_PORTS });
	notesB = await openNotifications(B_PORTS.api);
	edge = await startEdge();
	peer = await new SipPeer().start();
}, { timeout: 120000 });

// Node B (started again in the rolling upgrade).
function startB() {
	return startJanus({ pluginConfig: nodeConfig('node-b', `ws://127.0.0.1:${B_PORTS.ws}/`, `http://127.0.0.1:${B_PORTS.api}`, B_PORTS.sip), ports: B_PORTS });
}

// Kamailio with the shipped config, in the foreground, on loopback.
async function startEdge() {
	edgeDir = mkdtempSync(join(tmpdir(), 'sb-kamailio-'));
	copyFileSync(join(repoRoot, 'conf', 'kamailio', 'kamailio.cfg'), join(edgeDir, 'kamailio.cfg'));
	writeFileSync(join(edgeDir, 'kamailio-local.cfg'), [
		`#!substdef "!SB_LISTEN!udp:127.0.0.1:${EDGE_PORT}!g"`,
		`#!substdef "!SB_DB_URL!${pg.conninfo.replace('postgresql://', 'postgres://')}!g"`,
		`#!substdef "!SB_DISPATCHER_LIST!${join(edgeDir, 'dispatcher.list')}!g"`,
		`#!substdef "!SB_DEAD_AFTER!${DEAD_AFTER_MS} milliseconds!g"`,
		'#!substdef "!SB_PING_INTERVAL!1!g"', ''].join('\n'));
	writeFileSync(join(edgeDir, 'dispatcher.list'), [SIP_PORT, B_PORTS.sip, C_PORTS.sip].map((port) => `1 sip:127.0.0.1:${port}\n`).join(''));
	const child = spawn('kamailio', ['-f', join(edgeDir, 'kamailio.cfg'), '-DD', '-E', '-Y', edgeDir, '-w', edgeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
	let log = '';
	child.stdout.on('data', (d) => { log += d; });
	child.stderr.on('data', (d) => { log += d; });
	const exited = new Promise((r) => child.on('exit', r));
	const stop = async () => { untrack(); if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } };
	const untrack = track(`kamailio (pid ${child.pid})`, stop);
	// Up once it answers an OPTIONS of its own.
	const probe = await new SipPeer().start();
	try {
		for (let i = 0; ; i++) {
			if (child.exitCode !== null) throw new Error(`kamailio exited:\n${log}`);
			const r = await probe.request('OPTIONS', `sip:127.0.0.1:${EDGE_PORT}`, { callId: `probe-${i}@test`, fromTag: 'probe', target: `127.0.0.1:${EDGE_PORT}`, timeoutMs: 500 });
			if (r?.status === 200) break;
			if (i > 60) throw new Error(`kamailio did not answer OPTIONS:\n${log}`);
			await sleep(100);
		}
	} finally {
		probe.close();
	}
	return { stop, log: () => log };
}

after(async () => {
	peer?.close();
	await edge?.stop();
	if (edgeDir) rmSync(edgeDir, { recursive: true, force: true });
	notesB?.close();
	if (c) await c.stop();
	if (b) await b.stop();
	if (a) await a.stop();
	if (pg) await pg.destroy();
}, { timeout: 60000 });

function sql(query) {
	const psql = join(pgBinDir(), 'psql');
	return execFileSync(psql, [pg.conninfo, '-Atc', query], { encoding: 'utf8', timeout: 10000 }).trim();
}

async function waitFor(what, fn, ms) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(100);
	}
}

test('the three nodes are in the directory with what they advertise', { timeout: 20000 }, async () => {
	const r = await restOn(b, 'GET', '/api/cluster/nodes');
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.self, 'node-b');
	const byId = Object.fromEntries(r.json.nodes.map((n) => [n.node, n]));
	assert.equal(byId['node-a'].alive, true);
	assert.equal(byId['node-b'].alive, true);
	assert.equal(byId['node-c'].alive, true);
	assert.equal(byId['node-a'].janus_url, 'ws://127.0.0.1:8188/');
	assert.equal(byId['node-b'].rest_url, `http://127.0.0.1:${B_PORTS.api}`);
	assert.ok(byId['node-a'].heartbeat_age_ms < DEAD_AFTER_MS, JSON.stringify(byId['node-a']));
	// The operator's only.
	const stranger = await fetch(`${b.apiUrl}/api/cluster/nodes`);
	assert.equal(stranger.status, 401);
	const metrics = await (await fetch(`${a.apiUrl}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
	assert.match(metrics, /^switchboard_cluster_nodes_alive 3$/m);
});

test('a room lives on one node; the other says where, over REST and the Janus API', { timeout: 30000 }, async () => {
	const room = `cluster-one-${process.pid}`;
	const createdOnA = await restOn(a, 'POST', '/room/create', { roomName: room });
	assert.equal(createdOnA.status, 201, createdOnA.text);
	// Browsers are told the Janus URL the holder advertises.
	assert.deepEqual([createdOnA.json.janus.url, createdOnA.json.janus.node], ['ws://127.0.0.1:8188/', 'node-a']);
	assert.equal(sql(`SELECT node_id FROM switchboard_rooms WHERE name = '${room}'`), 'node-a');
	// One bus: a client of node B hears node A's events, said as A's.
	const heard = await notesB.until('node A\'s room_created on node B', () => notesB.events.find((e) => e.type === 'room_created' && e.room === room), 5000);
	assert.equal(heard.node, 'node-a');
	const there = await restOn(b, 'POST', '/room/create', { roomName: room });
	assert.equal(there.status, 409, there.text);
	assert.equal(there.json.error.code, 'room_elsewhere');
	assert.match(there.json.error.message, /lives on node node-a \(Janus API ws:\/\/127\.0\.0\.1:8188\//);
	assert.equal(there.json.location.node, 'node-a');
	assert.equal(there.json.location.rest_url, 'http://127.0.0.1:8080');
	// Any node gives a join token, and sends the browser to the room's node.
	const join = await restOn(b, 'POST', '/room/join', { roomName: room, participantIdentity: 'alice' });
	assert.equal(join.status, 200, join.text);
	assert.equal(join.json.janus.url, 'ws://127.0.0.1:8188/');
	assert.equal(join.json.janus.node, 'node-a');
	assert.equal(JSON.parse(Buffer.from(join.json.token.split('.')[1], 'base64url')).room, room);
	assert.equal((await restOn(b, 'POST', '/room/join', { roomName: `no-such-${process.pid}`, participantIdentity: 'alice' })).status, 404);
	// The rooms list of any node says where the others' rooms are.
	const listed = await restOn(b, 'GET', '/rooms');
	assert.deepEqual(listed.json.elsewhere.filter((r) => r.room === room), [{ room, node: 'node-a', janus_url: 'ws://127.0.0.1:8188/', rest_url: 'http://127.0.0.1:8080' }]);
	assert.ok(!listed.json.rooms.some((r) => r.room === room));
	// A browser's join that reaches the wrong node is told the right one.
	const h = await JanusHandle.attach(PLUGIN, b.httpUrl);
	try {
		const { data } = await h.requestAsync({ request: 'join', room, display: 'Lost' });
		assert.equal(data.error_code, 494, JSON.stringify(data));
		assert.match(data.error, /lives on node node-a: join it at ws:\/\/127\.0\.0\.1:8188\//);
		assert.equal(data.location.janus_url, 'ws://127.0.0.1:8188/');
	} finally {
		await h.destroy();
	}
	// An Admin API op about it on the wrong node is carried to the right
	// one, and answered with its answer.
	const elsewhere = await adminRequest({ request: 'listparticipants', room }, ADMIN_SECRET, PLUGIN, b.adminUrl);
	assert.equal(elsewhere.error_code, undefined, JSON.stringify(elsewhere));
	assert.equal(elsewhere.room, room, JSON.stringify(elsewhere));
	assert.deepEqual(elsewhere.participants, []);
	assert.equal((await adminRequest({ request: 'agent', room, enable: false }, ADMIN_SECRET, PLUGIN, b.adminUrl)).error_code, undefined);
	// So is REST's admin route, and every route that names its room in
	// the body (the queue, the transcript, summaries, transfers, dial-out).
	const viaRest = await restOn(b, 'POST', '/api/admin', { request: 'listparticipants', room });
	assert.equal(viaRest.status, 200, viaRest.text);
	assert.equal(viaRest.json.room, room);
	assert.equal((await restOn(b, 'POST', '/api/transcript', { room, speaker: 'Caller', text: 'hello from node b' })).status, 200);
	const queued = await restOn(b, 'POST', '/api/queue', { room, reason: 'carried' });
	assert.equal(queued.status, 200, queued.text);
	assert.ok((await restOn(a, 'GET', '/api/queue')).json.queue.some((q) => q.room === room && q.reason === 'carried'), 'queued on node A');
	const noKey = await fetch(`${b.apiUrl}/api/admin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: 'listparticipants', room }) });
	assert.equal(noKey.status, 401, 'checked on the node asked first');
	const gone = await adminRequest({ request: 'listparticipants', room: `no-such-${process.pid}` }, ADMIN_SECRET, PLUGIN, b.adminUrl);
	assert.notEqual(gone.error_code, 494, JSON.stringify(gone));
	assert.equal(gone.location, undefined);
	// Any node answers about it: the request is carried to its node, with
	// the caller's own credentials (checked here first, and there).
	const info = await restOn(b, 'GET', `/rooms/${room}`);
	assert.equal(info.status, 200, info.text);
	assert.equal(info.json.room, room);
	const agentOn = await restOn(b, 'POST', `/room/${room}/agent`, { enable: false });
	assert.equal(agentOn.status, 200, agentOn.text);
	const stranger = await fetch(`${b.apiUrl}/rooms/${room}`);
	assert.equal(stranger.status, 401);
	const badKey = await fetch(`${b.apiUrl}/rooms/${room}`, { headers: { authorization: 'Bearer wrong-key-0123456789' } });
	assert.equal(badKey.status, 401);
	// Closed through the other node, the room is anyone's.
	assert.equal((await restOn(b, 'DELETE', `/rooms/${room}`)).status, 200);
	assert.equal((await restOn(a, 'GET', `/rooms/${room}`)).status, 404, 'node A closed it');
	const made = await waitFor('node B to make the room', async () => (await restOn(b, 'POST', '/room/create', { roomName: room })).status === 201, 5000);
	assert.ok(made);
	assert.equal(sql(`SELECT node_id FROM switchboard_rooms WHERE name = '${room}'`), 'node-b');
	assert.equal((await restOn(b, 'DELETE', `/rooms/${room}`)).status, 200);
	// B's own events once each (its bus does not echo them back), said as B's.
	const closes = await waitFor('both closes on node B', () => {
		const c = notesB.events.filter((e) => e.type === 'room_closed' && e.room === room);
		return c.length >= 2 && c;
	}, 5000);
	await sleep(300);
	assert.deepEqual(notesB.events.filter((e) => e.type === 'room_closed' && e.room === room).map((e) => e.node).sort(), ['node-a', 'node-b']);
	assert.ok(closes.length === 2);
	// Two nodes asked for one new room at once: exactly one gets it.
	const race = `cluster-race-${process.pid}`;
	const answers = await Promise.all([a, b, a, b].map((n) => restOn(n, 'POST', '/room/create', { roomName: race })));
	const statuses = answers.map((x) => x.status).sort();
	assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(answers.map((x) => x.json)));
	assert.ok(statuses.every((s) => [201, 409].includes(s)), JSON.stringify(statuses));
	const holder = sql(`SELECT node_id FROM switchboard_rooms WHERE name = '${race}'`);
	assert.equal((await restOn(holder === 'node-a' ? a : b, 'DELETE', `/rooms/${race}`)).status, 200);
});

test('lists are the cluster\'s: /sessions and /api/agents on any node name every node\'s, each item its node', { timeout: 30000 }, async () => {
	const roomA = `cluster-list-a-${process.pid}`, roomB = `cluster-list-b-${process.pid}`;
	const socks = [];
	try {
		assert.equal((await restOn(a, 'POST', '/room/create', { roomName: roomA })).status, 201);
		assert.equal((await restOn(b, 'POST', '/room/create', { roomName: roomB })).status, 201);
		const ids = {};
		for (const [node, room] of [[a, roomA], [b, roomB]]) {
			const sock = dgram.createSocket('udp4');
			socks.push(sock);
			await new Promise((r) => sock.bind(0, '127.0.0.1', r));
			const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display: `Caller in ${room}` }, ADMIN_SECRET, PLUGIN, node.adminUrl);
			ids[room] = joined.id;
		}
		for (const [asked, label] of [[a, 'A'], [b, 'B']]) {
			const r = await restOn(asked, 'GET', '/sessions');
			assert.equal(r.status, 200, r.text);
			const mine = r.json.sessions.filter((x) => x.room === roomA || x.room === roomB).map((x) => [x.room, x.node, x.id]).sort();
			assert.deepEqual(mine, [[roomA, 'node-a', ids[roomA]], [roomB, 'node-b', ids[roomB]]].sort(), `asked node ${label}: ${r.text}`);
			assert.equal(r.json.unreachable, undefined, r.text);
			// Filtered the same on every node: plain RTP legs are no web sessions.
			const typed = await restOn(asked, 'GET', '/sessions/type/web');
			assert.equal(typed.status, 200, typed.text);
			assert.ok(!typed.json.sessions.some((x) => x.room === roomA || x.room === roomB), typed.text);
			const agents = await restOn(asked, 'GET', '/api/agents');
			assert.equal(agents.status, 200, agents.text);
			assert.ok(Array.isArray(agents.json.agents), agents.text);
		}
		// LiveKit's server API on either node acts on the room where it is.
		for (const node of [a, b]) {
			const lk = new RoomServiceClient(node.apiUrl, LK_KEY, LK_SECRET);
			const people = await lk.listParticipants(roomA);
			assert.deepEqual(people.map((p) => p.name), [`Caller in ${roomA}`], `asked ${node.apiUrl}`);
		}
		// A token signed with a wrong secret is refused on the node asked,
		// before anything is carried to the holder.
		await assert.rejects(new RoomServiceClient(b.apiUrl, LK_KEY, 'wrong-secret-abcdefghijklmnopqrstuvwxyz0123').listParticipants(roomA), /unauthenticated|401|invalid/i);
		// A request another node carried answers for that node alone (no
		// loop), and a stranger learns nothing on any node.
		const carried = await fetch(`${b.apiUrl}/sessions`, { headers: { authorization: `Bearer ${API_KEY}`, 'x-switchboard-forwarded': 'node-a' } });
		const onlyB = (await carried.json()).sessions.filter((x) => x.room === roomA || x.room === roomB);
		assert.deepEqual(onlyB.map((x) => x.room), [roomB]);
		// A live node that does not answer is named, and the list is the
		// others' (a row as a node writes it, its heartbeat ahead of the
		// reaper; nothing listens on its port).
		sql(`INSERT INTO switchboard_nodes (node_id, rest_url, heartbeat) VALUES ('node-x', 'http://127.0.0.1:9', now() + interval '1 hour')`);
		try {
			const r = await restOn(a, 'GET', '/sessions');
			assert.equal(r.status, 200, r.text);
			assert.deepEqual(r.json.unreachable.map((u) => u.node), ['node-x'], r.text);
			assert.ok(r.json.sessions.some((x) => x.room === roomA) && r.json.sessions.some((x) => x.room === roomB), r.text);
		} finally {
			sql(`DELETE FROM switchboard_nodes WHERE node_id = 'node-x'`);
		}
		for (const node of [a, b]) {
			assert.equal((await fetch(`${node.apiUrl}/sessions`)).status, 401);
			assert.equal((await fetch(`${node.apiUrl}/sessions`, { headers: { authorization: 'Bearer wrong-key-0123456789' } })).status, 401);
		}
	} finally {
		for (const sock of socks) sock.close();
		await restOn(a, 'DELETE', `/rooms/${roomA}`);
		await restOn(b, 'DELETE', `/rooms/${roomB}`);
	}
});

test('an event over NOTIFY\'s 8000 bytes reaches the other node whole (stored, its id notified)', { timeout: 20000 }, async () => {
	const room = `cluster-big-${process.pid}`;
	// A back end's context for the call: twelve variables of 900 bytes, so
	// the call_variables event is some 11 kB.
	const variables = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`note_${i}`, String.fromCharCode(97 + i).repeat(900)]));
	const made = await adminRequest({ request: 'create', room, metadata: JSON.stringify(variables) }, ADMIN_SECRET, PLUGIN, a.adminUrl);
	assert.equal(made.switchboard, 'created', JSON.stringify(made));
	try {
		const heard = await notesB.until('node A\'s call_variables on node B', () => notesB.events.find((e) => e.type === 'call_variables' && e.room === room), 5000);
		assert.equal(heard.node, 'node-a');
		assert.ok(JSON.stringify(heard).length > 8000, `${JSON.stringify(heard).length} bytes`);
		for (const [name, value] of Object.entries(variables)) assert.equal(heard.variables[name], value, name);
		const metrics = await (await fetch(`${a.apiUrl}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
		assert.match(metrics, /^switchboard_cluster_bus_events_total\{result="stored"\} [1-9]/m);
		assert.match(metrics, /^switchboard_cluster_bus_events_total\{result="too_large"\} 0$/m);
	} finally {
		await restOn(a, 'DELETE', `/rooms/${room}`);
	}
});

test('a Twilio webhook reaching the wrong node sends Twilio to the room\'s node, where the stream joins the room', { timeout: 30000 }, async () => {
	const room = `cluster-twilio-${process.pid}`;
	assert.equal((await restOn(a, 'POST', '/room/create', { roomName: room })).status, 201);
	let ws = null;
	try {
		const sid = `CA${String(process.pid).padStart(8, '0')}${'3'.repeat(24)}`;
		const params = [['CallSid', sid], ['AccountSid', ACCOUNT_SID], ['From', '+14155550123'], ['To', '+14155550100'], ['CallStatus', 'ringing'], ['Direction', 'inbound']];
		const path = `/twilio/voice?room=${room}`;
		// Signed by Twilio for the URL it called: node B's.
		const res = await fetch(`${b.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(AUTH_TOKEN, `${b.apiUrl}${path}`, params) }, body: new URLSearchParams(params).toString(), signal: AbortSignal.timeout(10000) });
		const twiml = await res.text();
		assert.equal(res.status, 200, twiml);
		const url = /<Stream url="([^"]*)"/.exec(twiml)?.[1];
		assert.match(url ?? '', new RegExp(`^ws://127\\.0\\.0\\.1:8080/twilio/stream/\\d+\\.[0-9a-f]{32}$`), twiml);
		assert.equal(sql(`SELECT node_id FROM switchboard_rooms WHERE name = '${room}'`), 'node-a');
		// Twilio opens the stream on node A, which checks the signature over
		// its own URL and the room's grant (signed with the secret all nodes share).
		const custom = Object.fromEntries([...twiml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)].map((m) => [m[1], m[2]]));
		ws = new WebSocket(url, { headers: { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, url) } });
		await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); ws.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`))); });
		const streamSid = `MZ${'4'.repeat(32)}`;
		ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
		ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { accountSid: ACCOUNT_SID, streamSid, callSid: sid, tracks: ['inbound'], customParameters: custom, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
		let closed = null;
		ws.on('close', (code, reason) => { closed = `${code} ${reason}`; });
		// Node A's event, heard on node B's notifications (one bus).
		const joined = await notesB.until('the Twilio leg in the room on node A', () => notesB.events.find((e) => e.type === 'participant_joined' && e.room === room), 10000)
			.catch((e) => { throw new Error(`${e.message}; the socket: ${closed ?? 'open'}`); });
		assert.equal(joined.node, 'node-a');
		assert.equal(joined.interface, 'phone', JSON.stringify(joined));
		// One call, one record: the holder's (node B kept nothing of it).
		await waitFor('the call record', () => sql(`SELECT count(*) FROM calls WHERE room = '${room}'`) !== '0', 5000);
		assert.equal(sql(`SELECT string_agg(node, ',') FROM calls WHERE room = '${room}'`), 'node-a');
		// Twilio's status callback may reach node B too: nothing is recorded there.
		const cb = [...params.filter(([k]) => k !== 'CallStatus'), ['CallStatus', 'in-progress']];
		const status = await fetch(`${b.apiUrl}/twilio/status?room=${room}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(AUTH_TOKEN, `${b.apiUrl}/twilio/status?room=${room}`, cb) }, body: new URLSearchParams(cb).toString() });
		assert.equal(status.status, 200, await status.text());
		assert.equal(sql(`SELECT string_agg(node, ',') FROM calls WHERE room = '${room}'`), 'node-a');
	} finally {
		ws?.close();
		await restOn(a, 'DELETE', `/rooms/${room}`);
	}
});

test('a draining node takes no new room: REST sends it to the least-loaded live node, the Janus and Admin APIs name it', { timeout: 20000 }, async () => {
	// The operator's only: without the key, or with a wrong one, nothing drains.
	for (const headers of [{}, { authorization: 'Bearer wrong-key-0123456789' }]) {
		const r = await fetch(`${b.apiUrl}/api/cluster/drain`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"drain": true}' });
		assert.equal(r.status, 401);
	}
	assert.equal((await restOn(a, 'GET', '/api/cluster/nodes')).json.nodes.find((x) => x.node === 'node-b').state, 'up');
	const bad = await restOn(b, 'POST', '/api/cluster/drain', { drain: 'yes' });
	assert.equal(bad.status, 400);
	const d = await restOn(b, 'POST', '/api/cluster/drain', { drain: true });
	assert.equal(d.status, 200, d.text);
	assert.equal(d.json.state, 'draining');
	const room = `cluster-drain-${process.pid}`;
	// A new room asked of it over REST goes to the least-loaded live node.
	const moved = await restOn(b, 'POST', '/room/create', { roomName: room });
	assert.equal(moved.status, 201, moved.text);
	const holder = sql(`SELECT node_id FROM switchboard_rooms WHERE name = '${room}'`);
	assert.match(holder, /^node-[ac]$/);
	assert.equal((await restOn(holder === 'node-a' ? a : c, 'DELETE', `/rooms/${room}`)).status, 200);
	// The Janus and Admin APIs are told why, and where new rooms go now.
	const refused = await adminRequest({ request: 'create', room }, ADMIN_SECRET, PLUGIN, b.adminUrl);
	assert.ok(refused.error_code, JSON.stringify(refused));
	assert.match(refused.error, /Node node-b is draining: it takes no new rooms; the least-loaded live node is node node-[ac]/);
	assert.match(refused.location?.node ?? '', /^node-[ac]$/, JSON.stringify(refused));
	// A new Twilio call's webhook: Twilio is redirected to that node, once.
	const sid = `CA${String(process.pid).padStart(8, '0')}${'6'.repeat(24)}`;
	const params = [['CallSid', sid], ['AccountSid', ACCOUNT_SID], ['From', '+14155550123'], ['To', '+14155550100'], ['CallStatus', 'ringing'], ['Direction', 'inbound']];
	const webhook = async (url) => {
		const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(AUTH_TOKEN, url, params) }, body: new URLSearchParams(params).toString(), signal: AbortSignal.timeout(10000) });
		return { status: res.status, text: await res.text() };
	};
	const first = await webhook(`${b.apiUrl}/twilio/voice`);
	assert.equal(first.status, 200, first.text);
	const next = /<Redirect method="POST">([^<]*)<\/Redirect>/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
	assert.match(next ?? '', /^http:\/\/127\.0\.0\.1:(8080|8091)\/twilio\/voice\?redirected=1$/, first.text);
	const there = await webhook(next);
	assert.equal(there.status, 200, there.text);
	assert.match(there.text, /<Stream url="ws:\/\/127\.0\.0\.1:(8080|8091)\/twilio\/stream\//, there.text);
	const callHolder = sql(`SELECT node_id FROM switchboard_rooms WHERE name = 'twilio-${sid}'`);
	assert.match(callHolder, /^node-[ac]$/);
	assert.equal((await restOn(callHolder === 'node-a' ? a : c, 'DELETE', `/rooms/twilio-${sid}`)).status, 200);
	const seen = await waitFor('node A to see B draining', async () => {
		const n = (await restOn(a, 'GET', '/api/cluster/nodes')).json.nodes.find((x) => x.node === 'node-b');
		return n.state === 'draining' && n;
	}, 3000);
	assert.equal(seen.alive, true);
	assert.equal((await restOn(b, 'POST', '/api/cluster/drain', { drain: false })).json.state, 'up');
	assert.equal((await restOn(b, 'POST', '/room/create', { roomName: room })).status, 201);
	assert.equal((await restOn(b, 'DELETE', `/rooms/${room}`)).status, 200);
});

test('SIP through the edge (Kamailio): a call for a room reaches its node; new calls are spread', { timeout: 60000 }, async () => {
	// A room made on node B: its caller is sent there, whichever node is next.
	const held = `cluster-sip-held-${process.pid}`;
	assert.equal((await restOn(b, 'POST', '/room/create', { roomName: held })).status, 201);
	const legs = [];
	const calls = [];
	try {
		for (const room of [held, held]) {
			const leg = await new RtpLeg().start();
			legs.push(leg);
			const call = await placeCall(peer, { sipPort: EDGE_PORT, user: room, rtpPort: leg.port, headers: roomSignature(room) });
			assert.equal(call.res?.status, 200, `${call.res?.status} ${call.res?.reason}\n${edge.log().slice(-2000)}`);
			assert.ok(call.route, 'the edge record-routes');
			calls.push(call);
		}
		const joined = await waitFor('both callers in the room on node B', async () => {
			const r = await restOn(b, 'GET', `/rooms/${held}`);
			return r.json?.participants?.filter((p) => p.kind === 'sip').length === 2 && r;
		}, 10000);
		assert.ok(joined);
		// New calls from the trunk (no room of theirs yet): spread over the
		// live nodes, each making its call's room.
		const sids = [1, 2, 3].map((i) => `CA${String(process.pid).padStart(8, '0')}${'0'.repeat(22)}${i}`);
		for (const sid of sids) {
			const leg = await new RtpLeg().start();
			legs.push(leg);
			const call = await placeCall(peer, { sipPort: EDGE_PORT, user: '+14155550100', rtpPort: leg.port, headers: { 'X-Twilio-CallSid': sid } });
			assert.equal(call.res?.status, 200, `${call.res?.status}\n${edge.log().slice(-2000)}`);
			calls.push(call);
		}
		const holders = sids.map((sid) => sql(`SELECT node_id FROM switchboard_rooms WHERE name = 'twilio-${sid}'`));
		assert.deepEqual([...holders].sort(), ['node-a', 'node-b', 'node-c'], `holders: ${holders}`);
		// Hang-ups go through the edge by its Route.
		for (const call of calls) assert.equal((await inDialog(peer, call, 'BYE'))?.status, 200);
		await waitFor('the rooms closed', async () => (await restOn(b, 'GET', `/rooms/${held}`)).status === 404, 10000);
		const rooms = [held, ...sids.map((sid) => `twilio-${sid}`)].map((r) => `'${r}'`).join(',');
		await waitFor('their call records ended', () => sql(`SELECT count(*) FROM calls WHERE room IN (${rooms}) AND ended IS NULL`) === '0', 10000)
			.catch((e) => { throw new Error(`${e.message}: ${sql(`SELECT room, node, started, ended FROM calls WHERE room IN (${rooms})`)}`); });
	} finally {
		for (const leg of legs) leg.close();
		await restOn(b, 'DELETE', `/rooms/${held}`);
	}
});

test('real softphones through the edge: baresip reaches its room\'s node; SIPp\'s trunk calls are spread over the three', { timeout: 90000 }, async () => {
	const held = `cluster-baresip-${process.pid}`;
	assert.equal((await restOn(c, 'POST', '/room/create', { roomName: held })).status, 201);
	const dir = mkdtempSync(join(tmpdir(), 'sb-cluster-sipp-'));
	let phone = null, sipp = null;
	try {
		// baresip dials the edge for a room node C holds: it lands there.
		execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'u-law', join(dir, 'tone.wav'), 'synth', '3', 'sine', '440']);
		execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', join(dir, 'tone16.wav'), 'synth', '10', 'sine', '440']);
		phone = await startBaresip({ port: BARESIP_PORT, wav: join(dir, 'tone16.wav'), dial: signedRoomUri(held, `127.0.0.1:${EDGE_PORT}`) });
		await waitFor('baresip in the room on node C', async () => (await restOn(c, 'GET', `/rooms/${held}`)).json?.participants?.some((p) => p.kind === 'sip'), 15000)
			.catch((e) => { throw new Error(`${e.message}\n${phone.output().slice(-2000)}\n${edge.log().slice(-2000)}`); });
		assert.equal(sql(`SELECT node FROM calls WHERE room = '${held}'`), 'node-c');
		await phone.stop();
		phone = null;
		// SIPp as the trunk: six new calls (each its own CallSid), two each
		// way round the dispatcher's ring, all answered and hung up.
		const tag = `CA${String(process.pid).padStart(8, '0')}5`;
		const sids = Array.from({ length: 6 }, (_, i) => `${tag}${String(i).padStart(34 - tag.length, '0')}`);
		writeFileSync(join(dir, 'calls.csv'), `SEQUENTIAL\n${sids.map((sid) => `${sid};`).join('\n')}\n`);
		copyFileSync(join(dir, 'tone.wav'), join(dir, 'speech.wav'));
		const child = spawn('sipp', [`127.0.0.1:${EDGE_PORT}`, '-sf', join(repoRoot, 'bench', 'cluster-uac.xml'), '-inf', join(dir, 'calls.csv'),
			'-i', '127.0.0.1', '-p', String(SIPP_PORT), '-mi', '127.0.0.1', '-mp', String(SIPP_RTP),
			'-r', '3', '-m', String(sids.length), '-d', '1000', '-recv_timeout', '10000', '-timeout', '40s', '-nostdin', '-trace_err', '-error_file', join(dir, 'errors.log')],
		{ cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		child.stdout.on('data', (d) => { out += d; });
		child.stderr.on('data', (d) => { out += d; });
		const exited = new Promise((r) => child.on('exit', r));
		const untrack = track(`sipp (pid ${child.pid})`, async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited; } });
		sipp = async () => { untrack(); if (child.exitCode === null) { child.kill('SIGKILL'); await exited; } };
		const code = await exited;
		await sipp();
		sipp = null;
		assert.equal(code, 0, `sipp exit ${code} (0: every call succeeded)\n${out.slice(-2000)}\n${edge.log().slice(-2000)}`);
		const rooms = sids.map((sid) => `'twilio-${sid}'`).join(',');
		await waitFor('their records ended', () => sql(`SELECT count(*) FROM calls WHERE room IN (${rooms}) AND ended IS NOT NULL`) === String(sids.length), 10000);
		assert.equal(sql(`SELECT string_agg(node || ':' || n, ',' ORDER BY node) FROM (SELECT node, count(*) AS n FROM calls WHERE room IN (${rooms}) GROUP BY node) x`), 'node-a:2,node-b:2,node-c:2');
	} finally {
		await phone?.stop();
		await sipp?.();
		await restOn(c, 'DELETE', `/rooms/${held}`);
		rmSync(dir, { recursive: true, force: true });
	}
});

test('a rolling upgrade through the edge: a draining node keeps its call to the end while new calls go to the others, then stops and starts again', { timeout: 90000 }, async () => {
	const held = `cluster-drain-call-${process.pid}`;
	assert.equal((await restOn(b, 'POST', '/room/create', { roomName: held })).status, 201);
	const legs = [];
	let drained = false;
	try {
		const leg = await new RtpLeg().start();
		legs.push(leg);
		const call = await placeCall(peer, { sipPort: EDGE_PORT, user: held, rtpPort: leg.port, headers: roomSignature(held) });
		assert.equal(call.res?.status, 200, `${call.res?.status}\n${edge.log().slice(-2000)}`);
		assert.equal((await restOn(b, 'POST', '/api/cluster/drain', { drain: true })).status, 200);
		drained = true;
		// New calls from the trunk: node B refuses them, the edge tries the next.
		const sids = [1, 2].map((i) => `CA${String(process.pid).padStart(8, '0')}${'2'.repeat(22)}${i}`);
		for (const sid of sids) {
			const l = await new RtpLeg().start();
			legs.push(l);
			const c = await placeCall(peer, { sipPort: EDGE_PORT, user: '+14155550100', rtpPort: l.port, headers: { 'X-Twilio-CallSid': sid } });
			assert.equal(c.res?.status, 200, `${c.res?.status}\n${edge.log().slice(-2000)}`);
			assert.match(sql(`SELECT node_id FROM switchboard_rooms WHERE name = 'twilio-${sid}'`), /^node-[ac]$/);
			assert.equal((await inDialog(peer, c, 'BYE'))?.status, 200);
		}
		// The call on the draining node goes on: its caller still talks in it.
		await leg.play(call.media.ip ?? '127.0.0.1', call.media.port, 440, 400);
		const room = await restOn(b, 'GET', `/rooms/${held}`);
		assert.equal(room.json.participants.filter((p) => p.kind === 'sip').length, 1, room.text);
		assert.equal((await inDialog(peer, call, 'BYE'))?.status, 200);
		// Its record ends as a call ends, not as one lost.
		await waitFor('the drained call\'s record ended', () => sql(`SELECT count(*) FROM calls WHERE room = '${held}' AND ended IS NOT NULL`) !== '0', 10000);
		assert.doesNotMatch(sql(`SELECT string_agg(coalesce(status, '') || '/' || coalesce(outcome, ''), ',') FROM calls WHERE room = '${held}'`), /node_lost/);
		// Its last call over, the node stops (upgraded) and starts again:
		// it said it stopped, nothing of it was reaped, and it is back up.
		await waitFor('node B to hold no room', async () => (await restOn(a, 'GET', '/api/cluster/nodes')).json.nodes.find((x) => x.node === 'node-b').rooms === 0, 5000);
		notesB.close();
		await b.stop();
		b = null;
		const stopped = (await restOn(a, 'GET', '/api/cluster/nodes')).json.nodes.find((x) => x.node === 'node-b');
		assert.equal(stopped.state, 'stopped', JSON.stringify(stopped));
		assert.equal(sql(`SELECT count(*) FROM calls WHERE status = 'node_lost'`), '0');
		b = await startB();
		notesB = await openNotifications(B_PORTS.api);
		drained = false;
		const up = await waitFor('node B up again', async () => {
			const n = (await restOn(a, 'GET', '/api/cluster/nodes')).json.nodes.find((x) => x.node === 'node-b');
			return n.state === 'up' && n.alive && n;
		}, 10000);
		assert.ok(up);
	} finally {
		for (const l of legs) l.close();
		if (b && drained) await restOn(b, 'POST', '/api/cluster/drain', { drain: false });
		if (b) await restOn(b, 'DELETE', `/rooms/${held}`);
	}
});

test('a node killed mid-call: its rooms are released and its call closed node_lost by a live node; new calls through the edge skip it', { timeout: 60000 }, async () => {
	const room = `cluster-lost-${process.pid}`;
	assert.equal((await restOn(a, 'POST', '/room/create', { roomName: room })).status, 201);
	const sock = dgram.createSocket('udp4');
	let timer;
	const untrack = track('RTP caller on node A', () => { clearInterval(timer); sock.close(); });
	try {
		await new Promise((r) => sock.bind(0, '127.0.0.1', r));
		const joined = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display: 'Caller' }, ADMIN_SECRET, PLUGIN, a.adminUrl);
		assert.ok(joined.port, JSON.stringify(joined));
		let seq = 0;
		timer = setInterval(() => sock.send(rtpPacket({ pt: 0, seq: seq++ & 0xffff, ts: seq * 160, ssrc: 3, payload: new Uint8Array(160).fill(mulawEncode(0)) }), joined.port, joined.ip), 20);
		// The call is on record as node A's, open.
		await waitFor('the open call record', () => sql(`SELECT count(*) FROM calls WHERE room = '${room}' AND node = 'node-a' AND ended IS NULL`) === '1', 10000);
		const held = sql(`SELECT string_agg(name, ',') FROM switchboard_rooms WHERE node_id = 'node-a'`);
		const open = Number(sql(`SELECT count(*) FROM calls WHERE node = 'node-a' AND ended IS NULL`));
		const killedAt = Date.now();
		process.kill(a.pid, 'SIGKILL');
		const lost = await notesB.until('node_lost', () => notesB.events.find((e) => e.type === 'node_lost' && e.lost === 'node-a'), 15000);
		// Found within the bound: dead_after plus a beat, with room for a busy machine.
		assert.ok(lost.at - killedAt < DEAD_AFTER_MS + 10 * HEARTBEAT_MS + 3000, `${lost.at - killedAt} ms`);
		assert.equal(lost.rooms, held.split(',').length, `${JSON.stringify(lost)}; node A held ${held}`);
		assert.match(held, new RegExp(room));
		assert.equal(lost.calls, open, `${JSON.stringify(lost)}; node A had ${open} open calls`);
		assert.match(lost.node, /^node-[bc]$/, 'a live node reaped it');
	} finally {
		untrack();
		clearInterval(timer);
		sock.close();
	}
	assert.equal(sql(`SELECT outcome || '/' || status FROM calls WHERE room = '${room}'`), 'failed/node_lost');
	assert.equal(sql(`SELECT count(*) FROM switchboard_rooms WHERE node_id = 'node-a'`), '0');
	const nodes = (await restOn(b, 'GET', '/api/cluster/nodes')).json.nodes;
	assert.deepEqual(nodes.find((n) => n.node === 'node-a').state, 'lost');
	assert.equal(nodes.find((n) => n.node === 'node-a').alive, false);
	// New calls flow to the live node: the room is B's to make now.
	assert.equal((await restOn(b, 'POST', '/room/create', { roomName: room })).status, 201);
	assert.equal((await restOn(b, 'DELETE', `/rooms/${room}`)).status, 200);
	// Reaped once, by one of the live nodes.
	let reaped = 0;
	for (const node of [b, c]) {
		const metrics = await (await fetch(`${node.apiUrl}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
		reaped += Number(/^switchboard_cluster_nodes_reaped_total (\d+)$/m.exec(metrics)?.[1]);
	}
	assert.equal(reaped, 1);
	// New calls through the edge skip the dead node: every one lands on B
	// or C, whichever node the dispatcher would have picked next.
	const legs = [];
	try {
		for (let i = 1; i <= 3; i++) {
			const sid = `CA${String(process.pid).padStart(8, '0')}${'1'.repeat(22)}${i}`;
			const leg = await new RtpLeg().start();
			legs.push(leg);
			const call = await placeCall(peer, { sipPort: EDGE_PORT, user: '+14155550100', rtpPort: leg.port, headers: { 'X-Twilio-CallSid': sid } });
			assert.equal(call.res?.status, 200, `${call.res?.status}\n${edge.log().slice(-2000)}`);
			assert.match(sql(`SELECT node_id FROM switchboard_rooms WHERE name = 'twilio-${sid}'`), /^node-[bc]$/);
			assert.equal((await inDialog(peer, call, 'BYE'))?.status, 200);
		}
	} finally {
		for (const leg of legs) leg.close();
	}
	await a.stop();
	a = null;
});
