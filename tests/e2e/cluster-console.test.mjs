// A human agent signed in on one node takes a call that waits on another
// and warm-transfers it to an agent on a third (README, "Running several
// nodes"): three Janus nodes on one PostgreSQL, three headless Chromiums —
// a caller (a 440 Hz microphone) on node A, Agent "alice" (880 Hz) whose
// console was opened on node B, Agent "bob" (1760 Hz) signed in on node C.
// Every page comes from node B's origin, as from one site in front of the
// cluster (every node's Janus allows that origin).  The call is queued
// through node B's REST (carried to A), alice's console sees the
// cluster's queue, takes the call, is told it lives on node A, moves
// there (a new Janus session, her desk made there from her console
// token, a new audio connection) and takes it: she and the caller hear
// each other.  Last, a browser invited through node B's REST is sent to
// node C, where it hears a phone caller (baresip).  She transfers to bob: node C is asked to send him, his
// console moves to node A the same way, he is rung there, accepts,
// consults with her, and she completes: bob and the caller hear each
// other.
import { test, before, after } from '../lib/harness.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTonePage, eventuallyOn, writeToneWav } from '../lib/browser.mjs';
import { startJanus, adminRequest, JanusHandle, ADMIN_SECRET, PLUGIN, SIP_PORT } from '../lib/janus.mjs';
import { startPostgres } from '../lib/postgres.mjs';
import { clusterNodeConfig, restOn } from '../lib/cluster.mjs';
import { consoleSignIn, passwordOf } from '../lib/console.mjs';
import { startBaresip, signedRoomUri } from '../lib/sip.mjs';

const ROOM = `cc-call-${process.pid}`;
const WAIT_MS = 20000;
const MARGIN_DB = 20;
const B_PORTS = { http: 8098, admin: 7098, ws: 8198, api: 8090, sip: 5090, rtp: '41000-41499', webrtc: '30000-30999' };
const A_JANUS = 'ws://127.0.0.1:8188/';
const B_JANUS = `http://127.0.0.1:${B_PORTS.http}/janus`;
const C_PORTS = { http: 8099, admin: 7099, ws: 8199, api: 8091, sip: 5091, rtp: '41500-41999', webrtc: '31000-31999' };
const C_JANUS = `http://127.0.0.1:${C_PORTS.http}/janus`;
const SITE = `http://127.0.0.1:${B_PORTS.api}`; // where the pages come from
const people = { caller: { tone: 440 }, alice: { tone: 880 }, bob: { tone: 1760 } };
const PHONE_TONE = 660; // a phone caller on node C
const TONES = [440, PHONE_TONE, 880, 1760];
const BARESIP_PORT = 5086;

let workDir, pg, a, b, c;
const browsers = [];

const openBrowser = (key) => openTonePage(people[key], workDir, browsers);
const eventually = (key, check, timeoutMs = WAIT_MS) => eventuallyOn(key && people[key], key, check, timeoutMs);

const consoleState = (key = 'alice') => people[key].page.evaluate(() => window.consoleTest.state());

// key hears `freq` (above -70 dB) and each tone in `not` at least MARGIN_DB lower.
async function assertHears(key, freq, not) {
	const hook = key === 'caller' ? 'switchboardTest' : 'consoleTest';
	await eventually(key, async () => {
		const at = await people[key].page.evaluate(([hook, freqs]) => Object.fromEntries(
			freqs.map((f) => [f, window[hook].magnitudeAt(f)])), [hook, TONES]);
		assert.ok(at[freq] > -70, `${key} does not hear ${freq}: ${JSON.stringify(at)}`);
		for (const f of not)
			assert.ok(at[f] <= at[freq] - MARGIN_DB, `${key} hears ${f} (want only ${freq}): ${JSON.stringify(at)}`);
	});
}

before(async () => {
	workDir = mkdtempSync(join(tmpdir(), 'sb-e2e-cluster-console-'));
	pg = await startPostgres({ port: 25443 });
	const env = { JANUS_ALLOW_ORIGIN: SITE };
	a = await startJanus({ env, pluginConfig: clusterNodeConfig(pg.conninfo, { id: 'node-a', janusUrl: A_JANUS, restUrl: 'http://127.0.0.1:8080', sipPort: SIP_PORT }) });
	b = await startJanus({ env, ports: B_PORTS, pluginConfig: clusterNodeConfig(pg.conninfo, { id: 'node-b', janusUrl: B_JANUS, restUrl: SITE, sipPort: B_PORTS.sip }) });
	c = await startJanus({ env, ports: C_PORTS, pluginConfig: clusterNodeConfig(pg.conninfo, { id: 'node-c', janusUrl: C_JANUS, restUrl: `http://127.0.0.1:${C_PORTS.api}`, sipPort: C_PORTS.sip }) });
	// Accounts are in the shared store: made through one node, good on all.
	for (const [agentId, name] of [['alice', 'Alice'], ['bob', 'Bob']]) {
		const made = await restOn(a, 'POST', '/api/agents/accounts', { agentId, role: 'agent', name, password: passwordOf(agentId) });
		assert.equal(made.status, 201, made.text);
	}
	await Promise.all(Object.keys(people).map(openBrowser));
}, { timeout: 120000 });

