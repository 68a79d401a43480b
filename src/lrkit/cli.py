"""The ``lrkit`` command line: thin over the library (parse, call, print).

A schedule comes from a file (JSON, TOML, YAML), an inline one-line expression, or ``-`` for
stdin. User mistakes print one line to stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._explain import explain
from ._schedule import Schedule
from .config import from_config, json_schema, load_file
from .errors import ScheduleError

EXAMPLES = """examples:
  lrkit show examples/tf_resnet_imagenet.json
  lrkit explain 'warmup(5ep) >> cosine(0.1 -> 1e-5, 95ep)' --steps-per-epoch 390 --total 39000
  lrkit lint examples/tf_object_detection.json --strict
  lrkit plot 'one_cycle(0.1, 1000)' -o one_cycle.png
  lrkit values run.yaml --at 0,100,1000 --format json
  lrkit validate run.yaml
  lrkit schema > lrkit.schema.json
  lrkit import examples/pipeline.config
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"lrkit: error: {message} (see lrkit --help)\n")


def _load(source: str, args: argparse.Namespace) -> tuple[Schedule, dict[str, Any]]:
    """The schedule and the binding quantities from the options (then the file's ``bind``)."""
    doc: Any = {}
    if source == "-":
        text = sys.stdin.read().strip()
        s = from_config(text if "(" in text else json.loads(text))
    elif "(" in source and not Path(source).exists():
        s = from_config(source)
    else:
        s = from_config(source)
        doc = load_file(source)
    bind = dict(doc.get("bind") or {}) if isinstance(doc, dict) else {}
    for key, opt in (("steps_per_epoch", "steps_per_epoch"), ("total_steps", "total"),
                     ("samples_per_step", "batch_size")):
        if getattr(args, opt, None) is not None:
            bind[key] = getattr(args, opt)
    s = s.bind(**bind) if bind else s
    if s._missing:
        kind, name, v, need = s._missing[0]
        flag = {"steps_per_epoch": "--steps-per-epoch", "total_steps": "--total",
                "samples_per_step": "--batch-size"}.get(need, need)
        raise ScheduleError(f"{kind}: {name!r} = {v!r} needs {need}; pass {flag}")
    return s, {"doc": doc, **bind}


def _total(s: Schedule, info: dict[str, Any], command: str) -> int:
    total = info.get("total_steps")
    if total is None:
        if s.duration is None:
            raise ScheduleError(f"{command}: the schedule is infinite; pass --total STEPS")
        total = s.duration
    return int(total)


def _cmd_show(args: argparse.Namespace) -> None:
    s, info = _load(args.schedule, args)
    doc = info["doc"]
    print(f"== {args.schedule}")
    if isinstance(doc, dict) and doc.get("description"):
        print(doc["description"])
    print(f"schedule: {s}")
    print(f"duration: {'infinite' if s.duration is None else f'{s.duration} steps'}\n")
    ex = explain(s, total_steps=info.get("total_steps"),
                 steps_per_epoch=info.get("steps_per_epoch"))
    print(ex)
    marks = sorted({0, *(p.start for p in ex.phases), *(p.start - 1 for p in ex.phases)}
                   - {-1})
    print("\n" + "  ".join(f"lr({k})={s(k):.6g}" for k in marks[:12]))


def _cmd_explain(args: argparse.Namespace) -> None:
    s, info = _load(args.schedule, args)
    ex = explain(s, total_steps=info.get("total_steps"),
                 steps_per_epoch=info.get("steps_per_epoch"))
    if args.format == "json":
        print(json.dumps(ex.to_dict(), indent=2))
    elif args.format == "markdown":
        print(ex.to_markdown())
    else:
        print(ex)


def _cmd_lint(args: argparse.Namespace) -> int:
    from ._lint import lint

    s, info = _load(args.schedule, args)
    found = lint(s, _total(s, info, "lint"), steps_per_epoch=info.get("steps_per_epoch"))
    if args.format == "json":
        print(json.dumps([{"code": w.code, "name": w.name, "message": w.message, "fix": w.fix}
                          for w in found], indent=2))
    else:
        for w in found:
            print(w)
        if not found:
            print("no warnings")
    return 1 if found and args.strict else 0


def _cmd_plot(args: argparse.Namespace) -> None:
    s, info = _load(args.schedule, args)
    if args.output is None:
        from ._plot import text_plot

        print(text_plot(s, info.get("total_steps")))
        return
    from ._plot import plot

    plot(s, total_steps=info.get("total_steps"), steps_per_epoch=info.get("steps_per_epoch"),
         log=args.log, path=args.output)
    print(f"wrote {args.output}")


