#!/usr/bin/env node
// fake_ollama.js: a loopback stand-in for the Ollama HTTP API, for the tests of
// the optional local model (workflows/lib/ollama.lua). A real Ollama cannot be
// installed on the build machines, so the tests run against this server, which
// answers the documented request and response shapes. Node.js standard library only.
//
// USAGE
//   node tests/fake/fake_ollama.js [--port N] [--port-file FILE] [--mode MODE]
//                                  [--models a,b] [--version V] [--delay-ms N] [--log FILE]
//
//   --port N        port to bind on 127.0.0.1 (default 0: a free port chosen now)
//   --port-file F   the port is written there (atomically) once the server listens
//   --mode MODE     how every request is answered (default: $FAKE_OLLAMA_MODE, else ok)
//   --models LIST   the installed models /api/tags lists (default llama3.1:8b)
//   --version V     what /api/version answers (default 0.5.7-fake)
//   --delay-ms N    how long mode slow waits before answering (default 60000)
//   --log FILE      one JSON line per request: {method, path, body}
//   The FIRST line on stdout is `LISTENING <port>`. SIGTERM/SIGINT stop it (exit 0).
//
// ROUTES (each answers JSON, as Ollama does)
//   GET  /api/version  -> {"version": V}
//   GET  /api/tags     -> {"models": [{"name", "model", "modified_at", "size", "digest", "details"}]}
//   POST /api/generate {model, prompt, stream: false, ...} -> {model, created_at, response, done: true, ...}
//   POST /api/chat     {model, messages, stream: false, format?, ...}
//                      -> {model, created_at, message: {role: "assistant", content}, done: true, ...}
//   A request that is not that shape gets 400 {"error": ...}; a model that is not
//   installed 404 {"error": "model \"x\" not found, try pulling it first"}, like Ollama.
//
// MODES: --mode or $FAKE_OLLAMA_MODE (every route), or a model named fake-MODE
// (that request only; such a model counts as installed):
//   ok       the answers above. /api/generate: a one-line summary naming the
//            prompt's "Status:". /api/chat with a format: a JSON task
//            {type, title, priority, target_files, success_criteria} read from
//            the last user message (type code_review when it says "review", else fix).
//   slow     waits --delay-ms before answering as ok (longer than the client's timeout)
//   garbage  200 with a body that is not JSON
//   shape    200 with JSON of the wrong shape ({"ok": true})
//   500      500 {"error": "fake_ollama: internal error"}
//   badtype  /api/chat answers a task whose type is "deploy" (no known type)
//   dotdot   /api/chat answers a task whose target_files has "../../etc/passwd"
//   echo     /api/generate answers its prompt back
//   (down: the test simply does not start the server, or stops it.)
'use strict';
const http = require('http');
const fs = require('fs');

function die(msg) { process.stderr.write(`fake_ollama: ${msg}\n`); process.exit(2); }

function parseArgs(argv) {
  const o = { port: 0, portFile: null, mode: process.env.FAKE_OLLAMA_MODE || 'ok', models: ['llama3.1:8b'],
              version: '0.5.7-fake', delayMs: 60000, log: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) die(`${a} needs a value`); return argv[++i]; };
    if (a === '--port') o.port = Number(next());
    else if (a === '--port-file') o.portFile = next();
    else if (a === '--mode') o.mode = next();
    else if (a === '--models') o.models = next().split(',').filter(Boolean);
    else if (a === '--version') o.version = next();
    else if (a === '--delay-ms') o.delayMs = Number(next());
    else if (a === '--log') o.log = next();
    else die(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) die('bad --port');
  if (!MODES.has(o.mode)) die(`unknown mode ${o.mode}`);
  return o;
}

const MODES = new Set(['ok', 'slow', 'garbage', 'shape', '500', 'badtype', 'dotdot', 'echo']);
const opts = parseArgs(process.argv.slice(2));
const now = () => new Date().toISOString();

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

function installed(model) {
  if (/^fake-/.test(model)) return true;
  const want = model.includes(':') ? model : `${model}:latest`;
  return opts.models.includes(model) || opts.models.includes(want);
}

