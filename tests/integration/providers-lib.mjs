// Shared by the providers-*.test.mjs wire tests: stub HTTP servers on
// 127.0.0.1 (random ports) that record every request, and a runner for the
// C provider CLI (build/tests/providers/provider_cli) that returns the JSON
// lines it printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from '../lib/resources.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = process.env.SB_BUILD_DIR || path.join(repo, 'build');
const CLI = process.env.PROVIDER_CLI || path.join(build, 'tests/providers/provider_cli');

/** Builds the CLI when the build tree does not have it yet. */
export function ensureCli() {
  if (existsSync(CLI)) return CLI;
  if (!existsSync(path.join(build, 'Makefile'))) {
    const r = spawnSync(path.join(repo, 'scripts/build.sh'), [path.relative(repo, build)], {
      cwd: repo,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('scripts/build.sh failed');
  }
  const r = spawnSync('make', ['-C', build, 'tests/providers/provider_cli'], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(CLI)) throw new Error(`cannot build ${CLI}`);
  return CLI;
}

/**
 * Runs the CLI with a job; resolves to {events, code, stderr, ms}.
 * `events` are the parsed JSON lines.  A hard kill after killMs guards the
 * test itself (the CLI has its own deadline_ms watchdog).  onEvent(e) is
 * called with each line as it arrives (the CLI flushes every line), e.g.
 * for a stub to hold the rest of a stream until the CLI has shown it got
 * the first part.
 */
export function runCli(job, { killMs = 30000, env = {}, onEvent } = {}) {
  const bin = ensureCli();
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    // No real keys may leak into a test from the environment.
    const clean = { ...process.env };
    for (const k of Object.keys(clean)) if (k.endsWith('_API_KEY')) delete clean[k];
    const child = spawn(bin, [JSON.stringify(job)], { env: { ...clean, ...env } });
    const untrack = track(`provider_cli (pid ${child.pid})`, () => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    let seen = 0; // characters of out already given to onEvent
    child.stdout.on('data', (d) => {
      out += d;
      if (!onEvent) return;
      for (let nl = out.indexOf('\n', seen); nl >= 0; nl = out.indexOf('\n', seen)) {
        const line = out.slice(seen, nl);
        seen = nl + 1;
        try {
          if (line.trim()) onEvent(JSON.parse(line));
        } catch { /* reported when the run ends */ }
      }
    });
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), killMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      untrack();
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      untrack();
      // Under ASan/UBSan (PROVIDER_CLI from build-asan) any report fails.
      if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(err)) {
        reject(new Error(`sanitizer report from the CLI:\n${err}`));
        return;
      }
      const events = [];
      for (const line of out.split('\n')) {
        if (!line.trim()) continue;
        try {
          events.push(JSON.parse(line));
        } catch {
          reject(new Error(`not a JSON line from the CLI: ${line}`));
          return;
        }
      }
      resolve({ events, code, stderr: err, ms: Date.now() - t0 });
    });
  });
}

/** Events of one kind (and run, when given). */
export function pick(events, event, run) {
  return events.filter((e) => e.event === event && (run === undefined || e.run === run));
}

export function textOf(events, run) {
  return pick(events, 'text', run)
    .map((e) => e.delta)
    .join('');
}

export function doneOf(events, run = 0) {
  const d = pick(events, 'done', run);
  if (d.length !== 1) throw new Error(`run ${run}: ${d.length} done events: ${JSON.stringify(events)}`);
  return d[0];
}

/**
 * A stub HTTP server.  handler(req, res, body, n) answers; every request is
 * recorded as {method, url, path, query, headers, body (Buffer)}.
 */
export async function stub(handler) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const u = new URL(req.url, 'http://x');
      const rec = { method: req.method, url: req.url, path: u.pathname, query: u.searchParams, headers: req.headers, body };
      requests.push(rec);
      Promise.resolve(handler(req, res, body, requests.length)).catch((e) => {
        res.destroy(e);
      });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const close = () =>
    new Promise((r) => {
      untrack();
      server.closeAllConnections();
      server.close(() => r());
    });
  const untrack = track(`stub server on ${port}`, close);
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    requests,
    server,
    json: (i = requests.length - 1) => JSON.parse(requests[i].body.toString()),
    close,
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A promise with its resolve: `const g = gate(); … await g; … g.open()`.
 * Bounded: it opens by itself after ms (the test then fails on what it
 * asserts, instead of hanging).
 */
