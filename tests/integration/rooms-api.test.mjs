// The Janus API and Admin API of janus.plugin.switchboard against a real,
// private Janus: room lifecycle, participants and events, and bad input.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { startJanus, adminRequest, JanusHandle } from '../lib/janus.mjs';

let janus;
const handles = [];
async function attach() {
	const h = await JanusHandle.attach();
	handles.push(h);
	return h;
}

// Janus API and Admin API requests: each test takes well under a second.
const T = { timeout: 30000 };
before(async () => { janus = await startJanus(); }, { timeout: 60000 });
after(async () => {
	for (const h of handles) await h.destroy();
	if (janus) await janus.stop();
});

const unique = (p) => `${p}-${Math.random().toString(36).slice(2, 8)}`;

test('create, exists, list, destroy through the Janus API', T, async () => {
	const h = await attach();
	const room = unique('life');
	const created = await h.request({ request: 'create', room, description: 'Life cycle' });
	assert.equal(created.switchboard, 'created');
	assert.equal(created.room, room);
	// Whoever makes a room steers it: the answer carries its admin token.
	assert.equal(typeof created.token, 'string');
	assert.equal((await h.request({ request: 'exists', room })).exists, true);
	const list = await adminRequest({ request: 'list' });
	const entry = list.list.find((r) => r.room === room);
	assert.ok(entry, 'room listed');
	assert.equal(entry.description, 'Life cycle');
	assert.equal(entry.num_participants, 0);
	assert.equal((await h.request({ request: 'destroy', room })).error_code, 488, 'not without the token');
	assert.equal((await h.request({ request: 'destroy', room, token: created.token })).switchboard, 'destroyed');
	assert.equal((await h.request({ request: 'exists', room })).exists, false);
});

test('a room without a name gets a generated one', T, async () => {
	const h = await attach();
	const created = await h.request({ request: 'create' });
	assert.match(created.room, /^room-[0-9a-f]{8}$/);
	await h.request({ request: 'destroy', room: created.room, token: created.token });
});

test('permanent rooms come from the config file', T, async () => {
	const r = await adminRequest({ request: 'list' });
	const demo = r.list.find((x) => x.room === 'demo');
	assert.ok(demo, 'demo room from conf/janus.plugin.switchboard.jcfg');
	assert.equal(demo.permanent, true);
	assert.equal(demo.ephemeral, false);
});

test('the same operations work through the Admin API', T, async () => {
	const room = unique('admin');
	assert.equal((await adminRequest({ request: 'create', room })).switchboard, 'created');
	assert.equal((await adminRequest({ request: 'exists', room })).exists, true);
	const parts = await adminRequest({ request: 'listparticipants', room });
	assert.deepEqual(parts.participants, []);
	assert.equal((await adminRequest({ request: 'destroy', room })).switchboard, 'destroyed');
	// join needs a Janus handle: refused clearly through the Admin API.
	const join = await adminRequest({ request: 'join', room: 'demo' });
	assert.equal(join.error_code, 483);
	// A wrong admin secret is refused by Janus itself.
	await assert.rejects(adminRequest({ request: 'list' }, 'wrong-secret'));
});

