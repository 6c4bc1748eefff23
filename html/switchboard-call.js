// Switchboard join page: audio through janus.plugin.switchboard with janus.js.
// Flow: join (async) → audio-only offer → configure with the JSEP → answer.
// API contract: docs/janus-api.md. Query parameters:
//   ?janus=URL     Janus server (default http://<this host>:8088/janus)
//   ?room= &display=  prefill the form
//   ?plugin=NAME   development only: another audio plugin with the same
//                  conventions (e.g. janus.plugin.audiobridge as a stand-in)
//   ?debug         janus.js logs everything to the console
/* global Janus */

const params = new URLSearchParams(location.search);
const PLUGIN = params.get('plugin') || 'janus.plugin.switchboard';
const KEY = PLUGIN.split('.').pop(); // answers carry {"switchboard": …}
const JANUS_URL = params.get('janus') || `http://${location.hostname || '127.0.0.1'}:8088/janus`;
const ROOM_RE = /^[A-Za-z0-9._-]{1,64}$/;
const ANSWER_TIMEOUT_MS = 10000;

const $ = (id) => document.getElementById(id);
const ui = {
	form: $('join-form'), room: $('room'), display: $('display'), createMissing: $('create-missing'),
	join: $('join'), status: $('status'), error: $('error'), errorText: $('error-text'),
	errorCreate: $('error-create'), call: $('call'), roomName: $('room-name'), count: $('count'),
	list: $('participants'), mute: $('mute'), leave: $('leave'), audio: $('remote-audio'),
};

const state = {
	phase: 'idle', // idle | connecting | joining | joined | leaving
	room: null,
	myId: null,
	display: null,
	muted: false,
	participants: new Map(), // id → {id, display, muted, talking, me?}
};
let janus = null;
let handle = null;
let waiters = []; // pending answers to async requests, see sendAsync()
let audioCtx = null;
let analyser = null;
let remoteSource = null;

// ---------- janus.js plumbing ----------

// janus.js wants webrtc-adapter only for browserDetails; Debian ships the
// library without it, so give it the little it needs instead of a dependency.
function adapterShim() {
	if (window.adapter) return window.adapter;
	const ua = navigator.userAgent;
	const pick = (re) => Number((ua.match(re) || [])[1]) || null;
	if (/Firefox\//.test(ua)) return { browserDetails: { browser: 'firefox', version: pick(/Firefox\/(\d+)/) } };
	if (/Chrom(e|ium)\//.test(ua)) return { browserDetails: { browser: 'chrome', version: pick(/Chrom(?:e|ium)\/(\d+)/) } };
	if (/Safari\//.test(ua)) return { browserDetails: { browser: 'safari', version: pick(/AppleWebKit\/(\d+)/) } };
	return { browserDetails: { browser: 'unknown', version: null } };
}

let janusReady = null;
function initJanus() {
	janusReady ??= new Promise((resolve) => Janus.init({
		debug: params.has('debug') ? 'all' : ['warn', 'error'],
		dependencies: Janus.useDefaultDependencies({ adapter: adapterShim() }),
		callback: resolve,
	}));
	return janusReady;
}

function connect() {
	return new Promise((resolve, reject) => {
		let up = false;
		const session = new Janus({
			server: JANUS_URL,
			// Janus gathers its own candidates and the browser's host ones
			// reach it directly: no STUN needed (and none phoned home).
			iceServers: [],
			success: () => { up = true; resolve(session); },
			error: (cause) => {
				if (!up) return reject(new Error(`Cannot reach Janus at ${JANUS_URL}: is the server running? (${cause})`));
				// Later errors mean the session died under us (server gone).
				showError(`Lost the connection to Janus: ${cause}`);
				teardown();
			},
		});
	});
}

function attach(session) {
	return new Promise((resolve, reject) => session.attach({
		plugin: PLUGIN,
		opaqueId: `switchboard-page-${Janus.randomString(8)}`,
		success: resolve,
		error: (cause) => reject(new Error(`Janus has no usable ${PLUGIN}: ${cause}`)),
		onmessage: onMessage,
		onremotetrack: onRemoteTrack,
		iceState: (ice) => {
			if (ice === 'failed') showError('The audio connection failed (ICE). Check the network path to Janus.');
		},
		webrtcState: (on, reason) => {
			if (on) setStatus('In call', 'connected');
			else if (state.phase === 'joined') setStatus(`Audio stopped${reason ? ` (${reason})` : ''}`, 'error');
		},
	}));
}

// A request the plugin answers at once: resolves with its JSON (or null on ack).
function send(message, jsep) {
	return new Promise((resolve, reject) => handle.send({
		message, jsep,
		success: (data) => resolve(data ?? null),
		error: (cause) => reject(new Error(`${message.request}: ${cause}`)),
	}));
}

// An asynchronous request (join/configure/leave): an ack, then an event. The
// page has one such request in flight at a time, so the next event that
// `isAnswer` accepts, or any error event, is its answer.
async function sendAsync(message, isAnswer, jsep) {
	let waiter;
	let settle;
	const answer = new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			waiters = waiters.filter((w) => w !== waiter);
			reject(new Error(`No answer from the server to "${message.request}" within ${ANSWER_TIMEOUT_MS / 1000} s.`));
		}, ANSWER_TIMEOUT_MS);
		settle = (data) => { clearTimeout(timer); waiters = waiters.filter((w) => w !== waiter); resolve(data); };
		waiter = (data) => {
			if (!data.error_code && !isAnswer(data)) return false;
			settle(data);
			return true;
		};
		waiters.push(waiter);
	});
	try {
		// A plugin may also answer at once (e.g. a validation error): take it.
		const direct = await send(message, jsep);
		if (direct) settle(direct);
	} catch (e) {
		settle(null);
		throw e;
	}
	return answer;
}

