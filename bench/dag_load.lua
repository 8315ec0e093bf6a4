-- dag_load.lua: load + validation time of a large task graph (bench/dag_load.sh).
-- Run: orch-host run bench/dag_load.lua --tasks DAG.json  (ORCH_BENCH_YAML=DAG.yaml,
-- ORCH_BENCH_RUNS=5). Prints, for each file, the median of RUNS of:
--   baseline  the decoder alone (orch.json.decode / orch.yaml.decode with lines)
--   load      lib/tasks.parse: decode, the model, the graph checks
-- as "name <tab> baseline_ms <tab> load_ms <tab> tasks <tab> edges".
local args = ...
local tasks = require("lib.tasks")
local RUNS = tonumber(os.getenv("ORCH_BENCH_RUNS")) or 5

local function median(xs)
  table.sort(xs)
  return xs[math.floor((#xs + 1) / 2)]
end

local function bench(path, decode)
  local text = assert(orch.read_file(path))
  local base, load, doc = {}, {}, nil
  for r = 1, RUNS do
    collectgarbage("collect")
    local t0 = orch.monotonic()
    assert(decode(text))
    local t1 = orch.monotonic()
    collectgarbage("collect")
    local t2 = orch.monotonic()
    local err
    doc, err = tasks.parse(text, path)
    local t3 = orch.monotonic()
    assert(doc, tostring(err))
    base[r], load[r] = (t1 - t0) * 1000, (t3 - t2) * 1000
  end
  local edges = 0
  for _, t in ipairs(doc.tasks) do edges = edges + #t.depends_on end
  orch.print(string.format("%s\t%.1f\t%.1f\t%d\t%d", doc.format, median(base), median(load), #doc.tasks, edges))
end

bench(args.tasks, orch.json.decode)
local y = os.getenv("ORCH_BENCH_YAML")
if y and y ~= "" then bench(y, function(text) return orch.yaml.decode(text, { lines = true }) end) end
return 0
