---@meta orch
-- LuaCATS annotations for the orch API, for lua-language-server (completion
-- and checks in workflow code). Not loaded at run time. Functions marked
-- ---@async wait: they yield their task and may only be called inside a
-- task (a workflow, a handler, an orch.spawn body, an orch.every tick).

---@class orch.Error
---@field code string      machine-readable kind: "timeout", "cancelled", "not_found", "io", "http", ...
---@field message string   human-readable, also what tostring(err) gives
---@field reason? string   for "cancelled": why
---@field result? table    for "cancelled" exec and run_claude: what the stopped run had (cost, tokens, stdout...)

-- CANCELLATION, one shape for every waiting primitive (orch.sleep,
-- orch.wait, orch.exec, orch.run_claude, orch.http, orch.await_approval):
-- a wait that orch.cancel (or the host stopping: reason "interrupted") ends
-- returns
--     nil, {code = "cancelled", message = "cancelled: <reason>", reason = <reason>}
-- so `local r, err = orch.X(...); if not r and err.code == "cancelled" then`
-- is the one test. exec and run_claude add err.result, the stopped run's
-- own result table (its cost and tokens still count). orch.cancel returns
-- at once: the cancelled task runs on a later loop turn, never inside the
-- call. The same holds for every wake-up of one task by another
-- (orch.resolve_approval, a finished task's orch.wait callers).

---@class orch.ClaudeOptions
---@field prompt string                  the task prompt (sent on stdin)
---@field cwd? string                    working directory (default config.claude.base_cwd)
---@field timeout? number                seconds; the whole process tree is stopped after it (default config.claude.timeout)
---@field stall_timeout? number          seconds without a stream line before the tree is stopped as stalled; 0 = off (default config.claude.stall_timeout)
---@field model? string
---@field max_turns? integer
---@field permission_mode? string        acceptEdits | auto | bypassPermissions | default | dontAsk | manual | plan
---@field allowed_tools? string|string[]
---@field disallowed_tools? string|string[]
---@field append_system_prompt? string
---@field resume? string                 a claude session_id to continue (answers to questions)
---@field extra_args? string[]           more command-line flags
---@field env? table<string,string>      extra environment for the agent
---@field log_path? string               the raw stream-json goes here
---@field kill_grace? number             seconds between SIGTERM and SIGKILL, and how long the agent may stay after its result line
---@field max_log_bytes? integer
---@field nice? integer                  how much nicer than the host the agent runs, 0..19 (default config.claude.nice)
---@field binary? string                 the claude executable (default config.claude.path)
---@field on_event? fun(ev: table): string?  each stream line; return a string to stop the agent as a policy violation
---@field event_types? string[]         only these stream types reach on_event (e.g. {"assistant"}); others are not even parsed

---@class orch.ClaudeResult
---@field ok boolean                     exit 0, is_error false, no permission denials, not stopped
---@field error? string                  why not ok, most specific cause first
---@field result? string                 the agent's final text
---@field session_id string
---@field cost_usd number
---@field tokens integer                 input + output + cache tokens
---@field usage? table
---@field num_turns? integer
---@field duration_ms? integer
---@field exit_code? integer
---@field signal? integer
---@field is_error? boolean
---@field subtype? string
---@field permission_denials table[]
---@field timed_out boolean
---@field stalled? boolean              no stream line for stall_timeout seconds: stopped (error "stalled: no output for N s")
---@field last_event? table             with stalled: {type=, subtype=, tool=} of the last stream line ({} if none came)
---@field violation? string
---@field log_path? string
---@field log_error? string              the output log could not be written (disk full...)
---@field stderr? string                 the last 16 KB of stderr
---@field garbage_lines integer
---@field stopped_after_result? boolean  it did not exit after its result line and was stopped (the result counts)
---@field leftovers_stopped? integer     processes it left running when it exited; they were stopped
---@field warnings? string[]             refused numbers (cost 1e308...), leftovers: orch.run_claude logs each

---@class orch.Decision
---@field action "approve"|"skip"|"pause"|"answer"|"timeout"
---@field text? string                   the answer
---@field by string                      "terminal", "cli:alice", "telegram", "webhook", "answer_file", "timer"
---@field channel? string                how it came: cli, webhook, rest, telegram (the caller's), terminal, answer_file, timer
---@field at? number                     when it was decided (epoch seconds)
---@field id integer                     the request id (the approvals row)

---@class orch
---@field config table                   the effective configuration (workflows/config.lua + environment)
---@field version string
---@field root string                    the project folder
---@field pid integer
---@field executable string              this orch-host binary (the command an agent's hooks call)
---@field config_file string             the config file loaded (absolute)
---@field json orch.json
---@field error_mt table                 metatable of orch.Error values
orch = {}

---Run `claude -p --output-format stream-json --verbose ...` and wait for it.
---Options left out come from config.claude.
---@async
---@param opts orch.ClaudeOptions
---@return orch.ClaudeResult?
---@return orch.Error? err  cancelled only (see CANCELLATION); err.result is the stopped run's result
function orch.run_claude(opts) end

---Send a notification: printed on the terminal now, and queued durably for
---the sinks notify.routes picks (by default n8n and every telegram.chat_id
---chat). Never waits. type "progress" is coalesced; buttons become the
---Telegram message's inline keyboard (rows of {text=, data=} or {text=, url=},
---data at most 64 bytes); telegram_text replaces the message for Telegram
---only. Each sink's request is built in Lua (scripts/orch/notify.lua); a
---malformed buttons table raises.
---@param message string
---@param fields? {type?: "info"|"success"|"error"|"question"|"progress"|"warning", session?: string, task?: string, event?: string, progress?: {done: integer, total: integer}, quiet?: boolean, buttons?: {text: string, data: string}[][], telegram_text?: string}
---@return integer sinks the number of sinks it was queued for
function orch.notify(message, fields) end

---The notification sinks configured (notify.sinks, the n8n and Telegram
---defaults among them), by name ("n8n", "telegram:<chat id>", your own),
---sorted.
---@return string[]
function orch.notify_sinks() end

---Wait for a person: approve / skip / pause (or an answer for kind "question"),
---from the terminal, `orch-host approve|skip|pause|answer`, a webhook, Telegram
---or the answer file, whichever comes first.
---A decision given while no host waited (`orch-host approve` after the host
---died) is returned at once to the next request of the same session, task,
---kind and prompt: a resumed session that asks the same again gets it.
---@async
---@param opts {session?: string, task?: string, kind?: "approval"|"question", prompt?: string, timeout?: number, terminal?: boolean, answer_file?: string}
---@return orch.Decision?
---@return orch.Error? err  cancelled (see CANCELLATION): the request is withdrawn
function orch.await_approval(opts) end

---The decision orch.await_approval with these fields would return at once
---(given while no host waited), or nil; it does not take it. Lets a workflow
---skip asking for a decision it already has.
---@param opts {session: string, task?: string, kind?: "approval"|"question", prompt?: string}
---@return orch.Decision?
function orch.recorded_decision(opts) end

---Resolve a pending approval (by id, or the latest of a session). False when
---nothing was pending or someone else resolved it first. The waiting task
---gets the decision on a later loop turn, not inside this call.
---@param id_or_session integer|string
---@param action string
---@param text? string
---@param by? string
---@param channel? string  cli, webhook, rest, telegram: how the decision came (kept on the row)
---@return boolean
function orch.resolve_approval(id_or_session, action, text, by, channel) end

---Open the request orch.await_approval with the same fields then waits on,
---and return its id, so a notification can name it before the wait. Asking
---the same again (a resumed session) reopens a request that was withdrawn
---without a decision: the id stays; a decided or expired one gets a new id.
---@param opts {session: string, task?: string, kind?: "approval"|"question", prompt?: string}
---@return integer id
function orch.open_approval(opts) end

---A request by its id, whatever its status: pending, resolved, expired (its
---timeout), withdrawn (cancelled, its host stopped); nil when there is none.
---@param id integer
---@return table? row {id=, session_id=, task_id=, kind=, prompt=, status=, action=, text=, by=, channel=, created_at=, resolved_at=}
function orch.get_approval(id) end

---The newest pending approval of a session (nil: of any), of one task when
---task is given (a parallel day has one per waiting task).
---@param session? string
---@param task? string
---@return table? row the pending approval, if any
function orch.pending_approval(session, task) end

---Take the commands other processes send to this session (pause, skip,
---resume...) and dispatch them to orch.on("command", fn); "*" takes every
---session's (serve). A command arrives at once (the writer pokes this
---host's wake socket), or at the latest after config.control.poll_interval. Handlers see cmd.session_id, cmd.command, cmd.args, cmd.by.
---@param session_id string
function orch.watch_session(session_id) end

---Stop taking a session's commands.
---@param session_id string
function orch.unwatch_session(session_id) end

---Queue a command (pause, skip, resume, cancel...) for a session's workflow,
---in this process or another.
---@param session_id string
---@param command string
---@param args? table
---@param by? string
---@return number id
function orch.push_command(session_id, command, args, by) end

---Whether another live host (`orch-host run` or `serve`, in another process)
---holds this state's run lock, so its sessions take commands through
---orch.push_command and decisions through the approvals table. The lock this
---process holds itself does not count (false in the host that runs).
---The second value is that host's pid (the `pid` its sessions store).
---@return boolean
---@return number|nil pid
function orch.host_running() end

---Call fn(payload) in a new task when the host dispatches `event` ("command",
---"shutdown" in serve).
---@param event string
---@param fn fun(payload: table)
function orch.on(event, fn) end

---Remove a handler added with orch.on.
---@param event string
---@param fn function
function orch.off(event, fn) end

---@class orch.Request
---@field id string request id (access log, 5xx bodies)
---@field method string
---@field path string percent-decoded
---@field query string raw query string
---@field args table<string,string> the decoded query
---@field params table<string,string> from {name} segments of the pattern
---@field headers table<string,string> lower-case names
---@field body string
---@field json any the decoded body, when it was JSON
---@field remote string caller address:port

---Register an HTTP route of `orch-host serve`. Only while the server
---workflow (serve.lua) loads; later calls raise. `pattern` segments like
---{name} match one plain segment (no "/", no "..", no leading dot). fn runs
---as a task per request and returns a table (JSON, 200), table + status, a
---string (text/plain), nil (204), nil + err (500), or orch.reply(...).
---@param method "GET"|"POST"|"PUT"|"PATCH"|"DELETE"|"OPTIONS"
---@param pattern string
---@param fn fun(req: orch.Request): any, any
function orch.route(method, pattern, fn) end

---A reply with a status, a value (table -> JSON, string -> text/plain or
---headers["Content-Type"]) and headers.
---@param status integer
---@param value? any
---@param headers? table<string,string>
function orch.reply(status, value, headers) end

---Compare two secrets in time that does not depend on where they differ.
---@param a string
---@param b string
---@return boolean
function orch.secure_compare(a, b) end

---@param query string "a=1&b=two%20words"
---@return table<string,string>
function orch.parse_query(query) end

---Run another workflow (workflows/<name>) as a task of this process, with
---args as its `...`. orch.wait(id) returns its result (the exit code).
---@param name string
---@param args? table
---@return integer? task_id
---@return orch.Error?
function orch.start_workflow(name, args) end

---@param key string
---@param value any JSON-shaped
function orch.save_state(key, value) end

---@param key string
---@return any
function orch.load_state(key) end

---Run fn once; after a restart return its recorded result instead.
---@generic T
---@param key string
---@param fn fun(...): T
---@return T
function orch.step(key, fn, ...) end

---@param key string
function orch.forget_step(key) end

---@param session table {id=, status=, ...}; other fields are kept as data
function orch.save_session(session) end

---@param session_id string
---@param task table {id=, status=, ...}
function orch.save_task(session_id, task) end

---Change only some fields of a stored task (orch.json.null clears one).
---@param session_id string
---@param task_id string
---@param fields table
function orch.update_task(session_id, task_id, fields) end

---With opts.tasks = false, the session row alone (no .tasks), with the
---.summary lib/session stores in it when there is one (status reads only that).
---@param id string
---@param opts? {tasks?: boolean}
---@return table? session with .tasks
function orch.load_session(id, opts) end

---The session's tasks as the JSON text of their array (what the .tasks of
---orch.load_session encode to), without making them Lua tables
---@param id string
---@return string
function orch.session_tasks_json(id) end

---@return string?
function orch.latest_session() end

---@param limit? integer
---@return table[]
function orch.list_sessions(limit) end

---The newest `limit` events (default 20), oldest first; each filter optional.
---@param opts? {session?: string, task?: string, event?: string, limit?: integer}
---@return table[]
function orch.recent_events(opts) end

---The notifications a sink refused for good (the outbox's dead rows, never
---retried): how many, and the newest `limit` (default 5), newest first.
---@param limit? integer
---@return {count: integer, newest: {id: integer, sink: string, type?: string, session?: string, dead_at: number, attempts: integer, last_error: string}[]}
function orch.dead_notifications(limit) end

---Run fn with every state write in one transaction (fn must not wait).
---@param fn function
function orch.atomically(fn, ...) end

---Record an event: a line in logs/events.ndjson, a row, a line in the daily log.
---@param event string
---@param fields? table session= and task= name the session and task
function orch.emit(event, fields) end

---@param level "debug"|"info"|"warn"|"error"
---@param message string
function orch.log(level, message) end

---A line on the terminal, above the live status line.
---@param text string
function orch.print(text) end

---Lines redrawn in place on a terminal, one per key (e.g. one per running
---agent), in the order the keys came; nothing otherwise. status_line(text)
---is the unkeyed line; nil (as the text) removes the key's line.
---@param key_or_text string?
---@param text? string?
function orch.status_line(key_or_text, text) end

---@return boolean
function orch.is_interactive() end

---@return boolean true once SIGINT/SIGTERM asked the host to stop
function orch.interrupted() end

---Picks up a changed .env or config file without a restart. Cheap when
---neither changed (a stat of each: returns {} at once). Else .env is read
---again (a variable it set changes or goes with it; one of the real
---environment keeps winning), the config is built and checked as at start
---and orch.config is updated IN PLACE (the same tables; keys gone are
---removed; _sources too). Returns the keys whose values changed, sorted. A
---bad new config (syntax error, unknown key, wrong type, bad .env line)
---keeps the old one: nil, err naming the file and the key, logged once,
---and returned again until either file changes.
---@return string[]?
---@return orch.Error?
function orch.reload_config() end

---Run another process through the host (timed out, killed as a tree; what it
---leaves running when it exits is stopped too).
---@async
---@param opts {cmd: string[], cwd?: string, timeout?: number, stdin?: string, env?: table<string,string>, max_output?: integer}
---@return {ok: boolean, code?: integer, signal?: integer, stdout: string, stderr: string, timed_out: boolean, truncated: boolean}?
---@return orch.Error?
function orch.exec(opts) end

---An outbound HTTP request on the host's worker threads.
---@async
---@param opts {url: string, method?: string, headers?: table<string,string>, body?: string, content_type?: string, timeout?: number}
---@return {status: integer, body: string, headers: table<string,string>}?
---@return orch.Error?
function orch.http(opts) end

---@return number seconds since the epoch
function orch.now() end

---@return number seconds on a monotonic clock
function orch.monotonic() end

---@async
---@param seconds number
---@return true|nil
---@return orch.Error?
function orch.sleep(seconds) end

---Run fn(...) in a new task (from the next loop turn). Its error is orch.wait's
---false, err (a wait after it died too); one that no wait takes makes
---`orch-host run` exit 2 where it would have exited 0 or 3.
---@param fn function
---@return integer task_id
function orch.spawn(fn, ...) end

---@async
---@param task_id integer
---@param timeout? number
---@return boolean? ok                 false: the task failed (err.code "task_failed") or the timeout passed ("timeout"); nil: this wait was cancelled ("cancelled")
---@return any result_or_error
function orch.wait(task_id, timeout) end

---Cancel what a task waits for; its wait returns nil, {code="cancelled",
---reason=} (see CANCELLATION) on a later loop turn: this call returns first.
---@param task_id integer
---@param reason? string
---@return boolean
function orch.cancel(task_id, reason) end

---@return integer?
function orch.task_id() end

---Call fn in a new task every `seconds`.
---@param seconds number
---@param fn function
---@return fun() stop
function orch.every(seconds, fn) end

---Declare a global on purpose (undeclared global writes are errors).
---@param name string
---@param value any
function orch.global(name, value) end

---The one error constructor (scripts/orch/errors.lua, `require("orch.errors").new`,
---which pure modules use): fields, when given, becomes the error.
---@param code string
---@param message string
---@param fields? table
---@return orch.Error
function orch.err(code, message, fields) end

---Files (relative paths are under the project root).
---read_file reads regular files only (a FIFO, device or directory is an "io"
---error, and never waited on); over max_bytes (default 64 MB) is "too_large".
---@param path string
---@param max_bytes? integer
---@return string?
---@return orch.Error?
function orch.read_file(path, max_bytes) end
---Atomic: a temp file written, fsync'd and renamed into place.
---opts.off_loop: in a task, the write runs on the host's writer thread and the
---task waits for it (the loop goes on; writes land in the order given; the
---wait cannot be cancelled: orch.cancel says false). Where the caller cannot
---wait (outside a task, inside orch.atomically) it is written at once.
---@param path string
---@param text string
---@param opts? {off_loop?: boolean}
---@return true?
---@return orch.Error?
function orch.write_file(path, text, opts) end
---@return true?
---@return orch.Error?
function orch.append_file(path, text) end
---@return string[]?
---@return orch.Error?
function orch.list_dir(path) end
---A symlink is followed: `real` is the path it resolves to (symlinks, "." and
---".." resolved), `link` whether path itself is a symlink.
---@return {type: "file"|"dir"|"other", size: number, mtime: number, path: string, real: string, link: boolean}?
---@return orch.Error?
function orch.file_info(path) end
---Whether some process has the regular file open for writing (the kernel
---refuses a read lease then). false when it cannot tell: not a regular
---file, not this user's, a filesystem without leases.
---@return boolean
function orch.being_written(path) end
---@return true?
---@return orch.Error?
function orch.make_dir(path) end
---rename(2): a symlink is moved itself. With opts.replace = false an
---existing `to` is never replaced (err.code "exists"); err.code "not_found"
---when `from` is gone.
---@param opts? {replace?: boolean}
---@return true?
---@return orch.Error?
function orch.rename(from, to, opts) end
---Removes a file or a symlink (a folder is an "io" error); a missing one is
---"not_found". The error names the path.
---@return true?
---@return orch.Error?
function orch.remove_file(path) end
---A folder's whole tree, symlinks not followed: its newest mtime (the folder's
---and everything's in it), the bytes of its files, its entries. nil when the
---path does not exist; error: a part that could not be read.
---@return {type: "dir"|"other", newest_mtime: number, bytes: number, entries: number, error?: string}?
function orch.tree_info(path) end
---Removes path and all it holds (a symlink is removed itself, never
---followed); "/" is refused. The error names the path.
---@return true?
---@return orch.Error?
function orch.remove_tree(path) end

---@class orch.DirEvent
---@field kind "ready"|"gone"|"dir_removed"|"rescan"
---@field name? string  the file's basename (ready, gone)
---@field path? string  the file's full path (ready, gone)
---@field dir string  the watched folder, absolute

---@class orch.DirWatch
local DirWatch = {}
---Ends the watch: fn is not called again (events already queued are dropped).
function DirWatch:close() end

---Watch a folder (not its sub-folders, but for one named with opts.suffix)
---with inotify on the loop; an idle watch costs nothing. fn(ev) runs in a new
---task for each event, queued on the loop: "ready" (a file closed after
---writing, moved in, or an entry never written there created: a symlink, a
---hard link, a FIFO, a device, a folder named with the suffix; a file still
---open gives nothing yet), "gone" (deleted or moved
---out), "dir_removed" (the folder itself went; the watch waits for it to come
---back), "rescan" (list the folder again: the kernel's queue overflowed, the
---folder came back, or opts.initial_scan at the start). The watch runs until
---handle:close(), whether or not the handle is kept.
---@param path string
---@param fn fun(ev: orch.DirEvent)
---@param opts? {suffix?: string, initial_scan?: boolean}
---@return orch.DirWatch?
---@return orch.Error?
function orch.watch_dir(path, fn, opts) end

---@class orch.json
---@field null lightuserdata  JSON null inside arrays; assigning it clears a field
orch.json = {}
---@param value any
---@param opts? {pretty?: boolean}
---@return string
function orch.json.encode(value, opts) end
---An object's null members are left out, unless opts.nulls: then they are
---orch.json.null (a JSON Schema check must see them). Nulls in arrays are
---always orch.json.null. With opts.unique_keys a key twice in one object
---is an error (the decoder would keep only the last): err names it and
---dup says where.
---@param text string
---@param opts? {nulls?: boolean, unique_keys?: boolean}
---@return any
---@return string? err
---@return {key: string, pointer: string, line: integer, column: integer}? dup
function orch.json.decode(text, opts) end
---Mark a table to encode as an array (also when empty).
---@param t? table
---@return table
function orch.json.array(t) end

---SHA-256 of a string (FIPS 180-4), as `sha256sum` prints it: 64 lowercase hex digits.
---@param text string
---@return string
function orch.sha256(text) end

---@class orch.yaml
orch.yaml = {}
---Decode one YAML document (libyaml; the YAML 1.2 core schema: `yes`, `no` and
---`2026-12-01` stay strings). Mappings become tables with string keys,
---sequences arrays (marked as orch.json.array does), nulls orch.json.null
---(in mappings too, so `key:` with no value is seen). With opts.lines the
---second value maps each table to {key or index = line}: the line of a
---mapping's key, of a sequence's item. Refused, as `nil, err` with err.code
---too_large, too_deep, aliases, syntax, duplicate_key, bad_key, bad_tag or
---documents and err.line/err.column when there is a place: text over
---max_bytes (default 8 MB), nesting over max_depth (default 64, at most
---256), more than max_aliases aliases (default 100) or aliases that copy
---more than 10,000 nodes, a duplicate key, a tag other than !!str/int/float/
---bool/null/seq/map, a second document.
---@param text string
---@param opts? {lines?: boolean, max_bytes?: number, max_depth?: integer, max_aliases?: integer}
---@return any value
---@return table|orch.Error|nil lines_or_err
function orch.yaml.decode(text, opts) end
