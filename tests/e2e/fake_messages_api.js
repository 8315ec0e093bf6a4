#!/usr/bin/env node
// fake_messages_api.js: a scripted fake of the Anthropic Messages API, so the REAL
// `claude -p` CLI can run offline against 127.0.0.1 in end-to-end tests and demos.
// Node.js standard library only.
//
// USAGE
//   node tests/e2e/fake_messages_api.js --script FILE [--port N] [--host H] [--log FILE]
//
//   --script FILE  JSON script (below). Without it every request is answered "done".
//   --port N       port to bind (default 0 = any free port)
//   --host H       address to bind (default 127.0.0.1)
//   --log FILE     append one JSON line per request (see LOG)
//
//   When ready, the FIRST line on stdout is `LISTENING <port>`. Nothing else is
//   written to stdout; warnings go to stderr. SIGTERM/SIGINT stop it (exit 0).
//
//   Point the CLI at it with ANTHROPIC_BASE_URL=http://127.0.0.1:<port> and
//   ANTHROPIC_API_KEY=test (any value). See tests/e2e/check_real_claude.sh for the
//   full environment that works.
//
// SCRIPT FORMAT
//   {
//     "defaults": {"usage": {"input_tokens": 3200, "output_tokens": 30}},   // optional
//     "agents": [
//       {"name": "migration",                       // optional; used in the log (else the index)
//        "match": "migration for the baptisms table",  // optional substring of the task prompt
//        "turns": [ TURN, TURN, ... ]},
//       ...
//     ]
//   }
//   (Shorthand: {"turns": [...]} is one agent that matches everything.)
//
//   ROUTING. Several claude runs (one per task) can share one server. A request is
//   routed to the FIRST agent whose `match` occurs, case-insensitively, in the text
//   of the FIRST user message of the conversation (the task prompt; the
//   <system-reminder> blocks the CLI puts in that message, e.g. the date and the
//   repo's CLAUDE.md, are ignored). An agent
//   without `match` matches everything, so put a catch-all last. Each agent has its
//   own turn cursor, so a resumed conversation (`claude --resume`, which re-sends
//   the whole history, including the same first message) continues where it left
//   off. Two concurrent runs that route to the SAME agent share its cursor: give
//   them distinct agents. Subagents (Task tool) start a new conversation with
//   their own first message and are routed the same way.
//   No agent matches -> a text answer "[fake_messages_api] no scripted agent
//   matches this prompt" with end_turn (logged with "agent": null).
//
//   TURN. One main-loop API request consumes one turn. A turn is either
//     - a list of blocks:  [ BLOCK, ... ]
//     - an object:         {"blocks": [BLOCK...], "usage": {...}, "stop_reason": "...",
//                           "delay_ms": N}
//       usage: input_tokens / output_tokens / cache_creation_input_tokens /
//       cache_read_input_tokens for this turn, merged over the defaults
//       (input_tokens 3200, output_tokens 30). The CLI computes total_cost_usd
//       from these. stop_reason defaults to "tool_use" if the turn has a
//       tool_use block, else "end_turn". delay_ms waits before answering.
//       "await": {"agent": "beta", "timeout_ms": 60000} holds this answer until
//       the agent named has sent its first request (or the timeout passes: then
//       it answers anyway). The log's "ts" is still the request's arrival, and
//       "awaited" says {agent, ok, waited_ms} (ok false: timed out). Use it to
//       make two claude runs overlap for sure, without sleeps.
//     - a special turn:
//       {"http_error": 500, "message": "...", "retry_after": 1}
//           answer with that HTTP status and an Anthropic-style error body
//           (500 api_error, 429 rate_limit_error, 529 overloaded_error, ...);
//           retry_after sets the `retry-after` header. The CLI's retry is the
//           next request and gets the next turn.
//       {"stream_error": "overloaded_error", "message": "..."}
//           HTTP 200, then message_start and an SSE `error` event mid-stream.
//           (On a stream:false request it is answered as HTTP 529/500 instead.)
//       Any turn may have "headers": {"name": "value", ...}: extra response
//           headers for that answer (e.g. the anthropic-ratelimit-unified-*
//           family: with a subscription token the CLI turns them into
//           rate_limit_event lines). "{{now+N}}" in a value becomes the Unix
//           time N seconds from now.
//       {"delay_ms": N}
//           (alone) wait N ms, then answer THIS SAME request with the next turn
//           (or the default "done"). Use it to test timeouts or killing claude
//           while it waits on the API.
//   BLOCK.
//     {"text": "..."}
//     {"tool_use": {"name": "Write", "input": {"file_path": "{{cwd}}/a.txt", "content": "hi\n"}}}
//         `input` must match the real tool schema (Write: absolute file_path +
//         content; Edit: file_path, old_string, new_string; Bash: command,
//         description). An optional "id" is used as the tool_use id.
//     {"delay_ms": N}   pause the stream at this point (mid-response).
//     {"stall": true}   stop sending at this point and never finish the response
//                       (the connection stays open until the client goes away).
//   In every string of text and tool_use input, `{{cwd}}` is replaced by the working
//   directory read from the request's system prompt ("Primary working directory: X",
//   or "CWD: X" under --bare); `{{agent}}` by the agent's name; `{{turn}}` by the
//   turn index.
//   When an agent has no turns left it answers {"text": "done"} with end_turn.
//
// WHAT IS SERVED
//   HEAD / (and GET /)            200 (the CLI's connectivity preflight)
//   POST /v1/messages[?beta=true]
//       "stream": true  -> SSE: message_start, per block content_block_start /
//                          content_block_delta (text_delta | input_json_delta) /
//                          content_block_stop, message_delta (stop_reason, usage),
//                          message_stop
//       "stream": false -> one JSON message object (the CLI's fallback after
//                          mid-stream errors). It consumes a turn like a stream.
//       empty or missing "tools" -> a SIDE request (session title, summaries...):
//                          answered with a short text, consumes no turn.
//   POST /v1/messages/count_tokens  {"input_tokens": <defaults.input_tokens>}
//   GET  /_fake/state               {"requests": N, "cursors": {agent: next turn index}}
//   POST /_fake/reset               reset all cursors (and the agents "await" has seen); a JSON body, if any, replaces
//                                   the script (same format as --script)
//   anything else                   404 with an error body
//
// LOG (--log FILE): one JSON object per line, appended synchronously, so a test can
// read it as soon as claude exits:
//   {"ts": "...", "seq": 1, "method": "POST", "path": "/v1/messages?beta=true",
//    "status": 200, "model": "claude-...", "stream": true, "has_tools": true,
//    "n_tools": 24, "side": false, "agent": "migration" | 0 | null, "turn": 0 | null,
//    "kind": "blocks" | "done" | "http_error" | "stream_error" | "side" | "no_agent" | ...,
//    "cwd": "/tmp/x", "n_messages": 1,
//    "tool_results": [{"tool_use_id": "...", "is_error": false, "text": "..."}],   // from the last user message
//    "history": [{"role": "user", "text": "..."}, ...]}             // each message's text, 200 characters
'use strict';

