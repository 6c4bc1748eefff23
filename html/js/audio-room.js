// The Switchboard side of a call: one janus.plugin.switchboard handle that
// joins the room, sends the microphone, plays the room's mix, and carries
// participants, talking, chat and the agent toggle. Contract: docs/janus-api.md.
import { PluginClient, ApiError, describeMediaError } from './janus-connection.js';
import { playRemoteAudio, stopRemoteAudio, ensureAudioContext } from './audio-analyser.js';

const isJoined = (d) => d.switchboard === 'joined';
const isConfigured = (d) => d.switchboard === 'event' && 'result' in d;
const isLeft = (d) => d.switchboard === 'left';

export class AudioRoom {
	// hooks: onChange(), onChat(line), onEnded(reason|null), onError(text),
	// onMedia(up, reason), onBlocked()
	constructor({ plugin = 'janus.plugin.switchboard', audioElement, hooks }) {
		this.plugin = plugin;
		this.key = plugin.split('.').pop();
		this.audioElement = audioElement;
		this.hooks = hooks;
		this.client = null;
		this.reset();
	}

	reset() {
		this.room = null;
		this.myId = null;
		this.display = null;
		this.muted = this.muted ?? false;
		this.agent = null; // unknown until asked
		this.participants = new Map(); // id → {id, display, kind, muted, talking, me}
	}

	get joined() {
		return this.myId !== null;
	}

	async attach(session) {
		this.client = await PluginClient.attach(session, this.plugin, {
			onEvent: (msg) => this.#onEvent(msg),
			onRemoteTrack: (track, mid, on) => {
				if (track.kind !== 'audio' || !on) return;
				playRemoteAudio(this.audioElement, track, () => this.hooks.onBlocked?.());
			},
			onIceState: (s) => {
				if (s === 'failed') this.hooks.onError?.('The audio connection failed (ICE). Check the network path to Janus.');
			},
			onWebrtcState: (up, reason) => this.hooks.onMedia?.(up, reason),
			onError: (text) => this.hooks.onError?.(text),
		});
	}

	// Joins (creating the room first when asked and needed). With a token,
	// the token's name is used unless `display` is given.
	async join({ room, display, token, muted, createIfMissing }) {
		this.muted = !!muted;
		const body = { request: 'join', room, muted: this.muted };
		if (display) body.display = display;
		if (token) body.token = token;
		let answer;
		try {
			answer = await this.client.request(body, isJoined);
		} catch (e) {
			if (!(e instanceof ApiError) || e.code !== 486 || !createIfMissing) throw e;
			try {
				// Whoever creates a room steers it: the answer carries a token
				// that makes this tab its admin (docs/security.md).
				const created = await this.client.send({ request: 'create', room });
				if (created?.token && !body.token) body.token = created.token;
			} catch (c) {
				// 487: someone else created it meanwhile, which is just as good.
				if (c.code !== 487) throw c;
			}
			answer = await this.client.request(body, isJoined);
		}
		const data = answer.data;
		this.room = data.room;
		this.myId = data.id;
		this.display = data.display ?? display ?? null;
		this.participants.clear();
		this.participants.set(data.id, {
			id: data.id, display: this.display, kind: 'web', muted: this.muted, talking: false, me: true,
		});
		for (const p of data.participants || []) this.#upsert(p);
		if (typeof data.agent === 'boolean') this.#setAgent(data.agent);
		this.hooks.onChange();
		await this.refreshParticipants();
		return data;
	}

	// The join answer describes the others fully but us only by id and name:
	// the list fills in our own kind, role and identity (from a token).
	async refreshParticipants() {
		try {
			const r = await this.client.send({ request: 'listparticipants', room: this.room });
			for (const p of r?.participants || []) this.#upsert(p);
			this.hooks.onChange();
		} catch {
			// Not essential: the names are already there.
		}
	}

	// Microphone up: an audio offer rides on a configure; the answer comes back.
	async startAudio() {
		ensureAudioContext();
		let offer;
		try {
			offer = await this.client.createOffer([{ type: 'audio', capture: true, recv: true }]);
		} catch (e) {
			throw new Error(describeMediaError(e, 'Microphone'));
		}
		const sent = this.muted;
		await this.client.request({ request: 'configure', muted: sent }, isConfigured, offer);
		// The mute toggle may have been pressed while the offer was in flight.
		if (this.muted !== sent) await this.setMuted(this.muted);
	}

