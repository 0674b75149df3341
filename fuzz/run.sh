#!/usr/bin/env bash
# Runs fuzz targets, two at a time, each for SECONDS (default 600), on the
# stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags), and
# prints one summary line per target: runs, coverage, features, corpus, crashes.
#   fuzz/run.sh [SECONDS] [TARGET...]      logs in fuzz/logs/TARGET.log
# Seeds come from fuzz/seed-corpus.py. Set SANITIZER=none if ASan is unavailable.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(deb822 relation version release lock nix index decompress signature)
target_dir="${CARGO_TARGET_DIR:-/tmp/target-fuzz}/cargo-fuzz"
sanitizer="${SANITIZER:-address}"
python3 seed-corpus.py
mkdir -p logs
RUSTC_BOOTSTRAP=1 cargo fuzz build --sanitizer "$sanitizer" --target-dir "$target_dir"
run() {
    RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer "$sanitizer" --target-dir "$target_dir" "$1" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"logs/$1.log" 2>&1 || true
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
    run "${targets[i]}" &
    if [ $((i + 1)) -lt ${#targets[@]} ]; then run "${targets[i + 1]}" & fi
    wait
done
for t in "${targets[@]}"; do
    last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1 || true)
    crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
    printf '%-11s %s | %s | artifacts: %s\n' "$t" "$(grep -E '^Done' "logs/$t.log" || echo 'not done')" "$last" "$crashes"
done