const FRIENDLY = {
	486: (room) => `Room "${room}" does not exist.`,
	487: (room) => `Room "${room}" already exists.`,
	488: () => 'Not allowed: wrong PIN, secret or token.',
	492: () => 'The server could not use this browser\'s audio offer.',
	493: () => 'The room or server is full.',
};
function apiError(what, data) {
	const friendly = FRIENDLY[data.error_code]?.(state.room ?? ui.room.value);
	const err = new Error(`${what}: ${friendly ?? data.error} (error ${data.error_code})`);
	err.code = data.error_code;
	return err;
}

// ---------- joining and leaving ----------

async function join({ createIfMissing }) {
	const room = ui.room.value.trim();
	const display = ui.display.value.trim();
	if (!ROOM_RE.test(room)) return showError('Room names are 1–64 letters, digits, dots, underscores or dashes.');
	if (!display) return showError('Please enter your name.');
	hideError();
	Object.assign(state, { phase: 'connecting', room, display });
	setStatus('Connecting…', 'busy');
	render();
	ensureAudioContext(); // now, inside the click: browsers allow audio to start here
	try {
		await initJanus();
		if (!Janus.isWebrtcSupported()) throw new Error('This browser does not support WebRTC.');
		janus = await connect();
		handle = await attach(janus);
		state.phase = 'joining';
		setStatus('Joining…', 'busy');
		const request = () => sendAsync({ request: 'join', room, display, muted: state.muted },
			(d) => d[KEY] === 'joined');
		let joined = await request();
		if (joined.error_code === 486 && createIfMissing) {
			const created = await send({ request: 'create', room });
			// 487: someone else created it meanwhile, which is just as good.
			if (created?.error_code && created.error_code !== 487) throw apiError('create', created);
			joined = await request();
		}
		if (joined.error_code) throw apiError('join', joined);
		onJoined(joined);
		const offer = await createOffer();
		const sentMuted = state.muted;
		const configured = await sendAsync({ request: 'configure', muted: sentMuted }, isConfigured, offer);
		if (configured.error_code) throw apiError('configure', configured);
		state.phase = 'joined';
		render();
		// The mute toggle may have been pressed while the offer was in flight.
		if (state.muted !== sentMuted) await applyMute(state.muted);
	} catch (e) {
		showError(e.message, e.code === 486 ? room : null);
		await teardown();
	}
}

const isConfigured = (d) => d[KEY] === 'event' && 'result' in d;

function createOffer() {
	return new Promise((resolve, reject) => handle.createOffer({
		tracks: [{ type: 'audio', capture: true, recv: true }],
		success: resolve,
		error: (e) => {
			const name = e?.name || '';
			if (name === 'NotAllowedError') reject(new Error('Microphone access was denied. Allow it and join again.'));
			else if (name === 'NotFoundError') reject(new Error('No microphone was found.'));
			else reject(new Error(`Could not start audio: ${e?.message || e}`));
		},
	}));
}