	async setMuted(muted) {
		this.muted = muted;
		const me = this.participants.get(this.myId);
		if (me) me.muted = muted;
		this.hooks.onChange();
		if (!this.joined) return; // rides on the join
		await this.client.request({ request: 'configure', muted }, isConfigured);
	}

	async chat(text) {
		await this.client.send({ request: 'chat', text });
	}

	async setAgent(enable) {
		const r = await this.client.send({ request: 'agent', room: this.room, enable });
		if (r && typeof r.enabled === 'boolean') this.#setAgent(r.enabled);
	}

	// The join answer says whether the room's agent is on; agent events
	// keep it current.
	async fetchAgentState() {}

	async leave() {
		if (!this.client || !this.joined) return;
		try {
			await this.client.request({ request: 'leave' }, isLeft, undefined, 5000);
		} catch {
			// Leaving anyway: destroying the session also takes us out.
		}
	}

	// Forgets the call (the session is destroyed by the caller).
	close() {
		this.client?.hangup();
		this.client = null;
		stopRemoteAudio(this.audioElement);
		this.reset();
	}

	#setAgent(enabled) {
		this.agent = enabled;
		this.hooks.onChange();
	}

	#onEvent(msg) {
		if (msg.error_code) return this.hooks.onError?.(new ApiError('server', msg).message);
		const kind = msg[this.key];
		if (kind === 'event' || kind === 'joined') {
			for (const p of msg.participants || []) this.#upsert(p);
			const gone = msg.leaving ?? msg.kicked;
			if (gone !== undefined) {
				if (gone === this.myId) return this.hooks.onEnded('You were removed from the room.');
				this.participants.delete(gone);
			}
			if ('talking' in msg && msg.id !== undefined) {
				const p = this.participants.get(msg.id);
				if (p) p.talking = !!msg.talking;
			}
			if (msg.chat) this.hooks.onChat?.(msg.chat);
		} else if (kind === 'talking' || kind === 'stopped-talking') {
			const p = this.participants.get(msg.id); // AudioBridge stand-in style
			if (p) p.talking = kind === 'talking';
		} else if (kind === 'moved') {
			// Moved to another room by the server (a transfer, a console
			// agent taking a call): same PeerConnection, new company.
			this.room = msg.room;
			if (msg.id !== undefined) this.myId = msg.id;
			const me = { ...(this.participants.get(this.myId) || {}), id: this.myId, me: true };
			this.participants.clear();
			this.participants.set(this.myId, me);
			for (const p of msg.participants || []) this.#upsert(p);
			this.hooks.onMoved?.(msg);
		} else if (kind === 'transfer') {
			this.hooks.onTransfer?.(msg);
		} else if (kind === 'summoned') {
			this.hooks.onSummoned?.(msg); // a cluster: a transfer on another node asks for me
		} else if (kind === 'listen_ended') {
			this.hooks.onListenEnded?.(msg); // a supervisor's call ended: back at the desk
		} else if (kind === 'transcript') {
			this.hooks.onTranscript?.(msg);
		} else if (kind === 'agent') {
			if (typeof msg.enabled === 'boolean') this.agent = msg.enabled;
		} else if (kind === 'kicked') {
			return this.hooks.onEnded('You were removed from the room.');
		} else if (kind === 'destroyed') {
			return this.hooks.onEnded(`Room "${msg.room}" was closed.`);
		} else if (kind === 'left' && this.joined) {
			return this.hooks.onEnded(null);
		}
		this.hooks.onChange();
	}

	#upsert(p) {
		if (p.id === undefined) return;
		const old = this.participants.get(p.id) || { talking: false };
		const me = p.id === this.myId;
		this.participants.set(p.id, { ...old, ...p, me });
		// A moderator's mute/unmute of me arrives this way: the toggle follows it.
		if (me && typeof p.muted === 'boolean') this.muted = p.muted;
		if (me && p.display) this.display = p.display;
	}
}
