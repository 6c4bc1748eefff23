// LiveKit's server API against a real private Janus, driven by the
// official livekit-server-sdk (RoomServiceClient, AccessToken): rooms made,
// listed and deleted; a participant who joined through the Janus API with
// an AccessToken-minted token listed, muted, updated, sent data and
// removed; and bad input answered with LiveKit's status and Twirp code,
// changing nothing.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { AccessToken, RoomServiceClient, DataPacket_Kind, ParticipantInfo_State, TrackType } from 'livekit-server-sdk';
import { startJanus, adminRequest, JanusHandle, API_URL, API_KEY, SIP_PORT, repoRoot } from '../lib/janus.mjs';
import { SipPeer, RtpLeg, placeCall, roomSignature, withSipRoomSecret } from '../lib/sip.mjs';

// One key from the config file, one from the environment (LiveKit's own
// variables): both are accepted.
const KEY = 'APIconfKey1';
const SECRET = 'conf-secret-abcdefghijklmnopqrstuvwxyz012345';
const ENV_KEY = 'APIenvKey2';
const ENV_SECRET = 'env-secret-abcdefghijklmnopqrstuvwxyz0123456';
// ParticipantInfo.Kind (not re-exported by the SDK).
const KIND_STANDARD = 0;
const KIND_SIP = 3;
const KIND_AGENT = 4;

let janus;
const handles = [];
const T = { timeout: 30000 };

