// A store path that cannot be written: a clear error at start-up, the
// records routes answer 503 saying why, and calls go on.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { rest } from '../lib/notifications.mjs';
import { startJanus } from '../lib/janus.mjs';
import { pluginConfigWithStore } from '../lib/store.mjs';

let janus;
const path = '/proc/sb-no-such-dir/state/calls.db';

const T = { timeout: 30000 }; // a few requests
before(async () => { janus = await startJanus({ pluginConfig: pluginConfigWithStore(path) }); }, { timeout: 60000 });
after(async () => { if (janus) await janus.stop(); });

test('an unwritable store path is a clear start-up error, and calls go on', T, async () => {
	const log = janus.output();
	assert.match(log, /call records are OFF: SQLite store \/proc\/sb-no-such-dir\/state\/calls\.db: store directory \/proc\/sb-no-such-dir\/state is not writable/);
	for (const p of ['/api/calls', '/api/analytics?range=7d', '/api/transfers/history']) {
		const r = await rest('GET', p);
		assert.equal(r.status, 503, `${p}: ${r.text}`);
		assert.match(r.json.error.message, /not writable/);
	}
	// Bad input is still bad input.
	assert.equal((await rest('GET', '/api/calls?limit=nope')).status, 400);
	const room = `faults-${process.pid}`;
	assert.equal((await rest('POST', '/room/create', { roomName: room })).status, 201);
	assert.equal((await rest('GET', `/rooms/${room}`)).status, 200);
});
