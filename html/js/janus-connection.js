// janus.js plumbing shared by the audio (Switchboard) and video (VideoRoom)
// handles: one Janus session, plugin handles with promise-based requests.
/* global Janus */

export const ANSWER_TIMEOUT_MS = 10000;

// An error answer from a plugin ({error_code, error}) as an exception.
export class ApiError extends Error {
	constructor(request, data) {
		super(data.error || `error ${data.error_code}`);
		this.request = request;
		this.code = data.error_code;
		this.reason = data.error || '';
		this.data = data; // the whole answer: a cluster's 494 says where to go (location)
	}
}

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
export function initJanus(debug = false) {
	if (typeof window.Janus !== 'function') {
		return Promise.reject(new Error('janus.js did not load (is /janus.js served next to this page?).'));
	}
	janusReady ??= new Promise((resolve) => Janus.init({
		debug: debug ? 'all' : ['warn', 'error'],
		dependencies: Janus.useDefaultDependencies({ adapter: adapterShim() }),
		callback: resolve,
	}));
	return janusReady;
}

// Opens a session. `onLost` runs if the session dies after it was up.
// `apisecret` is needed only when the Janus instance sets api_secret.
export function connect(server, onLost, apisecret) {
	return new Promise((resolve, reject) => {
		let up = false;
		const session = new Janus({
			server,
			...(apisecret ? { apisecret } : {}),
			// Janus gathers its own candidates and the browser's host ones
			// reach it directly: no STUN needed (and none phoned home).
			iceServers: [],
			success: () => { up = true; resolve(session); },
			error: (cause) => {
				if (!up) reject(new Error(`Cannot reach Janus at ${server}: is the server running? (${cause})`));
				else onLost?.(cause);
			},
		});
	});
}

export function destroySession(session) {
	return new Promise((resolve) => {
		if (!session) return resolve();
		session.destroy({ success: resolve, error: resolve });
		setTimeout(resolve, 3000); // never hang on a dead server
	});
}

// One plugin handle. Events go to `onEvent(data, jsep)` unless a pending
// request() takes them; remote answers (JSEP) are applied here.
export class PluginClient {
	static attach(session, plugin, callbacks = {}) {
		const client = new PluginClient(plugin, callbacks);
		return new Promise((resolve, reject) => session.attach({
			plugin,
			opaqueId: `switchboard-page-${Janus.randomString(8)}`,
			success: (handle) => { client.handle = handle; resolve(client); },
			error: (cause) => reject(new Error(`Janus has no usable ${plugin}: ${cause}`)),
			onmessage: (msg, jsep) => client.#onMessage(msg, jsep),
			onlocaltrack: (track, on) => callbacks.onLocalTrack?.(track, on),
			onremotetrack: (track, mid, on) => callbacks.onRemoteTrack?.(track, mid, on),
			iceState: (s) => callbacks.onIceState?.(s),
			webrtcState: (on, reason) => callbacks.onWebrtcState?.(on, reason),
			oncleanup: () => callbacks.onCleanup?.(),
		}));
	}

	constructor(plugin, callbacks) {
		this.plugin = plugin;
		this.key = plugin.split('.').pop(); // answers carry {"<key>": …}
		this.callbacks = callbacks;
		this.handle = null;
		this.waiters = [];
	}

	#onMessage(msg, jsep) {
		if (jsep?.type === 'answer') {
			this.handle?.handleRemoteJsep({
				jsep,
				error: (e) => this.callbacks.onError?.(`Could not use the server's answer: ${e}`),
			});
		}
		// A waiter removes itself once it takes an event.
		if (this.waiters.some((w) => w(msg, jsep))) return;
		this.callbacks.onEvent?.(msg, jsep);
	}

	// A request the plugin answers at once: resolves with its JSON (null on
	// an ack), rejects with ApiError on an error answer.
	send(message, jsep) {
		return new Promise((resolve, reject) => {
			if (!this.handle) return reject(new Error(`${message.request}: not connected`));
			this.handle.send({
				message, jsep,
				success: (data) => (data?.error_code ? reject(new ApiError(message.request, data)) : resolve(data ?? null)),
				error: (cause) => reject(new Error(`${message.request}: ${cause}`)),
			});
		});
	}

	// An asynchronous request (an ack, then an event): resolves with
	// {data, jsep} of the next event `isAnswer` accepts; any error event
	// meanwhile is taken as its answer (ApiError).
	async request(message, isAnswer, jsep, timeoutMs = ANSWER_TIMEOUT_MS) {
		let waiter;
		let settle;
		const answer = new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.waiters = this.waiters.filter((w) => w !== waiter);
				reject(new Error(`No answer from the server to "${message.request}" within ${timeoutMs / 1000} s.`));
			}, timeoutMs);
			settle = (data, ej) => {
				clearTimeout(timer);
				this.waiters = this.waiters.filter((w) => w !== waiter);
				if (data?.error_code) reject(new ApiError(message.request, data));
				else resolve({ data, jsep: ej });
			};
			waiter = (data, ej) => {
				if (!data.error_code && !isAnswer(data)) return false;
				settle(data, ej);
				return true;
			};
			this.waiters.push(waiter);
		});
		answer.catch(() => {}); // the caller sees it below; no unhandled rejection meanwhile
		try {
			// A plugin may also answer at once (e.g. a validation error): take it.
			const direct = await this.send(message, jsep);
			if (direct) settle(direct);
		} catch (e) {
			settle({}); // drops the waiter
			throw e;
		}
		return answer;
	}

	createOffer(tracks) {
		return new Promise((resolve, reject) => this.handle.createOffer({ tracks, success: resolve, error: reject }));
	}

	createAnswer(jsep, tracks = []) {
		return new Promise((resolve, reject) => this.handle.createAnswer({ jsep, tracks, success: resolve, error: reject }));
	}

	// Closes the PeerConnection locally (the server notices by itself).
	hangup() {
		this.handle?.hangup();
	}

	detach() {
		const h = this.handle;
		this.handle = null;
		this.waiters = [];
		if (!h) return Promise.resolve();
		return new Promise((resolve) => {
			h.detach({ success: resolve, error: resolve });
			setTimeout(resolve, 2000);
		});
	}
}

// What a getUserMedia failure means to a person.
export function describeMediaError(e, device) {
	const name = e?.name || '';
	if (name === 'NotAllowedError') return `${device} access was denied. Allow it in the browser and try again.`;
	if (name === 'NotFoundError' || name === 'OverconstrainedError') return `No ${device.toLowerCase()} was found.`;
	if (name === 'NotReadableError') return `The ${device.toLowerCase()} is busy in another application.`;
	return `Could not start the ${device.toLowerCase()}: ${e?.message || e}`;
}
