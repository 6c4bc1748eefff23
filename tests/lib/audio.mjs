// Audio helpers for tests: G.711 mu-law, tones, Goertzel tone power, RTP.

export function mulawEncode(sample) {
	const BIAS = 0x84, CLIP = 32635;
	let sign = (sample >> 8) & 0x80;
	if (sign) sample = -sample;
	if (sample > CLIP) sample = CLIP;
	sample += BIAS;
	let exponent = 7;
	for (let mask = 0x4000; (sample & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
	const mantissa = (sample >> (exponent + 3)) & 0x0f;
	return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function mulawDecode(byte) {
	byte = ~byte & 0xff;
	const sign = byte & 0x80, exponent = (byte >> 4) & 0x07, mantissa = byte & 0x0f;
	let sample = ((mantissa << 3) + 0x84) << exponent;
	sample -= 0x84;
	return sign ? -sample : sample;
}

// One 20 ms frame (160 samples at 8 kHz) of a sine, continuing phase by index.
export function toneFrame(freq, frameIndex, amplitude = 8000, rate = 8000, samples = 160) {
	const out = new Int16Array(samples);
	for (let i = 0; i < samples; i++) {
		const n = frameIndex * samples + i;
		out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * n) / rate));
	}
	return out;
}

// Power of one frequency in a block (Goertzel), normalised to the block size.
export function tonePower(samples, freq, rate = 8000) {
	const k = (2 * Math.PI * freq) / rate;
	const coeff = 2 * Math.cos(k);
	let s1 = 0, s2 = 0;
	for (const x of samples) {
		const s = x + coeff * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
	return power / (samples.length * samples.length);
}

export function toneDb(samples, freq, rate = 8000) {
	return 10 * Math.log10(tonePower(samples, freq, rate) + 1e-9);
}

export function rtpPacket({ pt, seq, ts, ssrc, payload, marker = false }) {
	const b = Buffer.alloc(12 + payload.length);
	b[0] = 0x80;
	b[1] = (marker ? 0x80 : 0) | pt;
	b.writeUInt16BE(seq & 0xffff, 2);
	b.writeUInt32BE(ts >>> 0, 4);
	b.writeUInt32BE(ssrc >>> 0, 8);
	Buffer.from(payload).copy(b, 12);
	return b;
}

export function parseRtp(buf) {
	if (buf.length < 12 || buf[0] >> 6 !== 2) return null;
	const cc = buf[0] & 0x0f;
	let offset = 12 + 4 * cc;
	if (buf[0] & 0x10) offset += 4 + 4 * buf.readUInt16BE(offset + 2);
	return {
		pt: buf[1] & 0x7f, seq: buf.readUInt16BE(2), ts: buf.readUInt32BE(4),
		ssrc: buf.readUInt32BE(8), payload: buf.subarray(offset),
	};
}

export function alawEncode(sample) {
	const sign = sample >= 0 ? 0x80 : 0x00;
	let mag = sample >= 0 ? sample : -sample - 1;
	if (mag > 32767) mag = 32767;
	let exponent = 7;
	for (let mask = 0x4000; (mag & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
	const mantissa = exponent === 0 ? (mag >> 4) & 0x0f : (mag >> (exponent + 3)) & 0x0f;
	return ((sign | (exponent << 4) | mantissa) ^ 0x55) & 0xff;
}

export function alawDecode(byte) {
	byte ^= 0x55;
	const sign = byte & 0x80, exponent = (byte >> 4) & 0x07, mantissa = byte & 0x0f;
	let mag = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
	return sign ? mag : -mag;
}
