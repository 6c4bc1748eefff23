// Wire tests of the HTTP audio providers (C code, through provider_cli):
// OpenAI /audio/transcriptions (multipart with a WAV; verbose_json for the
// language when detection is asked for), OpenAI /audio/speech
// (24 kHz pcm, resampled to 16 kHz), ElevenLabs streaming TTS (pcm_16000,
// xi-api-key).
import assert from 'node:assert/strict';
import { before, describe, test } from '../lib/harness.mjs';

import {
  doneOf,
  ensureCli,
  fnv1a,
  gate,
  multipart,
  openaiError,
  parseWav,
  pcm16,
  pick,
  runCli,
  sleep,
  stub,
} from './providers-lib.mjs';

// Each test runs the C CLI a few times against a local stub (~1 s); the
// CLI's own deadline is 15 s.
const T = { timeout: 30000 };

before(() => ensureCli(), { timeout: 120000 }); // may build it

describe('openai transcriptions (STT)', () => {
  function sttJob(base, over = {}) {
    return {
      kind: 'stt',
      providers: {
        openai: {
          type: 'openai',
          api_key: 'sk-stt',
          base_url: `${base}/v1`,
          stt_model: 'gpt-4o-mini-transcribe',
          language: 'en-US',
          timeout_ms: '4000',
        },
      },
      chain: ['openai'],
      utterances: [{ ms: 1200, hz: 300 }, { ms: 500, hz: 500 }],
      deadline_ms: 15000,
      ...over,
    };
  }

  test('one multipart request per utterance with a valid WAV; finals in order', T, async () => {
    const s = await stub((req, res, body, n) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ text: n === 1 ? ' I need help with my order. ' : 'Thanks.' }));
    });
    try {
      const r = await runCli(sttJob(s.base));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(pick(r.events, 'final').map((e) => e.text), ['I need help with my order.', 'Thanks.']);
      assert.equal(doneOf(r.events).error, null);
      assert.equal(s.requests.length, 2);
      const lengths = [];
      for (const q of s.requests) {
        assert.equal(q.method, 'POST');
        assert.equal(q.path, '/v1/audio/transcriptions');
        assert.equal(q.headers.authorization, 'Bearer sk-stt');
        assert.match(q.headers['content-type'], /^multipart\/form-data; boundary=/);
        const parts = multipart(q);
        assert.equal(parts.model.data.toString(), 'gpt-4o-mini-transcribe');
        assert.equal(parts.response_format.data.toString(), 'json');
        assert.equal(parts.language.data.toString(), 'en');
        assert.equal(parts.file.type, 'audio/wav');
        assert.match(parts.file.filename, /\.wav$/);
        const wav = parseWav(parts.file.data);
        assert.equal(wav.rate, 16000);
        lengths.push(wav.samples);
        // Not silence: the tone is in there.
        let peak = 0;
        for (let i = 44; i < parts.file.data.length; i += 2) peak = Math.max(peak, Math.abs(parts.file.data.readInt16LE(i)));
        assert.ok(peak > 4000, `peak ${peak}`);
      }
      assert.deepEqual(lengths, [1200 * 16, 500 * 16]);
    } finally {
      await s.close();
    }
  });

  test('HTTP 401 and bad replies fail the stream', T, async () => {
    const s = await stub((req, res) => openaiError(res, 401, 'Incorrect API key provided'));
    try {
      const r = await runCli(sttJob(s.base, { direct: true, utterances: [{ ms: 300 }] }));
      assert.equal(doneOf(r.events).error, 'HTTP 401: Incorrect API key provided');
    } finally {
      await s.close();
    }
    const s2 = await stub((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"transcript": "wrong field"}');
    });
    try {
      const r = await runCli(sttJob(s2.base, { direct: true, utterances: [{ ms: 300 }] }));
      assert.match(doneOf(r.events).error, /^bad reply/);
    } finally {
      await s2.close();
    }
  });

  // The language and final events in order.
  const spoken = (events) =>
    events.filter((e) => e.event === 'language' || e.event === 'final').map((e) => (e.event === 'language' ? `lang:${e.code}` : e.text));
  // sttJob's provider with some of its fields replaced (undefined: left out).
  const provider = (base, over) => {
    const p = { ...sttJob(base).providers.openai, ...over };
    for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
    return { openai: p };
  };
  const verbose = (language, text) => (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ task: 'transcribe', language, duration: 1.2, text }));
  };

  test('detection: verbose_json without a language part; its language before the final', T, async () => {
    const s = await stub(verbose('arabic', 'مرحبا'));
    try {
      for (const over of [{ language: 'auto' }, { language: undefined, detect_language: 'true' }]) {
        const n = s.requests.length;
        const r = await runCli(sttJob(s.base, { providers: provider(s.base, { stt_model: 'whisper-1', ...over }), utterances: [{ ms: 300 }] }));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(doneOf(r.events).error, null);
        assert.deepEqual(spoken(r.events), ['lang:ar', 'مرحبا'], JSON.stringify(over));
        assert.equal(s.requests.length, n + 1);
        const parts = multipart(s.requests[n]);
        assert.equal(parts.model.data.toString(), 'whisper-1');
        assert.equal(parts.response_format.data.toString(), 'verbose_json');
        assert.equal(parts.language, undefined);
        assert.equal(parts.file.type, 'audio/wav');
      }
    } finally {
      await s.close();
    }
  });

  test('no detection (a language configured, or not asked for): json as before, no language event', T, async () => {
    const s = await stub(verbose('arabic', 'Hello.'));
    try {
      const cases = [
        [{}, 'en'],
        [{ detect_language: 'true' }, 'en'], // the configured language wins
        [{ language: undefined }, undefined],
      ];
      for (const [over, language] of cases) {
        const n = s.requests.length;
        const r = await runCli(sttJob(s.base, { direct: true, providers: provider(s.base, over), utterances: [{ ms: 300 }] }));
        assert.equal(doneOf(r.events).error, null);
        assert.deepEqual(spoken(r.events), ['Hello.'], JSON.stringify(over));
        const parts = multipart(s.requests[n]);
        assert.equal(parts.response_format.data.toString(), 'json');
        assert.equal(parts.language?.data.toString(), language);
      }
    } finally {
      await s.close();
    }
  });

  test('a language that is no language: no language event, the final intact', T, async () => {
    for (const language of [42, 'klingon-ish', null]) {
      const s = await stub(verbose(language, 'Hello there.'));
      try {
        const r = await runCli(sttJob(s.base, { direct: true, providers: provider(s.base, { language: 'auto' }), utterances: [{ ms: 300 }] }));
        assert.equal(doneOf(r.events).error, null);
        assert.deepEqual(spoken(r.events), ['Hello there.'], JSON.stringify(language));
      } finally {
        await s.close();
      }
    }
  });
});

