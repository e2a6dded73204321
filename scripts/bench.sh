#!/usr/bin/env bash
# One command per benchmark of docs/benchmarks.md (round 4), F (gateway), E (bare MQTTnet echo) and M (Mosquitto +
# echo, when installed) in the same run; prints the load average before and after, since the machine may be shared.
#   scripts/bench.sh latency-level | latency-trigger | latency-order | throughput | startup  [more harness options]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:?usage: scripts/bench.sh latency-level|latency-trigger|latency-order|throughput|startup [harness options]}
shift
dotnet build tests/Pantri.Iot.LoadTest -c Release -v q -nologo | grep -E " error |warning [A-Z]" || true
harness=(dotnet run -c Release --no-build --project tests/Pantri.Iot.LoadTest --)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
case $scenario in
  latency-level) "${harness[@]}" latency --kind level --devices 100 --rate 1000 --duration 10 "$@" ;;
  latency-trigger) "${harness[@]}" latency --kind trigger --devices 100 --rate 1000 --duration 10 "$@" ;;
  # Every trigger places an order (each names the device's next instruction not ordered yet: 125 per device cover the
  # warm-up and the run), with dispatch to the sandbox retailer running (default 3 s per step).
  latency-order) "${harness[@]}" latency --kind order --orders-per-device 125 --devices 100 --rate 1000 --duration 10 "$@" ;;
  throughput) "${harness[@]}" throughput --kinds level,trigger --rates 2000,3000,4000,6000,8000,10000,15000,20000,30000 --step 4 "$@" ;;
  # 1 million commands inside the 24-hour idempotency window, then start F: time until it accepts MQTT, and its RSS.
  startup) "${harness[@]}" startup --commands 1000000 --targets F,E "$@" ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
