#!/usr/bin/env bash
# Fuzzing the readers, the WKB decoder and the CQL2 translation with cargo-fuzz (libFuzzer),
# on the stable toolchain (RUSTC_BOOTSTRAP=1 lets it take cargo-fuzz's -Z flags; AddressSanitizer's
# runtime ships with stable's rust-std). See docs/testing.md.
#
#   scripts/fuzz.sh ci [SECONDS]        # every target SECONDS (default 20) on its seeds: CI's pass
#   scripts/fuzz.sh run TARGET MINUTES  # one long run; the corpus grows in fuzz/corpus/TARGET
#                                       # (every run first replays fuzz/regressions/TARGET/)
#   scripts/fuzz.sh repro TARGET FILE   # run one input (a crash artifact) and show what it does
#   scripts/fuzz.sh build               # only build the targets
#   scripts/fuzz.sh list                # the targets
#
# Environment: FUZZ_SANITIZER (address, the default, or none), FUZZ_TARGET_DIR (build
# directory, default fuzz/target), FUZZ_JOBS (cargo build jobs). Every run is bounded:
# -rss_limit_mb=2048 and -malloc_limit_mb=2048 make a runaway allocation a crash, -timeout=10 a
# hang. Crashes are written to fuzz/artifacts/TARGET/ and fail the command.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
caller=$PWD
cd "$root/fuzz"
export RUSTC_BOOTSTRAP=1
CARGO_FUZZ_VERSION=0.13.2
sanitizer=${FUZZ_SANITIZER:-address}
target_dir=${FUZZ_TARGET_DIR:-$root/fuzz/target}
triple=$(rustc -vV | sed -n 's/^host: //p')
bin_dir=$target_dir/$triple/release
limits=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len=262144 -print_final_stats=1)

targets() { sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^geosector-fuzz$'; }

install() {
    if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
        echo "installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
        cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION"
    fi
}

build() {
    install
    # Release with debug assertions and overflow checks (cargo-fuzz's default), so an integer
    # overflow on a hostile size is found even though release builds would wrap silently.
    # (cargo fuzz build has no --jobs option; cargo reads CARGO_BUILD_JOBS.)
    [ -z "${FUZZ_JOBS:-}" ] || export CARGO_BUILD_JOBS=$FUZZ_JOBS
    cargo fuzz build --sanitizer "$sanitizer" --target-dir "$target_dir" >&2
}

# run TARGET SECONDS [libFuzzer options…]: fuzzes TARGET on its corpus (seeded when empty).
run() {
    local t=$1 secs=$2
    shift 2
    [ -x "$bin_dir/$t" ] || { echo "unknown target $t (scripts/fuzz.sh list)" >&2; exit 2; }
    [ -n "$(ls -A "corpus/$t" 2>/dev/null)" ] || ./seed.sh "$t" >&2
    mkdir -p "artifacts/$t"
    # Every crash found so far is kept in regressions/TARGET/ and read with the corpus first, so
    # each run (CI's too) replays them; new inputs are written to the first folder only.
    local dirs=("corpus/$t")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    "$bin_dir/$t" "${dirs[@]}" "${limits[@]}" -max_total_time="$secs" -artifact_prefix="artifacts/$t/" "$@"
}

case ${1:-} in
    list) targets ;;
    build) build ;;
    ci)
        secs=${2:-20}
        start=$(date +%s)
        build
        ./seed.sh >&2
        failed=()
        mkdir -p artifacts
        for t in $(targets); do
            echo "fuzz: $t for ${secs} s" >&2
            if ! run "$t" "$secs" >"artifacts/$t.log" 2>&1; then
                failed+=("$t")
                tail -n 40 "artifacts/$t.log" >&2
            fi
            grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "artifacts/$t.log" | tr '\n' ' ' >&2 || true
            echo >&2
        done
        echo "fuzz pass: $(targets | wc -l) targets, ${secs} s each, $(($(date +%s) - start)) s in all; failed: ${failed[*]:-none}" >&2
        [ ${#failed[@]} -eq 0 ]
        ;;
    run)
        [ $# -eq 3 ] || { echo "usage: scripts/fuzz.sh run TARGET MINUTES" >&2; exit 2; }
        build
        run "$2" $(($3 * 60))
        ;;
    repro)
        [ $# -eq 3 ] || { echo "usage: scripts/fuzz.sh repro TARGET FILE" >&2; exit 2; }
        build
        case $3 in /*) input=$3 ;; *) input=$caller/$3 ;; esac
        "$bin_dir/$2" "${limits[@]}" "$input"
        ;;
    *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
