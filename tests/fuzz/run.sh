#!/bin/sh
# run.sh DIR SECONDS NAME... - runs each DIR/fuzz_NAME for SECONDS, keeping its corpus in
# DIR/corpus/NAME (seeded from tests/fuzz/NAME.dict's words, if any) and a crashing input in
# DIR/crash-NAME-*; ends with "N passed, N failed" and fails if any fuzzer found a crash.
set -u
dir=$1 seconds=$2
shift 2
passed=0 failed=0
for name in "$@"; do
    corpus=$dir/corpus/$name
    mkdir -p "$corpus"
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    echo "# fuzz $name: ${seconds} s, corpus $corpus"
    if "$dir/fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$dir/crash-$name-" \
        $dict "$corpus" >"$dir/$name.log" 2>&1; then
        passed=$((passed + 1))
        echo "ok - fuzz.$name # $(grep -m1 'stat::number_of_executed_units' "$dir/$name.log" | awk '{print $2}') inputs"
    else
        failed=$((failed + 1))
        echo "not ok - fuzz.$name"
        grep -m3 -E 'ERROR|runtime error|Test unit written' "$dir/$name.log" | sed 's/^/    # /'
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