test('join, events to others, mute, leave; an ephemeral room goes with its last participant', T, async () => {
	const a = await attach();
	const b = await attach();
	const room = unique('events');
	const { token } = await a.request({ request: 'create', room });
	const ja = await a.requestAsync({ request: 'join', room, display: 'Alice', token });
	assert.equal(ja.data.switchboard, 'joined');
	assert.equal(ja.data.room, room);
	assert.deepEqual(ja.data.participants, []);
	const jb = await b.requestAsync({ request: 'join', room, display: 'Bob' });
	assert.equal(jb.data.participants.length, 1);
	assert.equal(jb.data.participants[0].display, 'Alice');
	assert.equal(jb.data.participants[0].kind, 'web');
	const bobId = jb.data.id;

	const joinedEv = await a.waitFor((e) => e.plugindata?.data?.participants?.some((p) => p.id === bobId));
	assert.equal(joinedEv.plugindata.data.participants[0].display, 'Bob');

	assert.equal((await a.request({ request: 'mute', room, id: bobId })).switchboard, 'success');
	await a.waitFor((e) => e.plugindata?.data?.participants?.some((p) => p.id === bobId && p.muted === true));
	const listed = await a.request({ request: 'listparticipants', room });
	assert.equal(listed.participants.find((p) => p.id === bobId).muted, true);

	const conf = await b.requestAsync({ request: 'configure', muted: false, display: 'Robert' });
	assert.equal(conf.data.result, 'ok');
	await a.waitFor((e) => e.plugindata?.data?.participants?.some((p) => p.id === bobId && p.display === 'Robert' && !p.muted));

	const left = await b.requestAsync({ request: 'leave' });
	assert.equal(left.data.switchboard, 'left');
	await a.waitFor((e) => e.plugindata?.data?.leaving === bobId);
	assert.equal((await a.request({ request: 'exists', room })).exists, true);
	await a.requestAsync({ request: 'leave' });
	assert.equal((await a.request({ request: 'exists', room })).exists, false, 'ephemeral room destroyed');
});

test('kick and destroy tell the participants', T, async () => {
	const a = await attach();
	const b = await attach();
	const room = unique('kick');
	await adminRequest({ request: 'create', room, secret: 's3cret', ephemeral: false });
	await a.requestAsync({ request: 'join', room, display: 'A' });
	const jb = await b.requestAsync({ request: 'join', room, display: 'B' });
	const wrong = await a.request({ request: 'kick', room, id: jb.data.id, secret: 'nope' });
	assert.equal(wrong.error_code, 488);
	assert.equal((await a.request({ request: 'kick', room, id: jb.data.id, secret: 's3cret' })).switchboard, 'success');
	await b.waitFor((e) => e.plugindata?.data?.switchboard === 'kicked');
	await a.waitFor((e) => e.plugindata?.data?.kicked === jb.data.id);
	assert.equal((await b.requestAsync({ request: 'configure', muted: true })).data.error_code, 489);
	await adminRequest({ request: 'destroy', room });
	await a.waitFor((e) => e.plugindata?.data?.switchboard === 'destroyed' && e.plugindata.data.room === room);
	assert.equal((await a.request({ request: 'exists', room })).exists, false);
});

test('pins are checked on join', T, async () => {
	const h = await attach();
	const room = unique('pin');
	await adminRequest({ request: 'create', room, pin: '1234', ephemeral: false });
	assert.equal((await h.requestAsync({ request: 'join', room })).data.error_code, 488);
	assert.equal((await h.requestAsync({ request: 'join', room, pin: '9999' })).data.error_code, 488);
	assert.equal((await h.requestAsync({ request: 'join', room, pin: '1234' })).data.switchboard, 'joined');
	await h.requestAsync({ request: 'leave' });
	await adminRequest({ request: 'destroy', room });
});