describe('openai speech (TTS)', () => {
  function ttsJob(base, over = {}) {
    return {
      kind: 'tts',
      providers: {
        openai: { type: 'openai', api_key: 'sk-tts', base_url: `${base}/v1`, voice: 'nova', tts_model: 'gpt-4o-mini-tts', timeout_ms: '3000' },
      },
      chain: ['openai'],
      text: 'Hello, thanks for calling.',
      deadline_ms: 15000,
      ...over,
    };
  }

  test('pcm at 24 kHz streams out as 16 kHz audio events as it arrives', T, async () => {
    const pcm = pcm16(24000, 24000, 440); // one second
    // The rest of the audio is held until the CLI has put out the first
    // part: a CLI that waited for the whole body would never do that (the
    // gate then opens by itself, too late).
    const firstAudio = gate();
    let streamed = null;
    const s = await stub(async (req, res) => {
      res.writeHead(200, { 'Content-Type': 'audio/pcm', 'Transfer-Encoding': 'chunked' });
      // Odd chunk sizes: samples split across chunks.
      const cuts = [0, 4801, 12001, 30001, pcm.length];
      for (let i = 0; i + 1 < cuts.length; i++) {
        if (i === 1) streamed = await firstAudio;
        res.write(pcm.slice(cuts[i], cuts[i + 1]));
        await sleep(60);
      }
      res.end();
    });
    try {
      const r = await runCli(ttsJob(s.base), { onEvent: (e) => e.event === 'audio' && firstAudio.open() });
      assert.equal(r.code, 0, r.stderr);
      const done = doneOf(r.events);
      assert.equal(done.error, null);
      assert.equal(done.audio_samples, 16000);
      assert.equal(done.audio_bytes, 32000);
      const audio = pick(r.events, 'audio');
      assert.equal(streamed, true, 'audio was delivered while streaming (before the rest was sent)');
      assert.ok(audio.length >= 2, `${audio.length} audio events`);

      const q = s.requests[0];
      assert.equal(q.path, '/v1/audio/speech');
      assert.equal(q.headers.authorization, 'Bearer sk-tts');
      assert.deepEqual(s.json(0), { model: 'gpt-4o-mini-tts', input: 'Hello, thanks for calling.', voice: 'nova', response_format: 'pcm' });
    } finally {
      await s.close();
    }
  });

  test('a 200 without audio is "no audio"; 429 carries the message', T, async () => {
    const s = await stub((req, res, body, n) => {
      if (n === 1) {
        res.writeHead(200, { 'Content-Type': 'audio/pcm' });
        res.end();
      } else {
        openaiError(res, 429, 'Rate limit reached', 'requests');
      }
    });
    try {
      let r = await runCli(ttsJob(s.base, { direct: true }));
      assert.equal(doneOf(r.events).error, 'no audio');
      r = await runCli(ttsJob(s.base, { direct: true }));
      assert.equal(doneOf(r.events).error, 'HTTP 429: Rate limit reached');
    } finally {
      await s.close();
    }
  });
});

