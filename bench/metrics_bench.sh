#!/usr/bin/env bash
# The exporter's and the uplink's cost per result, per build: ProbeMetricsBench (10,000 targets of
# four kinds: ns to record a result, ms to write /metrics) and ResultEncoderBench (ns to encode a
# result of each kind to its wire JSON). The bench sources are this tree's; each build given (its
# project root, after `mvn package`) is measured with them, alternating, so that an older build
# and this one are compared in one run on the same machine:
#
#     bash bench/metrics_bench.sh [ROUNDS] [ROOT ...]     (default: 3 rounds of this tree)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-3}"
shift || true
roots=("$@")
[ ${#roots[@]} -gt 0 ] || roots=("$here")
gson=$(ls ~/.m2/repository/com/google/code/gson/gson/*/gson-*.jar | grep -v sources | sort -V | tail -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in "${!roots[@]}"; do
    r="${roots[$i]}"
    cp="$r/bundles/api/target/classes:$r/bundles/exporter/target/classes:$r/bundles/uplink/target/classes:$r/bundles/wire/target/classes:$gson"
    mkdir -p "$work/$i"
    javac -nowarn -d "$work/$i" -cp "$cp" \
        "$here/bundles/exporter/src/test/java/io/sonde/exporter/internal/ProbeMetricsBench.java" \
        "$here/bundles/uplink/src/test/java/io/sonde/uplink/internal/ResultEncoderBench.java"
done
for round in $(seq 1 "$rounds"); do
    for i in "${!roots[@]}"; do
        r="${roots[$i]}"
        cp="$work/$i:$r/bundles/api/target/classes:$r/bundles/exporter/target/classes:$r/bundles/uplink/target/classes:$r/bundles/wire/target/classes:$gson"
        echo "$r #$round: $(java -Xmx1g -cp "$cp" io.sonde.exporter.internal.ProbeMetricsBench 15)"
        echo "$r #$round: $(java -Xmx1g -cp "$cp" io.sonde.uplink.internal.ResultEncoderBench 9)"
    done
done
