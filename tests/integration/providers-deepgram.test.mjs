// Wire tests of the Deepgram live STT provider (C code on its libsoup
// WebSocket thread, through provider_cli) against a local WebSocket stub
// that speaks Deepgram's documented protocol: query parameters, the
// "Authorization: Token" header, binary linear16 audio, "Results" messages
// (is_final / speech_final / from_finalize), Finalize, KeepAlive and
// CloseStream, and the language of an utterance (detect_language=true or
// language=multi).
import assert from 'node:assert/strict';
import http from 'node:http';
import { before, describe, test } from '../lib/harness.mjs';

import { WebSocketServer } from 'ws';

import { doneOf, ensureCli, pick, runCli, stub } from './providers-lib.mjs';

// Each test runs the C CLI against a local stub (~2 s paced in real
// time); the CLI's deadline is 15 s.
const T = { timeout: 30000 };

before(() => ensureCli(), { timeout: 120000 }); // may build it

// lang: what a finalised result says of its language, {channel, alt}
// merged into channel and alternatives[0].
function results(transcript, { isFinal = false, speechFinal = false, fromFinalize = false, lang = null } = {}) {
  const msg = {
    type: 'Results',
    channel_index: [0, 1],
    duration: 0.5,
    start: 0,
    is_final: isFinal,
    speech_final: speechFinal,
    channel: { alternatives: [{ transcript, confidence: 0.98, words: [] }] },
    metadata: { request_id: 'req-1', model_info: { name: 'general', version: '1', arch: 'nova-3' }, model_uuid: 'm' },
  };
  if (fromFinalize) msg.from_finalize = true;
  if (lang && isFinal) {
    Object.assign(msg.channel, lang.channel);
    Object.assign(msg.channel.alternatives[0], lang.alt);
  }
  return JSON.stringify(msg);
}

/**
 * A Deepgram stub.  behaviour(ws, state) may override; by default: an
 * interim result after ~0.5 s of audio, a finalised segment after ~1 s, and
 * on Finalize a from_finalize result with the rest; on CloseStream a
 * Metadata message and a normal close.  lang goes into every finalised
 * result (see results()).
 */
