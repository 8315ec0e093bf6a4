-- shell_runs: every command a shell command line would run, for policy checks
-- (lib/safety): each simple command (lib/shell_words) from its program on, past
-- leading NAME=value words and wrappers (env, command, exec, sudo, nice,
-- timeout, xargs, chroot, flock, su, script, watch, parallel, ... with their
-- options), and the commands inside bash/sh -c
-- strings, eval, env -S, a shell fed by a here-string, a here-document or
-- `echo ... |`, and find -exec.
--
-- M.runs(text) -> { {program, arg, ...}, ... } | nil, err
--   err: text nested deeper than M.max_depth (shells in shells).
-- M.program(word) -> the program's name without its directory
local shell_words = require("lib.shell_words")

local M = {}

M.max_depth = 8

local function set(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end

-- Commands that run the rest of their words: short options that take a value
-- (the next word if not attached), long ones that take the next word unless
-- written --opt=value, how many operands come before the command, and env's
-- -S/--split-string (a command line in one word).
local WRAPPERS = {
  env = { valued = "uCS", long = set { "--unset", "--chdir", "--split-string" }, split = "S" },
  sudo = { valued = "uUgCpRrtTD", long = set { "--user", "--other-user", "--group", "--chdir", "--host",
    "--prompt", "--role", "--type", "--close-from", "--command-timeout", "--chroot" } },
  doas = { valued = "uC" }, exec = { valued = "a" }, command = {}, builtin = {}, nohup = {}, setsid = {},
  busybox = {}, ["time"] = { valued = "fo", long = set { "--format", "--output" } },
  nice = { valued = "n", long = set { "--adjustment" } },
  ionice = { valued = "cnp", long = set { "--class", "--classdata", "--pid" } },
  timeout = { valued = "ks", long = set { "--kill-after", "--signal" }, operands = 1 },
  stdbuf = { valued = "ioe", long = set { "--input", "--output", "--error" } },
  xargs = { valued = "adEILnPs", long = set { "--arg-file", "--delimiter", "--max-lines", "--max-args",
    "--max-procs", "--max-chars", "--process-slot-var" } },
  chroot = { long = set { "--userspec", "--groups" }, operands = 1 },
  -- a command line given as one word (split): flock -c, su -c, script -c
  flock = { valued = "wEc", split = "c", split_long = "--command",
            long = set { "--timeout", "--conflict-exit-code", "--command" }, operands = 1 },
  su = { valued = "cgGsw", split = "c", split_long = "--command",
         long = set { "--command", "--group", "--supp-group", "--shell", "--whitelist-environment" } },
  script = { valued = "cEIOTBm", split = "c", split_long = "--command",
             long = set { "--command", "--echo", "--log-in", "--log-out", "--log-timing", "--logging-format" } },
  watch = { valued = "nqd", long = set { "--interval", "--differences", "--exec" } },
  parallel = {}, unbuffer = {},
  -- reserved words that may start a command: `if git ...`, `then git ...`, `! git ...`
  ["!"] = {}, ["{"] = {}, ["if"] = {}, ["then"] = {}, ["else"] = {}, ["elif"] = {}, ["do"] = {},
  ["while"] = {}, ["until"] = {},
}
local SHELLS = set { "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "fish" }

local function base(word) return word:match("([^/]+)$") or word end

-- Past the wrapper at w[i] and its options: the index of the command, and env -S's text.
local function skip_wrapper(w, i, spec)
  local split
  i = i + 1
  while w[i] and w[i]:sub(1, 1) == "-" do
    local word = w[i]
    if word == "--" then return i + 1, split end
    if word:sub(1, 2) == "--" then
      local name, value = word:match("^([^=]+)=?(.*)$")
      if spec.long and spec.long[name] and not word:find("=", 1, true) then value, i = w[i + 1], i + 1 end
      if name == "--split-string" or (spec.split_long and name == spec.split_long) then split = value end
    else
      for k = 2, #word do
        local ch = word:sub(k, k)
        if spec.valued and spec.valued:find(ch, 1, true) then
          local value = word:sub(k + 1)
          if value == "" then value, i = w[i + 1], i + 1 end
          if ch == spec.split then split = value end
          break
        end
      end
    end
    i = i + 1
  end
  i = i + (spec.operands or 0)
  -- its command line after the operands: `flock FILE -c 'cmd'`
  if spec.split and not split and (w[i] == "-" .. spec.split or w[i] == spec.split_long) then
    return i + 2, w[i + 1]
  end
  return i, split
end

-- The text a shell at w[i] runs, when it can be read: its -c string, or its stdin.
local function shell_script(w, i)
  local c
  i = i + 1
  while w[i] and w[i]:match("^[-+]") do
    local word = w[i]
    i = i + 1
    if word == "--" or word == "-" then break end
    if word:match("^[-+][oO]$") or word == "--rcfile" or word == "--init-file" then i = i + 1 end
    c = c or (word:match("^%-%a+$") and word:find("c", 2, true)) or word == "--command"
  end
  if c then return w[i] end
  if w[i] then return nil end  -- a script file
  if w.input then return w.input end
  local from = w.piped_from
  if from and (base(from[1]) == "echo" or base(from[1]) == "printf") then
    local j = 2
    while from[j] and from[j]:match("^%-[neE]+$") do j = j + 1 end
    return (table.concat(from, " ", j):gsub("\\n", "\n"))
  end
end

local add_runs

-- The runs of one simple command w into out; false when nested too deeply.
local function runs_of(w, out, depth)
  local i = 1
  while w[i] do
    local prog = base(w[i])
    if w[i]:find("^[%a_][%w_]*=") then
      i = i + 1
    elseif WRAPPERS[prog] then
      local split
      i, split = skip_wrapper(w, i, WRAPPERS[prog])
      if split then return add_runs(split .. " " .. table.concat(w, " ", i), out, depth + 1) end
    else
      break
    end
  end
  if not w[i] then return true end
  local run = { unpack(w, i) }
  out[#out + 1] = run
  local prog = base(run[1])
  local script = SHELLS[prog] and shell_script(w, i) or prog == "eval" and table.concat(run, " ", 2) or nil
  if script and not add_runs(script, out, depth + 1) then return false end
  if prog == "find" then  -- find ... -exec CMD ... ; (or +)
    for j = 2, #run do
      if run[j] == "-exec" or run[j] == "-execdir" or run[j] == "-ok" or run[j] == "-okdir" then
        local sub, k = {}, j + 1
        while run[k] and run[k] ~= ";" and run[k] ~= "+" do sub[#sub + 1], k = run[k], k + 1 end
        if not runs_of(sub, out, depth + 1) then return false end
      end
    end
  end
  return true
end

add_runs = function(text, out, depth)
  if depth > M.max_depth then return false end
  local cmds = shell_words.commands(text)
  if not cmds then return false end
  for _, w in ipairs(cmds) do
    if not runs_of(w, out, depth) then return false end
  end
  return true
end

function M.runs(text)
  local out = {}
  if not add_runs(text, out, 0) then return nil, "nested more than " .. M.max_depth .. " deep" end
  return out
end

M.program = base
return M
