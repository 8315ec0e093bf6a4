#!/usr/bin/env node
// tests/telegram/emulator.js: the Bot API emulator `telegram-test-api` (pinned,
// .deps/npm-telegram, installed by tests/telegram/install.sh) on loopback, plus a
// small control server so that shell tests can act as Telegram users.
//
//   node tests/telegram/emulator.js [--mode telegram|package] [--token T[,T2]]
//                                   [--stub-methods m1,m2] [--exit-with-stdin]
//                                   [--port N] [--control-port N] [--quiet]
//
// When both servers listen it prints ONE line on stdout and nothing else ever:
//   {"api_base":"http://127.0.0.1:PORT","control":"http://127.0.0.1:CTRLPORT","mode":"telegram"}
// Point the bot at TELEGRAM_API_BASE=<api_base> (it calls <api_base>/bot<token>/<method>).
// Logs go to stderr. SIGTERM/SIGINT end it; with --exit-with-stdin it also ends
// when its stdin reaches EOF (the test shell that holds the pipe died).
//
// The package's express app (TelegramServer.webServer) answers the Bot API; this
// file hosts it on its own listener (port 0: the package's config turns port 0
// into 9000) behind a thin front that records every call and, in the default
// --mode telegram, fixes what the package does not emulate faithfully (see
// tests/telegram/README.md: getUpdates offset/timeout/limit, 409 on a second
// poller, text limits, editMessageText errors, answerCallbackQuery ids, Telegram
// error shapes). --mode package leaves every answer to the package.
//
// Control API (JSON in, JSON out; see README.md for every field):
//   POST /send           {"token","chat_id","user_id"?,"text"?,"text_length"?,"sticker"?,"extra"?...}
//   POST /edit           {"token","chat_id","user_id"?,"message_id"?,"text"}   (edited_message; telegram mode)
//   POST /callback       {"token","chat_id","user_id"?,"data","message_id"?}
//   GET  /bot-messages?token=&chat_id=          messages the bot sent (current text/markup)
//   POST /wait           {"token","chat_id"?,"contains"?,"after_message_id"?,"count"?,"timeout"?}
//   GET  /calls?token=&method=                  Bot API calls the bot made
//   POST /wait-call      {"token"?,"method","count"?,"timeout"?}
//   GET  /updates?token=                        user updates and their delivery state
//   POST /wait-confirmed {"token","update_id","timeout"?}               (telegram mode)
//   POST /wait-poll      {"token","timeout"?}     a long getUpdates of the bot is pending (telegram mode)
//   GET  /health
'use strict';

const http = require('http');
const path = require('path');