def _cmd_values(args: argparse.Namespace) -> None:
    s, info = _load(args.schedule, args)
    if args.at:
        try:
            steps = [int(x) for x in args.at.split(",") if x.strip()]
        except ValueError:
            raise ScheduleError(f"values: --at takes comma-separated steps, got {args.at!r}"
                                ) from None
    else:
        steps = list(range(_total(s, info, "values")))
    values = s.values(steps).tolist() if steps else []
    if args.format == "json":
        print(json.dumps([{"step": k, "value": v} for k, v in zip(steps, values)]))
    else:
        print("step,value")
        for k, v in zip(steps, values):
            print(f"{k},{v!r}")


def _cmd_import(args: argparse.Namespace) -> None:
    source = args.source
    if source.startswith("hf:"):
        from .interop._hf import from_hf

        if args.lr is None:
            raise ScheduleError("import: a Hugging Face scheduler needs --lr (the optimizer's "
                                "learning rate)")
        extra = json.loads(args.kwargs) if args.kwargs else {}
        warm: Any = args.warmup
        if warm is not None and float(warm) < 1:
            warm = float(warm)
        elif warm is not None:
            warm = int(float(warm))
        s = from_hf(source[3:], warm, args.total, base_lr=args.lr, **extra)
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ScheduleError(f"import: cannot read {source} ({e.strerror or e})") from None
        if path.suffix == ".json":
            from .interop._keras import from_keras

            s = from_keras(json.loads(text))
        else:
            from .interop._tfod import from_tf_object_detection

            s = from_tf_object_detection(text, path.name)
    print(json.dumps(s.to_config(), indent=2) if args.format == "json" else s)


def _cmd_validate(args: argparse.Namespace) -> None:
    s, _ = _load(args.schedule, args)
    if args.format == "json":
        print(json.dumps({"ok": True, "schedule": s.to_config()}))
    else:
        print(f"{args.schedule}: ok: {s}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="lrkit", epilog=EXAMPLES,
                     description="Learning-rate schedules: see and check them before training.",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, text: str, fmt: Sequence[str] = ()) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text, epilog=EXAMPLES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("schedule", help="a config file, a one-line expression, or - for stdin")
        p.add_argument("--steps-per-epoch", type=float, help="bind epoch units")
        p.add_argument("--total", type=int, help="the run's length in steps (binds '%%')")
        p.add_argument("--batch-size", type=float, help="samples per step (binds 'samples')")
        if fmt:
            p.add_argument("--format", choices=fmt, default=fmt[0])
        return p

    command("show", "print a schedule with its phase table and values at its boundaries")
    command("explain", "print the phase table", ("text", "markdown", "json"))
    p = command("lint", "warn about common mistakes", ("text", "json"))
    p.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    p = command("plot", "plot to a PNG/SVG file, or in the terminal")
    p.add_argument("-o", "--output", help="a .png or .svg file (default: the terminal)")
    p.add_argument("--log", action="store_true", help="a logarithmic value axis")
    p = command("values", "print values at steps", ("csv", "json"))
    p.add_argument("--at", help="comma-separated steps (default: every step of the run)")
    command("validate", "check a schedule; exit 2 with the reason if it is bad", ("text", "json"))
    sub.add_parser("schema", help="print the JSON schema of schedule configs")
    p = sub.add_parser("import", help="read a schedule from another library",
                       description="Read a TF Object Detection pipeline.config, a Keras "
                       "schedule JSON (keras.optimizers.schedules.serialize), or a Hugging "
                       "Face scheduler type (hf:NAME) and print it in lrkit's syntax.",
                       epilog="examples:\n  lrkit import examples/pipeline.config\n"
                       "  lrkit import hf:cosine --warmup 0.05 --total 10000 --lr 3e-4\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", help="a pipeline.config, a Keras .json, or hf:NAME")
    p.add_argument("--warmup", help="hf: num_warmup_steps (a float < 1 is a share of --total)")
    p.add_argument("--total", type=int, help="hf: num_training_steps")
    p.add_argument("--lr", type=float, help="hf: the optimizer's learning rate")
    p.add_argument("--kwargs", help="hf: scheduler_specific_kwargs as JSON")
    p.add_argument("--format", choices=("text", "json"), default="text")

    args = parser.parse_args(argv)
    handlers = {"show": _cmd_show, "explain": _cmd_explain, "lint": _cmd_lint,
                "plot": _cmd_plot, "values": _cmd_values, "validate": _cmd_validate,
                "import": _cmd_import}
    try:
        if args.command == "schema":
            print(json.dumps(json_schema(), indent=2))
            return 0
        return handlers[args.command](args) or 0
    except ScheduleError as e:
        print(f"lrkit: error: {e}", file=sys.stderr)  # an expression error adds a caret line
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["main"]
