#!/usr/bin/env bash
# A disk-full error while writing an inbox task's artifacts, for real:
# lib/artifacts' write returns the error naming the file, and leaves neither
# artifact (the result and the summary are both there or both gone), no
# temp file, and no stale pair from an earlier run of the same name.
#  1. RLIMIT_FSIZE (`ulimit -f`, SIGXFSZ ignored: the write fails with EFBIG)
#     on the host writing them (tests/cli/fixtures/artifacts_write.lua, no
#     state database): a summary too big, then a result too big. Always runs.
#  2. A 64 KB tmpfs holding results/ and summaries/ (ENOSPC): the same. Needs
#     mount (root); skipped, saying so, where mount is not permitted.
source "$(dirname "$0")/lib.bash"

WRITE=$ORCH_SRC/tests/cli/fixtures/artifacts_write.lua
# write NAME [ENV=VALUE...]: the fixture's one line ("written ..." / "write failed: ...") in $T/write.out
write() {
    local name=$1; shift
    env ART_NAME="$name" "$@" "$ORCH_HOST" --root "$ORCH_SRC" test --no-state "$WRITE" >"$T/write.out" 2>&1 ||
        fail "the fixture failed: $(cat "$T/write.out")"
}
said() { grep -qF -- "$1" "$T/write.out" || fail "$2: the write did not say '$1':\n$(cat "$T/write.out")"; }
# none_left WHAT DIR...: no file of the pair, and no temp file, in DIR...
none_left() {
    local what=$1; shift
    local left
    left=$(find "$@" -type f 2>/dev/null)
    [ -z "$left" ] || fail "$what: left behind: $left"
}

# --- 1. RLIMIT_FSIZE: files over 256 KB cannot be written (the logs stay far below)
limited() { (ulimit -f 256 && trap '' XFSZ && write "$@"); }
mkdir -p "$T/logs"
limited big ART_SUMMARY_BYTES=1000000
said "write failed: $T/summaries/big_summary.txt: File too large" "a summary over the file size limit"
none_left "a summary over the file size limit" "$T/results" "$T/summaries"

write big   # an earlier run's pair, then a result over the limit
said "written $T/results/big_result.json" "without the limit"
limited big ART_RESULT_BYTES=1000000
said "write failed: $T/results/big_result.json: File too large" "a result over the file size limit"
none_left "a result over the file size limit (the summary, and the earlier run's pair)" "$T/results" "$T/summaries"

limited small
said "written $T/results/small_result.json $T/summaries/small_summary.txt" "a small pair under the limit"
"$ORCH_HOST" --root "$ORCH_SRC" validate-artifacts >"$T/val.out" 2>&1 || fail "validate after: $(cat "$T/val.out")"
rm -f "$T/results/small_result.json" "$T/summaries/small_summary.txt"
note "RLIMIT_FSIZE: EFBIG on the summary and on the result, nothing left"

# --- 2. a full tmpfs
FULL=$T/full
mkdir -p "$FULL"
if ! mount -t tmpfs -o size=64k tmpfs "$FULL" 2>"$T/mount.err"; then
    note "SKIP the tmpfs part: mount is not permitted here ($(cat "$T/mount.err")); the RLIMIT_FSIZE part ran"
    note PASS
    exit 0
fi
trap 'rc=$?; umount "$FULL" 2>/dev/null; (exit $rc); _cleanup' EXIT
export ORCH_RESULTS_DIR=$FULL/results ORCH_SUMMARIES_DIR=$FULL/summaries
write big ART_SUMMARY_BYTES=200000
said "write failed: $FULL/summaries/big_summary.txt: No space left on device" "a summary the disk cannot hold"
none_left "a summary the disk cannot hold" "$FULL"

write big
said "written $FULL/results/big_result.json" "a pair that fits"
write big ART_RESULT_BYTES=200000
said "write failed: $FULL/results/big_result.json: No space left on device" "a result the disk cannot hold"
none_left "a result the disk cannot hold (the summary, and the earlier pair)" "$FULL"

write small
said "written $FULL/results/small_result.json" "the disk has room again"
note "tmpfs: ENOSPC on the summary and on the result, nothing left"
note PASS
