"""The ``lrkit`` command line: thin over the library (parse, call, print).

User mistakes print one line to stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .config import from_config, json_schema, load_file
from .errors import ScheduleError
from ._explain import explain

EXAMPLES = """examples:
  lrkit show examples/tf_resnet_imagenet.json
  lrkit validate run.yaml
  lrkit schema > lrkit.schema.json
"""


def _show(path: str) -> None:
    s = from_config(path)
    data = load_file(path)
    print(f"== {path}")
    if isinstance(data, dict) and data.get("description"):
        print(data["description"])
    print(f"schedule: {s!r}")
    print(f"duration: {'infinite' if s.duration is None else f'{s.duration} steps'}\n")
    bind = data.get("bind") if isinstance(data, dict) else None
    ex = explain(s, total_steps=(bind or {}).get("total_steps"))
    print(ex)
    marks = sorted({0, *(p.start for p in ex.phases), *(p.start - 1 for p in ex.phases)}
                   - {-1})
    if s.duration is not None:
        marks.append(s.duration + 1)
    print("\n" + "  ".join(f"lr({k})={s(k):.6g}" for k in marks[:12]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lrkit", description="Learning-rate schedules: see and check them before training.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("show", help="print the phase table and values of a schedule file")
    p.add_argument("file", help="a schedule config (.json, .toml, .yaml)")
    p = sub.add_parser("validate", help="check a schedule file; exit 2 with the reason if bad")
    p.add_argument("file")
    sub.add_parser("schema", help="print the JSON schema of schedule configs")
    args = parser.parse_args(argv)
    try:
        if args.command == "show":
            _show(args.file)
        elif args.command == "validate":
            s = from_config(args.file)
            print(f"{args.file}: ok: {s!r}")
        else:
            json.dump(json_schema(), sys.stdout, indent=2)
            print()
    except ScheduleError as e:
        print(f"lrkit: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["main"]
