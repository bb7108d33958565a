#!/usr/bin/env bash
# Run the README's test command (scripts/test.sh) on a loaded machine: start bounded CPU
# burners beside it, run the suite, stop them (also on failure or Ctrl-C), report the result.
#
#   scripts/test-under-load.sh                      # the whole suite beside 6 burners
#   scripts/test-under-load.sh tests/test_cli.py    # arguments go to scripts/test.sh (pytest)
#
# Settings (environment): LOAD_BURNERS (default 6) busy processes; LOAD_SECONDS (default 3600)
# the longest any burner lives, even if this script is killed with SIGKILL; TEST_COMMAND
# (default scripts/test.sh) the command to run under load.
set -euo pipefail
cd "$(dirname "$0")/.."
burners=${LOAD_BURNERS:-6}
seconds=${LOAD_SECONDS:-3600}
read -r -a command <<< "${TEST_COMMAND:-scripts/test.sh}"
pids=()

stop_burners() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_burners EXIT
trap 'stop_burners; exit 130' INT
trap 'stop_burners; exit 143' TERM

for _ in $(seq "$burners"); do
  # A busy loop in a shell: no dependency, one core each; `timeout` bounds its life.
  timeout "$seconds" sh -c 'while :; do :; done' &
  pids+=("$!")
done
echo "under load: $burners CPU burners (pids ${pids[*]}) on $(nproc) cores" >&2
start=$(date +%s)
status=0
"${command[@]}" "$@" || status=$?
stop_burners
echo "under load: '${command[*]} $*' exited $status after $(($(date +%s) - start)) s" >&2
exit "$status"
