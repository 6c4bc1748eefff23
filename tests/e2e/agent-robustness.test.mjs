// The agent under bad input: a caller who never stops, with clipped audio;
// then long silence. The agent stays up and comes back to listening, the
// room keeps mixing for everyone, nothing is invented from silence, and the
// counters stay readable.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openNotifications } from '../lib/notifications.mjs';
import { startJanus, adminRequest, API_URL, API_PORT, API_KEY } from '../lib/janus.mjs';
import { mulawEncode, rtpPacket } from '../lib/audio.mjs';

let janus, notes, events;
const until = (pred, ms, what) => notes.until(what, pred, ms);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
before(async () => {
	janus = await startJanus();
	notes = await openNotifications();
	events = notes.events;
}, { timeout: 60000 });
after(async () => {
	notes?.close();
	if (janus) await janus.stop();
}, { timeout: 120000 });

const peers = [];
async function rtpPeer(room, display) {
	const sock = dgram.createSocket('udp4');
	peers.push(sock);
	const got = [];
	sock.on('message', () => got.push(Date.now()));
	await new Promise((r) => sock.bind(0, '127.0.0.1', r));
	const j = await adminRequest({ request: 'rtp_join', room, ip: '127.0.0.1', port: sock.address().port, codec: 'pcmu', display });
	return { sock, got, j };
}

test('a non-stop, clipped caller and minutes-long silence do not break the agent or the room', { timeout: 120000 }, async (t) => {
	const room = `agent-robust-${process.pid}`;
	const r = await fetch(`${API_URL}/room/create`, {
		method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
		body: JSON.stringify({ roomName: room, agent: true }),
	});
	assert.equal(r.status, 201);
	let timer;
	// This process's own stalls (a loaded machine) delay when packets are
	// read, and so which second they are counted in: measured, and allowed
	// for in the packet counts below.
	const loop = monitorEventLoopDelay({ resolution: 10 });
	loop.enable();
	try {
		await robustness(room, (t) => { timer = t; }, t, loop);
	} finally {
		loop.disable();
		clearInterval(timer);
		for (const s of peers) s.close();
	}
});

async function robustness(room, setTimer, t, loop) {
	const caller = await rtpPeer(room, 'Shouter');
	const listener = await rtpPeer(room, 'Listener');
	let mode = 'silence', seq = 0, n = 0;
	setTimer(setInterval(() => {
		for (const p of [caller, listener]) {
			const f = new Uint8Array(160);
			for (let i = 0; i < 160; i++) {
				// Clipped: a square wave at full scale with noise on top.
				const s = p === caller && mode === 'shout' ? (((n * 160 + i) >> 4) & 1 ? 32767 : -32768) + Math.round((Math.random() - 0.5) * 8000) : 0;
				f[i] = mulawEncode(Math.max(-32768, Math.min(32767, s)));
			}
			p.sock.send(rtpPacket({ pt: 0, seq, ts: seq * 160, ssrc: p === caller ? 1 : 2, payload: f }), p.j.port, p.j.ip);
		}
		seq++;
		n++;
	}, 20));
	const inRoom = (e) => e.room === room;
	// Packets a stall of this process may have moved out of a second (read
	// late, counted in the next one): one per 20 ms of the longest stall.
	const stallAllowance = () => Math.ceil(loop.max / 1e6 / 20);
	await until(() => events.find((e) => inRoom(e) && e.type === 'agent_state' && e.state === 'listening'), 30000, 'the greeting to end');
	// 10 s of non-stop clipped shouting.
	mode = 'shout';
	loop.reset();
	const shoutStart = Date.now();
	await sleep(10000);
	mode = 'silence';
	const shoutEnd = Date.now();
	// The room kept mixing for the listener the whole time (50 packets/s,
	// at least 40 in every second, less what our own stalls moved).
	const perSecond = [];
	for (let s = shoutStart; s + 1000 <= shoutEnd; s += 1000) perSecond.push(listener.got.filter((at) => at >= s && at < s + 1000).length);
	const least = 40 - stallAllowance();
	t.diagnostic(`listener packets per second while shouting: ${perSecond.join(' ')}; longest stall here ${(loop.max / 1e6).toFixed(0)} ms`);
	perSecond.forEach((count, i) => assert.ok(count >= least, `listener got ${count} packets in second ${i} (at least ${least}): ${perSecond.join(' ')}`));
	// The agent is still there and settles back to listening.
	// (It may have answered whatever it made of the noise: give it time,
	// then its last state must be listening.)
	await until(() => {
		const states = events.filter((e) => inRoom(e) && e.type === 'agent_state');
		return Date.now() > shoutEnd + 3000 && states.at(-1)?.state === 'listening';
	}, 30000, 'the agent back to listening');
	const parts = await adminRequest({ request: 'listparticipants', room });
	assert.ok(parts.participants.some((p) => p.kind === 'agent'), 'the agent is still in the room');
	// Then a long silence (bounded here to 20 s): no turn is invented.
	loop.reset();
	const quietStart = Date.now();
	await sleep(20000);
	const invented = events.filter((e) => inRoom(e) && e.at > quietStart + 1000 && e.type === 'transcript' && e.speaker !== 'AI Agent');
	assert.deepEqual(invented, [], 'nothing transcribed from silence');
	const quiet = listener.got.filter((at) => at >= quietStart && at < quietStart + 10000).length;
	assert.ok(quiet >= 400 - stallAllowance(), `still mixing in the silence (${quiet / 10}/s; longest stall here ${(loop.max / 1e6).toFixed(0)} ms)`);
	const stats = await adminRequest({ request: 'stats' });
	assert.ok(stats.mixer.ticks > 0);
	const metrics = await (await fetch(`${API_URL}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
	assert.match(metrics, /^switchboard_agents 1$/m);
	assert.match(metrics, /^switchboard_agent_frames_dropped_total 0$/m);
}