after(async () => {
	await Promise.allSettled(browsers.map((x) => x.close()));
	if (c) await c.stop();
	if (b) await b.stop();
	if (a) await a.stop();
	if (pg) await pg.destroy();
	if (workDir) rmSync(workDir, { recursive: true, force: true });
}, { timeout: 60000 });

test('alice signs in on node B; a caller on node A waits in the queue, which her console shows', { timeout: 60000 }, async () => {
	await consoleSignIn(people.alice.page, 'alice', { apiUrl: SITE, janusUrl: B_JANUS });
	assert.equal((await consoleState()).janus, B_JANUS);
	await consoleSignIn(people.bob.page, 'bob', { apiUrl: SITE, janusUrl: C_JANUS });
	assert.equal((await restOn(a, 'POST', '/room/create', { roomName: ROOM })).status, 201);
	const { page } = people.caller;
	await page.goto(`${SITE}/?janus=${encodeURIComponent(A_JANUS)}&video=off`);
	await page.fill('#room', ROOM);
	await page.fill('#display', 'Caller');
	await page.click('#join');
	await eventually('caller', async () => assert.equal((await page.evaluate(() => window.switchboardTest.state())).phase, 'joined'));
	// Queued through node B: carried to node A, which holds the room.
	const q = await restOn(b, 'POST', '/api/queue', { room: ROOM, reason: 'asked for a human' });
	assert.equal(q.status, 200, q.text);
	assert.ok((await restOn(a, 'GET', '/api/queue')).json.queue.some((e) => e.room === ROOM));
	await eventually('alice', async () => {
		const s = await consoleState();
		const entry = s.queue.find((e) => e.room === ROOM);
		assert.equal(entry?.node, 'node-a', JSON.stringify(s.queue));
	});
});

test('she takes it: her console moves to node A, and she and the caller hear each other', { timeout: 60000 }, async () => {
	await people.alice.page.click(`#queue button[data-room="${ROOM}"]`);
	await eventually('alice', async () => {
		const s = await consoleState();
		assert.equal(s.room, ROOM, JSON.stringify(s.errors));
		assert.equal(s.janus, A_JANUS);
	});
	await assertHears('caller', 880, [1760]);
	await assertHears('alice', 440, [1760]);
	// Where the cluster sees her: busy, on node A, and nowhere else.
	const agents = await restOn(b, 'GET', '/api/agents');
	assert.equal(agents.status, 200, agents.text);
	const alice = agents.json.agents.filter((x) => x.agentId === 'alice');
	assert.equal(alice.length, 1, JSON.stringify(agents.json));
	assert.equal(alice[0].node, 'node-a');
	assert.equal(alice[0].status, 'busy');
	assert.equal(alice[0].room, ROOM);
	for (const node of [a, b]) assert.ok(!(await restOn(node, 'GET', '/api/queue')).json.queue.some((e) => e.room === ROOM));
	// Her REST stays on the site (node B), which carries what is about the
	// call to node A: the summary she is shown.
	await eventually('alice', async () => assert.ok((await consoleState()).summary, 'no summary'));
	assert.deepEqual((await consoleState()).errors, []);
});

