#!/usr/bin/env bash
# Benchmark harness for the workloads of design section 9: whole `tasa` processes on data made
# by `tasa simulate`, each run RUNS times; prints the median wall time and the largest peak
# resident memory (from /usr/bin/time) of the runs, one line per workload and size, and a table
# of time against n at the end, and W1 against the number of domains.
#
#   bash bench/run.sh [N ...]        default: 10000 50000 200000 1000000
#   RUNS=3 bash bench/run.sh 50000   fewer runs
#
# Inputs go to target/bench/se-N/ (never committed) and are reused; results are appended to
# target/bench/results.tsv (workload, n, median seconds, peak MB, runs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin tasa --example csv_floor
floor=target/release/examples/csv_floor
tasa=target/release/tasa
inst=instruments/service-equality.toml
runs=${RUNS:-5}
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(10000 50000 200000 1000000)
results=target/bench/results.tsv
mkdir -p target/bench
: > "$results"

# The 29 proportion indicators of the instrument plus one more binary item: 30 indicators.
mapfile -t props < <($tasa instrument show "$inst" --format json |
  python3 -c 'import json,sys; print("\n".join(i["id"] for i in json.load(sys.stdin)["indicators"] if i["kind"]=="proportion"))')
estimands=()
for id in "${props[@]}"; do estimands+=(--indicator "$id"); done
estimands+=(--prop disability=1)

time_it() { # label, n, command...: median wall time and the largest peak RSS over the runs
  local label=$1 n=$2; shift 2
  python3 - "$label" "$n" "$runs" "$results" "$@" <<'PY'
import statistics, subprocess, sys, tempfile, os
label, n, runs, results, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
times, peaks = [], []
for _ in range(runs):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as f:
        subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", f.name, *cmd], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall, kb = f.read().split()[-2:]
    times.append(float(wall))
    peaks.append(int(kb) / 1024)
med, peak = statistics.median(times), max(peaks)
print(f"{label:38} {med:8.2f} s {peak:7.0f} MB   (median of {runs})", flush=True)
with open(results, "a") as out:
    out.write(f"{label}\t{n}\t{med:.3f}\t{peak:.0f}\t{runs}\n")
PY
}

for n in "${sizes[@]}"; do
  dir=target/bench/se-$n
  if [ ! -f "$dir/responses.csv" ]; then
    $tasa -q simulate --instrument "$inst" --n "$n" --seed 1 --no-truth --out "$dir"
  fi
  if [ ! -f "$dir/previous/responses.csv" ]; then
    $tasa -q simulate --instrument "$inst" --n "$n" --seed 2 --no-truth --out "$dir/previous"
  fi
  rows=$(($(wc -l < "$dir/responses.csv") - 1))
  echo "n = $rows respondents ($dir)"
  design=(--weight design_weight --strata area --cluster office)
  w1=(estimate "$dir/responses.csv" --instrument "$inst" "${design[@]}" "${estimands[@]}" --by origin_group --by area -o /dev/null --format csv -q)
  # The floor of design section 9, measured here and now: every field with the csv crate.
  time_it "floor: every field with the csv crate" "$n" $floor "$dir/responses.csv"
  time_it "CSV reading (+ one mean)" "$n" $tasa -q estimate "$dir/responses.csv" --mean age -o /dev/null --format csv
  time_it "W1: 30 indicators x 50 domains, Wald" "$n" $tasa "${w1[@]}" --ci wald
  time_it "W1 with logit intervals" "$n" $tasa "${w1[@]}" --ci logit
  # W3: raking to area (45 cells), origin x gender (16) and age group (5), then W1's overall
  # proportions with calibration-aware variances.
  rake=(--calibrate raking --margin "$dir/margins/area.csv" --margin "$dir/margins/origin_gender.csv" --margin "$dir/margins/age_group.csv")
  time_it "W3: raking + 30 overall proportions" "$n" $tasa estimate "$dir/responses.csv" --instrument "$inst" "${design[@]}" "${estimands[@]}" "${rake[@]}" --ci wald -o /dev/null --format csv -q
  time_it "validate" "$n" $tasa -q validate "$dir/responses.csv" --instrument "$inst" -o /dev/null --format csv
  time_it "weight: raking" "$n" $tasa -q weight "$dir/responses.csv" "${design[@]}" "${rake[@]}" -o /dev/null
  # W2: W1 with 200 bootstrap replicate weights made by tasa (in memory, from the strata
  # and PSUs).
  time_it "W2: W1 with 200 bootstrap replicates" "$n" $tasa "${w1[@]}" --ci wald --replicates bootstrap:200 --seed 1
  if [ "$rows" -le 250000 ]; then
    # The same through a file: 200 re-calibrated bootstrap replicates written by `weight`
    # (200 weight columns: above 200,000 rows that file alone is gigabytes), then W1 on them.
    time_it "weight: raking + 200 bootstrap" "$n" $tasa -q weight "$dir/responses.csv" "${design[@]}" "${rake[@]}" --replicates bootstrap:200 --seed 1 -o "$dir/weighted.csv" --design-out "$dir/weighted.toml"
    time_it "W1 on a file of 200 replicate weights" "$n" $tasa estimate "$dir/weighted.csv" --instrument "$inst" --design "$dir/weighted.toml" "${estimands[@]}" --by origin_group --by area --ci wald -o /dev/null --format csv -q
  fi
  # `tasa run` of the example project on this data: the biennial service-equality survey with
  # its previous wave (same population, another sample) and the register, in three languages.
  cat > "$dir/design-run.toml" <<EOF
