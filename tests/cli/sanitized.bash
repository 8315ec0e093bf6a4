# sanitized.bash: sourced by lib.bash and bad_lib.bash (not a test).
# sanitized_build: the host under test is an AddressSanitizer build
# (scripts/sanitize.sh), whose quarantine (256 MB) and shadow memory make
# RSS bounds meaningless.
# (grep reads all of ldd's output: with -q it could exit first, ldd die of
# SIGPIPE, and pipefail turn the pipeline false in a sanitizer build)
sanitized_build() { ldd "$ORCH_HOST" 2>/dev/null | grep libasan >/dev/null; }
