#!/bin/sh
# deps.sh - make sure the Debian packages the build needs are installed.
# As root it installs what is missing (apt-get update first: a fresh machine
# has no package lists); otherwise it prints the exact command and fails.
# Usage: tools/deps.sh [image|fuzz|display NAME]   (adds what `make image`, `make fuzz` or
# `make run QDISPLAY=NAME` needs)
set -u

missing=""
need() { # need PACKAGE PATH-OR-GLOB-OR-COMMAND
    case "$2" in
        *\**) ls $2 >/dev/null 2>&1 || missing="$missing $1" ;;
        /*) [ -e "$2" ] || missing="$missing $1" ;;
        *) command -v "$2" >/dev/null 2>&1 || missing="$missing $1" ;;
    esac
}

need gcc gcc
need make make
need binutils ld
need nasm nasm
need mtools mcopy
need gnu-efi /usr/lib/crt0-efi-x86_64.o
need ovmf /usr/share/OVMF/OVMF_CODE_4M.fd
need qemu-system-x86 qemu-system-x86_64
need python3 python3
need gdb gdb # make debug, and make test's gdb batch run (tests/harness/gdbrun.py)
[ "${1:-}" = image ] && need fdisk sfdisk
if [ "${1:-}" = fuzz ]; then # Debian 12's clang is 14; libFuzzer's runtime is a package of its own
    need clang clang
    need libclang-rt-14-dev /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
fi

if [ "${1:-}" = display ]; then # Debian ships QEMU's GTK and SDL windows as modules of their own
    case "${2:-none}" in
        gtk | gtk,* | sdl | sdl,*) need qemu-system-gui "/usr/lib/*/qemu/ui-${2%%,*}.so" ;;
    esac
fi

[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "irqlab: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing && exit 0
    echo "irqlab: apt-get failed; install by hand: apt-get install$missing" >&2
    exit 1
fi
echo "irqlab: missing Debian packages. Run as root:" >&2
echo "    apt-get update && apt-get install --no-install-recommends$missing" >&2
exit 1