const http = require('http');
const fs = require('fs');
const crypto = require('crypto');

const DEFAULT_USAGE = { input_tokens: 3200, output_tokens: 30 };

// ---------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
  const opts = { host: '127.0.0.1', port: 0, script: null, log: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === '--script') opts.script = next();
    else if (a === '--port') opts.port = Number(next());
    else if (a === '--host') opts.host = next();
    else if (a === '--log') opts.log = next();
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: fake_messages_api.js --script FILE [--port N] [--host H] [--log FILE]\n');
      process.exit(0);
    } else die(`unknown argument: ${a}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) die('bad --port');
  return opts;
}

function die(msg) {
  process.stderr.write(`fake_messages_api: ${msg}\n`);
  process.exit(2);
}

function warn(msg) {
  process.stderr.write(`fake_messages_api: ${msg}\n`);
}

// ---------------------------------------------------------------------------
// Script

// Validates and normalises a script object. Throws with a readable message.
function loadScript(obj) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new Error('script must be a JSON object with "agents" (or "turns")');
  }
  const defaults = obj.defaults || {};
  const usage = Object.assign({}, DEFAULT_USAGE, defaults.usage || {});
  let agents;
  if (Array.isArray(obj.agents)) agents = obj.agents;
  else if (Array.isArray(obj.turns)) agents = [{ turns: obj.turns }];
  else throw new Error('script needs an "agents" list (or a "turns" list)');
  agents = agents.map((a, idx) => {
    if (!a || typeof a !== 'object') throw new Error(`agents[${idx}] is not an object`);
    if (a.match !== undefined && typeof a.match !== 'string') {
      throw new Error(`agents[${idx}].match must be a string`);
    }
    const turns = a.turns || [];
    if (!Array.isArray(turns)) throw new Error(`agents[${idx}].turns must be a list`);
    turns.forEach((t, ti) => checkTurn(t, `agents[${idx}].turns[${ti}]`));
    return { key: a.name !== undefined ? String(a.name) : idx, match: a.match, turns };
  });
  return { usage, agents };
}

function checkTurn(t, where) {
  if (Array.isArray(t)) { t.forEach((b, bi) => checkBlock(b, `${where}[${bi}]`)); return; }
  if (!t || typeof t !== 'object') throw new Error(`${where}: a turn is a list of blocks or an object`);
  if (t.headers !== undefined && (!t.headers || typeof t.headers !== 'object' || Array.isArray(t.headers))) {
    throw new Error(`${where}.headers must be an object of header names to values`);
  }
  if ('http_error' in t || 'stream_error' in t) return;
  if (t.await !== undefined && !(t.await && typeof t.await.agent === 'string')) {
    throw new Error(`${where}.await must be {"agent": NAME, "timeout_ms": N}`);
  }
  if ('blocks' in t) {
    if (!Array.isArray(t.blocks)) throw new Error(`${where}.blocks must be a list`);
    t.blocks.forEach((b, bi) => checkBlock(b, `${where}.blocks[${bi}]`));
    return;
  }
  if ('delay_ms' in t) return;
  throw new Error(`${where}: unknown turn ${JSON.stringify(t)}`);
}

function checkBlock(b, where) {
  if (!b || typeof b !== 'object') throw new Error(`${where}: a block is an object`);
  if (typeof b.text === 'string' || typeof b.delay_ms === 'number') return;
  if (b.tool_use && typeof b.tool_use.name === 'string') return;
  if (b.stall === true) return;
  throw new Error(`${where}: unknown block ${JSON.stringify(b)} (want text, tool_use, delay_ms or stall)`);
}

function readScriptFile(file) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { die(`cannot read script ${file}: ${e.message}`); }
  let obj;
  try { obj = JSON.parse(text); } catch (e) { die(`script ${file} is not valid JSON: ${e.message}`); }
  try { return loadScript(obj); } catch (e) { die(`script ${file}: ${e.message}`); }
  return null;
}

// ---------------------------------------------------------------------------
// Request inspection

function textOf(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((b) => (b && b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('\n');
}

// The task prompt: the text of the first user message, without the
// <system-reminder> blocks the CLI prepends (date, the repo's CLAUDE.md...), so
// that a match string quoted in a CLAUDE.md cannot misroute a request.
function firstUserText(body) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const first = msgs.find((m) => m && m.role === 'user');
  if (!first) return '';
  const all = textOf(first.content);
  const stripped = all.replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '').trim();
  return stripped || all;
}

// The CLI names its working directory in the environment block: in the
// system prompt (2.1.197), or in a message of role "system" before the first
// answer (2.1.332).
function cwdOf(body) {
  const texts = [typeof body.system === 'string' ? body.system : textOf(body.system)];
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (!m || m.role === 'assistant') break;
    if (m.role === 'system') texts.push(textOf(m.content));
  }
  for (const text of texts) {
    const m = /Primary working directory:\s*(\S[^\n]*)/.exec(text) || /(?:^|\n)\s*CWD:\s*(\S[^\n]*)/.exec(text);
    if (m) return m[1].trim();
  }
  return null;
}

// The conversation sent, short: [{role, text}] with each message's text (no
// <system-reminder> blocks) cut to 200 characters, so a test can see that a
// resumed session re-sent what came before.
function historyOf(body) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  return msgs.filter((m) => m && typeof m.role === 'string').map((m) => ({
    role: m.role,
    text: textOf(m.content).replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '').trim().slice(0, 200),
  }));
}

function lastToolResults(body) {
  const msgs = Array.isArray(body.messages) ? body.messages : [];
  const last = msgs[msgs.length - 1];
  if (!last || last.role !== 'user' || !Array.isArray(last.content)) return [];
  return last.content
    .filter((b) => b && b.type === 'tool_result')
    .map((b) => ({ tool_use_id: b.tool_use_id, is_error: !!b.is_error, text: toolResultText(b).slice(0, 400) }));
}

// a tool_result's content as text (a string, or its text blocks joined)
function toolResultText(b) {
  if (typeof b.content === 'string') return b.content;
  if (!Array.isArray(b.content)) return '';
  return b.content.filter((c) => c && c.type === 'text').map((c) => String(c.text)).join('\n');
}

// ---------------------------------------------------------------------------
// Response building

const rid = (prefix) => `${prefix}${crypto.randomBytes(10).toString('hex')}`;

function substitute(value, vars) {
  if (typeof value === 'string') {
    return value.replace(/\{\{(cwd|agent|turn)\}\}/g, (m, k) => (vars[k] === undefined || vars[k] === null ? m : String(vars[k])));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, vars);
    return out;
  }
  return value;
}

// Turns a script turn into {blocks, usage, stop_reason, delay_ms}; blocks keep
// {delay_ms} markers for streaming and are expanded into API content blocks.
function planFromTurn(turn, defaults, vars) {
  const spec = Array.isArray(turn) ? { blocks: turn } : turn;
  const items = (spec.blocks || []).map((b) => {
    if (b.stall === true) return { stall: true };
    if (typeof b.delay_ms === 'number' && b.text === undefined && !b.tool_use) return { delay_ms: b.delay_ms };
    if (b.tool_use) {
      return {
        type: 'tool_use',
        id: b.tool_use.id || rid('toolu_fake_'),
        name: b.tool_use.name,
        input: substitute(b.tool_use.input || {}, vars),
      };
    }
    return { type: 'text', text: substitute(b.text, vars) };
  });
  const hasTool = items.some((b) => b.type === 'tool_use');
  return {
    items,
    usage: Object.assign({}, defaults, spec.usage || {}),
    stop_reason: spec.stop_reason || (hasTool ? 'tool_use' : 'end_turn'),
    delay_ms: typeof spec.delay_ms === 'number' ? spec.delay_ms : 0,
    headers: turnHeaders(spec),
  };
}

// A turn's extra response headers, "{{now+N}}" made a Unix time.
function turnHeaders(turn) {
  const out = {};
  const now = Math.floor(Date.now() / 1000);
  for (const [k, v] of Object.entries((turn && !Array.isArray(turn) && turn.headers) || {})) {
    out[k] = String(v).replace(/\{\{now\+(\d+)\}\}/g, (m, n) => String(now + Number(n)));
  }
  return out;
}

function textPlan(text, defaults) {
  return { items: [{ type: 'text', text }], usage: Object.assign({}, defaults), stop_reason: 'end_turn', delay_ms: 0 };
}

function fullUsage(u) {
  return {
    input_tokens: u.input_tokens | 0,
    output_tokens: u.output_tokens | 0,
    cache_creation_input_tokens: u.cache_creation_input_tokens | 0,
    cache_read_input_tokens: u.cache_read_input_tokens | 0,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sse(res, event, data) {
  if (!res.writableEnded && !res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

async function sendStream(res, plan, model) {
  const usage = fullUsage(plan.usage);
  res.writeHead(200, Object.assign({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': rid('req_fake_'),
  }, plan.headers || {}));
  sse(res, 'message_start', {
    type: 'message_start',
    message: {
      id: rid('msg_fake_'), type: 'message', role: 'assistant', model, content: [],
      stop_reason: null, stop_sequence: null,
      usage: Object.assign({}, usage, { output_tokens: 1 }),
    },
  });
  let index = 0;
  for (const b of plan.items) {
    if (b.delay_ms !== undefined) { await sleep(b.delay_ms); continue; }
    if (b.stall) return;  // the response never ends
    if (b.type === 'text') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: b.text } });
    } else {
      sse(res, 'content_block_start', {
        type: 'content_block_start', index,
        content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
      });
      sse(res, 'content_block_delta', {
        type: 'content_block_delta', index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) },
      });
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
    index++;
  }
  sse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: plan.stop_reason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

async function sendJson(res, plan, model) {
  for (const b of plan.items) {
    if (b.stall) return;  // never answered
    if (b.delay_ms !== undefined) await sleep(b.delay_ms);
  }
  const message = {
    id: rid('msg_fake_'), type: 'message', role: 'assistant', model,
    content: plan.items.filter((b) => b.delay_ms === undefined && !b.stall),
    stop_reason: plan.stop_reason, stop_sequence: null,
    usage: fullUsage(plan.usage),
  };
  reply(res, 200, message, plan.headers);
}

const ERROR_TYPES = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error',
  404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error',
  500: 'api_error', 529: 'overloaded_error',
};

function sendHttpError(res, turn) {
  const status = Number(turn.http_error) || 500;
  const headers = turnHeaders(turn);
  if (turn.retry_after !== undefined) headers['retry-after'] = String(turn.retry_after);
  const type = turn.error_type || ERROR_TYPES[status] || 'api_error';
  reply(res, status, { type: 'error', error: { type, message: turn.message || `fake ${status} (${type})` } }, headers);
}

async function sendStreamError(res, turn, model, stream) {
  const type = typeof turn.stream_error === 'string' ? turn.stream_error : 'overloaded_error';
  const message = turn.message || `fake mid-stream ${type}`;
  if (!stream) {
    sendHttpError(res, { http_error: type === 'overloaded_error' ? 529 : 500, error_type: type, message });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': rid('req_fake_') });
  sse(res, 'message_start', {
    type: 'message_start',
    message: {
      id: rid('msg_fake_'), type: 'message', role: 'assistant', model, content: [],
      stop_reason: null, stop_sequence: null, usage: fullUsage({ input_tokens: 1, output_tokens: 1 }),
    },
  });
  sse(res, 'error', { type: 'error', error: { type, message } });
  res.end();
}

function reply(res, status, obj, headers) {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(obj);
  res.writeHead(status, Object.assign({
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'request-id': rid('req_fake_'),
  }, headers || {}));
  res.end(body);
}

// ---------------------------------------------------------------------------
// Server

function main() {
  const opts = parseArgs(process.argv.slice(2));
  let script = opts.script ? readScriptFile(opts.script) : loadScript({ agents: [] });
  let cursors = new Map(); // agent key -> next turn index
  let seq = 0;
  const seen = new Set();    // agent keys (as strings) that have sent a request
  const awaiting = new Map(); // agent key -> [resolve] of answers held for it

  const sawAgent = (key) => {
    const k = String(key);
    seen.add(k);
    for (const resolve of awaiting.get(k) || []) resolve(true);
    awaiting.delete(k);
  };
  // resolves true once agent `name` has sent a request, false after timeout_ms
  const awaitAgent = (name, timeoutMs) => {
    if (seen.has(name)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const list = awaiting.get(name) || [];
      list.push((v) => { clearTimeout(timer); resolve(v); });
      awaiting.set(name, list);
    });
  };

  const log = (entry) => {
    if (!opts.log) return;
    try {
      fs.appendFileSync(opts.log, JSON.stringify(Object.assign({ ts: new Date().toISOString(), seq: entry.seq }, entry)) + '\n');
    } catch (e) {
      warn(`cannot write log ${opts.log}: ${e.message}`);
    }
  };

  // Takes the next turn of the agent, skipping standalone delays (which are
  // accumulated). Returns {turnIndex, turn, delay_ms}; turn is null when exhausted.
  function nextTurn(agent) {
    let i = cursors.get(agent.key) || 0;
    let delay = 0;
    while (i < agent.turns.length) {
      const t = agent.turns[i];
      const standaloneDelay = t && !Array.isArray(t) && typeof t.delay_ms === 'number' &&
        !('blocks' in t) && !('http_error' in t) && !('stream_error' in t);
      if (!standaloneDelay) break;
      delay += t.delay_ms;
      i++;
    }
    if (i >= agent.turns.length) {
      cursors.set(agent.key, i);
      return { turnIndex: null, turn: null, delay_ms: delay };
    }
    cursors.set(agent.key, i + 1);
    return { turnIndex: i, turn: agent.turns[i], delay_ms: delay };
  }

  async function handleMessages(req, res, body, entry) {
    const model = typeof body.model === 'string' ? body.model : 'claude-fake';
    const stream = body.stream === true;
    const tools = Array.isArray(body.tools) ? body.tools : [];
    const cwd = cwdOf(body);
    Object.assign(entry, {
      model, stream, has_tools: tools.length > 0, n_tools: tools.length, side: tools.length === 0,
      agent: null, turn: null, cwd,
      n_messages: Array.isArray(body.messages) ? body.messages.length : 0,
      tool_results: lastToolResults(body),
      history: historyOf(body),
    });
    const send = (plan) => (stream ? sendStream(res, plan, model) : sendJson(res, plan, model));

    if (tools.length === 0) {
      entry.kind = 'side';
      log(Object.assign(entry, { status: 200 }));
      return send(textPlan('Scripted task', script.usage));
    }

    const prompt = firstUserText(body);
    const lower = prompt.toLowerCase();
    const agent = script.agents.find((a) => a.match === undefined || lower.includes(a.match.toLowerCase()));
    if (!agent) {
      entry.kind = 'no_agent';
      warn(`no scripted agent matches prompt: ${JSON.stringify(prompt.slice(0, 200))}`);
      log(Object.assign(entry, { status: 200 }));
      return send(textPlan('[fake_messages_api] no scripted agent matches this prompt', script.usage));
    }
    entry.agent = agent.key;
    sawAgent(agent.key);
    const { turnIndex, turn, delay_ms } = nextTurn(agent);
    entry.turn = turnIndex;
    if (delay_ms) entry.delay_ms = delay_ms;
    const vars = { cwd, agent: agent.key, turn: turnIndex };

    let kind;
    if (turn === null) kind = 'done';
    else if (!Array.isArray(turn) && 'http_error' in turn) kind = 'http_error';
    else if (!Array.isArray(turn) && 'stream_error' in turn) kind = 'stream_error';
    else kind = 'blocks';
    entry.kind = kind;
    if (kind === 'http_error') entry.status = Number(turn.http_error) || 500;
    else if (kind === 'stream_error' && !stream) entry.status = turn.stream_error === 'overloaded_error' || typeof turn.stream_error !== 'string' ? 529 : 500;
    else entry.status = 200;
    if (kind === 'blocks' && /\{\{cwd\}\}/.test(JSON.stringify(turn)) && !cwd) {
      warn(`agent ${agent.key} turn ${turnIndex} uses {{cwd}} but the system prompt has no working directory`);
    }
    if (kind === 'blocks' && !Array.isArray(turn) && turn.await) {
      const t0 = Date.now();
      entry.ts = new Date(t0).toISOString();  // the arrival, not the end of the wait
      const ok = await awaitAgent(turn.await.agent, Number(turn.await.timeout_ms) || 60000);
      entry.awaited = { agent: turn.await.agent, ok, waited_ms: Date.now() - t0 };
    }
    log(entry);

    if (delay_ms) await sleep(delay_ms);
    if (kind === 'done') return send(textPlan('done', script.usage));
    if (kind === 'http_error') return sendHttpError(res, turn);
    if (kind === 'stream_error') return sendStreamError(res, turn, model, stream);
    const plan = planFromTurn(turn, script.usage, vars);
    if (plan.delay_ms) await sleep(plan.delay_ms);
    return send(plan);
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const entry = { seq: ++seq, method: req.method, path: req.url };
      const pathname = req.url.split('?')[0];
      let body = null;
      const raw = Buffer.concat(chunks).toString('utf8');
      const parseBody = () => {
        if (!raw) return {};
        try { return JSON.parse(raw); } catch (e) { return null; }
      };
      Promise.resolve().then(async () => {
        if ((req.method === 'HEAD' || req.method === 'GET') && pathname === '/') {
          log(Object.assign(entry, { status: 200, kind: 'preflight' }));
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end(req.method === 'HEAD' ? undefined : 'ok\n');
        }
        if (req.method === 'POST' && pathname === '/v1/messages') {
          body = parseBody();
          if (!body || typeof body !== 'object') {
            log(Object.assign(entry, { status: 400, kind: 'bad_json' }));
            return reply(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'body is not JSON' } });
          }
          return handleMessages(req, res, body, entry);
        }
        if (req.method === 'POST' && pathname === '/v1/messages/count_tokens') {
          log(Object.assign(entry, { status: 200, kind: 'count_tokens' }));
          return reply(res, 200, { input_tokens: script.usage.input_tokens });
        }
        if (req.method === 'GET' && pathname === '/_fake/state') {
          return reply(res, 200, { requests: seq, cursors: Object.fromEntries(cursors) });
        }
        if (req.method === 'POST' && pathname === '/_fake/reset') {
          body = parseBody();
          if (body === null) return reply(res, 400, { error: 'body is not JSON' });
          if (Object.keys(body).length) {
            try { script = loadScript(body); } catch (e) { return reply(res, 400, { error: e.message }); }
          }
          cursors = new Map();
          seen.clear();
          log(Object.assign(entry, { status: 200, kind: 'reset' }));
          return reply(res, 200, { ok: true, agents: script.agents.length });
        }
        log(Object.assign(entry, { status: 404, kind: 'unknown' }));
        warn(`unhandled ${req.method} ${req.url}`);
        return reply(res, 404, { type: 'error', error: { type: 'not_found_error', message: `fake: no route ${req.method} ${pathname}` } });
      }).catch((e) => {
        warn(`error handling ${req.method} ${req.url}: ${e.stack || e}`);
        reply(res, 500, { type: 'error', error: { type: 'api_error', message: `fake internal error: ${e.message}` } });
      });
    });
  });
  server.keepAliveTimeout = 5000;

  server.on('error', (e) => die(`cannot listen on ${opts.host}:${opts.port}: ${e.message}`));
  server.listen(opts.port, opts.host, () => {
    process.stdout.write(`LISTENING ${server.address().port}\n`);
  });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections && server.closeAllConnections();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