test('she transfers the call to bob on node C: he is sent to node A, rung, consults, and takes over', { timeout: 90000 }, async () => {
	const { page } = people.alice;
	// The cluster's agents: bob, available, on node C.
	await eventually('alice', async () => {
		const s = await consoleState();
		assert.ok(s.agents.some((x) => x.agentId === 'bob' && x.status === 'available' && x.node === 'node-c'), JSON.stringify(s.agents));
	});
	await page.waitForFunction(() => [...document.querySelectorAll('#target-agent option')].some((o) => o.value === 'bob' && !o.disabled));
	await page.selectOption('#target-agent', 'bob');
	await page.click('#transfer');
	// Bob's console goes to node A, where he is rung.
	const offer = await eventually('bob', async () => {
		const s = await consoleState('bob');
		assert.equal(s.janus, A_JANUS, JSON.stringify(s.errors));
		assert.equal(s.incoming?.state, 'ringing', JSON.stringify(s));
		return s.incoming;
	});
	assert.equal(offer.from, 'alice');
	assert.equal(offer.room, ROOM);
	await people.bob.page.click('#accept');
	await eventually('bob', async () => {
		const [sb, sa] = [await consoleState('bob'), await consoleState('alice')];
		assert.match(sb.room ?? '', /^consult-/);
		assert.equal(sa.room, sb.room);
	});
	await assertHears('bob', 880, [440]);
	await page.click('#complete');
	await eventually('alice', async () => {
		assert.equal((await consoleState('bob')).room, ROOM);
		assert.equal((await consoleState('alice')).room, 'desk-alice');
	});
	await assertHears('caller', 1760, [880]);
	await assertHears('bob', 440, [880]);
	// Where the cluster sees them: bob busy on node A; alice back at her desk there.
	const agents = (await restOn(c, 'GET', '/api/agents')).json.agents;
	const where = Object.fromEntries(agents.map((x) => [x.agentId, `${x.node}/${x.status}`]));
	assert.deepEqual(where, { alice: 'node-a/available', bob: 'node-a/busy' }, JSON.stringify(agents));
	const history = await restOn(a, 'GET', '/api/transfers/history');
	assert.equal(history.status, 200, history.text);
	assert.ok(history.json.transfers.some((t) => t.to_target === 'bob' && t.from_agent === 'alice' && t.state === 'completed'), history.text);
	for (const key of ['alice', 'bob']) assert.deepEqual((await consoleState(key)).errors, [], key);
});

test('a browser invited through node B\'s REST joins on node C and hears a phone caller there', { timeout: 60000 }, async () => {
	const room = `cc-phone-${process.pid}`;
	assert.equal((await restOn(c, 'POST', '/room/create', { roomName: room })).status, 201);
	const wav = join(workDir, 'phone.wav');
	writeToneWav(wav, PHONE_TONE, 20, 8000);
	const phone = await startBaresip({ port: BARESIP_PORT, wav, dial: signedRoomUri(room, `127.0.0.1:${C_PORTS.sip}`) });
	try {
		await eventually('caller', async () => assert.ok((await restOn(c, 'GET', `/rooms/${room}`)).json.participants.some((p) => p.kind === 'sip'), phone.output().slice(-1000)));
		// The back end asks node B for an invitation: the token, and node C's Janus.
		const invite = await restOn(b, 'POST', '/room/join', { roomName: room, participantIdentity: 'visitor' });
		assert.equal(invite.status, 200, invite.text);
		assert.equal(invite.json.janus.node, 'node-c');
		const { page } = people.caller;
		await page.goto(`${SITE}/?janus=${encodeURIComponent(invite.json.janus.url)}&token=${encodeURIComponent(invite.json.token)}&video=off`);
		await page.click('#join');
		await eventually('caller', async () => assert.equal((await page.evaluate(() => window.switchboardTest.state())).phase, 'joined'));
		await assertHears('caller', PHONE_TONE, [880, 1760]);
	} finally {
		await phone.stop();
		await restOn(c, 'DELETE', `/rooms/${room}`);
	}
});

test('a console token makes no room on another node but its own desk', { timeout: 30000 }, async () => {
	const made = await restOn(b, 'POST', '/api/agents/accounts', { agentId: 'mallory', role: 'agent', password: passwordOf('mallory') });
	assert.equal(made.status, 201, made.text);
	const signin = await fetch(`${SITE}/api/agents/signin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId: 'mallory', password: passwordOf('mallory') }) });
	assert.equal(signin.status, 200);
	const { token } = await signin.json();
	const rooms = async () => (await adminRequest({ request: 'list', hidden: true }, ADMIN_SECRET, PLUGIN, a.adminUrl)).list.map((r) => r.room);
	for (const room of ['desk-alice', 'desk-nobody', `not-a-desk-${process.pid}`]) {
		const h = await JanusHandle.attach(PLUGIN, a.httpUrl);
		try {
			const { data } = await h.requestAsync({ request: 'join', room, token });
			assert.ok(data.error_code, `${room}: ${JSON.stringify(data)}`);
		} finally {
			await h.destroy();
		}
	}
	assert.ok(!(await rooms()).includes('desk-nobody'), 'no desk made for another name');
	assert.ok((await rooms()).includes('desk-alice'), 'the list shows desks (else this proves nothing)');
	assert.ok(!(await rooms()).includes(`not-a-desk-${process.pid}`));
	// Her own desk, with her own token: made on node A as it was on B.
	const h = await JanusHandle.attach(PLUGIN, a.httpUrl);
	try {
		const { data } = await h.requestAsync({ request: 'join', room: 'desk-mallory', token });
		assert.equal(data.error_code, undefined, JSON.stringify(data));
		assert.equal(data.room, 'desk-mallory');
	} finally {
		await h.destroy();
	}
});
