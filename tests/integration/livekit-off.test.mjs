// Without a LiveKit key the LiveKit API is off: no /twirp route, and the
// Janus API takes no LiveKit token, however it is signed.  A key given
// without its secret (LIVEKIT_API_KEY alone) turns nothing on.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { AccessToken } from 'livekit-server-sdk';
import { startJanus, JanusHandle, API_URL } from '../lib/janus.mjs';

let janus;
const handles = [];
const T = { timeout: 30000 };

before(async () => {
	janus = await startJanus({ env: { LIVEKIT_API_KEY: 'APIhalfKey', LIVEKIT_API_SECRET: '' } });
}, { timeout: 60000 });
after(async () => {
	for (const h of handles) await h.destroy();
	if (janus) await janus.stop();
});

test('no key: no Twirp route, no LiveKit token on join', T, async () => {
	const at = new AccessToken('APIhalfKey', 'any-secret-at-all-0123456789abcdef', { identity: 'eve', ttl: '10m' });
	at.addGrant({ roomList: true, roomJoin: true, room: 'demo' });
	const token = await at.toJwt();
	const res = await fetch(`${API_URL}/twirp/livekit.RoomService/ListRooms`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
		body: '{}',
		signal: AbortSignal.timeout(10000),
	});
	assert.equal(res.status, 404);
	const body = await res.json();
	assert.equal(body.error?.code, 'not_found', 'the REST server\'s own 404: there is no such route');

	const h = await JanusHandle.attach();
	handles.push(h);
	const r = await h.requestAsync({ request: 'join', room: 'demo', token });
	assert.equal(r.data.error_code, 488, JSON.stringify(r.data));
	assert.match(r.data.error, /token/);
});
