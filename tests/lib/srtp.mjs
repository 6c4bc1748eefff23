// SDES-SRTP for the tests' SIP peers: AES_CM_128_HMAC_SHA1_80 (RFC 3711)
// with node:crypto, enough to send a call's media the way a secure trunk
// does (protect) and to check what the plugin sends back (unprotect), so a
// test controls every packet: which address it comes from, and whether it
// is genuine.
import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80';
const TAG_LEN = 10;

// RFC 3711 4.3.1 with a key derivation rate of 0: x = (label << 48) XOR
// master salt, expanded by AES-CM from x * 2^16.
function derive(masterKey, masterSalt, label, len) {
	const x = Buffer.from(masterSalt);
	x[7] ^= label;
	const cipher = createCipheriv('aes-128-ctr', masterKey, Buffer.concat([x, Buffer.alloc(2)]));
	return Buffer.concat([cipher.update(Buffer.alloc(len)), cipher.final()]);
}

// A new master key and salt, as the a=crypto inline: value (base64).
export const newSrtpKey = () => randomBytes(30).toString('base64');

// The inline: key of an SDP's a=crypto line with our suite.
export function sdpCryptoKey(sdp) {
	return new RegExp(`a=crypto:\\d+ ${SRTP_SUITE} inline:([A-Za-z0-9+/=]{40})`).exec(sdp || '')?.[1] ?? null;
}

// One direction of an SRTP session (one master key).
export class SrtpContext {
	constructor(keyB64) {
		const master = Buffer.from(keyB64, 'base64');
		if (master.length !== 30) throw new Error('an SRTP master key and salt are 30 bytes');
		const key = master.subarray(0, 16), salt = master.subarray(16);
		this.encKey = derive(key, salt, 0, 16);
		this.authKey = derive(key, salt, 1, 20);
		this.salt = derive(key, salt, 2, 14);
		this.roc = 0;
		this.lastSeq = null;
	}

	#keystream(ssrc, index, payload) {
		const iv = Buffer.concat([this.salt, Buffer.alloc(2)]);
		iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
		const hi = Math.floor(index / 2 ** 32), lo = index % 2 ** 32;
		iv.writeUInt16BE(iv.readUInt16BE(8) ^ (hi & 0xffff), 8);
		iv.writeUInt32BE((iv.readUInt32BE(10) ^ lo) >>> 0, 10);
		const c = createCipheriv('aes-128-ctr', this.encKey, iv);
		return Buffer.concat([c.update(payload), c.final()]);
	}

	#tag(authenticated, roc) {
		const r = Buffer.alloc(4);
		r.writeUInt32BE(roc >>> 0);
		return createHmac('sha1', this.authKey).update(authenticated).update(r).digest().subarray(0, TAG_LEN);
	}

	static #headerLength(pkt) {
		let n = 12 + 4 * (pkt[0] & 0x0f);
		if (pkt[0] & 0x10) n += 4 + 4 * pkt.readUInt16BE(n + 2);
		return n;
	}

	// An RTP packet (Buffer) made SRTP: payload encrypted, tag appended.
	protect(rtp) {
		const seq = rtp.readUInt16BE(2), ssrc = rtp.readUInt32BE(8);
		if (this.lastSeq !== null && seq < this.lastSeq && this.lastSeq - seq > 0x8000) this.roc++;
		this.lastSeq = seq;
		const h = SrtpContext.#headerLength(rtp);
		const out = Buffer.concat([rtp.subarray(0, h), this.#keystream(ssrc, this.roc * 65536 + seq, rtp.subarray(h))]);
		return Buffer.concat([out, this.#tag(out, this.roc)]);
	}

	// The RTP packet inside an SRTP one, or null when it does not
	// authenticate.  Short streams: the rollover counter is 0, or 1 after
	// the sender's random first sequence number wrapped.
	unprotect(srtp) {
		if (srtp.length < 12 + TAG_LEN) return null;
		const body = srtp.subarray(0, srtp.length - TAG_LEN);
		const tag = srtp.subarray(srtp.length - TAG_LEN);
		const roc = [0, 1].find((r) => timingSafeEqual(tag, this.#tag(body, r)));
		if (roc === undefined) return null;
		const h = SrtpContext.#headerLength(body);
		return Buffer.concat([body.subarray(0, h), this.#keystream(body.readUInt32BE(8), roc * 65536 + body.readUInt16BE(2), body.subarray(h))]);
	}
}
