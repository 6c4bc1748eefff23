// Fallback chains and circuit breakers over the real providers (C code,
// through provider_cli): the first provider fails in each way before any
// output and the second answers in bounded time; a failure after output
// ends the call without a second voice; a dead provider's breaker opens
// (later calls make no request to its stub) and half-opens after the
// cool-down.
import assert from 'node:assert/strict';
import http from 'node:http';
import { before, describe, test } from '../lib/harness.mjs';

import { WebSocketServer } from 'ws';

import {
  doneOf,
  ensureCli,
  multipart,
  openaiChunks,
  openaiError,
  parseWav,
  pcm16,
  pick,
  runCli,
  sse,
  stub,
  textOf,
} from './providers-lib.mjs';

// Each test runs the C CLI against local stubs (~1 s; the slowest, the
// breaker's seven runs, ~1.5 s); the CLI's deadline is 15 s.
const T = { timeout: 30000 };

before(() => ensureCli(), { timeout: 120000 }); // may build it

const good = () => stub((req, res) => sse(res, openaiChunks(['Answer ', 'from the backup.'])));

function chainJob(badBase, goodBase, over = {}) {
  return {
    kind: 'llm',
    providers: {
      primary: { type: 'openai', api_key: 'k1', base_url: `${badBase}/v1`, timeout_ms: '5000' },
      backup: { type: 'openai', api_key: 'k2', base_url: `${goodBase}/v1`, timeout_ms: '5000' },
    },
    chain: ['primary', 'backup'],
    options: { first_output_timeout_ms: 800, breaker_threshold: 5, breaker_cooldown_ms: 1000 },
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'Where is my order?' }],
    tools: true,
    deadline_ms: 15000,
    ...over,
  };
}

function statsOf(events) {
  const s = pick(events, 'stats');
  assert.equal(s.length, 1);
  return s[0].stats;
}

