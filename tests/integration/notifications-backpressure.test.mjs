// /ws/notifications under a client that never reads: it is closed once it
// falls too far behind (and counted), while a client that reads gets every
// event; the server's memory is not held hostage by the slow one.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startJanus, repoRoot, API_PORT, API_KEY } from '../lib/janus.mjs';
import { openNotifications, rest } from '../lib/notifications.mjs';

let janus;
const cleanups = [];

before(async () => { janus = await startJanus(); }, { timeout: 30000 });
after(async () => {
	for (const c of cleanups.reverse()) await c();
	await janus?.stop();
}, { timeout: 20000 });

async function metric(name) {
	const r = await rest('GET', '/metrics');
	const m = r.text.match(new RegExp(`^${name} (\\d+)`, 'm'));
	return m ? Number(m[1]) : null;
}

// tests/tools/ws_stall: connects with a 4 KiB receive buffer, then reads
// nothing until told to.
function stalledClient() {
	const child = spawn(join(repoRoot, 'build', 'tests', 'tools', 'ws_stall'),
		['127.0.0.1', String(API_PORT), '/ws/notifications', `Bearer ${API_KEY}`], { stdio: ['pipe', 'pipe', 'inherit'] });
	cleanups.push(async () => { child.kill('SIGKILL'); });
	const lines = createInterface({ input: child.stdout });
	const next = () => new Promise((resolve, reject) => {
		const t = setTimeout(() => reject(new Error('ws_stall said nothing')), 20000);
		lines.once('line', (l) => { clearTimeout(t); resolve(l); });
	});
	return { next, readAll: () => child.stdin.write('read\n') };
}

test('a client that never reads is dropped; one that reads gets every event', { timeout: 90000 }, async () => {
	assert.equal(await metric('switchboard_notification_clients_dropped_total'), 0);
	const slow = stalledClient();
	assert.equal(await slow.next(), 'open');
	const good = await openNotifications();
	cleanups.push(async () => good.close());
	assert.equal(await metric('switchboard_notification_clients'), 2);

	assert.equal((await rest('POST', '/room/create', { roomName: 'bp-room' })).status, 201);
	// ~2 KB per event: the slow client is dropped after 1 MiB of backlog
	// (plus what its 4 KiB window and our 64 KiB send buffer hold); send
	// at most 4 MiB.
	const text = 'x'.repeat(1900);
	let sent = 0;
	let dropped = 0;
	while (sent < 2000 && dropped === 0) {
		const r = await rest('POST', '/api/transcript', { room: 'bp-room', speaker: 'load', text: `${sent} ${text}` });
		assert.equal(r.status, 200, r.text);
		sent++;
		if (sent % 50 === 0) dropped = await metric('switchboard_notification_clients_dropped_total');
	}
	dropped = await metric('switchboard_notification_clients_dropped_total');
	assert.equal(dropped, 1, `one client dropped after ${sent} events`);
	assert.ok(sent > 400, `not before it was 1 MiB behind (${sent} events)`);
	assert.equal(await metric('switchboard_notification_clients'), 1, 'the reading client stays');
	// The reader got every event, in order.
	const load = () => good.events.filter((e) => e.type === 'transcript' && e.speaker === 'load');
	await good.until('every transcript event', () => load().length === sent, 20000);
	assert.deepEqual(load().map((e) => Number(e.text.split(' ')[0])), [...Array(sent).keys()]);
	// Once it reads again, the slow one finds its stream closed.
	slow.readAll();
	assert.match(await slow.next(), /^eof \d+$/);
	// Later events still reach the reader.
	await rest('POST', '/api/transcript', { room: 'bp-room', speaker: 'after', text: 'still here' });
	await good.until('an event after the drop', () => good.events.some((e) => e.speaker === 'after'), 5000);
});
