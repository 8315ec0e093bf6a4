-- shell_words: a shell command line -> its simple commands, for policy checks
-- (lib/shell_runs, lib/safety). It follows the sh/bash grammar far enough to
-- see the commands, and evaluates nothing (variables, aliases, globs stay as
-- written):
--   * commands are split at ; & && || | |& ( ) and newlines;
--   * words are unquoted ('...', "...", $'...', backslashes): g'i't is git;
--   * $( ), ` `, <( ) and >( ) are parsed as commands too, also inside "..." and
--     unquoted here-documents; the word that held one holds M.SUBST instead;
--   * comments, redirections and their targets are dropped; a here-string or a
--     here-document is the command's .input, and a command after | has
--     .piped_from (the command before it).
--
-- M.commands(text) -> { {word, ..., input=, piped_from=}, ... } | nil, err
--   err: substitutions nested deeper than M.max_depth.
local M = {}

M.max_depth = 8
M.SUBST = "$(...)"

local ANSI = { n = "\n", t = "\t", r = "\r", a = "\a", b = "\b", e = "\27", E = "\27", f = "\f", v = "\v" }

local parse_list

-- p (parser state): s text, i position, depth, out (commands found), too_deep
local function substitution(p, close)
  if p.depth >= M.max_depth then
    p.too_deep, p.i = true, #p.s + 1
    return
  end
  p.depth = p.depth + 1
  parse_list(p, close)
  p.depth = p.depth - 1
end

