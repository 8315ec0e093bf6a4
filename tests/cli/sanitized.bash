# sanitized.bash: sourced by lib.bash and bad_lib.bash (not a test).
# sanitized_build: the host under test is an AddressSanitizer build
# (scripts/sanitize.sh), whose quarantine (256 MB) and shadow memory make
# RSS bounds meaningless.
sanitized_build() { ldd "$ORCH_HOST" 2>/dev/null | grep -q libasan; }
