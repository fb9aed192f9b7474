#!/usr/bin/env python3
"""check_layers.py - the floors of docs/architecture.md, read from the #includes.

A floor calls only the floors below it, and a call needs a declaration, so
every #include of a higher floor's header is an edge that runs back up; this
script names each one and fails, as it does for a third-party header (Zydis)
outside the floor it belongs to.  It also holds the size rules (files under
500 lines, functions under 60) and the private headers (kernel/X/*.h only
inside X).  Run by `make check-layers` and `make test`.

    python3 tools/check_layers.py [--root DIR]
"""
import argparse
import os
import re
import sys

# Floors from the bottom (docs/architecture.md draws them).  Within floor 6
# the console sits above the drivers: kd may call io, io never calls kd.
FLOORS = ["rtl", "arch", "mm", "hal", "ke", "ex", "io", "kd", "top"]

# Source folders -> floor.
FOLDERS = {
    "kernel/rtl": "rtl",
    "arch/x86_64": "arch",
    "kernel/mm": "mm",
    "kernel/hal": "hal",
    "kernel/ke": "ke",
    "kernel/ex": "ex",
    "kernel/io": "io",
    "kernel/kd": "kd",
    "kernel/init": "top",
    "kernel/kt": "top",
    "tests/kernel": "top",
    "tests/bench": "top",
}

# Public headers (include/irqlab/NAME.h) -> the floor that implements them.
HEADERS = {
    "nt": "rtl", "list": "rtl", "rtl": "rtl", "bootinfo": "rtl", "bugcodes": "rtl", "vectors": "rtl",
    "memmap": "rtl",
    "mm": "mm",
    "hal": "hal",
    "ke": "ke", "prcb": "ke", "dpc": "ke", "timer": "ke", "wait": "ke", "spinlock": "ke",
    "interrupt": "ke", "kequery": "ke", "keboot": "ke", "thread": "ke", "trace": "ke", "apc": "ke", "guardedmutex": "ke",
    "pool": "ex", "wdm": "ex", "ps": "ex", "fastmutex": "ex", "iomgr": "ex",
    "kbd": "io",
    "kd": "kd",
    "test": "top", "bench": "top",
}

# The platform below the HAL: in kernel/ only the HAL (and arch itself) includes these; the
# tests on the top floor may look at it, as they look at every floor.
HAL_ONLY = {"arch/apic.h", "arch/ioapic.h", "arch/acpi.h", "arch/timer.h"}

# Third-party headers (fetched at build time, never in the tree) -> the floors that may include
# them: Zydis is the console's disassembler (kernel/kd/disasm.c) and nobody else's.
EXTERNAL = {"Zydis/": ("kd",), "Zycore/": ("kd",)}

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
FUNCTION_START_RE = re.compile(r"^[A-Za-z_].*\)\s*$")


def floor_of_file(path):
    for folder, floor in FOLDERS.items():
        if path.startswith(folder + "/"):
            return folder, floor
    return None, None


def floor_of_header(kind, name, source_dir):
    """(floor, private folder or None) of an included header, or (None, None) if not ours."""
    if kind == "<" and name.startswith("irqlab/"):
        base = os.path.splitext(os.path.basename(name))[0]
        return HEADERS.get(base, "unknown"), None
    if kind == "<" and name.startswith("arch/"):
        return "arch", None
    if kind == '"':
        target = os.path.normpath(os.path.join(source_dir, name))
        folder, floor = floor_of_file(target)
        return floor, folder
    return None, None


def check_includes(root, path, folder, floor, problems):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        lines = f.readlines()
    for number, line in enumerate(lines, 1):
        m = INCLUDE_RE.match(line)
        if not m:
            continue
        kind, name = m.groups()
        where = f"{path}:{number}"
        external = [floors for prefix, floors in EXTERNAL.items() if name.startswith(prefix)]
        if external and floor not in external[0]:
            problems.append(f"{where}: {name} is for {', '.join(external[0])} only (EXTERNAL in tools/check_layers.py)")
        target_floor, target_folder = floor_of_header(kind, name, os.path.dirname(path))
        if target_floor is None:
            continue
        if target_floor == "unknown":
            problems.append(f"{where}: {name} is on no floor (add it to HEADERS in tools/check_layers.py)")
            continue
        if FLOORS.index(target_floor) > FLOORS.index(floor):
            problems.append(f"{where}: {floor} includes {name} ({target_floor}), a floor above it")
        if name in HAL_ONLY and floor not in ("hal", "arch") and not path.startswith("tests/"):
            problems.append(f"{where}: {name} is the platform below the HAL; only kernel/hal/ includes it")
        if target_folder and target_folder != folder and kind == '"':
            problems.append(f"{where}: {name} is private to {target_folder}/; use a header in include/irqlab/")
    return lines


def check_sizes(path, lines, problems):
    if len(lines) > MAX_FILE_LINES:
        problems.append(f"{path}: {len(lines)} lines (at most {MAX_FILE_LINES})")
    if not path.endswith(".c"):
        return
    start = None
    for number, line in enumerate(lines, 1):
        if line.startswith("{") and number > 1 and FUNCTION_START_RE.match(lines[number - 2]):
            start = number
        elif line.startswith("}") and start is not None:
            length = number - start - 1
            if length > MAX_FUNCTION_LINES:
                name = lines[start - 2].split("(")[0].split()[-1]
                problems.append(f"{path}:{start}: {name} is {length} lines (at most {MAX_FUNCTION_LINES})")
            start = None


def sources(root):
    for top in ("kernel", "arch", "tests/kernel", "tests/bench", "include"):
        for directory, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(directory, name), root)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    args = parser.parse_args(argv)
    problems = []
    count = 0
    for path in sources(args.root):
        if path.startswith("include/"):
            base = os.path.splitext(os.path.basename(path))[0]
            folder, floor = "include", HEADERS.get(base, "unknown")
            if path.startswith("include/irqlab/") and floor == "unknown":
                problems.append(f"{path}: on no floor (add it to HEADERS in tools/check_layers.py)")
                continue
        else:
            folder, floor = floor_of_file(path)
            if floor is None:
                problems.append(f"{path}: in no floor's folder (add it to FOLDERS in tools/check_layers.py)")
                continue
        count += 1
        lines = check_includes(args.root, path, folder, floor, problems)
        if not path.startswith("tests/"):
            check_sizes(path, lines, problems)
    for problem in problems:
        print(problem)
    print(f"check-layers: {count} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
