// Camera video through Janus's stock VideoRoom (multistream API, string
// room ids). Switchboard makes each room's VideoRoom itself, private and
// with a pin, and hands its id and pin to members only, in the join answer
// ("video": {room, pin}); this page never creates one (docs/security.md,
// "VideoRoom"). We publish video only (audio goes through Switchboard) as
// feed "sb-<switchboard id>", so tiles match feeds exactly; feeds of other
// clients fall back to matching by display name.
import { PluginClient, ApiError, describeMediaError } from './janus-connection.js';

const PLUGIN = 'janus.plugin.videoroom';
// Switchboard creates the VideoRoom when the room's first browser joins: a
// page that is quicker than that waits for it this long.
const READY_WAIT_MS = 10000;
const READY_POLL_MS = 150;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const feedIdFor = (switchboardId) => `sb-${switchboardId}`;
export const switchboardIdOf = (feedId) => {
	const m = /^sb-(\d+)$/.exec(String(feedId));
	return m ? Number(m[1]) : null;
};

const hasVideo = (publisher) => (publisher.streams || []).some((s) => s.type === 'video' && !s.disabled);

export class VideoRoom {
	// hooks: onChange(), onWarning(text)
	constructor(hooks) {
		this.hooks = hooks;
		this.session = null;
		this.publisher = null;
		this.room = null;
		this.myFeed = null;
		this.privateId = null;
		this.cameraOn = false;
		this.localStream = null;
		this.feeds = new Map(); // feed id → {id, display, stream, client}
		this.closed = true;
	}

	// Joins the VideoRoom `room` (from the join answer, with its `pin`) as a
	// publisher and publishes the camera when `camera` is true. Failures here
	// are warnings: the audio call goes on.
	async start(session, { room, pin, display, switchboardId, camera }) {
		if (!room || !pin) throw new Error('this room has no video');
		Object.assign(this, { session, room, pin, closed: false, display });
		this.publisher = await PluginClient.attach(session, PLUGIN, {
			onEvent: (msg) => this.#onPublisherEvent(msg),
			onLocalTrack: (track, on) => {
				if (track.kind !== 'video') return;
				this.localStream = on ? new MediaStream([track]) : null;
				this.hooks.onChange();
			},
			onCleanup: () => {
				this.localStream = null;
				this.hooks.onChange();
			},
		});
		for (const deadline = Date.now() + READY_WAIT_MS; ;) {
			const { exists } = (await this.publisher.send({ request: 'exists', room })) || {};
			if (exists || this.closed) break;
			if (Date.now() > deadline) throw new Error('the video room was not set up in time');
			await sleep(READY_POLL_MS);
		}
		if (this.closed) return;
		const join = (id) => this.publisher.request(
			{ request: 'join', ptype: 'publisher', room, pin, display, ...(id ? { id } : {}) },
			(d) => d.videoroom === 'joined');
		let joined;
		try {
			joined = await join(feedIdFor(switchboardId));
		} catch (e) {
			if (e.code !== 436) throw e; // 436: that id is taken; let the plugin pick one
			joined = await join(null);
		}
		if (this.closed) return;
		this.myFeed = joined.data.id;
		this.privateId = joined.data.private_id;
		for (const p of joined.data.publishers || []) this.#addPublisher(p);
		if (camera) await this.setCamera(true);
	}

	async setCamera(on) {
		if (!this.publisher || this.closed) {
			this.cameraOn = on; // applies when the video starts
			this.hooks.onChange();
			return;
		}
		if (on) {
			let offer;
			try {
				offer = await this.publisher.createOffer([{ type: 'video', capture: true, recv: false }]);
			} catch (e) {
				this.publisher.hangup();
				this.cameraOn = false;
				this.hooks.onChange();
				throw new Error(`${describeMediaError(e, 'Camera')} You are in the call with audio only.`);
			}
			await this.publisher.request({ request: 'publish', display: this.display }, (d) => d.configured === 'ok', offer);
			this.cameraOn = true;
		} else {
			this.cameraOn = false;
			try {
				await this.publisher.request({ request: 'unpublish' }, (d) => d.unpublished === 'ok');
			} finally {
				this.publisher?.hangup(); // stops the camera now
				this.localStream = null;
			}
		}
		this.hooks.onChange();
	}

	async stop() {
		if (this.closed) return;
		this.closed = true;
		const subs = [...this.feeds.values()];
		this.feeds.clear();
		const pub = this.publisher;
		this.publisher = null;
		this.localStream = null;
		this.myFeed = null;
		await Promise.allSettled([
			...subs.map((f) => f.client?.detach()),
			pub ? pub.send({ request: 'leave' }).catch(() => {}).then(() => pub.detach()) : null,
		]);
		this.hooks.onChange();
	}

	#onPublisherEvent(msg) {
		if (msg.error_code) return this.hooks.onWarning?.(`Video: ${new ApiError('videoroom', msg).message}`);
		if (msg.videoroom === 'destroyed') {
			this.hooks.onWarning?.('The video room was closed: audio only from now on.');
			this.stop();
			return;
		}
		for (const p of msg.publishers || []) this.#addPublisher(p);
		const gone = msg.unpublished ?? msg.leaving;
		if (gone !== undefined && gone !== 'ok') this.#removeFeed(String(gone));
	}

	#addPublisher(p) {
		const id = String(p.id);
		if (id === String(this.myFeed) || !hasVideo(p)) return;
		const known = this.feeds.get(id);
		if (known) {
			known.display = p.display ?? known.display;
			return;
		}
		const feed = { id, display: p.display || '', stream: null, client: null };
		this.feeds.set(id, feed);
		this.hooks.onChange();
		this.#subscribe(feed).catch((e) => {
			if (this.feeds.get(id) !== feed) return; // gone meanwhile: nothing to say
			this.hooks.onWarning?.(`Could not receive ${feed.display || id}'s video: ${e.message}`);
		});
	}

	// One subscriber handle per feed: simple, and a feed that leaves only
	// takes its own PeerConnection with it.
	async #subscribe(feed) {
		const client = await PluginClient.attach(this.session, PLUGIN, {
			onRemoteTrack: (track, mid, on) => {
				if (track.kind !== 'video') return;
				feed.stream = on ? new MediaStream([track]) : null;
				this.hooks.onChange();
			},
		});
		feed.client = client;
		if (this.feeds.get(feed.id) !== feed || this.closed) return client.detach();
		const { jsep } = await client.request({
			request: 'join', ptype: 'subscriber', room: this.room, pin: this.pin,
			streams: [{ feed: feed.id }], private_id: this.privateId,
		}, (d) => d.videoroom === 'attached');
		if (this.feeds.get(feed.id) !== feed) return client.detach();
		const answer = await client.createAnswer(jsep, []);
		await client.request({ request: 'start' }, (d) => d.started === 'ok', answer);
	}

	#removeFeed(id) {
		const feed = this.feeds.get(id);
		if (!feed) return;
		this.feeds.delete(id);
		feed.client?.detach();
		this.hooks.onChange();
	}
}
