// A /ws/notifications client that keeps every event (with its arrival time)
// and waits, bounded, for the one a test needs.
import WebSocket from 'ws';
import { API_PORT, API_KEY } from './janus.mjs';
import { track } from './resources.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// apiPort: another node's (a cluster test), else ours.
export async function openNotifications(apiPort = API_PORT) {
	const events = [];
	const ws = new WebSocket(`ws://127.0.0.1:${apiPort}/ws/notifications`, { headers: { authorization: `Bearer ${API_KEY}` } });
	ws.on('message', (d) => events.push({ ...JSON.parse(d.toString()), at: Date.now() }));
	// terminate, not close: no closing handshake to wait for (up to 30 s
	// when the server is busy or gone).
	const untrack = track('/ws/notifications client', () => ws.terminate());
	await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
	return {
		events,
		close: () => { untrack(); ws.terminate(); },
		// Resolves with pred's first truthy answer; fails after timeoutMs.
		async until(what, pred, timeoutMs) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const found = pred();
				if (found) return found;
				if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.slice(-25))}`);
				await sleep(50);
			}
		},
	};
}

// REST call with the test API key: {status, json}.
export async function rest(method, path, body) {
	const { API_URL } = await import('./janus.mjs');
	const res = await fetch(`${API_URL}${path}`, {
		method, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: res.status, json, text };
}
