#!/usr/bin/env bash
# Every test, on a machine that may be brand new: npm packages, build, unit + crash tests (mocha),
# then interop tests with the real `mlflow` client in project-local venvs. Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp -d)"

if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund || { echo "npm ci failed"; exit 1; }
fi
npm run --silent build || { echo "build failed"; exit 1; }
npm run --silent typecheck || { echo "typecheck failed"; exit 1; }
npm run --silent compile-tests || { echo "test compilation failed"; exit 1; }

npx mocha --config .mocharc.json 'out/test/unit/**/*.test.js' 2>&1 | tee "$log/unit.txt"
npx mocha --config .mocharc.json --timeout 240000 'out/test/crash/**/*.test.js' 2>&1 | tee "$log/crash.txt"
bash scripts/test-interop.sh 2>&1 | tee "$log/interop.txt"
interop_rc=${PIPESTATUS[0]}

# Keep the benchmark scripts alive: a tiny side-by-side run (never the real benchmark).
bench_passed=0 bench_failed=0
if [ -x .venv/latest/bin/python ]; then
  echo "== bench smoke (npm run bench:smoke)"
  if bash bench/run.sh --smoke > "$log/bench.txt" 2>&1; then bench_passed=1; tail -1 "$log/bench.txt"; else bench_failed=1; tail -40 "$log/bench.txt"; fi
fi

count() { grep -Eo "[0-9]+ $2" "$1" | awk '{s += $1} END {print s + 0}'; }
passed=$(( $(count "$log/unit.txt" passing) + $(count "$log/crash.txt" passing) + $(count "$log/interop.txt" passed) + bench_passed ))
failed=$(( $(count "$log/unit.txt" failing) + $(count "$log/crash.txt" failing) + $(count "$log/interop.txt" failed) + $(count "$log/interop.txt" error) + bench_failed ))
if [ "$passed" -eq 0 ] || { [ "$interop_rc" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
  failed=$(( failed + 1 ))  # something broke before reporting any result
fi
echo
echo "Runlens tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