-- The inside of "..." from p.i (stop '"'), or of an unquoted here-document (stop nil).
local function dquoted(p, stop)
  local s, buf = p.s, {}
  while p.i <= #s do
    local c, n = s:sub(p.i, p.i), s:sub(p.i + 1, p.i + 1)
    if c == stop then
      p.i = p.i + 1
      break
    elseif c == "\\" then
      if n == "$" or n == "`" or n == '"' or n == "\\" then buf[#buf + 1] = n
      elseif n ~= "\n" then buf[#buf + 1] = c .. n end
      p.i = p.i + 2
    elseif c == "$" and n == "(" then
      p.i = p.i + 2
      substitution(p, ")")
      buf[#buf + 1] = M.SUBST
    elseif c == "`" then
      p.i = p.i + 1
      substitution(p, "`")
      buf[#buf + 1] = M.SUBST
    else
      buf[#buf + 1] = c
      p.i = p.i + 1
    end
  end
  return table.concat(buf)
end

-- $'...' from p.i (after the quote): the decoded text.
local function ansi_c(p)
  local s, buf = p.s, {}
  while p.i <= #s do
    local c = s:sub(p.i, p.i)
    p.i = p.i + 1
    if c == "'" then break end
    if c == "\\" then
      local n = s:sub(p.i, p.i)
      local hex, oct = n == "x" and s:match("^%x%x?", p.i + 1), s:match("^[0-7][0-7]?[0-7]?", p.i)
      if hex then buf[#buf + 1], p.i = string.char(tonumber(hex, 16)), p.i + 1 + #hex
      elseif oct then buf[#buf + 1], p.i = string.char(tonumber(oct, 8) % 256), p.i + #oct
      else buf[#buf + 1], p.i = ANSI[n] or n, p.i + 1 end
    else
      buf[#buf + 1] = c
    end
  end
  return table.concat(buf)
end

-- A redirection operator at p.i: skips it; what the next word is (nil: none).
local function redirection(p)
  local op = p.s:match("^&?[<>]+", p.i)
  p.i = p.i + #op
  if op == "<<<" then return "herestring" end
  if op == "<<" then
    if p.s:sub(p.i, p.i) ~= "-" then return "heredoc" end
    p.i = p.i + 1
    return "heredoc-"
  end
  local dup = p.s:match("^[&|]", p.i)
  if dup then p.i = p.i + 1 end
  local fd = dup == "&" and p.s:match("^%d*%-?", p.i) or ""
  if fd ~= "" then p.i = p.i + #fd return nil end
  return "target"
end

-- Reads the here-documents of the line just ended; each body is its command's .input.
local function read_heredocs(p, docs)
  local s = p.s
  for _, d in ipairs(docs) do
    local body = {}
    while p.i <= #s do
      local nl = s:find("\n", p.i, true) or #s + 1
      local line = s:sub(p.i, nl - 1)
      p.i = nl + 1
      if (d.strip and line:gsub("^\t+", "") or line) == d.delim then break end
      body[#body + 1] = line
    end
    local text = table.concat(body, "\n")
    if not d.quoted then  -- the body is expanded: its substitutions run
      local q = { s = text, i = 1, depth = p.depth, out = p.out }
      text = dquoted(q, nil)
      p.too_deep = p.too_deep or q.too_deep
    end
    d.cmd.input = text
  end
end

local OPERATOR = { [";"] = true, ["&"] = true, ["|"] = true, ["("] = true, [")"] = true }

-- Commands from p.i up to `close` (")" or "`", nil: the end), into p.out.
parse_list = function(p, close)
  local s = p.s
  local cmd, piece, inword, quoted, pending, docs, parens, piped_from = {}, {}, false, false, nil, {}, 0, nil
  local function end_word()
    if not inword then return end
    local w = table.concat(piece)
    if pending == "herestring" then cmd.input = w
    elseif pending == "heredoc" or pending == "heredoc-" then
      docs[#docs + 1] = { cmd = cmd, delim = w, quoted = quoted, strip = pending == "heredoc-" }
    elseif pending ~= "target" then cmd[#cmd + 1] = w end
    piece, inword, quoted, pending = {}, false, false, nil
  end
  local function end_cmd(piped)
    end_word()
    pending = nil
    if #cmd > 0 then
      cmd.piped_from = piped_from
      p.out[#p.out + 1] = cmd
    end
    piped_from = piped and #cmd > 0 and cmd or nil
    cmd = {}
  end
  while p.i <= #s do
    local c, n = s:sub(p.i, p.i), s:sub(p.i + 1, p.i + 1)
    if c == close and (close ~= ")" or parens == 0) then
      p.i = p.i + 1
      break
    elseif c == "\\" then
      if n ~= "\n" then piece[#piece + 1], inword = n, true end
      p.i = p.i + 2
    elseif c == "'" then
      local j = s:find("'", p.i + 1, true) or #s + 1
      piece[#piece + 1], inword, quoted, p.i = s:sub(p.i + 1, j - 1), true, true, j + 1
    elseif c == '"' then
      p.i = p.i + 1
      piece[#piece + 1], inword, quoted = dquoted(p, '"'), true, true
    elseif c == "$" and n == "'" then
      p.i = p.i + 2
      piece[#piece + 1], inword, quoted = ansi_c(p), true, true
    elseif c == "$" and n == '"' then
      p.i = p.i + 1  -- $"..." reads as "..."
    elseif (c == "$" or c == "<" or c == ">") and n == "(" then
      p.i = p.i + 2
      substitution(p, ")")
      piece[#piece + 1], inword = M.SUBST, true
    elseif c == "`" then
      p.i = p.i + 1
      substitution(p, "`")
      piece[#piece + 1], inword = M.SUBST, true
    elseif c == "<" or c == ">" or (c == "&" and n == ">") then
      if inword and table.concat(piece):match("^%d+$") then piece, inword = {}, false else end_word() end
      pending = redirection(p)
    elseif c == "#" and not inword then
      p.i = s:find("\n", p.i, true) or #s + 1
    elseif c == "\n" then
      p.i = p.i + 1
      end_cmd()
      read_heredocs(p, docs)
      docs = {}
    elseif OPERATOR[c] then
      if c == "(" then parens = parens + 1 elseif c == ")" then parens = math.max(parens - 1, 0) end
      local double = (c == "|" or c == "&") and n == c or (c == "|" and n == "&")
      p.i = p.i + (double and 2 or 1)
      end_cmd(c == "|" and n ~= "|")
    elseif c:find("^%s$") then
      end_word()
      p.i = p.i + 1
    else
      piece[#piece + 1], inword, p.i = c, true, p.i + 1
    end
  end
  end_cmd()
  read_heredocs(p, docs)
end

function M.commands(text)
  local p = { s = text, i = 1, depth = 0, out = {} }
  parse_list(p, nil)
  if p.too_deep then return nil, "nested more than " .. M.max_depth .. " deep" end
  return p.out
end

return M
