// The call page: audio through janus.plugin.switchboard, camera through the
// stock VideoRoom, chat and the agent toggle through Switchboard requests.
// Query parameters:
//   ?janus=URL     Janus server (default http://<this host>:8088/janus)
//   ?api=URL       Switchboard REST server (default: where this page came from)
//   ?room= &display=  prefill the form
//   ?token=JWT     an invitation from POST /room/join: room and name from it
//   ?camera=off    join with the camera off; ?video=off: no VideoRoom at all
//   ?plugin=NAME   development only: another audio plugin with the same conventions
//   ?debug         janus.js logs everything to the console
/* global Janus */
import { initJanus, connect, destroySession } from './janus-connection.js';
import { ensureAudioContext } from './audio-analyser.js';
import { AudioRoom } from './audio-room.js';
import { VideoRoom, switchboardIdOf } from './video-room.js';
import { ChatPanel } from './chat.js';
import { renderTiles } from './tiles.js';
import {
	dom, setStatus, showError, hideError, showNotice, hideNotice, renderParticipants, renderFrame, lockToInvitation, markInvitationRefused,
} from './ui.js';
import { installTestHooks } from './test-hooks.js';
import { tokenClaims, describeJoinError } from './messages.js';

const params = new URLSearchParams(location.search);
const PLUGIN = params.get('plugin') || 'janus.plugin.switchboard';
const JANUS_URL = params.get('janus') || `http://${location.hostname || '127.0.0.1'}:8088/janus`;
const API_URL = params.get('api') || (location.protocol.startsWith('http') ? location.origin : null);
const TOKEN = params.get('token');
const API_SECRET = params.get('apisecret');
const VIDEO_ENABLED = params.get('video') !== 'off';
const ROOM_RE = /^[A-Za-z0-9._-]{1,64}$/;
const claims = TOKEN ? tokenClaims(TOKEN) || {} : null;

const app = {
	phase: 'idle', // idle | connecting | joining | joined | leaving
	session: null,
	camera: VIDEO_ENABLED && params.get('camera') !== 'off', // wanted
	cameraBusy: false,
	agentBusy: false,
};
let video = null; // a VideoRoom per call

const audio = new AudioRoom({
	plugin: PLUGIN,
	audioElement: dom.audio,
	hooks: {
		onChange: () => render(),
		onChat: (line) => chat.add(line, audio.myId),
		onEnded: (reason) => {
			if (reason) showError(reason);
			teardown();
		},
		onError: (text) => fail(text),
		onMedia: (up, reason) => {
			if (up) setStatus('In call', 'connected');
			else if (app.phase === 'joined') setStatus(`Audio stopped${reason ? ` (${reason})` : ''}`, 'error');
		},
		onBlocked: () => {
			showNotice('Your browser blocked audio playback: click anywhere on the page to hear the call.');
			document.addEventListener('click', () => {
				dom.audio.play().then(hideNotice, () => {});
				ensureAudioContext();
			}, { once: true });
		},
	},
});
const chat = new ChatPanel(dom.chat, (text) => audio.chat(text));

// An error: during a call the status stays as it is.
function fail(text, missingRoom = null) {
	showError(text, missingRoom);
	if (app.phase !== 'joined') setStatus('Error', 'error');
}

// The REST server is not needed for the call itself, but invitations, the
// agent and notifications live there: say so when it does not answer.
async function checkRestServer() {
	if (!API_URL) return;
	try {
		const r = await fetch(`${API_URL}/health`, { cache: 'no-store', signal: AbortSignal.timeout(4000) });
		if (!r.ok) throw new Error(`HTTP ${r.status}`);
	} catch (e) {
		const why = e.name === 'TimeoutError' ? 'no answer in 4 s' : e.message;
		showNotice(`The Switchboard server at ${API_URL} is unreachable (${why}). ` +
			'Calls can still work through Janus, but invitations, the agent and notifications may not.');
	}
}

async function join({ createIfMissing }) {
	const room = (claims?.room || dom.room.value).trim();
	const display = dom.display.value.trim();
	if (!ROOM_RE.test(room)) return fail('Room names are 1–64 letters, digits, dots, underscores or dashes.');
	if (!display && !claims?.name) return fail('Please enter your name.');
	hideError();
	app.phase = 'connecting';
	setStatus('Connecting…', 'busy');
	render();
	ensureAudioContext(); // now, inside the click: browsers allow audio to start here
	checkRestServer();
	try {
		await initJanus(params.has('debug'));
		if (!Janus.isWebrtcSupported()) throw new Error('This browser does not support WebRTC.');
		const mine = await connect(JANUS_URL, (cause) => {
			if (app.session !== mine) return; // one we closed already
			fail(`Lost the connection to Janus: ${cause}`);
			teardown();
		}, API_SECRET);
		app.session = mine;
		await audio.attach(app.session);
		app.phase = 'joining';
		setStatus('Joining…', 'busy');
		const joined = await audio.join({
			room,
			display: claims?.name ? null : display, // an invitation's name wins
			token: TOKEN,
			muted: audio.muted,
			createIfMissing: createIfMissing && !TOKEN,
		});
		setStatus('Joined, connecting audio…', 'busy');
		await audio.startAudio();
		app.phase = 'joined';
		render();
		audio.fetchAgentState().catch(() => {}).finally(() => {
			audio.agent ??= false;
			render();
		});
		startVideo(joined.video);
	} catch (e) {
		if (e.code === 488 && TOKEN) markInvitationRefused();
		fail(describeJoinError(e, room, !!TOKEN), e.code === 486 && !TOKEN ? room : null);
		await teardown();
	}
}