test('bad input gets a clear error and changes nothing', T, async () => {
	const h = await attach();
	const room = unique('bad');
	await adminRequest({ request: 'create', room, ephemeral: false });
	const { token } = await adminRequest({ request: 'token', room, admin: true });
	const before = (await adminRequest({ request: 'list' })).list.length;
	const cases = [
		[{ request: 'nonsense' }, 483],
		[{ room }, 484],
		[{ request: 42 }, 485],
		[{ request: 'create', room }, 487],
		[{ request: 'create', room: 'has spaces' }, 485],
		[{ request: 'create', room: 'x'.repeat(65) }, 485],
		[{ request: 'create', room: 12 }, 485],
		[{ request: 'create', sampling_rate: 44100 }, 485],
		[{ request: 'create', description: 'd'.repeat(5000) }, 485],
		[{ request: 'exists' }, 484],
		[{ request: 'destroy', room: 'no-such-room' }, 486],
		[{ request: 'listparticipants', room: 'no-such-room' }, 486],
		[{ request: 'kick', room, id: 12345, token }, 491],
		[{ request: 'kick', room, id: 'abc', token }, 485],
		[{ request: 'mute', room, token }, 484],
		[{ request: 'create', room: 'never-lasting', ephemeral: false }, 488],
		[{ request: 'rtp_join', room, ip: '127.0.0.1', port: 5000, codec: 'pcmu' }, 488],
	];
	for (const [body, code] of cases) {
		const r = await h.request(body);
		assert.equal(r.error_code, code, `${JSON.stringify(body).slice(0, 80)} -> ${JSON.stringify(r)}`);
		assert.equal(typeof r.error, 'string');
	}
	// The operator's own bad input (rtp_join is theirs).
	const adminCases = [
		[{ request: 'rtp_join', room, ip: '127.0.0.1', port: 5000, codec: 'speex' }, 485],
		[{ request: 'rtp_join', room, ip: 'not-an-ip', port: 5000, codec: 'pcmu' }, 485],
		[{ request: 'rtp_join', room, ip: '127.0.0.1', port: 70000, codec: 'pcmu' }, 485],
		[{ request: 'rtp_join', room, ip: '127.0.0.1', codec: 'pcmu' }, 484],
	];
	for (const [body, code] of adminCases) {
		const r = await adminRequest(body);
		assert.equal(r.error_code, code, `${JSON.stringify(body).slice(0, 80)} -> ${JSON.stringify(r)}`);
	}
	const asyncCases = [
		[{ request: 'join', room: 'no-such-room' }, 486],
		[{ request: 'join' }, 484],
		[{ request: 'join', room, display: 'd'.repeat(200) }, 485],
		[{ request: 'join', room, role: 'king' }, 485],
		[{ request: 'join', room, muted: 'yes' }, 485],
		[{ request: 'configure', muted: true }, 489],
		[{ request: 'leave' }, 489],
	];
	for (const [body, code] of asyncCases) {
		const r = await h.requestAsync(body);
		assert.equal(r.data.error_code, code, `${JSON.stringify(body).slice(0, 80)} -> ${JSON.stringify(r.data)}`);
	}
	// A JSEP offer without audio is refused and the participant is not left behind.
	const videoOnly = {
		type: 'offer',
		sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n' +
			'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=sendrecv\r\na=mid:0\r\n' +
			'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=rtcp-mux\r\na=setup:actpass\r\n' +
			'a=fingerprint:sha-256 ' + Array(32).fill('AB').join(':') + '\r\n',
	};
	const noAudio = await h.requestAsync({ request: 'join', room, display: 'x' }, videoOnly);
	assert.equal(noAudio.data.error_code, 492);
	// Unparseable SDP is refused by the Janus core before it reaches us.
	await assert.rejects(h.requestAsync({ request: 'join', room }, { type: 'offer', sdp: 'garbage' }), /465/);
	assert.deepEqual((await h.request({ request: 'listparticipants', room, token })).participants, []);
	// Who is not in the room, with no token for it, reads nothing of it.
	assert.equal((await h.request({ request: 'listparticipants', room })).error_code, 488);
	// Joining twice on one handle is refused; the first join stands.
	assert.equal((await h.requestAsync({ request: 'join', room, display: 'once' })).data.switchboard, 'joined');
	assert.equal((await h.requestAsync({ request: 'join', room, display: 'twice' })).data.error_code, 490);
	assert.equal((await h.request({ request: 'listparticipants', room })).participants.length, 1);
	assert.equal((await adminRequest({ request: 'list' })).list.length, before);
	await h.requestAsync({ request: 'leave' });
	await adminRequest({ request: 'destroy', room });
});
