// What the page hears: the room's mix plays through an <audio> element and
// a WebAudio analyser measures it (the end-to-end tests read it).

const FLOOR_DB = -200; // stands in for -Infinity (silence) so results stay JSON
let audioCtx = null;
let analyser = null;
let source = null;

// Call inside a click too: browsers let audio start from a user gesture.
export function ensureAudioContext() {
	if (!audioCtx) {
		audioCtx = new AudioContext();
		analyser = audioCtx.createAnalyser();
		analyser.fftSize = 8192;
		analyser.smoothingTimeConstant = 0.3;
	}
	if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
}

// Plays `track` in `element` and feeds it to the analyser. Chrome only feeds
// a remote stream to WebAudio while a media element plays it too.
export function playRemoteAudio(element, track, onBlocked) {
	// janus.js reports a track again when it unmutes: keep what plays.
	if (element.srcObject?.getAudioTracks().includes(track) && source) return;
	const stream = new MediaStream([track]);
	element.srcObject = stream;
	// Only a refusal means "blocked"; an AbortError is just a newer load.
	element.play().catch((e) => e?.name === 'NotAllowedError' && onBlocked?.());
	ensureAudioContext();
	source?.disconnect();
	source = audioCtx.createMediaStreamSource(stream);
	source.connect(analyser);
}

export function stopRemoteAudio(element) {
	source?.disconnect();
	source = null;
	element.srcObject = null;
}

function frequencyData() {
	const bins = new Float32Array(analyser.frequencyBinCount);
	analyser.getFloatFrequencyData(bins);
	return { bins, binHz: audioCtx.sampleRate / analyser.fftSize };
}

// Dominant frequency above ~100 Hz (below is hum and DC) and RMS level.
export function spectrum() {
	if (!analyser || !source) return { freq: 0, peak_db: FLOOR_DB, level_db: FLOOR_DB };
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
export function magnitudeAt(freq) {
	if (!analyser || !source) return FLOOR_DB;
	const { bins, binHz } = frequencyData();
	const center = Math.round(freq / binHz);
	let best = FLOOR_DB;
	for (let i = Math.max(0, center - 2); i <= Math.min(bins.length - 1, center + 2); i++) best = Math.max(best, bins[i]);
	return best;
}

// Records what the page hears (for tests that recognise the agent's speech):
// start, then stop returns {rate, base64} of 16-bit mono PCM.
let recorder = null;
let recorded = [];
export function startRecording() {
	if (!source) return false;
	recorded = [];
	recorder = audioCtx.createScriptProcessor(4096, 1, 1);
	recorder.onaudioprocess = (e) => recorded.push(new Float32Array(e.inputBuffer.getChannelData(0)));
	source.connect(recorder);
	recorder.connect(audioCtx.destination); // it only runs while connected; it outputs silence
	return true;
}

export function stopRecording() {
	if (!recorder) return null;
	source?.disconnect(recorder);
	recorder.disconnect();
	recorder = null;
	const total = recorded.reduce((n, c) => n + c.length, 0);
	const pcm = new Int16Array(total);
	let o = 0;
	for (const chunk of recorded) for (const s of chunk) pcm[o++] = Math.max(-32768, Math.min(32767, Math.round(s * 32767)));
	recorded = [];
	const bytes = new Uint8Array(pcm.buffer);
	let binary = '';
	for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return { rate: audioCtx.sampleRate, base64: btoa(binary) };
}