function onJoined(data) {
	// Still 'joining' until the audio offer is answered, but the room shows.
	Object.assign(state, { room: data.room, myId: data.id, display: data.display ?? state.display });
	state.participants.clear();
	state.participants.set(data.id, { id: data.id, display: state.display, muted: state.muted, talking: false, me: true });
	for (const p of data.participants || []) upsertParticipant(p);
	setStatus('Joined, connecting audio…', 'busy');
	render();
}

async function leave() {
	if (!handle || state.phase === 'leaving') return;
	state.phase = 'leaving';
	setStatus('Leaving…', 'busy');
	try {
		await sendAsync({ request: 'leave' }, (d) => d[KEY] === 'left');
	} catch {
		// Leaving anyway: destroying the session below also removes us.
	}
	await teardown();
	setStatus('Left the room', 'idle');
}

async function teardown() {
	const session = janus;
	janus = null;
	handle?.hangup();
	handle = null;
	waiters = [];
	remoteSource?.disconnect();
	remoteSource = null;
	ui.audio.srcObject = null;
	Object.assign(state, { phase: 'idle', myId: null });
	state.participants.clear();
	render();
	if (session) {
		await new Promise((resolve) => {
			session.destroy({ success: resolve, error: resolve });
			setTimeout(resolve, 3000); // never hang on a dead server
		});
	}
}

async function applyMute(muted) {
	const r = await sendAsync({ request: 'configure', muted }, isConfigured);
	if (r.error_code) throw apiError('configure', r);
	const me = state.participants.get(state.myId);
	if (me) me.muted = muted;
}

// ---------- events from the plugin ----------

function onMessage(msg, jsep) {
	if (jsep) handle?.handleRemoteJsep({ jsep, error: (e) => showError(`Could not use the server's answer: ${e}`) });
	const kind = msg[KEY];
	const consumed = waiters.some((w) => w(msg)); // a waiter removes itself
	if (msg.error_code) {
		if (!consumed) showError(apiError('server', msg).message);
		return;
	}
	if (kind === 'event' || (kind === 'joined' && !consumed)) {
		for (const p of msg.participants || []) upsertParticipant(p);
		const gone = msg.leaving ?? msg.kicked;
		if (gone !== undefined) {
			if (gone === state.myId) return kickedOut();
			state.participants.delete(gone);
		}
		if ('talking' in msg && msg.id !== undefined) setTalking(msg.id, msg.talking);
	} else if (kind === 'talking' || kind === 'stopped-talking') {
		setTalking(msg.id, kind === 'talking'); // AudioBridge stand-in style
	} else if (kind === 'kicked') {
		return kickedOut();
	} else if (kind === 'destroyed') {
		showError(`Room "${msg.room}" was closed.`);
		return teardown();
	} else if (kind === 'left' && !consumed && state.phase === 'joined') {
		return teardown();
	}
	render();
}

function kickedOut() {
	showError('You were removed from the room.');
	teardown();
}

function upsertParticipant(p) {
	if (p.id === undefined) return;
	const old = state.participants.get(p.id) || { talking: false };
	const me = p.id === state.myId;
	state.participants.set(p.id, { ...old, ...p, me });
	// A moderator's mute/unmute of me arrives this way: the toggle follows it.
	if (me && typeof p.muted === 'boolean') state.muted = p.muted;
}

function setTalking(id, talking) {
	const p = state.participants.get(id);
	if (p) p.talking = !!talking;
	render();
}

// ---------- remote audio and the analyser the tests read ----------

function onRemoteTrack(track, mid, on) {
	if (track.kind !== 'audio' || !on) return;
	const stream = new MediaStream([track]);
	ui.audio.srcObject = stream;
	ui.audio.play().catch(() => showError('Your browser blocked audio playback: click anywhere on the page.'));
	// Chrome only feeds a remote stream to WebAudio while a media element
	// plays it too, hence both the <audio> element and the analyser.
	ensureAudioContext();
	remoteSource?.disconnect();
	remoteSource = audioCtx.createMediaStreamSource(stream);
	remoteSource.connect(analyser);
}

function ensureAudioContext() {
	if (!audioCtx) {
		audioCtx = new AudioContext();
		analyser = audioCtx.createAnalyser();
		analyser.fftSize = 8192;
		analyser.smoothingTimeConstant = 0.3;
	}
	if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
}

