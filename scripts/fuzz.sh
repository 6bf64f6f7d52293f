#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang, ASan and UBSan into build-fuzz/ and runs
# them. Usage:
#   scripts/fuzz.sh [--seconds N] [target...]   fuzz each target (default: all) for N s (300)
#   scripts/fuzz.sh --quick                     what ctest runs: replay every corpus and
#                                               regression input, then fuzz each target 10 s
#   scripts/fuzz.sh --replay [target...]        only replay corpus and regression inputs
#   scripts/fuzz.sh --list                      the target names
#   scripts/fuzz.sh --make-corpus               rewrite the seeds in tests/fuzz/corpus/ from
#                                               the project's encoders (make_corpus.cc)
# Targets are named as in tests/fuzz/<name>_fuzzer.cc. New corpus entries go to a scratch dir
# ($FUZZ_SCRATCH, default build-fuzz/corpus/<name>, kept between runs; --quick uses its own);
# a crashing input is written to tests/fuzz/regressions/<name>/ and the script fails: fix the
# bug and commit the input, which every later run replays. Without clang the script exits 77
# (skipped), except under CI=true, where that is a failure. FUZZ_CC / FUZZ_CXX name the compilers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
fuzz_dir="$root/tests/fuzz"
targets_all=(resp_parser bus_frame gossip anti_entropy commit_log segment restore_payload rdb_file config glob crdt)

mode=fuzz
seconds=300
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick; seconds="${FUZZ_QUICK_SECONDS:-10}" ;;
    --replay) mode=replay ;;
    --seconds) seconds="$2"; shift ;;
    --make-corpus) mode=make-corpus ;;
    --list) printf '%s\n' "${targets_all[@]}"; exit 0 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -eq 0 ] && targets=("${targets_all[@]}")
for t in "${targets[@]}"; do
  [ -f "$fuzz_dir/${t}_fuzzer.cc" ] || { echo "fuzz.sh: no target '$t' (see --list)" >&2; exit 2; }
done

cc="$(command -v "${FUZZ_CC:-clang}" || true)"
cxx="$(command -v "${FUZZ_CXX:-clang++}" || true)"
if [ -z "$cc" ] || [ -z "$cxx" ] ||
   ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     "$cxx" -x c++ -fsanitize=fuzzer,address,undefined - -o /dev/null 2>/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "fuzz.sh: clang with libFuzzer is required in CI (scripts/deps.sh installs it)" >&2
    exit 1
  fi
  echo "fuzz.sh: clang with libFuzzer not found, fuzzers skipped (scripts/deps.sh installs it)"
  exit 77
fi

mkdir -p "$build"
# One run at a time per build dir: a second one (another ctest) waits instead of racing the build.
exec 9>"$build/.fuzz.lock"
flock 9

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
fi
# -O1 and line tables only: the usual fuzzing trade-off of speed against build time. No NDEBUG,
# so asserts are checks too.
cmake -S "$root" -B "$build" -DDYNAKV_FUZZ=ON -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O1 -gline-tables-only" \
  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" "${launcher[@]}" >/dev/null
build_targets=$(printf '%s_fuzzer ' "${targets[@]}")
[ "$mode" = make-corpus ] && build_targets=fuzz_make_corpus
cmake --build "$build" -j"${FUZZ_BUILD_JOBS:-2}" --target $build_targets \
  >"$build/build.log" 2>&1 || { tail -40 "$build/build.log"; echo "fuzz.sh: build failed" >&2; exit 1; }

if [ "$mode" = make-corpus ]; then
  ASAN_OPTIONS=detect_leaks=0 "$build/tests/fuzz/fuzz_make_corpus" "$fuzz_dir/corpus"
  echo "fuzz.sh: seeds written to $fuzz_dir/corpus"
  exit 0
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

# Per-target libFuzzer flags.
flags_for() {
  local t="$1" flags=(-timeout=30 -rss_limit_mb=2048)
  [ -f "$fuzz_dir/$t.dict" ] && flags+=(-dict="$fuzz_dir/$t.dict")
  case "$t" in
    # Matching costs up to key length x pattern-piece length (as in Redis), and the fuzzer's
    # reference matcher is quadratic too: short inputs keep each run fast.
    glob) flags+=(-max_len=4096) ;;
    *) flags+=(-max_len=65536) ;;
  esac
  printf '%s\n' "${flags[@]}"
}

failed=()
replay() {
  local t="$1" bin="$build/tests/fuzz/${t}_fuzzer" files=()
  mapfile -t files < <(find "$fuzz_dir/corpus/$t" "$fuzz_dir/regressions/$t" -type f 2>/dev/null | sort)
  [ ${#files[@]} -eq 0 ] && return 0
  local log="$build/replay-$t.log"
  mapfile -t flags < <(flags_for "$t")
  if "$bin" "${flags[@]}" "${files[@]}" >"$log" 2>&1; then
    echo "replay $t: ${#files[@]} inputs ok"
  else
    tail -60 "$log"
    echo "replay $t: FAILED (log: $log)"
    failed+=("$t (replay)")
  fi
}

run() {
  local t="$1" bin="$build/tests/fuzz/${t}_fuzzer"
  local scratch="${FUZZ_SCRATCH:-$build/corpus}/$t"
  local crashes="$fuzz_dir/regressions/$t"
  # The quick run starts from the committed seeds only, leaving the long runs' corpus alone.
  if [ "$mode" = quick ]; then
    scratch="$build/quick-corpus/$t"
    rm -rf "$scratch"
  fi
  mkdir -p "$scratch" "$crashes"
  mapfile -t flags < <(flags_for "$t")
  local extra=()
  # A fixed seed: the quick run explores the same inputs every time (as far as it gets).
  [ "$mode" = quick ] && extra+=(-seed=1)
  local seeds=()
  for d in "$fuzz_dir/corpus/$t" "$crashes"; do
    [ -n "$(ls -A "$d" 2>/dev/null)" ] && seeds+=("$d")
  done
  local log="$build/fuzz-$t.log"
  echo "fuzz $t: ${seconds}s, new inputs in $scratch"
  if "$bin" "${flags[@]}" "${extra[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$crashes/" "$scratch" "${seeds[@]}" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$log" | tr '\n' ' '; echo
  else
    tail -60 "$log"
    echo "fuzz $t: FAILED, the input is in $crashes/ (log: $log)"
    failed+=("$t")
  fi
}

for t in "${targets[@]}"; do
  case "$mode" in
    replay) replay "$t" ;;
    quick) replay "$t"; run "$t" ;;
    fuzz) run "$t" ;;
  esac
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failures: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all ok"