describe('llm chain: the first fails before output, the second answers', () => {
  const timers = [];
  const ways = {
    'HTTP 401': (req, res) => openaiError(res, 401, 'Incorrect API key provided'),
    'HTTP 429': (req, res) => openaiError(res, 429, 'Rate limit reached for requests'),
    'HTTP 500': (req, res) => openaiError(res, 500, 'The server had an error'),
    'garbage JSON': (req, res) => sse(res, [{ data: 'not json at all' }]),
    'empty reply': (req, res) => sse(res, openaiChunks([])),
    'a 30 s hang': (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.flushHeaders();
      timers.push(setTimeout(() => res.end(), 30000));
    },
  };
  for (const [way, handler] of Object.entries(ways)) {
    test(way, T, async () => {
      const bad = await stub(handler);
      const ok = await good();
      try {
        const r = await runCli(chainJob(bad.base, ok.base));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(textOf(r.events), 'Answer from the backup.');
        assert.equal(doneOf(r.events).error, null);
        assert.equal(bad.requests.length, 1);
        assert.equal(ok.requests.length, 1);
        // The backup got the same request.
        assert.deepEqual(ok.json(0).messages, bad.json(0).messages);
        assert.ok(r.ms < 5000, `took ${r.ms} ms`);
        const st = statsOf(r.events).llm;
        assert.equal(st.primary.failures, 1);
        assert.equal(st.primary.fallbacks, 1);
        assert.equal(st.primary.timeouts, way === 'a 30 s hang' ? 1 : 0);
        assert.equal(st.backup.successes, 1);
      } finally {
        timers.forEach(clearTimeout);
        await bad.close();
        await ok.close();
      }
    });
  }

  test('connection refused', T, async () => {
    const gone = await stub(() => {});
    await gone.close();
    const ok = await good();
    try {
      const r = await runCli(chainJob(gone.base, ok.base));
      assert.equal(textOf(r.events), 'Answer from the backup.');
      assert.equal(doneOf(r.events).error, null);
    } finally {
      await ok.close();
    }
  });

  test('anthropic overloaded, then openai answers', T, async () => {
    const anth = await stub((req, res) => {
      res.writeHead(529, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    });
    const ok = await good();
    try {
      const r = await runCli({
        ...chainJob(anth.base, ok.base),
        providers: {
          claude: { type: 'anthropic', api_key: 'a', base_url: `${anth.base}/v1` },
          gpt: { type: 'openai', api_key: 'o', base_url: `${ok.base}/v1` },
        },
        chain: 'claude, gpt',
      });
      assert.equal(textOf(r.events), 'Answer from the backup.');
      assert.equal(anth.requests.length, 1);
      assert.equal(anth.requests[0].path, '/v1/messages');
    } finally {
      await anth.close();
      await ok.close();
    }
  });
});

test('llm chain: a failure after output ends the call, no second voice', T, async () => {
  const bad = await stub((req, res) =>
    sse(res, [...openaiChunks(['I can help with ']).slice(0, 2), { data: '{broken' }]),
  );
  const ok = await good();
  try {
    const r = await runCli(chainJob(bad.base, ok.base));
    assert.equal(textOf(r.events), 'I can help with ');
    assert.match(doneOf(r.events).error, /^primary: bad JSON in the stream/);
    assert.equal(ok.requests.length, 0);
  } finally {
    await bad.close();
    await ok.close();
  }
});

test('llm chain: all fail, done(error) with a summary', T, async () => {
  const a = await stub((req, res) => openaiError(res, 500, 'down'));
  const b = await stub((req, res) => openaiError(res, 401, 'bad key'));
  try {
    const r = await runCli(chainJob(a.base, b.base));
    assert.equal(doneOf(r.events).error, 'all llm providers failed: primary: HTTP 500: down; backup: HTTP 401: bad key');
  } finally {
    await a.close();
    await b.close();
  }
});

test('circuit breaker: opens after N failures, skips without a request, half-opens after the cool-down', T, async () => {
  // The primary fails its first three requests, then recovers.
  const bad = await stub((req, res, body, n) =>
    n <= 3 ? openaiError(res, 503, 'unavailable') : sse(res, openaiChunks(['Primary is back.'])),
  );
  const ok = await good();
  try {
    const r = await runCli(
      chainJob(bad.base, ok.base, {
        options: { first_output_timeout_ms: 2000, breaker_threshold: 2, breaker_cooldown_ms: 400 },
        runs: 7,
        gaps_ms: [0, 0, 0, 500, 0, 500, 0],
        quiet_audio: true,
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    const texts = [0, 1, 2, 3, 4, 5, 6].map((run) => textOf(r.events, run));
    assert.deepEqual(texts, [
      'Answer from the backup.', // 1st failure
      'Answer from the backup.', // 2nd failure: open
      'Answer from the backup.', // skipped
      'Answer from the backup.', // half-open trial fails: open again
      'Answer from the backup.', // skipped
      'Primary is back.', // trial succeeds: closed
      'Primary is back.',
    ]);
    for (let run = 0; run < 7; run++) assert.equal(doneOf(r.events, run).error, null);
    // Skipped runs never reached the primary's stub.
    assert.equal(bad.requests.length, 5);
    assert.equal(ok.requests.length, 5);
    const st = statsOf(r.events).llm.primary;
    assert.equal(st.requests, 5);
    assert.equal(st.failures, 3);
    assert.equal(st.skipped, 2);
    assert.equal(st.successes, 2);
    assert.equal(st.breaker, 'closed');
    assert.equal(st.consecutive_failures, 0);
  } finally {
    await bad.close();
    await ok.close();
  }
});

test('breaker state is visible while open', T, async () => {
  const bad = await stub((req, res) => openaiError(res, 500, 'down'));
  const ok = await good();
  try {
    const r = await runCli(
      chainJob(bad.base, ok.base, { options: { breaker_threshold: 1, breaker_cooldown_ms: 60000 }, runs: 3 }),
    );
    assert.equal(bad.requests.length, 1);
    const st = statsOf(r.events).llm.primary;
    assert.equal(st.breaker, 'open');
    assert.equal(st.skipped, 2);
    assert.equal(statsOf(r.events).llm.backup.requests, 3);
  } finally {
    await bad.close();
    await ok.close();
  }
});

test('tts chain: openai gives no audio, elevenlabs speaks', T, async () => {
  const mute = await stub((req, res) => {
    res.writeHead(200, { 'Content-Type': 'audio/pcm' });
    res.end();
  });
  const pcm = pcm16(4000, 16000);
  const el = await stub((req, res) => {
    res.writeHead(200, { 'Content-Type': 'audio/pcm' });
    res.end(pcm);
  });
  try {
    const r = await runCli({
      kind: 'tts',
      providers: {
        openai: { api_key: 'o', base_url: `${mute.base}/v1` },
        elevenlabs: { api_key: 'e', base_url: `${el.base}/v1` },
      },
      chain: ['openai', 'elevenlabs'],
      text: 'One moment please.',
      deadline_ms: 15000,
    });
    const done = doneOf(r.events);
    assert.equal(done.error, null);
    assert.equal(done.audio_samples, 4000);
    assert.equal(mute.requests.length, 1);
    assert.equal(el.requests.length, 1);
    assert.equal(statsOf(r.events).tts.openai.failures, 1);
  } finally {
    await mute.close();
    await el.close();
  }
});

/* A Deepgram stub that accepts, takes audio, and never answers. */
async function silentDeepgram({ reject = false } = {}) {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const seen = { connections: 0, bytes: 0 };
  server.on('upgrade', (req, socket, head) => {
    seen.connections++;
    if (reject) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d, bin) => bin && (seen.bytes += d.length)));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `ws://127.0.0.1:${server.address().port}/v1`,
    seen,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

for (const reject of [true, false]) {
  test(`stt chain: deepgram ${reject ? 'refuses (401)' : 'never answers'}, openai transcribes the replayed utterance`, T, async () => {
    const dg = await silentDeepgram({ reject });
    const whisper = await stub((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ text: 'Where is my order?' }));
    });
    try {
      const r = await runCli({
        kind: 'stt',
        providers: {
          deepgram: { api_key: 'd', base_url: dg.base },
          openai: { api_key: 'o', base_url: `${whisper.base}/v1` },
        },
        chain: ['deepgram', 'openai'],
        options: { first_output_timeout_ms: 800 },
        utterances: [{ ms: 1000 }],
        deadline_ms: 15000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(pick(r.events, 'final').map((e) => e.text), ['Where is my order?']);
      assert.equal(doneOf(r.events).error, null);
      assert.equal(dg.seen.connections, 1);
      assert.equal(whisper.requests.length, 1);
      const wav = parseWav(multipart(whisper.requests[0]).file.data);
      assert.equal(wav.samples, 16000, 'the whole utterance was replayed');
      assert.ok(r.ms < 6000, `took ${r.ms} ms`);
      const st = statsOf(r.events).stt.deepgram;
      assert.equal(st.failures, 1);
      assert.equal(st.fallbacks, 1);
      if (!reject) assert.equal(st.timeouts, 1);
    } finally {
      await dg.close();
      await whisper.close();
    }
  });
}
