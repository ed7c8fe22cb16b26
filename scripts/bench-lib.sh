# Shared by the scripts/bench-* benchmarks: build this tree's phi-audit and the previous one's in
# the same run, and print every figure beside the previous binary's as a ratio, so a noisy
# machine does not hide a regression (both are measured on the same machine, minutes apart,
# their runs interleaved).
#
# Source it from a benchmark, after `cd` to the repository root:
#
#   . scripts/bench-lib.sh
#   bench_binaries                 # sets NEW_BIN and OLD_BIN
#   compare "evaluate --format json" '"$BIN" evaluate "$work/snapshot" --format json'
#
# Settings (environment):
#   BASE=REV     the previous binary's commit (default HEAD^: the commit before)
#   PROFILE=dev  the debug build instead of release (quick checks of a benchmark itself)
#   RUNS=N       runs of each command per binary (default 3; the median is printed)
#   BENCH_TARGET=DIR  the cargo target directory for both builds (default target/)
#
# The previous tree is checked out once into target/bench/base (a git worktree) and built with
# the same target directory as this tree, so dependencies are built once; its binary is copied
# to target/bench/phi-audit-<commit> and reused by later runs.

bench_profile=${PROFILE:-release}
bench_runs=${RUNS:-3}

# BENCH_WORK: the benchmark's scratch directory (its inputs, outputs and each comparison's runs),
# removed when the script exits, however it exits. A benchmark writes hundreds of MB per run; left
# behind, they had filled the disk that CI builds on.
BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/phi-audit-bench.XXXXXX")
trap 'rm -rf "$BENCH_WORK"' EXIT

# bench_build DIR: builds the phi-audit binary of the tree at DIR; prints its path. The two
# trees share a target directory, and cargo would take the other tree's build of phi-audit as
# fresh (its sources are older than the build): phi-audit's own artifacts are removed first, so
# it is always compiled from DIR (the dependencies stay built).
bench_build() {
  local dir=$1 target
  target=${BENCH_TARGET:-$(cd "$(git rev-parse --show-toplevel)" && pwd)/target}
  if [ "$bench_profile" = release ]; then
    (cd "$dir" && CARGO_TARGET_DIR=$target cargo clean --release --quiet -p phi-audit)
    (cd "$dir" && CARGO_TARGET_DIR=$target cargo build --release --quiet --bin phi-audit)
    echo "$target/release/phi-audit"
  else
    (cd "$dir" && CARGO_TARGET_DIR=$target cargo clean --quiet -p phi-audit)
    (cd "$dir" && CARGO_TARGET_DIR=$target cargo build --quiet --bin phi-audit)
    echo "$target/debug/phi-audit"
  fi
}

# Sets OLD_BIN (the previous commit's binary, cached by commit) and NEW_BIN (this tree's).
bench_binaries() {
  local root base commit cached
  root=$(git rev-parse --show-toplevel)
  base=${BASE:-HEAD^}
  commit=$(git rev-parse --short=12 "$base")
  mkdir -p "$root/target/bench"
  cached="$root/target/bench/phi-audit-$commit-$bench_profile"
  if [ ! -x "$cached" ]; then
    local tree="$root/target/bench/base"
    if [ -d "$tree" ]; then
      git -C "$tree" checkout --quiet --detach "$commit"
    else
      git worktree add --quiet --detach "$tree" "$commit"
    fi
    cp "$(bench_build "$tree")" "$cached"
  fi
  OLD_BIN=$cached
  NEW_BIN=$root/target/bench/phi-audit-new-$bench_profile
  cp "$(bench_build "$root")" "$NEW_BIN"
  echo "binaries ($bench_profile): this tree ($(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD || echo ', with uncommitted changes')) against $commit ($(git log -1 --format=%s "$commit" | cut -c1-60))"
}

# median: the middle of the numbers on stdin (the lower middle of an even count).
bench_median() {
  sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# compare LABEL COMMAND: runs COMMAND (a shell string in which "$BIN" is the binary) RUNS times
# with each binary, interleaved, and prints the median wall time and peak RSS of both and their
# ratios. The command's output is kept in $BENCH_OUT_NEW / $BENCH_OUT_OLD (its last run), until
# the next comparison.
compare() {
  local label=$1 command=$2 dir run which
  if [ -n "${BENCH_OUT_NEW:-}" ]; then rm -rf "$(dirname "$BENCH_OUT_NEW")"; fi
  dir=$(mktemp -d "$BENCH_WORK/compare.XXXXXX")
  for run in $(seq "$bench_runs"); do
    for which in old new; do
      local bin=$OLD_BIN
      [ "$which" = new ] && bin=$NEW_BIN
      BIN=$bin /usr/bin/time -f "%e %M" -o "$dir/$which.$run" bash -c "BIN=\"$bin\"; $command" \
        >"$dir/$which.out" 2>"$dir/$which.err" || {
        echo "$label: the $which binary failed:" >&2
        tail -5 "$dir/$which.err" >&2
      }
    done
  done
  local new_wall new_rss old_wall old_rss
  new_wall=$(cut -d' ' -f1 "$dir"/new.? | bench_median)
  new_rss=$(cut -d' ' -f2 "$dir"/new.? | bench_median)
  old_wall=$(cut -d' ' -f1 "$dir"/old.? | bench_median)
  old_rss=$(cut -d' ' -f2 "$dir"/old.? | bench_median)
  awk -v l="$label" -v nw="$new_wall" -v nr="$new_rss" -v ow="$old_wall" -v or="$old_rss" -v n="$bench_runs" 'BEGIN {
    printf "%s (median of %d):\n  this tree: %7.2f s %6d MB\n  previous:  %7.2f s %6d MB\n  ratio:     %7.2fx    %6.2fx\n",
      l, n, nw, nr / 1024, ow, or / 1024, (ow > 0 ? nw / ow : 0), (or > 0 ? nr / or : 0)
  }'
  BENCH_OUT_NEW="$dir/new.out"
  BENCH_OUT_OLD="$dir/old.out"
}
