// The agent console: sign in (a desk room of your own, joined with an agent
// token), go available, take waiting calls, see the live transcript and the
// AI summary, ask the AI assistant, and warm-transfer a call to another
// agent (or a number) — or accept/decline one offered to you.  The server
// moves your one participant between rooms (desk, call, consult), so the
// audio connection is made once at sign-in and never renegotiated.
// Agents sign in with their own agent id and password (accounts the
// operator makes: docs/security.md), or arrive with a single sign-on token
// from the operator's own site in the fragment (#sso=TOKEN).  Either gives
// a console token: it joins the desk, authorizes the REST calls (Bearer)
// and opens /ws/console; the page never holds the operator's key.
// Query parameters: ?janus=URL ?api=URL ?agent=ID (prefills the form).
// In a cluster (README, "Running several nodes") the queue and the agents
// are the whole cluster's (REST lists), and taking a call that waits on
// another node moves the console there: the node answers where the call
// is (494 with its location), the console leaves its desk here, opens a
// Janus session on that node, joins its desk there with the same console
// token (the node makes the desk), starts a new audio connection, and
// takes the call.  A warm transfer from an agent on another node moves
// the console the same way ("summoned"), and it is rung there.  REST stays
// on this page's origin, which carries requests about a room to the node
// that holds it.
/* global Janus */
import { initJanus, connect, destroySession } from './janus-connection.js';
import { ensureAudioContext, spectrum, magnitudeAt } from './audio-analyser.js';
import { AudioRoom } from './audio-room.js';

const params = new URLSearchParams(location.search);
const JANUS_URL = params.get('janus') || `http://${location.hostname || '127.0.0.1'}:8088/janus`;
const API_URL = params.get('api') || location.origin;
const $ = (id) => document.getElementById(id);

const state = {
	phase: 'signed-out', agentId: null, name: null, desk: null, token: null, presence: 'available', role: 'agent', rooms: [],
	queue: [], agents: [], transcript: [], summary: null,
	transfer: null, // the transfer I started: {transfer_id, state, …}
	incoming: null, // a transfer offered to me
	assist: [], errors: [],
	notice: null, // what happened to me, not an error (a listened call ended)
};
let session = null;
let pollTimer = null;
let janusUrl = JANUS_URL; // the node my desk is on now

const audio = new AudioRoom({
	audioElement: $('audio'),
	hooks: {
		onChange: () => render(),
		onEnded: (reason) => {
			// A supervisor whose listened call was closed under her (the
			// server sends her home when the call just ends; a room destroyed
			// outright cannot): back to the desk by signing in again.
			if (state.role === 'supervisor' && state.phase === 'signed-in' && audio.room && audio.room !== state.desk) {
				state.notice = `The call in ${audio.room} was closed; you are back at your desk.`;
				leaveDesk().then(() => openDesk()).catch((e) => { showError(`Back to the desk failed: ${e.message}`); signOut(); });
				return;
			}
			if (reason) showError(reason);
			signOut();
		},
		onError: (text) => showError(text),
		// A move may arrive before or after queue_take's answer: whatever the
		// order, a call we land in shows its summary (fetched when missing).
		onMoved: () => {
			state.transcript = [];
			state.summary = inConsult() ? (state.transfer?.summary || state.incoming?.summary || null) : null;
			render();
			refresh();
			if (!audio.room.startsWith('desk-') && !inConsult()) { // a consult's summary comes with the transfer
				const room = audio.room;
				api('/api/generate-summary', { room })
					.then((r) => { if (!state.summary && audio.room === room) { state.summary = r.summary; render(); } })
					.catch(() => {}); // the call may be over already
			}
		},
		onTransfer: (msg) => onTransfer(msg),
		// A cluster: an agent on another node is transferring a call to me;
		// I go there (as for a take) and am rung there.
		onSummoned: (msg) => {
			const there = msg.location?.janus_url;
			if (state.phase !== 'signed-in' || !atDesk() || !there || there === janusUrl) return;
			state.notice = `${msg.from || 'An agent'} is transferring a call to you (on ${msg.location.node}).`;
			moveTo(there).catch((e) => { showError(`Could not go to ${msg.location.node}: ${e.message}`); signOut(); });
		},
		onListenEnded: (msg) => {
			state.notice = `The call in ${msg.call} ended; you are back at your desk.`;
			render();
		},
		onTranscript: (msg) => {
			if (msg.final === false) return;
			state.transcript.push({ speaker: msg.speaker, text: msg.text });
			render();
		},
	},
});

function showError(text) {
	state.errors.push(text);
	$('error-text').textContent = text;
	$('error').hidden = false;
}

