#!/usr/bin/env bash
# The host's layout rules, checked on the source tree:
# - the Lua C API (lua.h, lauxlib.h, lualib.h, luaconf.h, lua.hpp, luajit.h,
#   or a host/lua/ header that includes one) is included only under host/lua/;
#   nothing outside it names lua_State;
# - no C++ file under host/ is over 400 lines.
# (That every orch.* function is documented in scripts/orch/_meta.lua is
# checked against the live VM by tests/lua/boundary_spec.lua.)
# Each problem is printed as host/FILE:LINE; any problem fails the test.
set -u
: "${ORCH_SRC:?set ORCH_SRC to the repository root}"
cd "$ORCH_SRC/host" || exit 1

MAX_LINES=400
LUA_HEADERS='(lua|lauxlib|lualib|luaconf|luajit)\.h|lua\.hpp'
fails=0
problem() { echo "boundary: $*" >&2; fails=$((fails + 1)); }

# host/lua/ headers that bring the Lua C API in, directly or through each other
tainted=$LUA_HEADERS
while :; do
    more=$(grep -lE "^\s*#\s*include\s*[<\"]([^>\"]*/)?($tainted)[>\"]" lua/*.h 2>/dev/null \
           | sed 's/[.]/\\./g' | paste -sd'|')
    next=$LUA_HEADERS${more:+|$more}
    [ "$next" = "$tainted" ] && break
    tainted=$next
done

sources=$(find . -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.hpp' -o -name '*.cc' \) | sed 's|^\./||' | sort)
[ -n "$sources" ] || { echo "boundary: no sources under $ORCH_SRC/host" >&2; exit 1; }

while IFS= read -r f; do
    case $f in lua/*) ;; *)
        while IFS= read -r hit; do
            problem "host/$f:${hit%%:*}: includes the Lua C API outside host/lua/: ${hit#*:}"
        done < <(grep -nE "^\s*#\s*include\s*[<\"]([^>\"]*/)?($tainted)[>\"]" "$f")
        while IFS= read -r hit; do
            problem "host/$f:${hit%%:*}: names lua_State outside host/lua/: ${hit#*:}"
        done < <(grep -nw 'lua_State' "$f")
    esac
    n=$(wc -l < "$f")
    [ "$n" -le "$MAX_LINES" ] || problem "host/$f: $n lines (at most $MAX_LINES; split it)"
done <<<"$sources"

count=$(wc -l <<<"$sources")
if [ "$fails" -eq 0 ]; then
    echo "boundary: $count files under host/ checked: Lua C API only in host/lua/, none over $MAX_LINES lines"
fi
[ "$fails" -eq 0 ]
