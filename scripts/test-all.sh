#!/usr/bin/env bash
# Every test, on a machine that may be brand new: npm packages, build, unit + crash tests (mocha),
# interop tests with the real `mlflow` client in project-local venvs, the extension's suites inside
# a real VS Code extension host (code-server, offline), the .vsix package, and screenshots of the
# installed .vsix in chromium, and cross-site attacks on `runlens serve` from a chromium page. Ends with
# one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp -d)"
t0=$(date +%s)
# Node can hang for ever at exit (nodejs/node#54918, see src/domain/nodeExit.ts): the test runners
# run with TurboFan on the main thread, and every suite has a time bound, so one hang costs that
# suite (reported as a failure) and never the whole CI run.
NODE_SAFE=(node --no-concurrent-recompilation)
MOCHA=("${NODE_SAFE[@]}" node_modules/mocha/bin/mocha.js)
# bounded <seconds> <command...>: the command, killed (and reported) when it runs longer.
bounded() {
  local secs="$1"; shift
  local start=$(date +%s) rc=0
  timeout -k 30 "$secs" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "  1 failing (timed out after ${secs} s: $*)"; fi
  echo "  (took $(( $(date +%s) - start )) s; $(( $(date +%s) - t0 )) s since the start)"
  return "$rc"
}

if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund || { echo "npm ci failed"; exit 1; }
fi
npm run --silent build || { echo "build failed"; exit 1; }
npm run --silent typecheck || { echo "typecheck failed"; exit 1; }
npm run --silent compile-tests || { echo "test compilation failed"; exit 1; }

# The import rules of the target layout (scripts/check-layers.js): which folder may import which, no cycles.
echo "== layer rules (npm run check:layers)"
layers_passed=0 layers_failed=0
if node scripts/check-layers.js > "$log/layers.txt" 2>&1; then layers_passed=1; cat "$log/layers.txt"; else layers_failed=1; cat "$log/layers.txt"; fi

# The venvs with the real mlflow client first: unit and language-server tests run it too.
echo "== Python venvs with the real mlflow client (scripts/setup-python.sh)"
bounded 1800 bash scripts/setup-python.sh 2>&1 | tail -8
echo "== unit"
bounded 900 "${MOCHA[@]}" --config .mocharc.json 'out/test/unit/**/*.test.js' 2>&1 | tee "$log/unit.txt"
echo "== crash"
bounded 900 "${MOCHA[@]}" --config .mocharc.json --timeout 240000 'out/test/crash/**/*.test.js' 2>&1 | tee "$log/crash.txt"
# The filter language server over stdio against a store seeded by the real mlflow client (~30 s).
echo "== language server (node dist/languageServer.js --stdio)"
bounded 600 "${MOCHA[@]}" --config .mocharc.json --timeout 120000 'out/test/lsp/**/*.test.js' 2>&1 | tee "$log/lsp.txt"
bounded 3000 bash scripts/test-interop.sh 2>&1 | tee "$log/interop.txt"
interop_rc=${PIPESTATUS[0]}

# The extension inside a real VS Code host (installed once into .vscode-host/, about 3 min).
echo "== VS Code extension host (code-server ${CS_VERSION:-4.139.1}, offline)"
bounded 900 bash scripts/setup-vscode-host.sh 2>&1 | tail -5
bounded 1800 "${NODE_SAFE[@]}" scripts/vscode-test.js 2>&1 | tee "$log/vscode.txt"
vscode_rc=${PIPESTATUS[0]}

echo "== views in a browser (runlens serve + chromium)"
bounded 1200 "${MOCHA[@]}" --config .mocharc.json --timeout 180000 'out/test/browser/**/*.test.js' 2>&1 | tee "$log/browser.txt"
browser_rc=${PIPESTATUS[0]}

# After the browser suite: the cross-site tests need the chromium that setup-vscode-host.sh installs.
echo "== safety (full disk on tmpfs, damaged files, short writes, cross-site attacks from chromium, fuzzing)"
bounded 900 "${MOCHA[@]}" --config .mocharc.json --timeout 120000 'out/test/safety/**/*.test.js' 2>&1 | tee "$log/safety.txt"
safety_rc=${PIPESTATUS[0]}

