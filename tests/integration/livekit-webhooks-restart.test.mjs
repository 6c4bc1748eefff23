// LiveKit webhooks survive a restart: events a receiver could not take
// (it is down) while Janus stops are spooled in the state directory, and
// the next Janus on that directory sends them, in order, once the
// receiver is back — each one still verified by livekit-server-sdk's
// WebhookReceiver.  A spool that is not ours (garbage lines) loses only
// its garbage.
import { test, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomServiceClient, WebhookReceiver } from 'livekit-server-sdk';
import { startJanus, API_URL, repoRoot } from '../lib/janus.mjs';

const KEY = 'APIrestartKey1';
const SECRET = 'restart-secret-abcdefghijklmnopqrstuvwxyz0123';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stateDir = mkdtempSync(join(tmpdir(), 'sb-lkspool-'));
let janus = null, server = null;
const received = [];

after(async () => {
	server?.closeAllConnections();
	if (server) await new Promise((r) => server.close(r));
	if (janus) await janus.stop();
	rmSync(stateDir, { recursive: true, force: true });
}, { timeout: 30000 });

async function freePort() {
	const probe = createServer();
	await new Promise((r) => probe.listen(0, '127.0.0.1', r));
	const { port } = probe.address();
	await new Promise((r) => probe.close(r));
	return port;
}

function start(port) {
	const conf = readFileSync(join(repoRoot, 'conf', 'janus.plugin.switchboard.jcfg'), 'utf8') +
		`\nlivekit: {\n\tkeys: {\n\t\t${KEY} = "${SECRET}"\n\t}\n\twebhook_urls = ["http://127.0.0.1:${port}/"]\n}\n`;
	return startJanus({ pluginConfig: conf, env: { SWITCHBOARD_STATE_DIR: stateDir } });
}

test('events waiting when Janus stops are sent by the next Janus, in order, verified', { timeout: 90000 }, async () => {
	const port = await freePort(); // nobody listens there yet
	janus = await start(port);
	const room = `lk-spool-${process.pid}`;
	const rooms = new RoomServiceClient(API_URL, KEY, SECRET);
	await rooms.createRoom({ name: room });
	await rooms.deleteRoom(room);
	await sleep(1500); // an attempt fails; the spool is written within a second
	await janus.stop();
	janus = null;
	const spools = readdirSync(join(stateDir, 'livekit-webhooks'));
	assert.equal(spools.length, 1, JSON.stringify(spools));
	const spool = join(stateDir, 'livekit-webhooks', spools[0]);
	const kept = readFileSync(spool, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
	assert.deepEqual(kept.filter((e) => e.room?.name === room).map((e) => e.event), ['room_started', 'room_finished']);
	appendFileSync(spool, 'not json\n{"no":"event"}\n'); // someone else's lines

	// The receiver is back, then Janus.
	const receiver = new WebhookReceiver(KEY, SECRET);
	server = createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', async () => {
			try {
				received.push(await receiver.receive(Buffer.concat(chunks).toString('utf8'), req.headers.authorization));
				res.writeHead(200).end();
			} catch (e) {
				received.push({ error: e.message });
				res.writeHead(401).end();
			}
		});
	});
	await new Promise((r) => server.listen(port, '127.0.0.1', r));
	janus = await start(port);
	const end = Date.now() + 20000;
	while (!received.some((e) => e.event === 'room_finished' && e.room?.name === room)) {
		if (Date.now() > end) throw new Error(`no room_finished: ${JSON.stringify(received)}`);
		await sleep(100);
	}
	assert.deepEqual(received.filter((e) => e.room?.name === room).map((e) => e.event), ['room_started', 'room_finished']);
	assert.equal(received.filter((e) => e.error).length, 0, JSON.stringify(received.filter((e) => e.error)));
	assert.equal(received.find((e) => e.event === 'room_started' && e.room?.name === room).id, kept.find((e) => e.event === 'room_started' && e.room?.name === room).id,
		'the same event, not a new one');
});
