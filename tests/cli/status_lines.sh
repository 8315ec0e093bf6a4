#!/usr/bin/env bash
# orch.status_line(key, text): one live line per key on a terminal (a line per
# running agent), redrawn in place: each redraw clears every line it drew
# (cursor up per extra line), a removed key's line goes, orch.print writes
# above them. Under a real pseudo-terminal (script(1)).
source "$(dirname "$0")/lib.bash"
command -v script >/dev/null || fail "script(1) (util-linux) is needed for a pseudo-terminal"

cat >"$T/lines.lua" <<'LUA'
orch.status_line("a", "agent A")
orch.status_line("b", "agent B")
orch.print("between")
orch.status_line("a", nil)
orch.status_line("b", "agent B2")
orch.status_line("b", nil)
orch.print("done")
return 0
LUA
script -qfec "$(printf '%q ' "$ORCH_HOST" --root "$ORCH_SRC" run "$T/lines.lua")" /dev/null </dev/null >"$T/out" 2>&1 \
    || fail "the workflow failed: $(cat "$T/out")"
python3 - "$T/out" <<'PY' || fail "terminal output: $(od -c "$T/out" | head -20)"
import sys
out = open(sys.argv[1], "rb").read().decode()
CLR, UP = "\r\x1b[K", "\x1b[1A\x1b[K"
want = ("agent A"                        # a drawn
        + CLR + "agent A\r\nagent B"     # b added below it (the pty turns \n into \r\n)
        + CLR + UP + "between\r\n" + "agent A\r\nagent B"   # print: both cleared, text, both again
        + CLR + UP + "agent B"           # a removed
        + CLR + "agent B2"               # b redrawn
        + CLR                            # b removed: nothing left
        + "done\r\n")
assert want in out, repr(out)
PY
note "ok"