echo "== package (npm run package)"
pkg_passed=0 pkg_failed=0 shots_passed=0 shots_failed=0
if bounded 600 npm run --silent package > "$log/package.txt" 2>&1; then
  pkg_passed=1; grep -E '^(runlens.vsix:|  \(took)' "$log/package.txt"
  echo "== screenshots of the installed .vsix (test-results/screenshots)"
  if bounded 1200 "${NODE_SAFE[@]}" scripts/vscode-shots.js --vsix runlens.vsix > "$log/shots.txt" 2>&1; then shots_passed=1; grep -E '^(screenshot|\[|  \(took)' "$log/shots.txt"; else shots_failed=1; tail -30 "$log/shots.txt"; fi
  echo "== charts of a sweep in the installed .vsix (timed, test-results/vscode-measurements.txt)"
  if bounded 900 "${NODE_SAFE[@]}" scripts/vscode-shots-charts.js --vsix runlens.vsix > "$log/shots-charts.txt" 2>&1; then shots_passed=$((shots_passed + 1)); grep -E '^(screenshot|measured|  \(took)' "$log/shots-charts.txt"; else shots_failed=$((shots_failed + 1)); tail -30 "$log/shots-charts.txt"; fi
else
  pkg_failed=1; tail -30 "$log/package.txt"
fi

# Keep the benchmark scripts alive: a tiny side-by-side run (never the real benchmark).
bench_passed=0 bench_failed=0
if [ -x .venv/latest/bin/python ]; then
  echo "== bench smoke (npm run bench:smoke)"
  if bounded 900 bash bench/run.sh --smoke > "$log/bench.txt" 2>&1; then bench_passed=1; tail -2 "$log/bench.txt"; else bench_failed=1; tail -40 "$log/bench.txt"; fi
fi

count() { grep -Eo "[0-9]+ $2" "$1" | awk '{s += $1} END {print s + 0}'; }
passed=$(( $(count "$log/unit.txt" passing) + $(count "$log/crash.txt" passing) + $(count "$log/lsp.txt" passing) + $(count "$log/interop.txt" passed) + $(count "$log/vscode.txt" passing) + $(count "$log/browser.txt" passing) + $(count "$log/safety.txt" passing) + layers_passed + bench_passed + pkg_passed + shots_passed ))
failed=$(( $(count "$log/unit.txt" failing) + $(count "$log/crash.txt" failing) + $(count "$log/lsp.txt" failing) + $(count "$log/interop.txt" failed) + $(count "$log/interop.txt" error) + $(count "$log/vscode.txt" failing) + $(count "$log/browser.txt" failing) + $(count "$log/safety.txt" failing) + layers_failed + bench_failed + pkg_failed + shots_failed ))
if [ "$passed" -eq 0 ] || { [ "$interop_rc" -ne 0 ] && [ "$failed" -eq 0 ]; } || { [ "$vscode_rc" -ne 0 ] && [ "$(count "$log/vscode.txt" failing)" -eq 0 ]; } \
  || { [ "$browser_rc" -ne 0 ] && [ "$(count "$log/browser.txt" failing)" -eq 0 ]; } \
  || { [ "$safety_rc" -ne 0 ] && [ "$(count "$log/safety.txt" failing)" -eq 0 ]; }; then
  failed=$(( failed + 1 ))  # something broke before reporting any result
fi
if [ "$failed" -gt 0 ]; then
  # Repeat what failed at the end, where a truncated CI log still shows it.
  echo
  echo "== what failed"
  for suite in unit crash lsp vscode browser safety; do
    grep -qE '^ *[0-9]+ failing' "$log/$suite.txt" && { echo "-- $suite"; sed -n '/^ *[0-9]* failing/,$p' "$log/$suite.txt" | head -60; }
  done
  grep -qE '^(FAILED|ERROR) ' "$log/interop.txt" && { echo "-- interop"; grep -E '^(==.*interop|FAILED|ERROR |E  )' "$log/interop.txt" | head -60; }
  [ "$layers_failed" -eq 0 ] || { echo "-- layer rules: imports that break them"; cat "$log/layers.txt"; }
  [ "$bench_failed" -eq 0 ] || echo "-- bench smoke failed (output above)"
  [ "$pkg_failed" -eq 0 ] || echo "-- package failed (output above)"
  [ "$shots_failed" -eq 0 ] || echo "-- screenshots failed (output above)"
fi
echo
echo "Runlens tests: $passed passed, $failed failed (in $(( $(date +%s) - t0 )) s)"
[ "$failed" -eq 0 ]
