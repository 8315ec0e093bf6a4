-- orch.watch_dir and orch.remove_file inside the real host (orch-host test):
-- events from a real folder through the loop, each call of the function in a
-- task of its own. Waits poll for the expected events with a generous deadline.
local T = require("orch.testing")
local describe, it, eq, ok, raises = T.describe, T.it, T.eq, T.ok, T.raises
local logs = os.getenv("ORCH_LOGS_DIR") or "logs"
local scratch = logs .. "/watch_dir_spec-" .. orch.pid
orch.make_dir(scratch)

local serial = 0
local function fresh_dir()
  serial = serial + 1
  local d = scratch .. "/d" .. serial
  assert(orch.make_dir(d))
  return d
end

local function wait_for(cond, what)
  local deadline = orch.monotonic() + 60
  while not cond() do
    if orch.monotonic() > deadline then error("timed out waiting for " .. what, 2) end
    orch.sleep(0.01)
  end
end

-- A watch that records its events; seen.kinds() -> "ready:a gone:a".
local function recorder(dir, opts)
  local seen = {}
  local h = assert(orch.watch_dir(dir, function(ev) seen[#seen + 1] = ev end, opts))
  function seen.kinds()
    local out = {}
    for _, ev in ipairs(seen) do out[#out + 1] = ev.kind .. (ev.name and (":" .. ev.name) or "") end
    return table.concat(out, " ")
  end
  return seen, h
end

describe("orch.watch_dir", function()
  it("checks its arguments", function()
    raises(function() orch.watch_dir(scratch) end, "function expected")
    raises(function() orch.watch_dir("", function() end) end, "orch.watch_dir: path must not be empty")
    raises(function() orch.watch_dir(scratch, function() end, { suffix = 1 }) end, "opts.suffix must be a string")
    raises(function() orch.watch_dir(scratch, function() end, { initial_scan = "yes" }) end,
      "opts.initial_scan must be a boolean")
  end)

  it("returns nil, err naming a folder that is not there", function()
    local h, err = orch.watch_dir(scratch .. "/missing", function() end)
    eq(h, nil)
    eq(err.code, "not_found")
    ok(tostring(err):find(scratch .. "/missing", 1, true), tostring(err))
  end)

  it("reports a written file as ready and a removed one as gone, filtered by suffix", function()
    local dir = fresh_dir()
    local seen, h = recorder(dir, { suffix = ".task.md" })
    assert(orch.write_file(dir .. "/a.task.md", "hello"))  -- temp + rename: one ready, the temp filtered
    assert(orch.write_file(dir .. "/notes.txt", "other"))
    assert(orch.append_file(dir .. "/b.task.md", "appended"))  -- closed after writing
    wait_for(function() return #seen >= 2 end, "two ready")
    assert(orch.remove_file(dir .. "/a.task.md"))
    wait_for(function() return #seen >= 3 end, "gone")
    eq(seen.kinds(), "ready:a.task.md ready:b.task.md gone:a.task.md")
    local abs = dir:sub(1, 1) == "/" and dir or (orch.root .. "/" .. dir)
    eq(seen[1].path, abs .. "/a.task.md")
    eq(seen[1].dir, abs)
    h:close()
  end)

  it("calls the function in a task of its own, queued, never inside the caller", function()
    local dir = fresh_dir()
    local me, ids = orch.task_id(), {}
    local h = assert(orch.watch_dir(dir, function(ev)
      ids[#ids + 1] = orch.task_id()
      orch.sleep(0.01)  -- it may wait: it is a task
      ids[#ids + 1] = ev.kind
    end, { initial_scan = true }))
    eq(#ids, 0)  -- not inside watch_dir
    wait_for(function() return #ids == 2 end, "the initial rescan")
    ok(ids[1] and ids[1] ~= me, "a new task")
    eq(ids[2], "rescan")
    h:close()
  end)

  it("logs an error in the function with its traceback and keeps the watch running", function()
    local dir = fresh_dir()
    local seen = {}
    local h = assert(orch.watch_dir(dir, function(ev)
      seen[#seen + 1] = ev.name
      if ev.name == "boom.md" then error("watch callback broke on " .. ev.name) end
    end, { suffix = ".md" }))
    assert(orch.write_file(dir .. "/boom.md", "x"))
    wait_for(function() return #seen == 1 end, "boom")
    assert(orch.write_file(dir .. "/after.md", "x"))
    wait_for(function() return #seen == 2 end, "the next event")
    eq(seen, { "boom.md", "after.md" })
    local log_path = logs .. "/" .. os.date("%Y-%m-%d") .. ".log"
    local text = orch.read_file(log_path) or ""
    ok(text:find("watch callback broke on boom.md", 1, true) and text:find("stack traceback", 1, true), log_path)
    h:close()
  end)

  it("stops at close, also from inside its own function", function()
    local dir = fresh_dir()
    local seen, h = {}, nil
    h = assert(orch.watch_dir(dir, function(ev)
      seen[#seen + 1] = ev.name
      h:close()
    end, { suffix = ".md" }))
    for i = 1, 3 do assert(orch.write_file(dir .. "/f" .. i .. ".md", "x")) end
    wait_for(function() return #seen >= 1 end, "the first event")
    -- a second watch on the same folder sees a later file: by then the first would have too
    local other, h2 = recorder(dir)
    assert(orch.append_file(dir .. "/late", "x"))
    wait_for(function() return #other >= 1 end, "the second watch")
    eq(seen, { "f1.md" })
    ok(tostring(h):find("closed", 1, true), tostring(h))
    h:close()  -- twice: nothing
    h2:close()
  end)

  it("sees a burst of 500 files, each once", function()
    local dir = fresh_dir()
    local seen, h = recorder(dir, { suffix = ".task.md" })
    for i = 1, 500 do assert(orch.write_file(dir .. "/t" .. i .. ".task.md", "body")) end
    wait_for(function() return #seen >= 500 end, "500 ready")
    local names = {}
    for _, ev in ipairs(seen) do
      eq(ev.kind, "ready")
      names[ev.name] = true
    end
    local n = 0
    for _ in pairs(names) do n = n + 1 end
    eq(n, 500)
    h:close()
  end)

  it("says dir_removed when the folder goes and rescan when it comes back", function()
    local dir = fresh_dir()
    local seen, h = recorder(dir)
    assert(orch.rename(dir, dir .. "-away"))
    wait_for(function() return #seen >= 1 end, "dir_removed")
    assert(orch.make_dir(dir))
    wait_for(function() return #seen >= 2 end, "rescan")
    eq(seen.kinds(), "dir_removed rescan")
    assert(orch.append_file(dir .. "/back", "x"))  -- watched again
    wait_for(function() return #seen >= 3 end, "a file in the new folder")
    eq(seen.kinds(), "dir_removed rescan ready:back")
    h:close()
  end)
end)

describe("orch.remove_file", function()
  it("removes a file, and names the path when it cannot", function()
    local dir = fresh_dir()
    assert(orch.write_file(dir .. "/x", "x"))
    eq(orch.remove_file(dir .. "/x"), true)
    eq(orch.file_info(dir .. "/x"), nil)
    local r, err = orch.remove_file(dir .. "/x")
    eq(r, nil)
    eq(err.code, "not_found")
    ok(tostring(err):find(dir .. "/x", 1, true), tostring(err))
    r, err = orch.remove_file(dir)
    eq(r, nil)
    ok(tostring(err):find(dir .. ": is a directory", 1, true), tostring(err))
    raises(function() orch.remove_file("") end, "path must not be empty")
  end)
end)