const FLOOR_DB = -200; // stands in for -Infinity (silence) so results stay JSON
function frequencyData() {
	const bins = new Float32Array(analyser.frequencyBinCount);
	analyser.getFloatFrequencyData(bins);
	return { bins, binHz: audioCtx.sampleRate / analyser.fftSize };
}

// Dominant frequency above ~100 Hz (below is hum and DC) and RMS level.
function spectrum() {
	if (!analyser || !remoteSource) return { freq: 0, peak_db: FLOOR_DB, level_db: FLOOR_DB };
	const { bins, binHz } = frequencyData();
	let best = Math.ceil(100 / binHz);
	for (let i = best + 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
	const samples = new Float32Array(analyser.fftSize);
	analyser.getFloatTimeDomainData(samples);
	const rms = Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
	return {
		freq: best * binHz,
		peak_db: Math.max(FLOOR_DB, bins[best]),
		level_db: rms > 0 ? Math.max(FLOOR_DB, 20 * Math.log10(rms)) : FLOOR_DB,
	};
}

// Magnitude (dB) at a frequency: the highest of the nearest bins, because a
// tone's energy spreads over a couple of bins.
function magnitudeAt(freq) {
	if (!analyser || !remoteSource) return FLOOR_DB;
	const { bins, binHz } = frequencyData();
	const center = Math.round(freq / binHz);
	let best = FLOOR_DB;
	for (let i = Math.max(0, center - 2); i <= Math.min(bins.length - 1, center + 2); i++) best = Math.max(best, bins[i]);
	return best;
}

// ---------- rendering ----------

function setStatus(text, kind) {
	ui.status.textContent = text;
	ui.status.dataset.state = kind;
}

function showError(text, missingRoom = null) {
	ui.errorText.textContent = text;
	ui.errorCreate.hidden = !missingRoom;
	ui.error.hidden = false;
	if (state.phase !== 'joined') setStatus('Error', 'error');
}

function hideError() {
	ui.error.hidden = true;
}

function render() {
	const inCall = state.myId !== null;
	const busy = state.phase === 'connecting' || (state.phase === 'joining' && !inCall);
	ui.form.hidden = inCall;
	ui.join.disabled = busy;
	ui.join.textContent = busy ? 'Joining…' : 'Join';
	ui.call.hidden = !inCall;
	ui.leave.hidden = !inCall;
	ui.mute.textContent = state.muted ? (inCall ? 'Unmute' : 'Muted: you will join muted') : 'Mute';
	ui.mute.setAttribute('aria-pressed', String(state.muted));
	ui.roomName.textContent = state.room ?? '';
	ui.count.textContent = String(state.participants.size);
	ui.list.replaceChildren(...[...state.participants.values()].map((p) => {
		const li = el('li', p.talking ? 'talking' : '');
		li.dataset.id = String(p.id);
		li.append(el('span', 'talk-dot'), el('span', 'name', p.display || `#${p.id}`));
		if (p.me) li.append(el('span', 'me', '(you)'));
		if (p.muted) li.append(el('span', 'badge', 'muted'));
		return li;
	}));
}

// textContent only: display names come from other people.
function el(tag, className, text = '') {
	return Object.assign(document.createElement(tag), { className, textContent: text });
}

// ---------- wiring ----------

ui.room.value = params.get('room') || '';
ui.display.value = params.get('display') || '';
ui.form.addEventListener('submit', (ev) => {
	ev.preventDefault();
	join({ createIfMissing: ui.createMissing.checked });
});
ui.errorCreate.addEventListener('click', () => join({ createIfMissing: true }));
ui.leave.addEventListener('click', () => leave());
ui.mute.addEventListener('click', async () => {
	state.muted = !state.muted;
	const me = state.participants.get(state.myId);
	if (me) me.muted = state.muted;
	render();
	// Before joining the choice rides on the join; while the offer is in
	// flight join() re-applies it once the first configure is answered.
	if (state.phase !== 'joined') return;
	try {
		await applyMute(state.muted);
	} catch (e) {
		state.muted = !state.muted;
		render();
		showError(`Could not change mute: ${e.message}`);
	}
});
render();

// For the end-to-end tests (tests/e2e/browser-audio.test.mjs).
window.switchboardTest = {
	plugin: PLUGIN,
	janusUrl: JANUS_URL,
	spectrum,
	magnitudeAt,
	state: () => ({
		phase: state.phase,
		room: state.room,
		id: state.myId,
		display: state.display,
		muted: state.muted,
		participants: [...state.participants.values()].map((p) => ({ ...p })),
	}),
};