// REST as me: my console token, never the operator's key.
async function api(path, body, { auth = true, method = 'POST' } = {}) {
	const headers = { 'content-type': 'application/json' };
	if (auth) headers.authorization = `Bearer ${state.token}`;
	const res = await fetch(`${API_URL}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	const json = await res.json().catch(() => ({}));
	if (!res.ok) throw new Error(json.error?.message || `HTTP ${res.status}`);
	return json;
}

// A Switchboard request on my handle; errors become readable exceptions.
async function op(body) {
	const r = await audio.client.send(body);
	if (r?.error_code) throw new Error(r.error);
	return r;
}

const atDesk = () => audio.room && audio.room === state.desk;
const inConsult = () => audio.room?.startsWith('consult-');

// Transfer events that came before the answer to my join (a transfer that
// rings me the moment I reach my desk on another node): kept until I know
// my participant id.
const early = [];

function onTransfer(msg) {
	if (audio.myId === null) {
		early.push(msg);
		return;
	}
	const mine = msg.from_participant === audio.myId;
	const offered = msg.to_participant === audio.myId && !mine;
	if (mine) state.transfer = msg;
	if (offered) state.incoming = ['ringing'].includes(msg.state) ? msg : null;
	if (offered && msg.state === 'consulting') state.transfer = msg; // B sees the consult too
	if (['completed', 'cancelled', 'failed'].includes(msg.state)) {
		if (msg.end_reason && msg.end_reason !== 'completed') showError(`Transfer ${msg.state}: ${msg.end_reason}`);
		if (mine || offered) state.lastTransfer = msg;
		if (mine) state.transfer = null;
		if (offered) { state.incoming = null; if (state.transfer?.transfer_id === msg.transfer_id) state.transfer = null; }
	}
	if (msg.summary) state.summary = msg.summary;
	render();
}

// What my console token says about me (the server checked it; this only
// reads the role and name to show the right panels).
function claimsOf(token) {
	try {
		return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
	} catch {
		return {};
	}
}

// {agentId, password} or {token} (single sign-on): a desk and a console token.
async function signIn(ev, credentials) {
	ev?.preventDefault();
	const body = credentials || { agentId: $('agent-id').value.trim(), password: $('agent-password').value };
	ensureAudioContext();
	try {
		state.phase = 'signing-in';
		render();
		const r = await api('/api/agents/signin', body, { auth: false });
		$('agent-password').value = '';
		const claims = claimsOf(r.token);
		state.agentId = r.agentId;
		state.desk = r.desk;
		state.token = r.token;
		state.role = claims.role === 'supervisor' ? 'supervisor' : 'agent';
		state.name = claims.name || r.agentId;
		await openDesk();
		state.phase = 'signed-in';
		pollTimer = setInterval(refresh, 1500);
		await refresh();
	} catch (e) {
		state.phase = 'signed-out';
		state.token = null;
		await leaveDesk();
		showError(`Sign-in failed: ${e.message}`);
	}
	render();
}

// Janus: my desk, joined with my console token (the audio connection is
// made once here; the server moves me between rooms).
async function openDesk() {
	await initJanus(params.has('debug'));
	const mine = await connect(janusUrl, (cause) => {
		// A session we closed (back to the desk) may still report its end
		// after the new one is up: only the one in use signs us out.
		if (session !== mine) return;
		showError(`Lost Janus: ${cause}`);
		signOut();
	});
	session = mine;
	await audio.attach(session);
	await audio.join({ room: state.desk, token: state.token });
	for (const msg of early.splice(0)) onTransfer(msg);
	await audio.startAudio();
}

async function leaveDesk() {
	early.length = 0;
	await audio.leave().catch(() => {});
	audio.close();
	const old = session;
	session = null;
	await destroySession(old);
}

// A cluster: to the node at `url` (see the top of this file).
async function moveTo(url) {
	await leaveDesk();
	janusUrl = url;
	await openDesk();
	render();
}

// An op about a room; when the room is on another node, the console moves
// there and asks again.
async function opFollowing(body) {
	try {
		return await op(body);
	} catch (e) {
		const there = e.data?.location?.janus_url;
		if (e.code !== 494 || !there || there === janusUrl) throw e;
		await moveTo(there);
		return op(body);
	}
}

async function signOut() {
	clearInterval(pollTimer);
	pollTimer = null;
	await leaveDesk();
	janusUrl = JANUS_URL;
	state.token = null;
	state.phase = 'signed-out';
	render();
}

async function refresh() {
	if (state.phase !== 'signed-in') return;
	try {
		// REST: in a cluster these are every node's (each item says its node).
		state.queue = (await api('/api/queue', undefined, { method: 'GET' })).queue || [];
		state.agents = (await api('/api/agents', undefined, { method: 'GET' })).agents || [];
		if (state.role === 'supervisor') state.rooms = (await op({ request: 'list' })).list || [];
	} catch (e) {
		showError(e.message);
	}
	render();
}

// Supervisors: listen to a call (muted, unheard) or go back to the desk.
async function listenIn(room) {
	state.notice = null;
	try {
		await opFollowing({ request: 'listen_in', room });
	} catch (e) {
		showError(`Could not listen in: ${e.message}`);
	}
	render();
}

async function take(room) {
	try {
		const r = await opFollowing({ request: 'queue_take', room });
		state.summary = r.summary || null;
		state.transcript = [];
	} catch (e) {
		showError(`Could not take the call: ${e.message}`);
	}
	refresh();
}

async function startTransfer() {
	const number = $('target-number').value.trim();
	const agentId = $('target-agent').value;
	const to = number ? { number } : { agentId };
	try {
		const r = await op({ request: 'transfer', action: 'start', room: audio.room, to, reason: $('transfer-reason').value || undefined });
		// The console socket may have told this transfer's later states
		// first (a number that answers at once): the newest one stays.
		const told = [state.transfer, state.lastTransfer].some((t) => t?.transfer_id === r.transfer_id);
		if (!told) state.transfer = r;
		if (r.summary) state.summary = r.summary;
	} catch (e) {
		showError(`Transfer refused: ${e.message}`);
	}
	render();
}

async function act(action, t) {
	try {
		await op({ request: 'transfer', action, transfer_id: t.transfer_id });
	} catch (e) {
		showError(`${action} failed: ${e.message}`);
	}
	render();
}

async function summarise() {
	try {
		// REST: the summary is written by the configured language model
		// (extractive without one), answered when it is ready.
		state.summary = (await api('/api/generate-summary', { room: audio.room })).summary;
	} catch (e) {
		showError(e.message);
	}
	render();
}

async function ask(ev) {
	ev.preventDefault();
	const message = $('assist-input').value.trim();
	if (!message) return;
	$('assist-input').value = '';
	state.assist.push({ who: 'me', text: message });
	render();
	try {
		const r = await api('/api/chat', { room: atDesk() ? undefined : audio.room, message });
		state.assist.push({ who: 'AI', text: r.reply });
	} catch (e) {
		state.assist.push({ who: 'AI', text: `(error: ${e.message})` });
	}
	render();
}

function summaryText(s) {
	if (!s) return '';
	const caller = s.caller && (s.caller.name || s.caller.order)
		? `Caller: ${[s.caller.name, s.caller.order && `order ${s.caller.order}`].filter(Boolean).join(', ')}\n` : '';
	return `${caller}Issue: ${s.issue || '—'}\nMood: ${s.mood || '—'}\n` +
		`Tried: ${(s.tried || []).join(' / ') || '—'}\nNext: ${s.next_step || '—'}`;
}

function li(text, button) {
	const el = document.createElement('li');
	const span = document.createElement('span');
	span.textContent = text;
	el.append(span);
	if (button) el.append(button);
	return el;
}

function render() {
	document.body.dataset.phase = state.phase;
	const signedIn = state.phase === 'signed-in';
	$('signin').hidden = signedIn;
	$('console').hidden = !signedIn;
	$('status').textContent = signedIn ? `${state.presence}` : state.phase === 'signing-in' ? 'Signing in…' : 'Signed out';
	$('me').hidden = !signedIn;
	$('me').textContent = state.agentId ? `${state.name || state.agentId} (${state.role})` : '';
	$('where').textContent = audio.room ? (atDesk() ? 'at my desk' : inConsult() ? 'private consult' : audio.room) : '—';

	$('queue').replaceChildren(...state.queue.filter((q) => q.room).map((q) => { // chats: console-chat.js
		const b = document.createElement('button');
		b.textContent = 'Take';
		b.dataset.room = q.room;
		b.className = 'take';
		b.disabled = !atDesk();
		b.onclick = () => take(q.room);
		const issue = q.details?.summary?.issue;
		return li(`${q.room} (${q.reason}${issue ? `: ${issue}` : ''})`, b);
	}));
	$('queue-empty').hidden = state.queue.some((q) => q.room);

	const supervisor = state.role === 'supervisor';
	$('live-calls').hidden = !supervisor;
	$('rooms').replaceChildren(...state.rooms.map((r) => {
		const b = document.createElement('button');
		b.textContent = r.room === audio.room ? 'Listening' : 'Listen';
		b.dataset.room = r.room;
		b.disabled = r.room === audio.room;
		b.onclick = () => listenIn(r.room);
		return li(`${r.room} (${r.num_participants})`, b);
	}));
	$('back-to-desk').disabled = atDesk();
	$('notice').hidden = !state.notice;
	$('notice').textContent = state.notice || '';
	$('transfer-panel').dataset.supervisor = supervisor;
	$('incoming').hidden = !state.incoming;
	if (state.incoming) {
		$('incoming-from').textContent = `From ${state.incoming.from} — ${state.incoming.reason || 'no reason given'}`;
		$('incoming-summary').textContent = summaryText(state.incoming.summary);
	}

	const onCall = !!audio.room && !atDesk();
	$('call').hidden = !onCall;
	$('call-room').textContent = inConsult() ? '(private consult)' : audio.room || '';
	$('participants').replaceChildren(...[...audio.participants.values()].map((p) =>
		li(`${p.display || p.id}${p.me ? ' (me)' : ''}${p.on_hold ? ' — on hold' : ''}${p.role ? ` [${p.role}]` : ''}`)));
	$('transcript').replaceChildren(...state.transcript.map((l) => li(`${l.speaker}: ${l.text}`)));
	$('summary').textContent = state.summary ? summaryText(state.summary) : 'No summary yet.';

	const t = state.transfer;
	$('transfer-panel').hidden = !onCall || supervisor;
	$('transfer-start').hidden = !!t;
	$('transfer-live').hidden = !t;
	if (t) {
		$('transfer-state').textContent = t.state;
		$('transfer-id').textContent = t.transfer_id;
		const startedByMe = t.from_participant === audio.myId;
		$('complete').hidden = !startedByMe;
		$('three-way').hidden = !startedByMe || t.state !== 'consulting';
		$('cancel').hidden = !startedByMe;
		$('complete').disabled = !['consulting', 'three_way'].includes(t.state);
	}
	const others = state.agents.filter((a) => a.agentId !== state.agentId);
	const select = $('target-agent');
	const chosen = select.value;
	select.replaceChildren(...others.map((a) => {
		const o = document.createElement('option');
		o.value = a.agentId;
		o.textContent = `${a.name} (${a.status})`;
		o.disabled = a.status !== 'available';
		return o;
	}));
	if (others.some((a) => a.agentId === chosen)) select.value = chosen;
	$('assist-log').replaceChildren(...state.assist.map((l) => li(`${l.who}: ${l.text}`)));
	document.dispatchEvent(new Event('console-render'));
}

$('signin').addEventListener('submit', signIn);
$('signout').onclick = signOut;
$('presence').onchange = async () => {
	try {
		await op({ request: 'agent_status', status: $('presence').value });
		state.presence = $('presence').value;
	} catch (e) {
		showError(e.message);
	}
	render();
};
$('transfer').onclick = startTransfer;
$('complete').onclick = () => state.transfer && act('complete', state.transfer);
$('three-way').onclick = () => state.transfer && act('three_way', state.transfer);
$('cancel').onclick = () => state.transfer && act('cancel', state.transfer);
$('accept').onclick = () => state.incoming && act('accept', state.incoming);
$('decline').onclick = () => state.incoming && act('decline', state.incoming);
$('summarise').onclick = summarise;
$('back-to-desk').onclick = () => listenIn(state.desk);
$('assist-form').addEventListener('submit', ask);

if (params.get('agent')) $('agent-id').value = params.get('agent');

// What the end-to-end tests read (tests/e2e/transfer-web.test.mjs).
window.consoleTest = {
	spectrum,
	magnitudeAt,
	state: () => ({
		phase: state.phase, room: audio.room, id: audio.myId, desk: state.desk, role: state.role, rooms: state.rooms, janus: janusUrl,
		transfer: state.transfer, incoming: state.incoming, lastTransfer: state.lastTransfer || null,
		summary: state.summary, queue: state.queue, agents: state.agents, transcript: state.transcript,
		assist: state.assist, errors: state.errors, notice: state.notice,
		participants: [...audio.participants.values()].map((p) => ({ ...p })),
	}),
};
export { op, state }; // for html/js/console-chat.js
render();
// Single sign-on: the operator's site sends the agent here with a token in
// the fragment (never sent to a server, not kept in the history).
const sso = new URLSearchParams(location.hash.slice(1)).get('sso');
if (sso) {
	history.replaceState(null, '', location.pathname + location.search);
	signIn(null, { token: sso });
}
