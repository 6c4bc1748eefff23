// Wire tests of the LLM providers (C code, through provider_cli) against
// local stubs that speak each service's documented streaming format:
// OpenAI chat completions (SSE chat.completion.chunk, tool_call deltas,
// [DONE]) and Anthropic Messages (message_start … message_stop), the
// business's tools offered and a tool round sent back in each shape.
import assert from 'node:assert/strict';
import { before, describe, test } from '../lib/harness.mjs';

import {
  doneOf,
  ensureCli,
  gate,
  openaiChunks,
  openaiError,
  pick,
  runCli,
  sse,
  stub,
  textOf,
} from './providers-lib.mjs';

// Each test runs the C CLI against a local stub (well under a second; the
// hanging servers are given up on after 0.5 s); the CLI's deadline is 15 s.
const T = { timeout: 30000 };

before(() => ensureCli(), { timeout: 120000 }); // may build it

// A business tool, and a round of two calls of it in the history.
const functions = [{ name: 'lookup_order', description: 'Look up an order.', parameters: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'] } }];
const toolRound = [
  { role: 'user', content: 'Where is order 12345?' },
  { role: 'assistant', content: 'Let me look.', tool_calls: [
    { id: 'call_a', name: 'lookup_order', arguments: { order: '12345' } },
    { id: 'call_b', name: 'lookup_order', arguments: { order: '777' } }] },
  { role: 'tool', tool_call_id: 'call_a', name: 'lookup_order', content: '{"say":"Order 12345 has shipped."}' },
  { role: 'tool', tool_call_id: 'call_b', name: 'lookup_order', content: '{"status":"timeout","error":"timeout: timed out"}' },
];

const messages = [
  { role: 'user', content: 'Hi, what are your opening hours?' },
  { role: 'assistant', content: 'We are open nine to five.' },
  { role: 'user', content: 'I want to talk to a person.' },
];

function llmJob(base, over = {}) {
  return {
    kind: 'llm',
    providers: {
      openai: { type: 'openai', api_key: 'sk-test', base_url: `${base}/v1`, model: 'gpt-4o-mini', timeout_ms: '3000' },
    },
    chain: ['openai'],
    system: 'You are a helpful agent.',
    messages,
    tools: true,
    deadline_ms: 15000,
    ...over,
  };
}

describe('openai chat completions', () => {
  test('streams text deltas; request has the documented shape', T, async () => {
    // The last delta (event 3) is held until the CLI has put out the first:
    // a CLI that waited for the whole stream would never do that (the gate
    // then opens by itself, too late).
    const firstText = gate();
    let streamed = null;
    const s = await stub((req, res) =>
      sse(res, openaiChunks(['We ', 'open ', 'at nine.']), { after: { 3: firstText.then((v) => (streamed = v)) } }),
    );
    try {
      const r = await runCli(llmJob(s.base), { onEvent: (e) => e.event === 'text' && firstText.open() });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(pick(r.events, 'text').map((e) => e.delta), ['We ', 'open ', 'at nine.']);
      const done = doneOf(r.events);
      assert.equal(done.error, null);
      assert.ok(done.first_output_ms >= 0);
      // Streamed: the first delta came out before the last one was sent.
      assert.equal(streamed, true, 'the first delta came out before the last one was sent');

      assert.equal(s.requests.length, 1);
      const q = s.requests[0];
      assert.equal(q.method, 'POST');
      assert.equal(q.path, '/v1/chat/completions');
      assert.equal(q.headers.authorization, 'Bearer sk-test');
      assert.match(q.headers['content-type'], /^application\/json/);
      const body = s.json(0);
      assert.equal(body.model, 'gpt-4o-mini');
      assert.equal(body.stream, true);
      assert.deepEqual(body.messages[0], { role: 'system', content: 'You are a helpful agent.' });
      assert.deepEqual(body.messages.slice(1), messages);
      const names = body.tools.map((t) => t.function.name);
      assert.deepEqual(names, ['transfer_to_human', 'end_call']);
      for (const t of body.tools) {
        assert.equal(t.type, 'function');
        assert.equal(t.function.parameters.type, 'object');
        assert.equal(typeof t.function.description, 'string');
      }
      assert.equal(body.tools[0].function.parameters.properties.reason.type, 'string');
    } finally {
      await s.close();
    }
  });

  test('tool_call deltas are joined by index into tool events at the end', T, async () => {
    const toolCalls = [
      { index: 0, id: 'call_1', type: 'function', function: { name: 'transfer_to_human', arguments: '' } },
      { index: 0, function: { arguments: '{"rea' } },
      { index: 0, function: { arguments: 'son": "wants a ' } },
      { index: 0, function: { arguments: 'person"}' } },
      { index: 1, id: 'call_2', type: 'function', function: { name: 'end_call', arguments: '{}' } },
    ];
    const s = await stub((req, res) =>
      sse(res, openaiChunks(['One moment.'], { toolCalls }), { split: true }),
    );
    try {
      const r = await runCli(llmJob(s.base));
      assert.equal(textOf(r.events), 'One moment.');
      const tools = pick(r.events, 'tool');
      assert.deepEqual(
        tools.map((t) => [t.name, t.arguments]),
        [
          ['transfer_to_human', { reason: 'wants a person' }],
          ['end_call', {}],
        ],
      );
      assert.deepEqual(tools.map((t) => t.id), ['call_1', 'call_2'], 'the model\'s ids, for the results');
      const done = doneOf(r.events);
      assert.equal(done.error, null);
      assert.ok(tools[0].t_ms <= done.t_ms);
    } finally {
      await s.close();
    }
  });

  test('the business\'s tools are offered, and a tool round goes back as tool_calls and role tool', T, async () => {
    const s = await stub((req, res) => sse(res, openaiChunks(['Order 12345 has shipped.'])));
    try {
      const r = await runCli(llmJob(s.base, { functions, messages: toolRound }));
      assert.equal(textOf(r.events), 'Order 12345 has shipped.');
      const body = s.json(0);
      assert.deepEqual(body.tools.map((t) => t.function.name), ['transfer_to_human', 'end_call', 'lookup_order']);
      assert.deepEqual(body.tools[2].function.parameters, functions[0].parameters);
      assert.deepEqual(body.messages.slice(1), [
        { role: 'user', content: 'Where is order 12345?' },
        { role: 'assistant', content: 'Let me look.', tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'lookup_order', arguments: '{"order":"12345"}' } },
          { id: 'call_b', type: 'function', function: { name: 'lookup_order', arguments: '{"order":"777"}' } }] },
        { role: 'tool', tool_call_id: 'call_a', content: '{"say":"Order 12345 has shipped."}' },
        { role: 'tool', tool_call_id: 'call_b', content: '{"status":"timeout","error":"timeout: timed out"}' },
      ]);
    } finally {
      await s.close();
    }
  });

  test('no tools offered when the request does not ask', T, async () => {
    const s = await stub((req, res) => sse(res, openaiChunks(['ok'])));
    try {
      await runCli(llmJob(s.base, { tools: false }));
      assert.equal(s.json(0).tools, undefined);
    } finally {
      await s.close();
    }
  });

  for (const [status, message] of [
    [401, 'Incorrect API key provided: sk-test.'],
    [429, 'Rate limit reached for requests'],
    [500, 'The server had an error while processing your request.'],
  ]) {
    test(`HTTP ${status} ends with done(error) carrying the API's message`, T, async () => {
      const s = await stub((req, res) => openaiError(res, status, message));
      try {
        const r = await runCli(llmJob(s.base));
        const done = doneOf(r.events);
        assert.equal(done.error, `all llm providers failed: openai: HTTP ${status}: ${message}`);
        assert.equal(pick(r.events, 'text').length, 0);
      } finally {
        await s.close();
      }
    });
  }

  test('a provider used directly reports the bare error', T, async () => {
    const s = await stub((req, res) => openaiError(res, 401, 'bad key'));
    try {
      const r = await runCli(llmJob(s.base, { direct: true }));
      assert.equal(doneOf(r.events).error, 'HTTP 401: bad key');
    } finally {
      await s.close();
    }
  });

  test('garbage in the stream is an error', T, async () => {
    const s = await stub((req, res) => sse(res, [{ data: '{"choices": [{"delta": ' }, { data: '[DONE]' }]));
    try {
      const r = await runCli(llmJob(s.base, { direct: true }));
      assert.match(doneOf(r.events).error, /^bad JSON in the stream/);
    } finally {
      await s.close();
    }
  });

  test('an in-stream error object is an error', T, async () => {
    const s = await stub((req, res) =>
      sse(res, [{ data: { error: { message: 'model overloaded', type: 'server_error' } } }]),
    );
    try {
      const r = await runCli(llmJob(s.base, { direct: true }));
      assert.equal(doneOf(r.events).error, 'stream error: model overloaded');
    } finally {
      await s.close();
    }
  });

  test('an empty reply is an error (so a chain can fall through)', T, async () => {
    const s = await stub((req, res) => sse(res, openaiChunks([])));
    try {
      const r = await runCli(llmJob(s.base, { direct: true }));
      assert.equal(doneOf(r.events).error, 'empty reply');
    } finally {
      await s.close();
    }
  });

  test('a server that hangs for 30 s is given up on in bounded time', T, async () => {
    let hung;
    const s = await stub(
      (req, res) =>
        new Promise((resolve) => {
          hung = setTimeout(() => {
            sse(res, openaiChunks(['too late'])).then(resolve);
          }, 30000);
        }),
    );
    try {
      const job = llmJob(s.base, { direct: true });
      job.providers.openai.timeout_ms = '500';
      const r = await runCli(job);
      const done = doneOf(r.events);
      assert.match(done.error, /^request failed: timed out/);
      assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    } finally {
      clearTimeout(hung);
      await s.close();
    }
  });

  test('headers sent, then silence: still bounded', T, async () => {
    let hung;
    const s = await stub((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.flushHeaders();
      hung = setTimeout(() => res.end(), 30000);
    });
    try {
      const job = llmJob(s.base, { direct: true });
      job.providers.openai.timeout_ms = '500';
      const r = await runCli(job);
      assert.match(doneOf(r.events).error, /timed out: no response body within 500 ms/);
      assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    } finally {
      clearTimeout(hung);
      await s.close();
    }
  });

  test('a server that ignores stream:true and answers one completion', T, async () => {
    const s = await stub((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: 'Whole answer.' }, finish_reason: 'stop' }],
        }),
      );
    });
    try {
      const r = await runCli(llmJob(s.base, { direct: true }));
      assert.equal(textOf(r.events), 'Whole answer.');
      assert.equal(doneOf(r.events).error, null);
    } finally {
      await s.close();
    }
  });

  test('works keyless against a local server (Ollama / llama.cpp style)', T, async () => {
    const s = await stub((req, res) => sse(res, openaiChunks(['local says hi'])));
    try {
      const r = await runCli({
        ...llmJob(s.base),
        providers: { ollama: { base_url: `${s.base}/v1`, model: 'llama3.2' } },
        chain: ['ollama'],
      });
      assert.equal(textOf(r.events), 'local says hi');
      assert.equal(s.requests[0].headers.authorization, undefined);
      assert.equal(s.json(0).model, 'llama3.2');
    } finally {
      await s.close();
    }
  });
});