export function gate(ms = 10000) {
  let open;
  const p = new Promise((r) => (open = r));
  const timer = setTimeout(() => open(false), ms);
  p.open = () => {
    clearTimeout(timer);
    open(true);
  };
  return p;
}

/**
 * Writes SSE events ({event?, data}) with a pause between them.  `after`:
 * a map from an index to a promise to wait for before writing that event.
 */
export async function sse(res, events, { pauseMs = 5, status = 200, split = false, after = {} } = {}) {
  res.writeHead(status, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  for (const [i, ev] of events.entries()) {
    if (after[i]) await after[i];
    let text = '';
    if (ev.comment) text += `: ${ev.comment}\n`;
    if (ev.event) text += `event: ${ev.event}\n`;
    if (ev.data !== undefined) {
      const data = typeof ev.data === 'string' ? ev.data : JSON.stringify(ev.data);
      text += `data: ${data}\n`;
    }
    text += '\n';
    if (split) {
      // Byte by byte in a few writes: the parser must not care.
      for (let i = 0; i < text.length; i += 3) res.write(text.slice(i, i + 3));
    } else {
      res.write(text);
    }
    if (pauseMs) await sleep(pauseMs);
  }
  res.end();
}

/** An HTTP error in the OpenAI shape. */
export function openaiError(res, status, message, type = 'invalid_request_error') {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: { message, type, param: null, code: null } }));
}

/** Chat completion chunks as OpenAI streams them. */
export function openaiChunks(parts, { toolCalls = [], model = 'gpt-4o-mini' } = {}) {
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model };
  const out = [{ data: { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] } }];
  for (const p of parts) out.push({ data: { ...base, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] } });
  for (const tc of toolCalls) out.push({ data: { ...base, choices: [{ index: 0, delta: { tool_calls: [tc] }, finish_reason: null }] } });
  out.push({ data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: toolCalls.length ? 'tool_calls' : 'stop' }] } });
  out.push({ data: '[DONE]' });
  return out;
}

/** 64-bit FNV-1a as the CLI prints it (16 hex digits). */
export function fnv1a(buf) {
  let h = 0xcbf29ce484222325n;
  for (const b of buf) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

/** s16le mono sine. */
export function pcm16(samples, rate, hz = 440, amp = 8000) {
  const b = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  return b;
}

/** Parses a multipart/form-data body into {name: {filename?, type?, data}}. */
export function multipart(req) {
  const ct = req.headers['content-type'] || '';
  const m = /boundary=([^;]+)/.exec(ct);
  if (!m) throw new Error(`no boundary in ${ct}`);
  const boundary = Buffer.from(`--${m[1]}`);
  const parts = {};
  let pos = req.body.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    if (req.body.slice(start, start + 2).toString() === '--') break;
    const next = req.body.indexOf(boundary, start);
    if (next < 0) throw new Error('unterminated multipart body');
    const part = req.body.slice(start + 2, next - 2); // CRLF after the boundary, CRLF before the next
    const sep = part.indexOf('\r\n\r\n');
    const head = part.slice(0, sep).toString();
    const data = part.slice(sep + 4);
    const name = /name="([^"]+)"/.exec(head)[1];
    const filename = /filename="([^"]+)"/.exec(head)?.[1];
    const type = /Content-Type: ([^\r\n]+)/i.exec(head)?.[1];
    parts[name] = { filename, type, data };
    pos = next;
  }
  return parts;
}

/** Checks a 16-bit mono PCM WAV; returns {rate, samples}. */
export function parseWav(buf) {
  const fail = (why) => {
    throw new Error(`bad WAV: ${why}`);
  };
  if (buf.toString('ascii', 0, 4) !== 'RIFF') fail('no RIFF');
  if (buf.readUInt32LE(4) !== buf.length - 8) fail('RIFF size');
  if (buf.toString('ascii', 8, 16) !== 'WAVEfmt ') fail('no WAVEfmt');
  if (buf.readUInt32LE(16) !== 16 || buf.readUInt16LE(20) !== 1) fail('not PCM');
  const channels = buf.readUInt16LE(22);
  const rate = buf.readUInt32LE(24);
  const bits = buf.readUInt16LE(34);
  if (channels !== 1 || bits !== 16) fail(`channels ${channels} bits ${bits}`);
  if (buf.readUInt32LE(28) !== rate * 2 || buf.readUInt16LE(32) !== 2) fail('byte rate');
  if (buf.toString('ascii', 36, 40) !== 'data') fail('no data chunk');
  const size = buf.readUInt32LE(40);
  if (size !== buf.length - 44) fail('data size');
  return { rate, samples: size / 2 };
}
