#!/bin/sh
# run.sh - one `make run` (or `make debug`) boot of irqlab under QEMU.
# Each run works in a directory of its own under BUILD/run/ (a copy of the ESP with this run's
# command line, and a fresh copy of the OVMF variables), removed when QEMU ends: a second run
# beside the first never touches its files.  From a terminal in the foreground the console is
# QEMU's stdio with its monitor (Ctrl-A X quits, Ctrl-A C is the monitor); from anywhere else
# (a script, `timeout`, `setsid`, stdin not a terminal) QEMU gets no terminal to read, which
# would stop it with SIGTTIN, and prints the console to stdout.  With test= on the command
# line, a word is printed when no output has come for IRQLAB_IDLE_TIMEOUT seconds (40; 0: never).
# Usage: IRQLAB_CMDLINE='...' tools/run.sh BUILD OVMF_CODE OVMF_VARS QEMU-ARGS...
set -u
build=$1 code=$2 vars=$3
shift 3
idle=${IRQLAB_IDLE_TIMEOUT:-40}
cmdline=${IRQLAB_CMDLINE:-}

mkdir -p "$build/run" || exit 1
dir=$(mktemp -d "$build/run/XXXXXX") || exit 1
watcher=""
cleanup() {
    [ -n "$watcher" ] && kill "$watcher" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

cp "$vars" "$dir/vars.fd" && cp "$build/esp.img" "$dir/esp.img" || exit 1
printf '%s\n' "$cmdline" > "$dir/cmdline.txt"
mcopy -o -i "$dir/esp.img" "$dir/cmdline.txt" ::/irqlab/cmdline.txt || exit 1

# stdin is a terminal and this process group owns it: only then may QEMU read it.
foreground() {
    [ -t 0 ] && python3 -c 'import os, sys; sys.exit(os.tcgetpgrp(0) != os.getpgrp())' 2>/dev/null
}

# Prints once when the serial log stops growing for $idle seconds.
watch_idle() { # LOG HOW-TO-LEAVE
    last=-1 quiet=0
    while sleep 1; do
        size=$(wc -c < "$1" 2>/dev/null || echo 0)
        [ "$size" = "$last" ] && quiet=$((quiet + 1)) || quiet=0
        last=$size
        if [ "$quiet" -ge "$idle" ]; then
            printf '\r\nirqlab: no output for %s s: the test may hang; %s\r\n' "$idle" "$2" >&2
            return
        fi
    done
}

log="logfile=$dir/serial.log"
if foreground; then
    leave="Ctrl-A X quits QEMU"
    echo "irqlab: the console is on this terminal; Ctrl-A X quits, Ctrl-A C is QEMU's monitor" >&2
    set -- "$@" -chardev "stdio,id=con,mux=on,$log" -serial chardev:con -mon chardev=con
else
    leave="stop QEMU with Ctrl-C or kill"
    echo "irqlab: no terminal in the foreground: the console is output only (no Ctrl-A keys)" >&2
    set -- "$@" -chardev "stdio,id=con,$log" -serial chardev:con
    exec < /dev/null
fi
case " $cmdline " in
*" test="*) [ "$idle" -gt 0 ] 2>/dev/null && { watch_idle "$dir/serial.log" "$leave" & watcher=$!; } ;;
esac

qemu-system-x86_64 "$@" \
    -drive "if=pflash,format=raw,readonly=on,file=$code" \
    -drive "if=pflash,format=raw,file=$dir/vars.fd" \
    -drive "if=none,id=esp,format=raw,file=$dir/esp.img" -device virtio-blk-pci,drive=esp
status=$?
exit $status