before(async () => {
	// SIP from loopback with signed rooms (a phone leg's kind and
	// attributes); the AI agent only where asked.
	const conf = withSipRoomSecret(readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8'))
		.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []') +
		`\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n}\n`;
	assert.match(conf, /auto_join = \[\]/);
	janus = await startJanus({
		pluginConfig: conf,
		env: { LIVEKIT_API_KEY: ENV_KEY, LIVEKIT_API_SECRET: ENV_SECRET },
	});
}, { timeout: 60000 });
after(async () => {
	for (const h of handles) await h.destroy();
	if (janus) await janus.stop();
});

const rooms = () => new RoomServiceClient(API_URL, KEY, SECRET);
const unique = (p) => `${p}-${Math.random().toString(36).slice(2, 8)}`;

async function attach() {
	const h = await JanusHandle.attach();
	handles.push(h);
	return h;
}

async function joinToken(room, identity, extra = {}, grant = {}) {
	const at = new AccessToken(KEY, SECRET, { identity, ...extra });
	at.addGrant({ roomJoin: true, room, ...grant });
	return at.toJwt();
}

// A JWT made by hand (tokens the SDK will not make: expired, other keys).
function jwt(payload, secret = SECRET) {
	const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
	const signed = `${b64({ alg: 'HS256' })}.${b64(payload)}`;
	return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

async function twirp(method, body, { token, contentType = 'application/json', httpMethod = 'POST', service = 'RoomService' } = {}) {
	const headers = { 'content-type': contentType };
	if (token) headers.authorization = `Bearer ${token}`;
	const res = await fetch(`${API_URL}/twirp/livekit.${service}/${method}`, {
		method: httpMethod,
		headers,
		body: httpMethod === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
		signal: AbortSignal.timeout(10000),
	});
	return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

async function serviceToken(grant) {
	const at = new AccessToken(KEY, SECRET, { ttl: '10m' });
	at.addGrant(grant);
	return at.toJwt();
}

async function roomNames() {
	return (await rooms().listRooms()).map((r) => r.name);
}

test('CreateRoom (get-or-create), ListRooms with and without names, DeleteRoom', T, async () => {
	const svc = rooms();
	const name = unique('lk-life');
	const made = await svc.createRoom({ name, metadata: '{"team":"blue"}', emptyTimeout: 60 });
	assert.equal(made.name, name);
	assert.match(made.sid, /^RM_[0-9a-f]{12}$/);
	assert.equal(made.metadata, '{"team":"blue"}');
	assert.equal(made.numParticipants, 0);
	assert.equal(typeof made.creationTime, 'bigint');
	assert.ok(made.creationTime > 1700000000n && made.creationTime <= BigInt(now() + 5));
	assert.equal(made.enabledCodecs[0].mime, 'audio/opus');
	const again = await svc.createRoom({ name });
	assert.equal(again.sid, made.sid, 'an existing room is the answer');
	assert.equal(again.metadata, '{"team":"blue"}');

	const other = unique('lk-other');
	await svc.createRoom({ name: other });
	const all = await svc.listRooms();
	assert.ok(all.some((r) => r.name === name) && all.some((r) => r.name === other));
	const some = await svc.listRooms([name]);
	assert.deepEqual(some.map((r) => r.name), [name]);
	assert.deepEqual(await svc.listRooms(['lk-no-such-room']), []);

	await svc.deleteRoom(name);
	assert.ok(!(await roomNames()).includes(name));
	await assert.rejects(svc.deleteRoom(name), (e) => e.status === 404 && e.code === 'not_found' &&
		e.message === 'requested room does not exist');
	await svc.deleteRoom(other);
	// The same RoomService answered by the key from the environment.
	const envSvc = new RoomServiceClient(API_URL, ENV_KEY, ENV_SECRET);
	assert.ok(Array.isArray(await envSvc.listRooms()));
});

test('a participant joined through the Janus API with an AccessToken is listed, muted, updated, sent data and removed', T, async () => {
	const svc = rooms();
	const room = unique('lk-call');
	await svc.createRoom({ name: room });
	const alice = await attach();
	const token = await joinToken(room, 'alice', { name: 'Alice Example', metadata: '{"tier":"gold"}' });
	const joined = await alice.requestAsync({ request: 'join', room, token });
	assert.equal(joined.data.switchboard, 'joined', JSON.stringify(joined.data));
	assert.equal(joined.data.display, 'Alice Example', 'the token names who joins');

	const [p] = await svc.listParticipants(room);
	assert.equal(p.identity, 'alice');
	assert.equal(p.name, 'Alice Example');
	assert.equal(p.metadata, '{"tier":"gold"}');
	assert.equal(p.kind, KIND_STANDARD);
	assert.match(p.sid, /^PA_/);
	assert.equal(p.state, ParticipantInfo_State.JOINED, 'no media yet');
	assert.equal(p.permission.canPublish, true);
	assert.equal(p.tracks.length, 1);
	assert.equal(p.tracks[0].type, TrackType.AUDIO);
	assert.equal(p.tracks[0].muted, false);
	assert.equal(typeof p.joinedAt, 'bigint');
	assert.equal((await svc.getParticipant(room, 'alice')).sid, p.sid);
	assert.equal((await svc.listRooms([room]))[0].numParticipants, 1);

	// Muted through the SDK: the room says so, and so does the Janus API.
	const track = await svc.mutePublishedTrack(room, 'alice', p.tracks[0].sid, true);
	assert.equal(track.muted, true);
	const listed = await adminRequest({ request: 'listparticipants', room });
	assert.equal(listed.participants[0].muted, true);
	await assert.rejects(svc.mutePublishedTrack(room, 'alice', 'TR_nope', true),
		(e) => e.status === 404 && e.code === 'not_found');
	assert.equal((await svc.mutePublishedTrack(room, 'alice', p.tracks[0].sid, false)).muted, false);
	assert.equal((await adminRequest({ request: 'listparticipants', room })).participants[0].muted, false);

	const updated = await svc.updateParticipant(room, 'alice', {
		metadata: '{"tier":"platinum"}', name: 'Alice B', attributes: { plan: 'pro', lang: 'en' },
	});
	assert.equal(updated.metadata, '{"tier":"platinum"}');
	assert.equal(updated.name, 'Alice B');
	assert.deepEqual({ ...updated.attributes }, { plan: 'pro', lang: 'en' });
	// An empty value deletes the key; empty metadata changes nothing.
	const again = await svc.updateParticipant(room, 'alice', { attributes: { lang: '' } });
	assert.deepEqual({ ...again.attributes }, { plan: 'pro' });
	assert.equal(again.metadata, '{"tier":"platinum"}');
	await alice.waitFor((e) => e.plugindata?.data?.participants?.some((x) => x.display === 'Alice B'));

	const roomInfo = await svc.updateRoomMetadata(room, 'round 2');
	assert.equal(roomInfo.metadata, 'round 2');
	assert.equal((await svc.listRooms([room]))[0].metadata, 'round 2');

	// SendData reaches the room's chat.
	await svc.sendData(room, new TextEncoder().encode('hello from the back end'), DataPacket_Kind.RELIABLE, { topic: 'notes' });
	const chat = await alice.waitFor((e) => e.plugindata?.data?.chat?.text === 'hello from the back end');
	assert.equal(chat.plugindata.data.chat.topic, 'notes');
	await assert.rejects(svc.sendData(room, new Uint8Array([0xff, 0xfe]), DataPacket_Kind.RELIABLE),
		(e) => e.status === 400 && e.code === 'invalid_argument');
	await assert.rejects(svc.sendData(room, new TextEncoder().encode('to some'), DataPacket_Kind.RELIABLE, { destinationIdentities: ['alice'] }),
		(e) => e.status === 501 && e.code === 'unimplemented', 'a message for some is not sent to all');

	await svc.removeParticipant(room, 'alice');
	await alice.waitFor((e) => e.plugindata?.data?.switchboard === 'kicked');
	assert.deepEqual(await svc.listParticipants(room), []);
	await assert.rejects(svc.removeParticipant(room, 'alice'),
		(e) => e.status === 404 && e.code === 'not_found' && e.message === 'participant does not exist');
	await svc.deleteRoom(room);
});

test('canPublish:false joins listen-only; the Janus API refuses LiveKit tokens that do not fit', T, async () => {
	const svc = rooms();
	const room = unique('lk-listen');
	await svc.createRoom({ name: room });
	const bob = await attach();
	const listenOnly = await joinToken(room, 'bob', {}, { canPublish: false });
	assert.equal((await bob.requestAsync({ request: 'join', room, token: listenOnly })).data.switchboard, 'joined');
	// A token with a few KiB of metadata joins too.
	const big = 'm'.repeat(5000);
	const carol = await attach();
	assert.equal((await carol.requestAsync({ request: 'join', room, token: await joinToken(room, 'carol-big', { metadata: big }) })).data.switchboard, 'joined');
	assert.equal((await svc.getParticipant(room, 'carol-big')).metadata, big);
	await svc.removeParticipant(room, 'carol-big');
	const b = await svc.getParticipant(room, 'bob');
	assert.equal(b.permission.canPublish, false);
	assert.equal(b.isPublisher, false);
	assert.deepEqual(b.tracks, []);

	const refused = async (token, why) => {
		const h = await attach();
		const r = await h.requestAsync({ request: 'join', room, token });
		assert.equal(r.data.error_code, 488, `${why}: ${JSON.stringify(r.data)}`);
	};
	await refused(await joinToken('another-room', 'carol'), 'another room');
	await refused(await serviceToken({ roomAdmin: true, room }), 'no roomJoin');
	await refused(jwt({ iss: KEY, sub: 'carol', exp: now() - 120, video: { roomJoin: true, room } }), 'expired');
	await refused(jwt({ iss: KEY, sub: 'carol', exp: now() + 600, video: { roomJoin: true, room } }, 'wrong-secret'), 'wrong secret');
	await refused(jwt({ iss: 'APIunknown', sub: 'carol', exp: now() + 600, video: { roomJoin: true, room } }), 'unknown key');
	assert.deepEqual((await svc.listParticipants(room)).map((x) => x.identity), ['bob'], 'nobody else got in');
	await svc.deleteRoom(room);
});

test('bad input: LiveKit status and Twirp code, and nothing changed', T, async () => {
	const svc = rooms();
	const room = unique('lk-bad');
	await svc.createRoom({ name: room });
	const dave = await attach();
	await dave.requestAsync({ request: 'join', room, token: await joinToken(room, 'dave') });
	const isTwirp = (r, status, code) => {
		assert.equal(r.status, status, JSON.stringify(r.body));
		assert.equal(r.body.code, code, JSON.stringify(r.body));
		assert.equal(r.type, 'application/json', 'exactly, as the Node SDK compares it');
		assert.equal(typeof r.body.msg, 'string');
	};

	// Wrong key, wrong secret: through the SDK.
	const made = unique('lk-never');
	await assert.rejects(new RoomServiceClient(API_URL, 'APInobody', SECRET).createRoom({ name: made }),
		(e) => e.status === 401 && e.code === 'unauthenticated' && e.message === 'invalid API key');
	await assert.rejects(new RoomServiceClient(API_URL, KEY, 'not-the-secret').createRoom({ name: made }),
		(e) => e.status === 401 && e.code === 'unauthenticated');
	// Expired, and no token at all.
	isTwirp(await twirp('CreateRoom', { name: made }, { token: jwt({ iss: KEY, exp: now() - 120, video: { roomCreate: true } }) }), 401, 'unauthenticated');
	isTwirp(await twirp('CreateRoom', { name: made }), 401, 'unauthenticated');
	// A grant that is not the one needed.
	const lister = await serviceToken({ roomList: true });
	const denied = await twirp('CreateRoom', { name: made }, { token: lister });
	isTwirp(denied, 401, 'unauthenticated');
	assert.equal(denied.body.msg, 'permissions denied');
	assert.ok(!(await roomNames()).includes(made), 'no room was made');
	// roomAdmin for another room.
	const elsewhere = await serviceToken({ roomAdmin: true, room: 'some-other-room' });
	isTwirp(await twirp('RemoveParticipant', { room, identity: 'dave' }, { token: elsewhere }), 401, 'unauthenticated');
	isTwirp(await twirp('ListParticipants', { room }, { token: elsewhere }), 401, 'unauthenticated');
	// Malformed JSON, a wrong type, an unknown method, GET, protobuf.
	const admin = await serviceToken({ roomAdmin: true, room });
	isTwirp(await twirp('RemoveParticipant', '{"room":', { token: admin }), 400, 'malformed');
	isTwirp(await twirp('RemoveParticipant', { room, identity: 42 }, { token: admin }), 400, 'malformed');
	isTwirp(await twirp('RemoveParticipant', '[]', { token: admin }), 400, 'malformed');
	const unknown = await twirp('KickEveryone', { room }, { token: admin });
	isTwirp(unknown, 404, 'bad_route');
	isTwirp(await twirp('ListRooms', {}, { token: lister, service: 'NoSuchService' }), 404, 'bad_route');
	const get = await twirp('ListRooms', null, { token: lister, httpMethod: 'GET' });
	isTwirp(get, 404, 'bad_route');
	assert.equal(get.body.meta.twirp_invalid_route, 'GET /twirp/livekit.RoomService/ListRooms');
	isTwirp(await twirp('ListRooms', '', { token: lister, contentType: 'application/protobuf' }), 501, 'unimplemented');
	isTwirp(await twirp('ListRooms', 'x', { token: lister, contentType: 'text/plain' }), 404, 'bad_route');
	// Methods LiveKit has that Switchboard does not serve (yet).
	isTwirp(await twirp('StartWebEgress', { url: 'https://example.com' }, { token: await serviceToken({ roomRecord: true }), service: 'Egress' }), 501, 'unimplemented');
	isTwirp(await twirp('ListSIPInboundTrunk', {}, { token: await serviceToken({}), service: 'SIP' }), 401, 'unauthenticated');
	const sipAdmin = new AccessToken(KEY, SECRET, { ttl: '10m' });
	sipAdmin.addSIPGrant({ admin: true });
	// Trunks are served (livekit-sip-trunks.test.mjs); their field-by-field update is not.
	isTwirp(await twirp('UpdateSIPInboundTrunk', { sipTrunkId: 'ST_x', update: { name: 'x' } }, { token: await sipAdmin.toJwt(), service: 'SIP' }), 501, 'unimplemented');
	// Bounds: a name we cannot take, metadata too long.
	isTwirp(await twirp('CreateRoom', { name: 'a room/with slashes' }, { token: await serviceToken({ roomCreate: true }) }), 400, 'invalid_argument');
	isTwirp(await twirp('UpdateParticipant', { room, identity: 'dave', metadata: 'x'.repeat(20000) }, { token: admin }), 400, 'invalid_argument');
	isTwirp(await twirp('SendData', { room, data: Buffer.from('hi').toString('base64'), nonce: Buffer.from('short').toString('base64') }, { token: admin }), 400, 'invalid_argument');
	// Snake_case in is the same request: dave is still there, unchanged.
	const info = await twirp('GetParticipant', { room, identity: 'dave' }, { token: admin });
	assert.equal(info.status, 200);
	assert.equal(info.body.identity, 'dave');
	assert.equal(info.body.metadata, '');
	assert.equal(info.body.kind, 'STANDARD');
	assert.equal(typeof info.body.joined_at, 'string', 'int64 as a string');
	const viaSnake = await twirp('MutePublishedTrack', { room, identity: 'dave', track_sid: info.body.tracks[0].sid, muted: true, unknown_key: 1 }, { token: admin });
	assert.equal(viaSnake.status, 200, JSON.stringify(viaSnake.body));
	assert.equal(viaSnake.body.track.muted, true);
	assert.deepEqual((await svc.listParticipants(room)).map((x) => x.identity), ['dave']);
	await svc.deleteRoom(room);
	// Refusals are counted by Twirp code.
	const metrics = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` }, signal: AbortSignal.timeout(10000) })).text();
	const count = (code) => Number(metrics.match(new RegExp(`switchboard_livekit_requests_total\\{code="${code}"\\} (\\d+)`))?.[1]);
	assert.ok(count('unauthenticated') >= 7, metrics);
	assert.ok(count('bad_route') >= 3 && count('malformed') >= 3 && count('ok') >= 1);
});

test('a phone leg is a SIP participant with sip.* attributes, the AI agent an AGENT; RemoveParticipant takes the leg out', { timeout: 60000 }, async () => {
	const svc = rooms();
	const room = unique('lk-phone');
	await svc.createRoom({ name: room });
	const peer = await new SipPeer().start();
	const leg = await new RtpLeg().start();
	try {
		const call = await placeCall(peer, { sipPort: SIP_PORT, user: room, rtpPort: leg.port, headers: roomSignature(room) });
		assert.equal(call.res?.status, 200);
		const [phone] = await svc.listParticipants(room);
		assert.equal(phone.kind, KIND_SIP);
		assert.match(phone.identity, /^sip-\d+$/);
		assert.ok(phone.attributes['sip.callID'], JSON.stringify(phone.attributes));
		assert.match(phone.attributes['sip.phoneNumber'], /15005550006/);
		assert.equal(phone.attributes['sip.callStatus'], 'active');

		assert.equal((await adminRequest({ request: 'agent', room, enable: true })).error_code, undefined);
		const agent = await eventuallyFind(async () => (await svc.listParticipants(room)).find((p) => p.kind === KIND_AGENT));
		assert.match(agent.identity, /^agent-\d+$/);
		assert.deepEqual({ ...agent.attributes }, {});

		await svc.removeParticipant(room, phone.identity);
		assert.ok(!(await svc.listParticipants(room)).some((p) => p.kind === KIND_SIP));
	} finally {
		leg.close();
		peer.close();
	}
	await svc.deleteRoom(room);
});

// Polls find() until it gives something (the AI agent joins on its own
// thread), for up to ms.
async function eventuallyFind(find, ms = 15000) {
	const deadline = Date.now() + ms;
	for (;;) {
		const found = await find();
		if (found || Date.now() > deadline) {
			assert.ok(found, 'not found in time');
			return found;
		}
		await new Promise((r) => setTimeout(r, 200));
	}
}