describe('anthropic messages', () => {
  function anthropicJob(base, over = {}) {
    return {
      kind: 'llm',
      providers: {
        anthropic: { api_key: 'ak-test', base_url: `${base}/v1`, model: 'claude-haiku-4-5', timeout_ms: '3000', max_tokens: '300' },
      },
      chain: ['anthropic'],
      system: 'You are a helpful agent.',
      messages,
      tools: true,
      deadline_ms: 15000,
      ...over,
    };
  }

  const start = {
    event: 'message_start',
    data: {
      type: 'message_start',
      message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: 'claude-haiku-4-5', stop_reason: null, usage: { input_tokens: 20, output_tokens: 1 } },
    },
  };
  const stop = [
    { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ];

  test('streams text and a tool_use block; request has the documented shape', T, async () => {
    const s = await stub((req, res) =>
      sse(
        res,
        [
          start,
          { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
          { event: 'ping', data: { type: 'ping' } },
          { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me ' } } },
          { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'connect you.' } } },
          { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
          {
            event: 'content_block_start',
            data: { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'transfer_to_human', input: {} } },
          },
          { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } } },
          { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"reason": "asked' } } },
          { event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ' for a human"}' } } },
          { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
          ...stop,
        ],
        { split: true },
      ),
    );
    try {
      const r = await runCli(anthropicJob(s.base));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(pick(r.events, 'text').map((e) => e.delta), ['Let me ', 'connect you.']);
      assert.deepEqual(
        pick(r.events, 'tool').map((t) => [t.name, t.arguments]),
        [['transfer_to_human', { reason: 'asked for a human' }]],
      );
      assert.equal(doneOf(r.events).error, null);

      const q = s.requests[0];
      assert.equal(q.path, '/v1/messages');
      assert.equal(q.headers['x-api-key'], 'ak-test');
      assert.equal(q.headers['anthropic-version'], '2023-06-01');
      assert.equal(q.headers.authorization, undefined);
      const body = s.json(0);
      assert.equal(body.model, 'claude-haiku-4-5');
      assert.equal(body.stream, true);
      assert.equal(body.max_tokens, 300);
      assert.equal(body.system, 'You are a helpful agent.');
      assert.deepEqual(body.messages, messages);
      assert.deepEqual(
        body.tools.map((t) => t.name),
        ['transfer_to_human', 'end_call'],
      );
      for (const t of body.tools) {
        assert.equal(t.input_schema.type, 'object');
        assert.equal(t.type, undefined);
      }
    } finally {
      await s.close();
    }
  });

  test('history starting with the assistant gets a user turn first', T, async () => {
    const s = await stub((req, res) =>
      sse(res, [
        start,
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'Hi!' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        ...stop,
      ]),
    );
    try {
      const r = await runCli(
        anthropicJob(s.base, { messages: [{ role: 'assistant', content: 'Hello, how can I help?' }, { role: 'user', content: 'hi' }] }),
      );
      assert.equal(textOf(r.events), 'Hi!');
      const body = s.json(0);
      assert.equal(body.messages[0].role, 'user');
      assert.deepEqual(body.messages.slice(1), [
        { role: 'assistant', content: 'Hello, how can I help?' },
        { role: 'user', content: 'hi' },
      ]);
    } finally {
      await s.close();
    }
  });

  test('an error event in the stream ends with its type and message', T, async () => {
    const s = await stub((req, res) =>
      sse(res, [start, { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }]),
    );
    try {
      const r = await runCli(anthropicJob(s.base, { direct: true }));
      assert.equal(doneOf(r.events).error, 'stream error: overloaded_error: Overloaded');
    } finally {
      await s.close();
    }
  });

  test('HTTP 401 with the documented error body', T, async () => {
    const s = await stub((req, res) => {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }));
    });
    try {
      const r = await runCli(anthropicJob(s.base, { direct: true }));
      assert.equal(doneOf(r.events).error, 'HTTP 401: invalid x-api-key');
    } finally {
      await s.close();
    }
  });

  test('message_stop with no content is an empty reply', T, async () => {
    const s = await stub((req, res) => sse(res, [start, ...stop]));
    try {
      const r = await runCli(anthropicJob(s.base, { direct: true }));
      assert.equal(doneOf(r.events).error, 'empty reply');
    } finally {
      await s.close();
    }
  });
  test('the business\'s tools as input_schema; a tool round goes back as tool_use and one user turn of tool_result', T, async () => {
    const s = await stub((req, res) =>
      sse(res, [
        start,
        { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_9', name: 'lookup_order', input: {} } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"ord' } } },
        { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: 'er": "42"}' } } },
        { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
        ...stop,
      ]),
    );
    try {
      const r = await runCli(anthropicJob(s.base, { functions, messages: toolRound }));
      const tools = pick(r.events, 'tool');
      assert.deepEqual(tools.map((t) => [t.id, t.name, t.arguments]), [['toolu_9', 'lookup_order', { order: '42' }]]);
      const body = s.json(0);
      assert.deepEqual(body.tools.map((t) => t.name), ['transfer_to_human', 'end_call', 'lookup_order']);
      assert.deepEqual(body.tools[2].input_schema, functions[0].parameters);
      assert.deepEqual(body.messages, [
        { role: 'user', content: 'Where is order 12345?' },
        { role: 'assistant', content: [
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'call_a', name: 'lookup_order', input: { order: '12345' } },
          { type: 'tool_use', id: 'call_b', name: 'lookup_order', input: { order: '777' } }] },
        { role: 'user', content: [
          { type: 'tool_result', tool_use_id: 'call_a', content: '{"say":"Order 12345 has shipped."}' },
          { type: 'tool_result', tool_use_id: 'call_b', content: '{"status":"timeout","error":"timeout: timed out"}' }] },
      ]);
    } finally {
      await s.close();
    }
  });
});

