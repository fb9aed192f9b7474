"""tools/trace - read the file `!trace dump` wrote (docs/trace-format.md), check it, and turn it
into Chrome trace-event JSON (Perfetto, chrome://tracing), an SVG timeline and a summary.

    python3 tools/trace convert TRACE.bin [--json OUT.json] [--svg OUT.svg [--window FROM:TO]] [--summary OUT.txt]
    python3 tools/trace check TRACE.bin        # exit 1 and the reasons when it breaks a rule
    python3 tools/trace summary TRACE.bin

A trace that is damaged or breaks a rule (tools/trace/timeline.py lists them) is refused:
"trace: REASON" on stderr and exit status 1; --lenient converts it anyway, with notes.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chrome  # noqa: E402
import picture  # noqa: E402
import reader  # noqa: E402
import summary  # noqa: E402
import timeline  # noqa: E402


def load(path: str, strict: bool):
    return timeline.build(reader.load(path), strict=strict)


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="tools/trace", description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("action", choices=("convert", "check", "summary"))
    parser.add_argument("trace", help="the file COM2 received (!trace dump)")
    parser.add_argument("--json", help="write Chrome trace-event JSON here")
    parser.add_argument("--svg", help="write the timeline picture here")
    parser.add_argument("--summary", help="write the summary here (convert prints it otherwise)")
    parser.add_argument("--window", metavar="FROM:TO", help="draw only FROM to TO milliseconds after the start")
    parser.add_argument("--lenient", action="store_true", help="convert a trace that breaks a rule, with notes")
    args = parser.parse_args(argv)
    try:
        tl = load(args.trace, not args.lenient)
    except (reader.TraceError, timeline.InvalidTrace) as error:
        print(f"trace: {args.trace}: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"trace: {error}", file=sys.stderr)
        return 1
    if args.action == "check":
        t = tl.trace
        print(f"trace: {args.trace}: valid; {len(t.cpus)} processors, {len(tl.slices)} slices, "
              f"{sum(c.dropped for c in t.cpus)} dropped")
        return 0
    text = summary.text(tl)
    if args.json:
        chrome.write(tl, args.json)
    if args.svg:
        try:
            window = tuple(float(v) for v in args.window.split(":")) if args.window else None
        except ValueError:
            window = None
        if args.window and (window is None or len(window) != 2 or window[0] >= window[1]):
            print(f"trace: --window {args.window}: give FROM:TO in milliseconds, FROM < TO", file=sys.stderr)
            return 1
        picture.write(tl, args.svg, window)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            f.write(text)
    if args.action == "summary" or not args.summary:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