weight = "design_weight"
strata = "area"
cluster = ["office", "id"]
fpc = ["office_count", "office_size"]
calibrate = "raking"
margin = ["margins/area.csv", "margins/origin_gender.csv", "margins/age_group.csv"]
EOF
  sed -e "s#^data = \"../service-equality/responses.csv\"#data = \"responses.csv\"#" \
      -e "s#^design = \"weights/service-equality.toml\"#design = \"design-run.toml\"#" \
      -e "s#^instrument = \"../../instruments/service-equality.toml\"#instrument = \"../../../instruments/service-equality.toml\"#" \
      -e "s#^data = \"service-equality-2024/responses.csv\"#data = \"previous/responses.csv\"#" \
      -e "s#\"../service-equality/register/#\"../../../examples/service-equality/register/#" \
      examples/biennial/run.toml | python3 -c 'import sys; t=sys.stdin.read(); print(t[:t.index("\n# People of foreign origin")])' > "$dir/run.toml"
  time_it "tasa run (example project)" "$n" $tasa -q run "$dir/run.toml" --out "$dir/out"
done

# Cost against the number of domains: W1's 30 indicators at one size (the largest of the
# sizes run up to 200,000) over breakdowns of 1 to 1,350 domains.
dn=0
for n in "${sizes[@]}"; do [ "$n" -le 200000 ] && [ "$n" -gt "$dn" ] && dn=$n; done
if [ "$dn" -gt 0 ]; then
  dir=target/bench/se-$dn
  echo "W1 against the number of domains, n = $dn"
  for by in "" area office "area*age_group" "office*age_group" "office*age_group*gender"; do
    byargs=(); [ -n "$by" ] && byargs=(--by "$by")
    domains=$($tasa -q estimate "$dir/responses.csv" --mean age "${byargs[@]}" --weight design_weight --format csv | tail -n +2 | wc -l)
    time_it "W1 by ${by:-nothing} ($domains domains)" "$dn" $tasa estimate "$dir/responses.csv" --instrument "$inst" "${design[@]}" "${estimands[@]}" "${byargs[@]}" --ci wald -o /dev/null --format csv -q
  done
fi

echo
echo "median seconds by n (peak MB in brackets):"
python3 - "$results" <<'PY'
import collections, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
sizes = sorted({int(r[1]) for r in rows})
table = collections.OrderedDict()
for label, n, sec, mb, _ in rows:
    table.setdefault(label, {})[int(n)] = f"{float(sec):.2f} ({mb})"
print("| workload | " + " | ".join(f"n = {n:,}" for n in sizes) + " |")
print("|---|" + "---:|" * len(sizes))
for label, cells in table.items():
    print(f"| {label} | " + " | ".join(cells.get(n, "—") for n in sizes) + " |")
PY
