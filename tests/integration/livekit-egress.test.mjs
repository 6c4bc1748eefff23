// LiveKit's Egress against a real private Janus, driven by the official
// livekit-server-sdk's EgressClient: an audio-only room composite egress
// to an OGG file records the room (a phone caller in it) — the egress is
// listed active, stopped, then complete with its file (an Ogg Opus file
// of about the call's length); egress_started and egress_ended reach a
// WebhookReceiver.  Bad input (MP4, an S3 upload, a stream output, a
// missing room, stopping twice, a token without roomRecord) is answered
// with LiveKit's status and Twirp code and records nothing.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
	AccessToken, EgressClient, EncodedFileOutput, EncodedFileType, EgressStatus, RoomServiceClient,
	S3Upload, StreamOutput, StreamProtocol, WebhookReceiver,
} from 'livekit-server-sdk';
import { API_URL, repoRoot } from '../lib/janus.mjs';
import { phoneCaller, startAgentJanus, stopAgentJanus } from '../lib/phone-caller.mjs';

const KEY = 'APIegress1';
const SECRET = 'egress-secret-abcdefghijklmnopqrstuvwxyz012345';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let env, server;
const hooks = [];

before(async () => {
	server = createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', async () => {
			try {
				hooks.push(await new WebhookReceiver(KEY, SECRET).receive(Buffer.concat(chunks).toString('utf8'), req.headers.authorization));
				res.writeHead(200).end();
			} catch (e) {
				hooks.push({ error: e.message });
				res.writeHead(401).end();
			}
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	const port = server.address().port;
	env = await startAgentJanus('sb-lkegress-', (dir) =>
		readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8')
			.replace('auto_join = ["phone", "whatsapp"]', 'auto_join = []') +
		`\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n\twebhook_urls = ["http://127.0.0.1:${port}/"]\n}\n`);
}, { timeout: 60000 });
after(async () => {
	await stopAgentJanus(env);
	server?.closeAllConnections();
	await new Promise((r) => server ? server.close(r) : r());
}, { timeout: 60000 });

const egress = () => new EgressClient(API_URL, KEY, SECRET);
const rooms = () => new RoomServiceClient(API_URL, KEY, SECRET);
const unique = (p) => `${p}-${Math.random().toString(36).slice(2, 8)}`;
const ogg = (filepath = 'ignored/name.ogg') => new EncodedFileOutput({ fileType: EncodedFileType.OGG, filepath });

async function until(what, fn, ms) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(100);
	}
}

test('an audio room composite egress records the room to an Ogg file; stopped, it is complete and announced', { timeout: 60000 }, async () => {
	const room = unique('lk-egress');
	const made = await rooms().createRoom({ name: room });
	const caller = await phoneCaller(room);
	try {
		const started = await egress().startRoomCompositeEgress(room, ogg(), { audioOnly: true });
		assert.match(started.egressId, /^EG_/);
		assert.equal(started.roomName, room);
		assert.equal(started.roomId, made.sid);
		assert.equal(started.status, EgressStatus.EGRESS_STARTING);
		const [active] = await egress().listEgress({ roomName: room, active: true });
		assert.equal(active.egressId, started.egressId);
		assert.equal(active.status, EgressStatus.EGRESS_ACTIVE);
		// A second egress of the room: it is being recorded already.
		await assert.rejects(egress().startRoomCompositeEgress(room, ogg(), { audioOnly: true }), (e) => e.status === 400);
		await sleep(1500);
		const t0 = Date.now();
		const stopped = await egress().stopEgress(started.egressId);
		assert.ok([EgressStatus.EGRESS_ENDING, EgressStatus.EGRESS_COMPLETE].includes(stopped.status), `status ${stopped.status}`);
		const done = await until('the egress complete', async () => {
			const [e] = await egress().listEgress({ egressId: started.egressId });
			return e?.status === EgressStatus.EGRESS_COMPLETE ? e : null;
		}, 10000);
		const file = done.fileResults[0];
		assert.ok(file, 'a file result');
		assert.ok(existsSync(file.location), file.location);
		assert.equal(readFileSync(file.location).subarray(0, 4).toString(), 'OggS');
		assert.ok(file.size > 1000n, `size ${file.size}`);
		const seconds = Number(file.duration) / 1e9;
		assert.ok(seconds >= 1.2 && seconds <= (Date.now() - t0) / 1000 + 3, `duration ${seconds} s`);
		assert.deepEqual(await egress().listEgress({ roomName: room, active: true }), []);
		// Stopping it again: LiveKit's failed_precondition.
		await assert.rejects(egress().stopEgress(started.egressId), (e) => e.status === 412 && e.code === 'failed_precondition' &&
			/EGRESS_COMPLETE cannot be stopped/.test(e.message));
		// The webhooks: egress_started then egress_ended, verified by the SDK.
		const mine = await until('egress_ended', () => {
			const m = hooks.filter((h) => h.egressInfo?.egressId === started.egressId);
			return m.some((h) => h.event === 'egress_ended') ? m : null;
		}, 15000);
		assert.deepEqual(mine.map((h) => h.event), ['egress_started', 'egress_ended']);
		assert.equal(mine[1].egressInfo.status, EgressStatus.EGRESS_COMPLETE);
		assert.equal(mine[1].room.name, room);
		assert.equal(mine[1].egressInfo.fileResults[0].location, file.location);
		assert.equal(hooks.filter((h) => h.error).length, 0);
	} finally {
		caller.stop();
		await rooms().deleteRoom(room).catch(() => {});
	}
});

test('bad egress requests: LiveKit\'s codes, and nothing is recorded', { timeout: 30000 }, async () => {
	const room = unique('lk-egress-bad');
	await rooms().createRoom({ name: room });
	try {
		const refused = [
			[() => egress().startRoomCompositeEgress(room, new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath: 'a.mp4' }), { audioOnly: true }), 400, 'invalid_argument'],
			[() => egress().startRoomCompositeEgress(room, new EncodedFileOutput({ fileType: EncodedFileType.OGG, filepath: 'a.ogg', output: { case: 's3', value: new S3Upload({ bucket: 'b' }) } }), { audioOnly: true }), 400, 'invalid_argument'],
			[() => egress().startRoomCompositeEgress(room, new StreamOutput({ protocol: StreamProtocol.RTMP, urls: ['rtmp://127.0.0.1/x'] }), { audioOnly: true }), 400, 'invalid_argument'],
			[() => egress().startRoomCompositeEgress('lk-no-such-room', ogg(), { audioOnly: true }), 404, 'not_found'],
			[() => egress().stopEgress('EG_nosuch'), 404, 'not_found'],
		];
		for (const [call, status, code] of refused) {
			await assert.rejects(call(), (e) => e.status === status && e.code === code, `${status} ${code}`);
		}
		// roomRecord is needed: an admin of the room is not enough.
		const at = new AccessToken(KEY, SECRET, { ttl: '5m' });
		at.addGrant({ roomAdmin: true, room });
		const res = await fetch(`${API_URL}/twirp/livekit.Egress/StartRoomCompositeEgress`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', authorization: `Bearer ${await at.toJwt()}` },
			body: JSON.stringify({ roomName: room, audioOnly: true, fileOutputs: [{ fileType: 'OGG', filepath: 'x.ogg' }] }),
			signal: AbortSignal.timeout(10000),
		});
		assert.equal(res.status, 401);
		assert.equal((await res.json()).code, 'unauthenticated');
		assert.deepEqual(await egress().listEgress({ roomName: room }), [], 'nothing was started');
	} finally {
		await rooms().deleteRoom(room).catch(() => {});
	}
});
