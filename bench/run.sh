#!/usr/bin/env bash
# Benchmark harness for the workloads of design section 9 (whole processes, median of runs).
#   bash bench/run.sh [N ...]        default: 50000 1000000
# Data are made with `tasa simulate` into target/bench/ (never committed) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tasa=target/release/tasa
inst=instruments/service-equality.toml
runs=${RUNS:-5}
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(50000 1000000)

# The 29 proportion indicators of the instrument plus one more binary item: 30 indicators.
mapfile -t props < <($tasa instrument show "$inst" --format json |
  python3 -c 'import json,sys; print("\n".join(i["id"] for i in json.load(sys.stdin)["indicators"] if i["kind"]=="proportion"))')
estimands=()
for id in "${props[@]}"; do estimands+=(--indicator "$id"); done
estimands+=(--prop disability=1)

time_it() { # label, command...: median wall time and peak memory of the process
  local label=$1; shift
  python3 - "$label" "$runs" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
label, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
mem = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(f"{label:34} {statistics.median(times):8.3f} s  {mem:6d} MB  (median of {runs})")
PY
}

for n in "${sizes[@]}"; do
  dir=target/bench/se-$n
  if [ ! -f "$dir/responses.csv" ]; then
    $tasa -q simulate --instrument "$inst" --n "$n" --seed 1 --no-truth --out "$dir"
  fi
  rows=$(($(wc -l < "$dir/responses.csv") - 1))
  echo "n = $rows respondents ($dir)"
  design=(--weight design_weight --strata area --cluster office)
  w1=(estimate "$dir/responses.csv" --instrument "$inst" "${design[@]}" "${estimands[@]}" --by origin_group --by area -o /dev/null --format csv -q)
  time_it "W1 (30 indicators x 50 domains)" $tasa "${w1[@]}" --ci wald
  time_it "W1 with logit intervals" $tasa "${w1[@]}" --ci logit
  time_it "reading (+ one mean)" $tasa -q estimate "$dir/responses.csv" --mean age -o /dev/null --format csv
  time_it "validate" $tasa -q validate "$dir/responses.csv" --instrument "$inst" -o /dev/null --format csv
  # Calibration: raking to area (45 cells), origin x gender (16) and age group (5).
  rake=(--calibrate raking --margin "$dir/margins/area.csv" --margin "$dir/margins/origin_gender.csv" --margin "$dir/margins/age_group.csv")
  time_it "W3 raking + 30 overall proportions" $tasa estimate "$dir/responses.csv" --instrument "$inst" "${design[@]}" "${estimands[@]}" "${rake[@]}" --ci wald -o /dev/null --format csv -q
  time_it "weight: raking" $tasa -q weight "$dir/responses.csv" "${design[@]}" "${rake[@]}" -o /dev/null
  if [ "$rows" -le 200000 ]; then
    # 200 re-calibrated bootstrap replicates (output kept for W2).
    time_it "weight: raking + 200 bootstrap" $tasa -q weight "$dir/responses.csv" "${design[@]}" "${rake[@]}" --replicates bootstrap:200 --seed 1 -o "$dir/weighted.csv" --design-out "$dir/weighted.toml"
    time_it "W2 (W1 on 200 replicate weights)" $tasa estimate "$dir/weighted.csv" --instrument "$inst" --design "$dir/weighted.toml" "${estimands[@]}" --by origin_group --by area --ci wald -o /dev/null --format csv -q
  fi
done