async function deepgramStub({ rejectStatus = 0, onAudio, closeAfterBytes = 0, lang = null, endpointing = false } = {}) {
  const server = http.createServer((req, res) => {
    res.writeHead(404);
    res.end();
  });
  const wss = new WebSocketServer({ noServer: true });
  const sessions = [];
  server.on('upgrade', (req, socket, head) => {
    if (rejectStatus) {
      socket.end(`HTTP/1.1 ${rejectStatus} Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n`);
      sessions.push({ rejected: true, headers: req.headers, url: req.url });
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const st = { url: req.url, headers: req.headers, bytes: 0, texts: [], utterBytes: 0, interims: 0, segments: 0, closed: null };
      sessions.push(st);
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          st.bytes += data.length;
          st.utterBytes += data.length;
          if (onAudio) return onAudio(ws, st, data);
          if (closeAfterBytes && st.bytes >= closeAfterBytes) {
            ws.close(1011, 'NET-0001 internal error');
            return;
          }
          if (st.utterBytes >= 16000 && st.interims === 0) {
            st.interims++;
            ws.send(results('I need'));
          }
          if (st.utterBytes >= 32000 && st.segments === 0) {
            st.segments++;
            ws.send(results('I need help', { isFinal: true, lang }));
          }
          // The server's endpointer: the segment after it ends a sentence.
          if (endpointing && st.utterBytes >= 40000 && st.segments === 1) {
            st.segments++;
            ws.send(results('with my order.', { isFinal: true, speechFinal: true }));
            ws.send(JSON.stringify({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: 2.1 }));
          }
          return;
        }
        const msg = JSON.parse(data.toString());
        st.texts.push(msg.type);
        if (msg.type === 'Finalize') {
          const rest = st.segments === 2 ? '' : st.segments ? 'with my order.' : 'Thanks.';
          ws.send(results(rest, { isFinal: true, fromFinalize: true, lang }));
          st.utterBytes = 0;
          st.interims = 0;
          st.segments = 0;
        } else if (msg.type === 'CloseStream') {
          ws.send(JSON.stringify({ type: 'Metadata', transaction_key: 'deprecated', request_id: 'req-1', sha256: 'x', created: 'now', duration: 1.0, channels: 1 }));
          ws.close(1000);
        }
      });
      ws.on('close', (code) => (st.closed = code));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    base: `ws://127.0.0.1:${port}/v1`,
    sessions,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function dgJob(base, over = {}) {
  return {
    kind: 'stt',
    providers: { deepgram: { api_key: 'dg-secret', base_url: base, model: 'nova-3', timeout_ms: '3000' } },
    chain: ['deepgram'],
    utterances: [{ ms: 1500, hz: 300 }, { ms: 400, hz: 400 }],
    pace: false,
    deadline_ms: 15000,
    ...over,
  };
}

describe('deepgram live', () => {
  test('handshake, audio, interim and final results, Finalize, CloseStream', T, async () => {
    const dg = await deepgramStub();
    try {
      // Real time, as a caller speaks: interim results arrive meanwhile.
      const r = await runCli(dgJob(dg.base, { pace: true }));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(pick(r.events, 'final').map((e) => e.text), ['I need help with my order.', 'Thanks.']);
      const partials = pick(r.events, 'partial').map((e) => e.text);
      assert.ok(partials.includes('I need'), JSON.stringify(partials));
      assert.ok(partials.includes('I need help'), JSON.stringify(partials));
      assert.equal(doneOf(r.events).error, null);

      assert.equal(dg.sessions.length, 1);
      const st = dg.sessions[0];
      assert.equal(st.headers.authorization, 'Token dg-secret');
      const u = new URL(st.url, 'http://x');
      assert.equal(u.pathname, '/v1/listen');
      assert.equal(u.searchParams.get('encoding'), 'linear16');
      assert.equal(u.searchParams.get('sample_rate'), '16000');
      assert.equal(u.searchParams.get('channels'), '1');
      assert.equal(u.searchParams.get('interim_results'), 'true');
      assert.equal(u.searchParams.get('punctuate'), 'true');
      assert.equal(u.searchParams.get('model'), 'nova-3');
      // All the audio, as 16-bit samples: 1.9 s at 16 kHz.
      assert.equal(st.bytes, (1500 + 400) * 16 * 2);
      assert.deepEqual(
        st.texts.filter((t) => t !== 'KeepAlive'),
        ['Finalize', 'Finalize', 'CloseStream'],
      );
      assert.equal(st.closed, 1000);
    } finally {
      await dg.close();
    }
  });

  test('the server\'s endpointing (speech_final, UtteranceEnd) before our Finalize: endpoint events with the utterance so far', T, async () => {
    const dg = await deepgramStub({ endpointing: true });
    try {
      // Real time: the server's endpointing comes while the caller is still heard.
      const r = await runCli(dgJob(dg.base, { pace: true, utterances: [{ ms: 1600, hz: 300 }, { ms: 400, hz: 400 }] }));
      assert.equal(r.code, 0, r.stderr);
      const ends = pick(r.events, 'endpoint').map((e) => e.text);
      // speech_final, then UtteranceEnd: each says the sentence is over.
      assert.deepEqual(ends, ['I need help with my order.', 'I need help with my order.']);
      assert.deepEqual(pick(r.events, 'final').map((e) => e.text), ['I need help with my order.', 'Thanks.']);
      // An endpoint comes before its utterance's final; the second
      // utterance (no speech_final from the server) has none.
      const order = r.events.filter((e) => e.event === 'endpoint' || e.event === 'final').map((e) => e.event);
      assert.deepEqual(order, ['endpoint', 'endpoint', 'final', 'final']);
    } finally {
      await dg.close();
    }
  });

  test('a rejected handshake (401) fails the stream with the status', T, async () => {
    const dg = await deepgramStub({ rejectStatus: 401 });
    try {
      const r = await runCli(dgJob(dg.base, { direct: true, utterances: [{ ms: 200 }] }));
      assert.match(doneOf(r.events).error, /^HTTP 401/);
      assert.equal(dg.sessions[0].headers.authorization, 'Token dg-secret');
    } finally {
      await dg.close();
    }
  });

  test('the server closing mid-stream fails it with the close code', T, async () => {
    const dg = await deepgramStub({ closeAfterBytes: 3200 });
    try {
      const r = await runCli(dgJob(dg.base, { direct: true, utterances: [{ ms: 1000 }] }));
      assert.match(doneOf(r.events).error, /connection closed by the server \(1011: NET-0001 internal error\)/);
    } finally {
      await dg.close();
    }
  });

  test('nothing listening: connect fails in bounded time', T, async () => {
    const s = await stub(() => {});
    const port = s.port;
    await s.close(); // now refused
    const r = await runCli(dgJob(`ws://127.0.0.1:${port}/v1`, { direct: true, utterances: [{ ms: 200 }] }));
    assert.match(doneOf(r.events).error, /^connect failed/);
    assert.ok(r.ms < 5000);
  });
});

describe('deepgram language detection', () => {
  // The language and final events in order (one utterance each).
  const spoken = (events) =>
    events.filter((e) => e.event === 'language' || e.event === 'final').map((e) => (e.event === 'language' ? `lang:${e.code}` : e.text));

  const providers = (extra) => ({
    deepgram: { api_key: 'dg-secret', model: 'nova-3', timeout_ms: '3000', ...extra },
  });

  test('detect_language: asked for instead of a language; channel.detected_language before each final', T, async () => {
    const dg = await deepgramStub({ lang: { channel: { detected_language: 'ar' } } });
    try {
      const r = await runCli(dgJob(dg.base, { providers: providers({ base_url: dg.base, language: 'en', detect_language: 'true' }) }));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(doneOf(r.events).error, null);
      assert.deepEqual(spoken(r.events), ['lang:ar', 'I need help with my order.', 'lang:ar', 'Thanks.']);
      const q = new URL(dg.sessions[0].url, 'http://x').searchParams;
      assert.equal(q.get('detect_language'), 'true');
      assert.equal(q.has('language'), false);
    } finally {
      await dg.close();
    }
  });

  test('language=multi: the first of alternatives[0].languages, else the most frequent word language', T, async () => {
    let dg = await deepgramStub({ lang: { alt: { languages: ['es', 'en'] } } });
    try {
      const r = await runCli(dgJob(dg.base, { direct: true, providers: providers({ base_url: dg.base, language: 'multi' }) }));
      assert.equal(doneOf(r.events).error, null);
      assert.deepEqual(spoken(r.events), ['lang:es', 'I need help with my order.', 'lang:es', 'Thanks.']);
      const q = new URL(dg.sessions[0].url, 'http://x').searchParams;
      assert.equal(q.get('language'), 'multi');
      assert.equal(q.has('detect_language'), false);
    } finally {
      await dg.close();
    }
    const words = [
      { word: 'hola', language: 'es' },
      { word: 'merci', language: 'fr' },
      { word: 'beaucoup', language: 'fr' },
    ];
    dg = await deepgramStub({ lang: { alt: { words } } });
    try {
      const r = await runCli(dgJob(dg.base, { direct: true, providers: providers({ base_url: dg.base, language: 'multi' }) }));
      assert.equal(doneOf(r.events).error, null);
      assert.deepEqual(spoken(r.events), ['lang:fr', 'I need help with my order.', 'lang:fr', 'Thanks.']);
    } finally {
      await dg.close();
    }
  });

  test('without detection: no language event, whatever the server says', T, async () => {
    const dg = await deepgramStub({ lang: { channel: { detected_language: 'ar' }, alt: { languages: ['ar'] } } });
    try {
      const r = await runCli(dgJob(dg.base, { direct: true, providers: providers({ base_url: dg.base, language: 'en' }) }));
      assert.equal(doneOf(r.events).error, null);
      assert.deepEqual(spoken(r.events), ['I need help with my order.', 'Thanks.']);
      const q = new URL(dg.sessions[0].url, 'http://x').searchParams;
      assert.equal(q.get('language'), 'en');
      assert.equal(q.has('detect_language'), false);
    } finally {
      await dg.close();
    }
  });

  test('a language that is no language: no language event, the finals intact', T, async () => {
    for (const lang of [{ channel: { detected_language: 42 } }, { channel: { detected_language: 'klingon-ish' }, alt: { languages: [7] } }]) {
      const dg = await deepgramStub({ lang });
      try {
        const r = await runCli(dgJob(dg.base, { direct: true, providers: providers({ base_url: dg.base, detect_language: true }) }));
        assert.equal(doneOf(r.events).error, null);
        assert.deepEqual(spoken(r.events), ['I need help with my order.', 'Thanks.'], JSON.stringify(lang));
      } finally {
        await dg.close();
      }
    }
  });
});
