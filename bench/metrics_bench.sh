#!/usr/bin/env bash
# The exporter's and the uplink's cost per result, per build: ProbeMetricsBench (10,000 targets of
# four kinds: ns to record a result, ms to write /metrics) and ResultEncoderBench (ns to encode a
# result of each kind to its wire JSON). Each build given (its project root, after `mvn package`) is
# measured alternating with the others, so that an older build and this one are compared in one
# run on the same machine. The bench sources are this tree's; ROOT@COMMIT takes them from this
# repository at COMMIT instead (a build from before the built-in results moved into their plugins
# needs the sources of that time, 0d6d8c4, which make the same results with the same figures):
#
#     bash bench/metrics_bench.sh [ROUNDS] [ROOT[@COMMIT] ...]     (default: 3 rounds of this tree)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-3}"
shift || true
roots=("$@")
[ ${#roots[@]} -gt 0 ] || roots=("$here")
gson=$(ls ~/.m2/repository/com/google/code/gson/gson/*/gson-*.jar | grep -v sources | sort -V | tail -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
benches=(agent/exporter/src/test/java/io/sonde/exporter/internal/ProbeMetricsBench.java
         agent/uplink/src/test/java/io/sonde/uplink/internal/ResultEncoderBench.java)
classpath() { # the classes of a build: the contract, the agent SPI where it exists, the exporter, uplink, wire, the plugins' results
    local r="$1" cp="$1/contract/api/target/classes:$1/agent/exporter/target/classes:$1/agent/uplink/target/classes"
    cp="$cp:$1/contract/wire/target/classes"
    [ -d "$r/contract/agent-spi/target/classes" ] && cp="$cp:$r/contract/agent-spi/target/classes"
    for p in tcp icmp http traceroute; do
        [ -d "$r/plugins/$p/target/classes" ] && cp="$cp:$r/plugins/$p/target/classes"
    done
    echo "$cp:$gson"
}
for i in "${!roots[@]}"; do
    r="${roots[$i]%@*}"
    mkdir -p "$work/$i/src"
    sources=()
    for b in "${benches[@]}"; do
        if [[ "${roots[$i]}" == *@* ]]; then
            git -C "$here" show "${roots[$i]##*@}:$b" > "$work/$i/src/$(basename "$b")"
            sources+=("$work/$i/src/$(basename "$b")")
        else
            sources+=("$here/$b")
        fi
    done
    javac -nowarn -d "$work/$i" -cp "$(classpath "$r")" "${sources[@]}"
done
for round in $(seq 1 "$rounds"); do
    for i in "${!roots[@]}"; do
        r="${roots[$i]%@*}"
        cp="$work/$i:$(classpath "$r")"
        echo "$r #$round: $(java -Xmx1g -cp "$cp" io.sonde.exporter.internal.ProbeMetricsBench 15)"
        echo "$r #$round: $(java -Xmx1g -cp "$cp" io.sonde.uplink.internal.ResultEncoderBench 9)"
    done
done