// ---------- options ----------
const opts = { mode: 'telegram', tokens: null, stubs: new Set(), exitWithStdin: false,
               port: 0, controlPort: 0, quiet: false };
{
  const argv = process.argv.slice(2);
  const need = (i) => { if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`); return argv[i + 1]; };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--mode') { opts.mode = need(i); i++; }
    else if (a === '--token') { opts.tokens = new Set(need(i).split(',').filter(Boolean)); i++; }
    else if (a === '--stub-methods') { need(i).split(',').filter(Boolean).forEach((m) => opts.stubs.add(m)); i++; }
    else if (a === '--exit-with-stdin') opts.exitWithStdin = true;
    else if (a === '--port') { opts.port = Number(need(i)); i++; }
    else if (a === '--control-port') { opts.controlPort = Number(need(i)); i++; }
    else if (a === '--quiet') opts.quiet = true;
    else if (a === '-h' || a === '--help') usage(null);
    else usage(`unknown argument ${a}`);
  }
  if (opts.mode !== 'telegram' && opts.mode !== 'package') usage('--mode is telegram or package');
}
function usage(err) {
  const text = 'usage: emulator.js [--mode telegram|package] [--token T[,T2]] [--stub-methods m1,m2]\n'
             + '                   [--exit-with-stdin] [--port N] [--control-port N] [--quiet]\n';
  if (err) { process.stderr.write(`emulator: ${err}\n${text}`); process.exit(2); }
  process.stdout.write(text); process.exit(0);
}
const TELEGRAM = opts.mode === 'telegram';
const log = (...a) => { if (!opts.quiet) process.stderr.write(`[tg-emulator] ${a.join(' ')}\n`); };

// ---------- the package ----------
const PKG_DIR = process.env.TELEGRAM_TEST_API_DIR
  || path.join(__dirname, '..', '..', '.deps', 'npm-telegram', 'node_modules', 'telegram-test-api');
let TelegramServer;
try {
  TelegramServer = require(PKG_DIR);
} catch (e) {
  process.stderr.write(`emulator: cannot load telegram-test-api from ${PKG_DIR}: ${e.message}\n`
                     + 'emulator: run bash tests/telegram/install.sh\n');
  process.exit(3);
}
// storeTimeout only matters to the clean-up daemon that TelegramServer.start()
// starts; start() is not called (we listen ourselves), so nothing ever expires.
const server = new TelegramServer({ host: '127.0.0.1', port: 1, storeTimeout: 86400 });
const app = server.webServer;            // the package's express app: (req, res) handler
const storage = () => server.storage;    // {userMessages: [...], botMessages: [...]}

const BOT_USER = { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' }; // = package getMe
const MAX_TEXT = 4096;
const MAX_CALLBACK_DATA = 64;

// ---------- waiting without sleeping ----------
const waiters = new Set();
function notify() {
  for (const w of [...waiters]) {
    let r;
    try { r = w.check(); } catch (e) { r = { error: e.message }; }
    if (r) { waiters.delete(w); clearTimeout(w.timer); w.done(r); }
  }
  wakePollers();
}
// waitFor(check, seconds, done, onTimeout): check() returns a truthy result when satisfied.
function waitFor(check, seconds, done, onTimeout, res) {
  const first = check();
  if (first) { done(first); return; }
  const w = { check, done };
  w.timer = setTimeout(() => { waiters.delete(w); onTimeout(); }, Math.max(0, seconds) * 1000);
  waiters.add(w);
  if (res) res.on('close', () => { if (!res.writableEnded) { waiters.delete(w); clearTimeout(w.timer); } });
}
for (const ev of ['AddedBotMessage', 'EditedMessageText', 'EditedMessageReplyMarkup',
                  'AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery']) {
  server.on(ev, () => setImmediate(notify)); // the package emits before its own bookkeeping ends
}

// ---------- call log ----------
const calls = [];            // last CALL_LOG_MAX bot API calls
const callCounts = new Map(); // "token\0method" and "\0method" -> count ever
const CALL_LOG_MAX = 20000;
let callSeq = 0;
function countKey(token, method) { return `${token || ''}\0${method}`; }

// ---------- helpers ----------
function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
const tgError = (res, code, description) => sendJson(res, code, { ok: false, error_code: code, description });
const tgOk = (res, result) => sendJson(res, 200, { ok: true, result });

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = []; let n = 0;
    req.on('data', (c) => { n += c.length; if (n > limit) { reject(new Error('body too large')); req.destroy(); } else chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
function parseJsonMaybe(v) {
  if (typeof v !== 'string') return v;
  return JSON.parse(v);
}
function int(v, dflt) {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : NaN;
}
const nowSec = () => Math.floor(Date.now() / 1000);

function updateType(u) {
  if ('callbackQuery' in u) return 'callback_query';
  if (u.tgKind === 'edited_message') return 'edited_message';
  return 'message';
}
// The update as the bot sees it (telegram mode): the package's own formatUpdate,
// minus the package's internal botToken field, with edited_message and chat_instance.
function formatUpdate(u) {
  const f = TelegramServer.formatUpdate(u);
  if (f.message) {
    const m = { ...f.message }; delete m.botToken;
    if (u.tgKind === 'edited_message') { delete f.message; f.edited_message = m; } else f.message = m;
  }
  if (f.callback_query) {
    const q = { ...f.callback_query };
    q.chat_instance = String(u.tgChatInstance !== undefined ? u.tgChatInstance : (q.message && q.message.chat ? q.message.chat.id : ''));
    f.callback_query = q;
  }
  return f;
}
function botMessageView(u) {
  const m = { ...u.message, message_id: u.messageId };
  delete m.botToken;
  if (u.tgEdits) { m.edit_count = u.tgEdits; m.edit_date = u.tgEditDate; }
  return m;
}
function botMessagesFor(token, chatId) {
  return storage().botMessages
    .filter((u) => u.botToken === token && (chatId === undefined || chatId === null || chatId === ''
                                            || String(u.message.chat_id) === String(chatId)))
    .sort((a, b) => a.messageId - b.messageId)
    .map(botMessageView);
}
function inlineButtons(markup) {
  const out = [];
  if (markup && Array.isArray(markup.inline_keyboard)) {
    for (const row of markup.inline_keyboard) if (Array.isArray(row)) for (const b of row) out.push(b);
  }
  return out;
}

// ---------- Bot API front (telegram mode fixes) ----------
const tokenState = new Map(); // token -> {confirmedBelow, poll, allowed}
function stateOf(token) {
  let s = tokenState.get(token);
  if (!s) { s = { confirmedBelow: 0, poll: null, allowed: null }; tokenState.set(token, s); }
  return s;
}
function userUpdates(token) {
  return storage().userMessages.filter((u) => u.botToken === token).sort((a, b) => a.updateId - b.updateId);
}
function confirmBelow(token, offset) {
  const s = stateOf(token);
  if (offset > s.confirmedBelow) s.confirmedBelow = offset;
  for (const u of userUpdates(token)) if (u.updateId < s.confirmedBelow) u.tgConfirmed = true;
}
function pendingFor(token, offset, limit) {
  const s = stateOf(token);
  return userUpdates(token)
    .filter((u) => !u.tgConfirmed && u.updateId >= offset
                   && (!s.allowed || s.allowed.length === 0 || s.allowed.includes(updateType(u))))
    .slice(0, limit);
}
function deliver(list) {
  return list.map((u) => { u.isRead = true; u.tgDeliveries = (u.tgDeliveries || 0) + 1; return formatUpdate(u); });
}
function wakePollers() {
  for (const [token, s] of tokenState) {
    const p = s.poll;
    if (!p) continue;
    const list = pendingFor(token, p.offset, p.limit);
    if (list.length) { s.poll = null; clearTimeout(p.timer); tgOk(p.res, deliver(list)); }
  }
}

function handleGetUpdates(token, params, res) {
  const s = stateOf(token);
  if (server.webhooks[token]) return tgError(res, 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
  let offset = int(params.offset, 0);
  let limit = int(params.limit, 100);
  const timeout = int(params.timeout, 0);
  if ([offset, limit, timeout].some(Number.isNaN)) return tgError(res, 400, 'Bad Request: offset, limit and timeout must be integers');
  limit = Math.min(100, Math.max(1, limit));
  if (params.allowed_updates !== undefined) {
    let a;
    try { a = parseJsonMaybe(params.allowed_updates); } catch (e) { return tgError(res, 400, "Bad Request: can't parse allowed_updates JSON array"); }
    if (!Array.isArray(a)) return tgError(res, 400, 'Bad Request: allowed_updates must be an array');
    s.allowed = a; // Telegram keeps the setting for later calls too
  }
  if (s.poll) { // Telegram: the newer request wins, the older one gets 409
    const old = s.poll; s.poll = null; clearTimeout(old.timer);
    tgError(old.res, 409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
  }
  if (offset > 0) confirmBelow(token, offset);
  else if (offset < 0) { // keep only the last -offset unconfirmed updates; forget the rest
    const unconf = userUpdates(token).filter((u) => !u.tgConfirmed);
    unconf.slice(0, Math.max(0, unconf.length + offset)).forEach((u) => { u.tgConfirmed = true; });
    offset = 0;
  }
  const list = pendingFor(token, offset, limit);
  if (list.length || timeout <= 0) { tgOk(res, deliver(list)); setImmediate(notify); return; }
  const p = { res, offset, limit };
  p.timer = setTimeout(() => { if (s.poll === p) { s.poll = null; tgOk(res, []); } }, timeout * 1000);
  s.poll = p;
  res.on('close', () => { if (s.poll === p && !res.writableEnded) { s.poll = null; clearTimeout(p.timer); } });
  setImmediate(notify); // /wait-confirmed may now be satisfied
}

function validateMarkup(params) {
  if (params.reply_markup === undefined) return null;
  let m;
  try { m = parseJsonMaybe(params.reply_markup); } catch (e) { return "Bad Request: can't parse reply keyboard markup JSON object"; }
  if (!m || typeof m !== 'object') return "Bad Request: can't parse reply keyboard markup JSON object";
  if ('inline_keyboard' in m) {
    if (!Array.isArray(m.inline_keyboard) || m.inline_keyboard.some((r) => !Array.isArray(r))) {
      return 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays';
    }
    for (const b of inlineButtons(m)) {
      if (!b || typeof b.text !== 'string') return "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
      if (b.callback_data !== undefined
          && (typeof b.callback_data !== 'string' || Buffer.byteLength(b.callback_data) < 1
              || Buffer.byteLength(b.callback_data) > MAX_CALLBACK_DATA)) return 'Bad Request: BUTTON_DATA_INVALID';
    }
  }
  params.reply_markup = m;
  return null;
}
function validateText(text) {
  if (text === undefined || text === null || String(text).length === 0) return 'Bad Request: message text is empty';
  if (String(text).length > MAX_TEXT) return 'Bad Request: message is too long';
  return null;
}

function handleSendMessage(token, params, req, res) {
  if (params.chat_id === undefined || params.chat_id === '') return tgError(res, 400, 'Bad Request: chat_id is empty');
  const err = validateText(params.text) || validateMarkup(params);
  if (err) return tgError(res, 400, err);
  delegate(req, res, params);
}

function handleEditMessageText(token, params, res) {
  if (params.inline_message_id !== undefined) return tgError(res, 400, 'Bad Request: inline_message_id is not emulated (no inline mode)');
  if (params.chat_id === undefined || params.message_id === undefined) return tgError(res, 400, 'Bad Request: chat_id and message_id are required');
  const err = validateText(params.text) || validateMarkup(params);
  if (err) return tgError(res, 400, err);
  const u = storage().botMessages.find((b) => b.botToken === token && String(b.messageId) === String(params.message_id)
                                             && String(b.message.chat_id) === String(params.chat_id));
  if (!u) return tgError(res, 400, 'Bad Request: message to edit not found');
  const cur = u.message;
  const curMarkup = cur.reply_markup && 'inline_keyboard' in cur.reply_markup ? cur.reply_markup : undefined;
  if (String(cur.text) === String(params.text) && JSON.stringify(curMarkup) === JSON.stringify(params.reply_markup)) {
    return tgError(res, 400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
  }
  server.editMessageText({ ...params }); // the package merges the fields into its stored message
  if (params.reply_markup === undefined) delete u.message.reply_markup; // Telegram: no markup = keyboard removed
  u.tgEdits = (u.tgEdits || 0) + 1;
  u.tgEditDate = nowSec();
  const v = botMessageView(u);
  tgOk(res, { message_id: u.messageId, from: BOT_USER,
              chat: { id: Number(v.chat_id), type: Number(v.chat_id) < 0 ? 'group' : 'private' },
              date: Math.floor(u.time / 1000), edit_date: u.tgEditDate, text: v.text,
              ...(v.reply_markup ? { reply_markup: v.reply_markup } : {}) });
}

function handleAnswerCallbackQuery(token, params, res) {
  const id = params.callback_query_id;
  const u = id === undefined ? null
    : storage().userMessages.find((x) => x.botToken === token && 'callbackQuery' in x && String(x.callbackId) === String(id));
  if (!u || !u.tgDeliveries || u.tgAnswered) {
    return tgError(res, 400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
  }
  u.tgAnswered = { text: params.text, show_alert: params.show_alert, url: params.url };
  tgOk(res, true);
}

// Hand the request to the package's express app with the body already parsed
// (body-parser skips a request whose req._body is set).
function delegate(req, res, body) {
  req.body = body;
  req._body = true;
  app(req, res);
}

async function handleBotApi(req, res, token, method) {
  const url = new URL(req.url, 'http://x');
  const query = Object.fromEntries(url.searchParams);
  let raw;
  try { raw = await readBody(req, 50 * 1024 * 1024); } catch (e) { return tgError(res, 413, 'Request Entity Too Large'); }
  const ctype = String(req.headers['content-type'] || '').toLowerCase();
  let body = {};
  if (raw.length) {
    if (ctype.startsWith('application/json')) {
      try { body = JSON.parse(raw); } catch (e) {
        if (!TELEGRAM) return sendJson(res, 500, { message: `Something went wrong. ${e}` }); // what the package says
        return tgError(res, 400, "Bad Request: can't parse JSON object");
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) body = {};
    } else if (ctype.startsWith('application/x-www-form-urlencoded')) {
      body = Object.fromEntries(new URLSearchParams(raw));
    } else if (ctype.startsWith('multipart/form-data') && TELEGRAM) {
      return tgError(res, 501, 'multipart/form-data is not emulated (telegram-test-api parses JSON and URL-encoded bodies only)');
    }
  }
  // Telegram reads parameters from the query string too; the package reads only the body.
  const params = TELEGRAM ? { ...query, ...body } : body;

  const rec = { seq: ++callSeq, time: Date.now() / 1000, token, method, http_method: req.method,
                params: JSON.parse(JSON.stringify(params)), status: null, response: null };
  const chunks = [];
  const w = res.write.bind(res), e = res.end.bind(res);
  res.write = (c, ...r) => { if (c) chunks.push(Buffer.from(c)); return w(c, ...r); };
  res.end = (c, ...r) => { if (c && typeof c !== 'function') chunks.push(Buffer.from(c)); return e(c, ...r); };
  res.on('finish', () => {
    rec.status = res.statusCode;
    const text = Buffer.concat(chunks).toString('utf8');
    try { rec.response = JSON.parse(text); } catch (_) { rec.response = text; }
    calls.push(rec);
    if (calls.length > CALL_LOG_MAX) calls.splice(0, calls.length - CALL_LOG_MAX);
    for (const k of [countKey(token, method), countKey('', method)]) callCounts.set(k, (callCounts.get(k) || 0) + 1);
    const quietPoll = method === 'getUpdates' && rec.status === 200 && rec.response && Array.isArray(rec.response.result)
                      && rec.response.result.length === 0;
    if (!quietPoll) log(`${method} -> ${rec.status} ${JSON.stringify(params).slice(0, 300)}`);
    setImmediate(notify);
  });

  if (req.method !== 'GET' && req.method !== 'POST') return delegate(req, res, params); // package refuses it
  if (opts.tokens && TELEGRAM && !opts.tokens.has(token)) return tgError(res, 401, 'Unauthorized');
  if (opts.stubs.has(method)) return tgOk(res, true);
  if (!TELEGRAM) return delegate(req, res, params);
  switch (method) {
    case 'getUpdates': return handleGetUpdates(token, params, res);
    case 'sendMessage': return handleSendMessage(token, params, req, res);
    case 'editMessageText': return handleEditMessageText(token, params, res);
    case 'answerCallbackQuery': return handleAnswerCallbackQuery(token, params, res);
    default: return delegate(req, res, params);
  }
}

const apiServer = http.createServer((req, res) => {
  const m = /^\/bot([^/]+)\/([^/?]+)/.exec(req.url);
  if (!m) { app(req, res); return; } // the package's own client routes (/sendMessage, /getUpdates, ...)
  let token = m[1];
  try { token = decodeURIComponent(token); } catch (_) { /* keep raw */ }
  handleBotApi(req, res, token, m[2]).catch((e) => {
    log(`internal error: ${e.stack}`);
    if (!res.headersSent) sendJson(res, 500, { ok: false, error_code: 500, description: `emulator: ${e.message}` });
  });
});

// ---------- control server ----------
function need(body, ...keys) {
  for (const k of keys) if (body[k] === undefined || body[k] === null || body[k] === '') throw httpErr(400, `missing "${k}"`);
}
function httpErr(status, message) { const e = new Error(message); e.status = status; return e; }

function userAndChat(b) {
  const chatId = Number(b.chat_id);
  const userId = Number(b.user_id !== undefined ? b.user_id : b.chat_id);
  if (!Number.isFinite(chatId) || !Number.isFinite(userId)) throw httpErr(400, 'chat_id and user_id must be numbers');
  const from = { id: userId, is_bot: false, first_name: b.first_name || `User${userId}`,
                 username: b.username || `user${userId}`, language_code: 'en' };
  const type = b.chat_type || (chatId < 0 ? 'group' : 'private');
  const chat = type === 'private'
    ? { id: chatId, first_name: from.first_name, username: from.username, type }
    : { id: chatId, title: b.chat_title || `Chat ${chatId}`, type };
  return { from, chat };
}

async function ctlSend(b) {
  need(b, 'token', 'chat_id');
  const { from, chat } = userAndChat(b);
  const msg = { botToken: b.token, from, chat, date: nowSec() };
  let text = b.text;
  if (b.text_length !== undefined) {
    const n = int(b.text_length, 0);
    const unit = text || 'Lorem ipsum dolor sit amet 0123456789. ';
    text = unit.repeat(Math.ceil(n / unit.length) + 1).slice(0, n);
  }
  if (b.sticker) {
    msg.sticker = typeof b.sticker === 'object' ? b.sticker
      : { file_id: 'CAACAgIAAxkBAAEBemulatorSticker', file_unique_id: 'AgADemu', type: 'regular',
          width: 512, height: 512, is_animated: false, is_video: false, emoji: '\u{1F44D}' };
  } else if (text === undefined && !b.extra) throw httpErr(400, 'give "text", "text_length", "sticker" or "extra"');
  if (text !== undefined) msg.text = String(text);
  if (b.reply_to_message_id !== undefined) msg.reply_to_message = { message_id: Number(b.reply_to_message_id), chat };
  if (b.entities) msg.entities = b.entities;
  else if (msg.text && msg.text.startsWith('/')) { // Telegram marks a leading command
    const sp = msg.text.search(/\s/);
    msg.entities = [{ offset: 0, length: sp < 0 ? msg.text.length : sp, type: 'bot_command' }];
  }
  if (b.extra && typeof b.extra === 'object') Object.assign(msg, b.extra);
  const updateId = server.updateId, messageId = server.messageId;
  if (msg.entities && msg.entities.some((x) => x.type === 'bot_command')) await server.addUserCommand(msg);
  else await server.addUserMessage(msg);
  return { ok: true, update_id: updateId, message_id: messageId };
}

function ctlEdit(b) {
  if (!TELEGRAM) throw httpErr(501, 'telegram-test-api has no edited_message updates; /edit needs --mode telegram');
  need(b, 'token', 'chat_id', 'text');
  const { from } = userAndChat(b);
  const orig = userUpdates(b.token).filter((u) => u.message && u.tgKind !== 'edited_message'
      && String(u.message.chat.id) === String(b.chat_id) && u.message.from.id === from.id
      && (b.message_id === undefined || String(u.messageId) === String(b.message_id))).pop();
  if (!orig) throw httpErr(404, 'no message from this user in this chat to edit');
  const message = { ...orig.message, text: String(b.text), edit_date: nowSec() };
  delete message.entities;
  if (message.text.startsWith('/')) {
    const sp = message.text.search(/\s/);
    message.entities = [{ offset: 0, length: sp < 0 ? message.text.length : sp, type: 'bot_command' }];
  }
  const u = { ...server.getCommonFields(b.token), messageId: orig.messageId, message, tgKind: 'edited_message' };
  storage().userMessages.push(u); // same shape and counter as the package's addUserUpdate
  server.updateId++;
  setImmediate(notify);
  return { ok: true, update_id: u.updateId, message_id: u.messageId };
}

async function ctlCallback(b) {
  need(b, 'token', 'chat_id', 'data');
  const { from } = userAndChat(b);
  const mine = storage().botMessages.filter((u) => u.botToken === b.token && String(u.message.chat_id) === String(b.chat_id));
  let target;
  if (b.message_id !== undefined) {
    target = mine.find((u) => String(u.messageId) === String(b.message_id));
    if (!target) throw httpErr(404, `the bot sent no message ${b.message_id} to chat ${b.chat_id}`);
  } else {
    target = mine.filter((u) => inlineButtons(u.message.reply_markup).some((x) => x.callback_data === String(b.data))).pop();
    if (!target) throw httpErr(409, `no bot message in chat ${b.chat_id} has a button with callback_data ${JSON.stringify(b.data)} (give message_id to press a stale button anyway)`);
  }
  const view = botMessageView(target);
  const message = { message_id: target.messageId, from: BOT_USER,
                    chat: { id: Number(b.chat_id), type: Number(b.chat_id) < 0 ? 'group' : 'private' },
                    date: Math.floor(target.time / 1000), text: view.text };
  if (view.reply_markup && 'inline_keyboard' in view.reply_markup) message.reply_markup = view.reply_markup;
  if (view.edit_date) message.edit_date = view.edit_date;
  const updateId = server.updateId, callbackId = server.callbackId;
  await server.addUserCallback({ botToken: b.token, from, message, data: String(b.data), date: nowSec() });
  return { ok: true, update_id: updateId, callback_query_id: String(callbackId), message_id: target.messageId };
}

function ctlWait(b, res, reply) {
  need(b, 'token');
  const after = int(b.after_message_id, 0), count = int(b.count, 1);
  const matches = () => botMessagesFor(b.token, b.chat_id)
    .filter((m) => m.message_id > after && (b.contains === undefined || String(m.text || '').includes(String(b.contains))));
  waitFor(() => { const ms = matches(); return ms.length >= count ? { ok: true, message: ms[count - 1], messages: ms } : null; },
    Number(b.timeout !== undefined ? b.timeout : 30),
    (r) => reply(200, r),
    () => reply(408, { ok: false, error: 'timeout', waited_for: b, bot_messages: botMessagesFor(b.token, b.chat_id) }), res);
}

function callsFor(token, method) {
  return calls.filter((c) => (!token || c.token === token) && (!method || c.method === method));
}
function ctlWaitCall(b, res, reply) {
  need(b, 'method');
  const count = int(b.count, 1);
  waitFor(() => ((callCounts.get(countKey(b.token, b.method)) || 0) >= count
                 ? { ok: true, calls: callsFor(b.token, b.method) } : null),
    Number(b.timeout !== undefined ? b.timeout : 30),
    (r) => reply(200, r),
    () => reply(408, { ok: false, error: 'timeout', waited_for: b, calls: callsFor(b.token, b.method) }), res);
}
function updatesView(token) {
  return userUpdates(token).map((u) => ({
    update_id: u.updateId, type: updateType(u),
    state: u.tgConfirmed ? 'confirmed' : (u.tgDeliveries || u.isRead) ? 'delivered' : 'pending',
    deliveries: u.tgDeliveries || (u.isRead ? 1 : 0),
    ...(u.tgAnswered ? { answered: u.tgAnswered } : {}),
    update: formatUpdate(u),
  }));
}
function ctlWaitConfirmed(b, res, reply) {
  if (!TELEGRAM) throw httpErr(501, 'telegram-test-api ignores offset; /wait-confirmed needs --mode telegram');
  need(b, 'token', 'update_id');
  const id = int(b.update_id, 0);
  waitFor(() => (stateOf(b.token).confirmedBelow > id ? { ok: true, confirmed_below: stateOf(b.token).confirmedBelow } : null),
    Number(b.timeout !== undefined ? b.timeout : 30),
    (r) => reply(200, r),
    () => reply(408, { ok: false, error: 'timeout', waited_for: b, updates: updatesView(b.token) }), res);
}

function ctlWaitPoll(b, res, reply) {
  if (!TELEGRAM) throw httpErr(501, 'telegram-test-api has no long polling; /wait-poll needs --mode telegram');
  need(b, 'token');
  waitFor(() => (stateOf(b.token).poll ? { ok: true, offset: stateOf(b.token).poll.offset } : null),
    Number(b.timeout !== undefined ? b.timeout : 30),
    (r) => reply(200, r),
    () => reply(408, { ok: false, error: 'timeout', waited_for: b, calls: callsFor(b.token, 'getUpdates').slice(-5) }), res);
}

const controlServer = http.createServer(async (req, res) => {
  const reply = (status, obj) => { if (!res.writableEnded) sendJson(res, status, obj); };
  try {
    const url = new URL(req.url, 'http://x');
    const q = Object.fromEntries(url.searchParams);
    const raw = await readBody(req, 50 * 1024 * 1024);
    let b = {};
    if (raw.trim()) { try { b = JSON.parse(raw); } catch (e) { throw httpErr(400, `body is not JSON: ${e.message}`); } }
    const key = `${req.method} ${url.pathname}`;
    switch (key) {
      case 'GET /health': return reply(200, { ok: true, mode: opts.mode });
      case 'POST /send': return reply(200, await ctlSend(b));
      case 'POST /edit': return reply(200, ctlEdit(b));
      case 'POST /callback': return reply(200, await ctlCallback(b));
      case 'GET /bot-messages': need(q, 'token'); return reply(200, botMessagesFor(q.token, q.chat_id));
      case 'POST /wait': return ctlWait(b, res, reply);
      case 'GET /calls': return reply(200, callsFor(q.token, q.method));
      case 'POST /wait-call': return ctlWaitCall(b, res, reply);
      case 'GET /updates': need(q, 'token'); return reply(200, updatesView(q.token));
      case 'POST /wait-confirmed': return ctlWaitConfirmed(b, res, reply);
      case 'POST /wait-poll': return ctlWaitPoll(b, res, reply);
      default: throw httpErr(404, `no control route ${key}`);
    }
  } catch (e) {
    reply(e.status || 500, { ok: false, error: e.message });
  }
});

// ---------- start ----------
function listen(srv, port) {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => { srv.off('error', reject); resolve(srv.address().port); });
  });
}
(async () => {
  for (const srv of [apiServer, controlServer]) { srv.requestTimeout = 0; srv.keepAliveTimeout = 65000; }
  const apiPort = await listen(apiServer, opts.port);
  const ctlPort = await listen(controlServer, opts.controlPort);
  process.stdout.write(`${JSON.stringify({ api_base: `http://127.0.0.1:${apiPort}`, control: `http://127.0.0.1:${ctlPort}`, mode: opts.mode })}\n`);
  log(`telegram-test-api ${require(path.join(PKG_DIR, 'package.json')).version} (${opts.mode} mode) on 127.0.0.1:${apiPort}, control on 127.0.0.1:${ctlPort}`);
})().catch((e) => { process.stderr.write(`emulator: cannot listen: ${e.message}\n`); process.exit(1); });

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => process.exit(0));
process.stdout.on('error', () => {}); // the reader of the ready line may be gone
if (opts.exitWithStdin) { process.stdin.on('end', () => process.exit(0)); process.stdin.on('error', () => process.exit(0)); process.stdin.resume(); }