// The room's VideoRoom and its pin come in the join answer (Switchboard
// makes the VideoRoom; the page never does).
async function startVideo(info) {
	if (!VIDEO_ENABLED) return;
	const v = new VideoRoom({ onChange: () => render(), onWarning: (text) => showNotice(text) });
	video = v;
	try {
		await v.start(app.session, {
			room: info?.room, pin: info?.pin, display: audio.display, switchboardId: audio.myId, camera: app.camera,
		});
		// The camera button may have been pressed while the video started.
		if (video === v && !v.closed && app.camera !== v.cameraOn) await v.setCamera(app.camera);
	} catch (e) {
		if (video !== v || v.closed) return;
		app.camera = v.cameraOn;
		showNotice(/camera/i.test(e.message) ? e.message
			: `Video is unavailable (${e.message}). You are in the call with audio only.`);
	}
	render();
}

async function leave() {
	if (!audio.joined || app.phase === 'leaving') return;
	app.phase = 'leaving';
	setStatus('Leaving…', 'busy');
	await Promise.allSettled([audio.leave(), video?.stop()]);
	await teardown();
	setStatus('Left the room', 'idle');
}

async function teardown() {
	const session = app.session;
	const v = video;
	app.session = null;
	video = null;
	audio.close();
	app.phase = 'idle';
	app.cameraBusy = app.agentBusy = false;
	chat.clear();
	render();
	await v?.stop().catch(() => {});
	await destroySession(session);
}

// ---------- rendering ----------

// The feed showing this participant's camera: by our "sb-<id>" feed ids, or
// by display name for feeds from other clients.
function streamFor(p, feeds) {
	if (p.me) return video?.localStream || null;
	const byId = feeds.find((f) => switchboardIdOf(f.id) === p.id);
	const byName = byId || feeds.find((f) => switchboardIdOf(f.id) === null && f.display === p.display);
	return byName?.stream || null;
}

function tileModels(people) {
	const feeds = video ? [...video.feeds.values()] : [];
	const models = people.map((p) => ({
		key: `p${p.id}`, name: p.display || `#${p.id}`, me: p.me, talking: p.talking, muted: p.muted,
		stream: streamFor(p, feeds), note: p.kind === 'agent' ? 'AI agent' : (p.kind && p.kind !== 'web' ? 'phone' : ''),
	}));
	// Video from someone who is not (yet) in the audio room.
	const names = new Set(people.map((p) => p.display));
	for (const f of feeds) {
		if (switchboardIdOf(f.id) !== null || names.has(f.display)) continue;
		models.push({ key: `f${f.id}`, name: f.display || 'Guest', stream: f.stream, note: 'video only' });
	}
	return models;
}

function render() {
	const inCall = audio.joined;
	const busy = app.phase === 'connecting' || (app.phase === 'joining' && !inCall);
	renderFrame({
		inCall, busy, room: audio.room, muted: audio.muted,
		cameraOn: app.camera, cameraBusy: app.cameraBusy || !VIDEO_ENABLED,
		agent: audio.agent, agentBusy: app.agentBusy,
	});
	const people = [...audio.participants.values()];
	renderParticipants(people);
	renderTiles(dom.tiles, inCall ? tileModels(people) : []);
	chat.setEnabled(inCall);
}

// ---------- wiring ----------

dom.room.value = params.get('room') || '';
dom.display.value = params.get('display') || '';
if (claims) lockToInvitation(claims);
dom.form.addEventListener('submit', (ev) => {
	ev.preventDefault();
	join({ createIfMissing: dom.createMissing.checked });
});
dom.errorCreate.addEventListener('click', () => join({ createIfMissing: true }));
dom.noticeClose.addEventListener('click', () => hideNotice());
dom.leave.addEventListener('click', () => leave());

dom.mute.addEventListener('click', async () => {
	const want = !audio.muted;
	// Before the audio is up the choice rides on the join / first configure.
	if (app.phase !== 'joined') {
		audio.muted = want;
		const me = audio.participants.get(audio.myId);
		if (me) me.muted = want;
		return render();
	}
	try {
		await audio.setMuted(want);
	} catch (e) {
		await audio.setMuted(!want).catch(() => {});
		fail(`Could not change mute: ${e.message}`);
	}
});

dom.camera.addEventListener('click', async () => {
	const want = !app.camera;
	app.camera = want;
	if (!video || video.closed || !video.publisher || video.myFeed === null) return render(); // applies when video starts
	app.cameraBusy = true;
	render();
	try {
		await video.setCamera(want);
	} catch (e) {
		showNotice(e.message);
	} finally {
		app.camera = video ? video.cameraOn : want;
		app.cameraBusy = false;
		render();
	}
});

dom.agent.addEventListener('click', async () => {
	const want = !audio.agent;
	app.agentBusy = true;
	render();
	try {
		await audio.setAgent(want);
	} catch (e) {
		const why = e.code === 488 ? 'only whoever created this room (its admin) can do that' : e.message;
		showNotice(`Could not turn the agent ${want ? 'on' : 'off'}: ${why}`);
	} finally {
		app.agentBusy = false;
		render();
	}
});

render();
checkRestServer();
installTestHooks({ plugin: PLUGIN, janusUrl: JANUS_URL, apiUrl: API_URL, app, audio, video: () => video, chat });