describe('elevenlabs (TTS)', () => {
  function elJob(base, over = {}) {
    return {
      kind: 'tts',
      providers: {
        elevenlabs: { api_key: 'xi-test', base_url: `${base}/v1`, voice: 'JBFqnCBsd6RMkjVDRZzb', model: 'eleven_flash_v2_5', timeout_ms: '3000' },
      },
      chain: ['elevenlabs'],
      text: 'Your order has shipped.',
      deadline_ms: 15000,
      ...over,
    };
  }

  test('pcm_16000 streams through byte for byte', T, async () => {
    const pcm = pcm16(8000, 16000, 330);
    const firstAudio = gate(); // as above: the rest waits for the first audio out
    let streamed = null;
    const s = await stub(async (req, res) => {
      res.writeHead(200, { 'Content-Type': 'audio/pcm' });
      for (let off = 0; off < pcm.length; off += 3333) {
        if (off > 0 && streamed === null) streamed = await firstAudio;
        res.write(pcm.slice(off, off + 3333));
        await sleep(20);
      }
      res.end();
    });
    try {
      const r = await runCli(elJob(s.base), { onEvent: (e) => e.event === 'audio' && firstAudio.open() });
      const done = doneOf(r.events);
      assert.equal(done.error, null);
      assert.equal(done.audio_samples, 8000);
      assert.equal(done.audio_fnv1a, fnv1a(pcm));
      assert.equal(streamed, true, 'audio was delivered while streaming');
      assert.ok(pick(r.events, 'audio').length > 1);
      const q = s.requests[0];
      assert.equal(q.method, 'POST');
      assert.equal(q.path, '/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/stream');
      assert.equal(q.query.get('output_format'), 'pcm_16000');
      assert.equal(q.headers['xi-api-key'], 'xi-test');
      assert.equal(q.headers.authorization, undefined);
      assert.deepEqual(s.json(0), { text: 'Your order has shipped.', model_id: 'eleven_flash_v2_5' });
    } finally {
      await s.close();
    }
  });

  test('HTTP 401 with the documented detail body', T, async () => {
    const s = await stub((req, res) => {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ detail: { status: 'invalid_api_key', message: 'Invalid API key' } }));
    });
    try {
      const r = await runCli(elJob(s.base, { direct: true }));
      assert.equal(doneOf(r.events).error, 'HTTP 401: Invalid API key');
    } finally {
      await s.close();
    }
  });

  test('no key configured and none in the environment: disabled, not a crash', T, async () => {
    const r = await runCli({ kind: 'tts', providers: { elevenlabs: {} }, chain: ['elevenlabs'], text: 'x' });
    assert.equal(r.code, 0);
    const e = pick(r.events, 'start_error');
    assert.equal(e.length, 1);
    assert.match(e[0].error, /no usable tts provider/);
    assert.match(r.stderr, /elevenlabs disabled: no API key .*ELEVENLABS_API_KEY/);
  });
});
