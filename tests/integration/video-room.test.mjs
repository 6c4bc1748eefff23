// A room's camera video under the same roof as its audio (docs/security.md,
// "VideoRoom"): the plugin makes each room's VideoRoom through the Admin
// API when the first browser joins, private and with a pin, and hands the
// id and pin only to members in their join answer; a stranger can neither
// create that VideoRoom (nor any other: the VideoRoom's admin_key) nor join
// it without the pin; rooms nobody joins from a browser get none; the
// VideoRoom goes with its room.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { startJanus, adminRequest, JanusHandle, ADMIN_SECRET, VIDEOROOM_ADMIN_KEY } from '../lib/janus.mjs';
import { rest } from '../lib/notifications.mjs';

const T = { timeout: 30000 }; // a few requests each; the VideoRoom comes within a second
const VIDEOROOM = 'janus.plugin.videoroom';
const ROOM = `video-token-${process.pid}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let janus;
const handles = [];

before(async () => { janus = await startJanus(); }, { timeout: 60000 });
after(async () => {
	await Promise.allSettled(handles.map((h) => h.destroy()));
	if (janus) await janus.stop();
});

async function attach(plugin) {
	const h = await JanusHandle.attach(plugin);
	handles.push(h);
	return h;
}

// Polls until check() returns something truthy (or time is up).
async function eventually(check, what, ms = 10000) {
	const deadline = Date.now() + ms;
	for (;;) {
		const r = await check();
		if (r) return r;
		if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
		await sleep(100);
	}
}

// The VideoRoom's own Admin API answers (the test knows the admin_key, as
// only the plugin should).
const videoAdmin = (request) => adminRequest(request, ADMIN_SECRET, VIDEOROOM);
const privateRooms = async () => (await videoAdmin({ request: 'list', admin_key: VIDEOROOM_ADMIN_KEY })).list;
const videoExists = async (room) => (await videoAdmin({ request: 'exists', room })).exists;

// Joins a Switchboard room through the Janus API (as the call page does).
async function joinRoom(room, extra = {}) {
	const h = await attach();
	const { data } = await h.requestAsync({ request: 'join', room, display: 'someone', ...extra });
	return { h, data };
}

let token, video;

test('a member of a token room gets its VideoRoom and pin in the join answer; the VideoRoom exists, private', T, async () => {
	assert.equal((await rest('POST', '/room/create', { roomName: ROOM, requireToken: true })).status, 201);
	token = (await rest('POST', '/room/join', { roomName: ROOM, participantIdentity: 'dave', participantName: 'Dave' })).json.token;
	const { data } = await joinRoom(ROOM, { token });
	assert.equal(data.switchboard, 'joined', JSON.stringify(data));
	video = data.video;
	assert.ok(video && typeof video.room === 'string' && typeof video.pin === 'string', `no video in the join answer: ${JSON.stringify(data)}`);
	assert.notEqual(video.room, ROOM, 'the VideoRoom id is not the room name anyone can guess');
	assert.ok(video.pin.length >= 32, 'a pin nobody guesses');
	await eventually(() => videoExists(video.room), 'the VideoRoom to be created');
	const listed = (await privateRooms()).find((r) => r.room === video.room);
	assert.ok(listed, 'the admin_key lists it');
	assert.equal(listed.pin_required, true);
	// A stranger's list does not show it.
	const stranger = await attach(VIDEOROOM);
	const seen = await stranger.request({ request: 'list' });
	assert.ok(!seen.list.some((r) => r.room === video.room), JSON.stringify(seen.list));
	// Another member gets the same VideoRoom and pin.
	const again = await joinRoom(ROOM, { token });
	assert.deepEqual(again.data.video, video);
});

test('without a token there is no join, and no VideoRoom or pin', T, async () => {
	const { data } = await joinRoom(ROOM);
	assert.equal(data.error_code, 488, JSON.stringify(data));
	assert.equal(data.video, undefined);
	assert.ok(!JSON.stringify(data).includes(video.pin));
});

test('a stranger cannot create VideoRooms: not the room\'s, not its name, not any', T, async () => {
	const stranger = await attach(VIDEOROOM);
	for (const room of [video.room, ROOM, `anything-${process.pid}`]) {
		const noKey = await stranger.request({ request: 'create', room, publishers: 16 });
		assert.ok(noKey.error_code, `created ${room} without the admin_key: ${JSON.stringify(noKey)}`);
		assert.match(noKey.error, /admin_key/);
		const wrongKey = await stranger.request({ request: 'create', room, admin_key: 'guess-0123456789' });
		assert.equal(wrongKey.error_code, 433, JSON.stringify(wrongKey)); // unauthorized
	}
	assert.equal(await videoExists(ROOM), false);
	assert.equal(await videoExists(`anything-${process.pid}`), false);
	// Nor destroy or change the real one without its secret.
	const destroy = await stranger.request({ request: 'destroy', room: video.room });
	assert.ok(destroy.error_code, JSON.stringify(destroy));
	const edit = await stranger.request({ request: 'edit', room: video.room, new_pin: 'mine' });
	assert.ok(edit.error_code, JSON.stringify(edit));
	assert.equal(await videoExists(video.room), true);
});

test('a stranger cannot join the VideoRoom without the pin (nor with a wrong one); a member with it can', T, async () => {
	const join = async (extra) => {
		const h = await attach(VIDEOROOM);
		const { data } = await h.requestAsync({ request: 'join', ptype: 'publisher', room: video.room, display: 'x', ...extra });
		return data;
	};
	const noPin = await join({});
	assert.ok(noPin.error_code, JSON.stringify(noPin));
	assert.match(noPin.error, /pin/);
	const wrongPin = await join({ pin: 'not-the-pin' });
	assert.equal(wrongPin.error_code, 433, JSON.stringify(wrongPin));
	const subscriber = await (await attach(VIDEOROOM)).requestAsync({ request: 'join', ptype: 'subscriber', room: video.room, streams: [{ feed: 'sb-1' }] });
	assert.ok(subscriber.data.error_code, `a subscriber without pin: ${JSON.stringify(subscriber.data)}`);
	const member = await join({ pin: video.pin });
	assert.equal(member.videoroom, 'joined', JSON.stringify(member));
});

test('rooms that no browser joins get no VideoRoom; each room that one joins gets its own', T, async () => {
	const before = (await privateRooms()).length;
	const names = Array.from({ length: 20 }, (_, i) => `video-idle-${process.pid}-${i}`);
	for (const room of names) assert.equal((await adminRequest({ request: 'create', room })).switchboard, 'created');
	await sleep(300);
	assert.equal((await privateRooms()).length, before, 'idle rooms made VideoRooms');
	const a = await joinRoom(names[0]);
	const b = await joinRoom(names[1]);
	assert.notEqual(a.data.video.room, b.data.video.room);
	assert.notEqual(a.data.video.pin, b.data.video.pin);
	await eventually(async () => (await privateRooms()).length === before + 2, 'two VideoRooms');
	const stats = await adminRequest({ request: 'stats' });
	assert.ok(stats.video.created >= 3, JSON.stringify(stats.video));
	for (const room of names) await adminRequest({ request: 'destroy', room });
});

test('the VideoRoom goes with its room: destroyed, and the members told', T, async () => {
	const publisher = await attach(VIDEOROOM);
	const joined = await publisher.requestAsync({ request: 'join', ptype: 'publisher', room: video.room, pin: video.pin, display: 'watcher' });
	assert.equal(joined.data.videoroom, 'joined');
	assert.equal((await adminRequest({ request: 'destroy', room: ROOM })).switchboard, 'destroyed');
	await eventually(async () => !(await videoExists(video.room)), 'the VideoRoom to go');
	await publisher.waitFor((ev) => ev.plugindata?.data?.videoroom === 'destroyed', 5000);
	const stats = await adminRequest({ request: 'stats' });
	assert.ok(stats.video.destroyed >= 1, JSON.stringify(stats.video));
	// A new room of the same name gets a new VideoRoom, with a new pin.
	assert.equal((await rest('POST', '/room/create', { roomName: ROOM, requireToken: true })).status, 201);
	const fresh = await joinRoom(ROOM, { token });
	assert.equal(fresh.data.switchboard, 'joined', JSON.stringify(fresh.data));
	assert.notEqual(fresh.data.video.room, video.room);
	assert.notEqual(fresh.data.video.pin, video.pin);
	await eventually(() => videoExists(fresh.data.video.room), 'the new VideoRoom');
});