function task(text) {
  const words = text.split(/\s+/).filter(Boolean);
  return {
    type: /review/i.test(text) ? 'code_review' : 'fix',
    title: words.slice(0, 4).join(' '),
    priority: /urgent/i.test(text) ? 'high' : 'medium',
    target_files: words.map((w) => w.replace(/[.,;:!?]+$/, ''))
      .filter((w) => /^[\w./-]+\.\w+$/.test(w) && !w.includes('..')),
    success_criteria: ['fake_ollama: the request is done'],
  };
}

function answerGenerate(res, body, mode) {
  if (typeof body.prompt !== 'string') return send(res, 400, { error: 'prompt must be a string' });
  const status = (body.prompt.match(/Status: (\S+)/) || [])[1] || 'unknown';
  const response = mode === 'echo' ? body.prompt
    : `The task ended ${status}; fake_ollama read ${body.prompt.length} characters of its prompt.`;
  send(res, 200, { model: body.model, created_at: now(), response, done: true, done_reason: 'stop',
                   total_duration: 1000, eval_count: 12 });
}

function answerChat(res, body, mode) {
  if (!Array.isArray(body.messages) || body.messages.some((m) => !m || typeof m.content !== 'string'))
    return send(res, 400, { error: 'messages must be a list of {role, content}' });
  const users = body.messages.filter((m) => m.role === 'user');
  const text = users.length ? users[users.length - 1].content : '';
  let content = `(fake_ollama) ${text}`;
  if (body.format !== undefined) {
    const t = task(text);
    if (mode === 'badtype') t.type = 'deploy';
    if (mode === 'dotdot') t.target_files = ['../../etc/passwd'];
    content = JSON.stringify(t);
  }
  send(res, 200, { model: body.model, created_at: now(), message: { role: 'assistant', content }, done: true,
                   done_reason: 'stop', total_duration: 1000, eval_count: 12 });
}

function answer(req, res, raw) {
  const path = req.url.split('?')[0];
  let body = null;
  if (req.method === 'POST') {
    try { body = JSON.parse(raw); } catch (e) { return send(res, 400, { error: 'invalid JSON body' }); }
    if (!body || typeof body !== 'object') return send(res, 400, { error: 'the body must be an object' });
  }
  if (opts.log) fs.appendFileSync(opts.log, JSON.stringify({ method: req.method, path, body }) + '\n');
  const model = body && typeof body.model === 'string' ? body.model : null;
  const mode = model && /^fake-/.test(model) ? model.slice(5) : opts.mode;
  const go = () => {
    if (mode === 'garbage') return send(res, 200, 'this is not JSON {');
    if (mode === '500') return send(res, 500, { error: 'fake_ollama: internal error' });
    if (req.method === 'GET' && path === '/api/version') return send(res, 200, mode === 'shape' ? { ok: true } : { version: opts.version });
    if (req.method === 'GET' && path === '/api/tags') {
      if (mode === 'shape') return send(res, 200, { models: 'none' });
      return send(res, 200, { models: opts.models.map((name) => ({ name, model: name, modified_at: now(), size: 4920753328,
        digest: 'f'.repeat(64), details: { format: 'gguf', family: 'llama', parameter_size: '8.0B' } })) });
    }
    if (req.method !== 'POST' || (path !== '/api/generate' && path !== '/api/chat'))
      return send(res, 404, '404 page not found');
    if (!model) return send(res, 400, { error: 'model is required' });
    if (body.stream !== false) return send(res, 400, { error: 'fake_ollama answers stream: false only' });
    if (!installed(model)) return send(res, 404, { error: `model "${model}" not found, try pulling it first` });
    if (mode === 'shape') return send(res, 200, { ok: true });
    return path === '/api/chat' ? answerChat(res, body, mode) : answerGenerate(res, body, mode);
  };
  if (mode !== 'slow') return go();
  const timer = setTimeout(go, opts.delayMs);
  res.on('close', () => clearTimeout(timer));  // the client gave up: nothing to answer
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
});
server.on('error', (e) => die(`cannot listen on 127.0.0.1:${opts.port}: ${e.message}`));
server.listen(opts.port, '127.0.0.1', () => {
  const port = server.address().port;
  if (opts.portFile) {
    fs.writeFileSync(`${opts.portFile}.tmp`, `${port}\n`);
    fs.renameSync(`${opts.portFile}.tmp`, opts.portFile);
  }
  process.stdout.write(`LISTENING ${port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.close(); process.exit(0); });
