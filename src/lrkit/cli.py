"""The ``lrkit`` command line: thin over the library (parse, call, print).

A schedule comes from a file (JSON, TOML, YAML), an inline one-line expression, or ``-`` for
stdin. Nothing prints a traceback: a user mistake is one line on stderr and exit code 2, a
closed output pipe (``lrkit values … | head``) exits quietly with 141, and anything else is
reported as a bug in lrkit in one line with exit code 3 (``LRKIT_DEBUG=1`` re-raises it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._explain import explain
from ._schedule import Schedule
from .config import from_config, json_schema, load_file
from .errors import ConfigError, ScheduleError

VALUES_LIMIT = 10_000_000  # `values` without --at prints at most this many steps
_NAME_MAX = 255  # bytes in a file name on common file systems; longer text is not a path

EXAMPLES = """examples:
  lrkit show examples/tf_resnet_imagenet.json
  lrkit show pipeline.config
  lrkit explain 'warmup(5ep) >> cosine(0.1 -> 1e-5, 95ep)' --steps-per-epoch 390 --total 39000
  lrkit lint examples/tf_object_detection.json --strict
  lrkit lint hf:cosine --lr 3e-4 --warmup 0.05 --total 10000
  lrkit plot 'one_cycle(0.1, 1000)' -o one_cycle.png
  lrkit plot experiment.yaml --log
  lrkit values run.yaml --at 0,100,1000 --format json
  lrkit validate run.yaml --format json
  lrkit schema > lrkit.schema.json
  lrkit import examples/pipeline.config

exit codes:
  0 success    1 lint --strict found warnings    2 bad input (one line on stderr)
  3 a bug in lrkit (please report it; LRKIT_DEBUG=1 shows the traceback)
  141 the output pipe was closed (e.g. by head)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"lrkit: error: {message} (see lrkit --help)\n")


def _load(source: str, args: argparse.Namespace) -> tuple[Schedule, dict[str, Any]]:
    """The schedule and the binding quantities from the options (then the file's ``bind``)."""
    s, doc, detected = _read(source, args)
    bind = dict(doc.get("bind") or {}) if detected == "lrkit" and isinstance(doc, dict) else {}
    for key in FLAGS:
        if getattr(args, key, None) is not None:
            bind[key] = getattr(args, key)
    unbound, s = s, s.bind(**bind) if bind else s
    if s._missing:
        kind, name, v, need = s._missing[0]
        raise ScheduleError(f"{kind}: {name!r} = {v!r} needs {need}; pass {FLAGS[need]}")
    return s, {"doc": doc, "unbound": unbound, **bind}


#: The binding quantities and their flags (every command takes them).
FLAGS = {"steps_per_epoch": "--steps-per-epoch", "total_steps": "--total",
         "samples_per_step": "--batch-size", "tokens_per_step": "--tokens-per-step"}


#: The importers' keyword arguments that a CLI flag gives.
_KEYWORDS = {"epoch_length": "--steps-per-epoch", "batches_per_epoch": "--steps-per-epoch",
             "steps_per_epoch": "--steps-per-epoch", "total_steps": "--total",
             "base_lr": "--lr", "num_examples": "--num-examples",
             "world_size": "--world-size"}


def _flags(message: str) -> str:
    """The library's advice (``call .bind(total_steps=...) first``, an importer's ``pass
    epoch_length=``) in the CLI's terms."""
    message = re.sub(r"call \.bind\((\w+)=\.\.\.\) (?:first|before evaluating)",
                     lambda m: f"pass {FLAGS.get(m[1], m[1])}", message)
    return re.sub(r"\b(" + "|".join(_KEYWORDS) + r")=(?:\.\.\.)? ?",
                  lambda m: _KEYWORDS[m[1]] + " ", message)


#: The formats a file or argument is read as, detected from its name and content.
FORMATS = {
    "lrkit": "an lrkit config (JSON/TOML/YAML with 'kind' or 'schedule', or an expression)",
    "hf": "a Hugging Face scheduler type (hf:NAME with --lr, --warmup, --total, --kwargs)",
    "tfod": "a TF Object Detection pipeline.config (.config, .pbtxt)",
    "keras": "a Keras schedule (serialize()'s JSON: 'class_name' and 'config')",
    "model garden": "a TF Model Garden experiment (YAML/JSON with trainer.optimizer_config)",
    "timm": "timm train.py arguments (its args.yaml: 'sched', 'lr', 'epochs', …)",
    "deepspeed": "a DeepSpeed config (JSON with scheduler.type and scheduler.params)",
    "megatron": "Megatron-LM arguments (a .sh launch script, or a mapping with lr_decay_style)",
    "mmengine": "an OpenMMLab/mmengine config (.py, or a mapping with param_scheduler)",
    "detectron2": "a detectron2 config (YAML with SOLVER or _BASE_)",
    "ultralytics": "Ultralytics arguments (args.yaml or default.yaml: lr0, lrf, …)",
    "hf trainer": "Hugging Face TrainingArguments as YAML/JSON (TRL and most fine-tuning "
                  "tools: lr_scheduler_type, learning_rate, …)",
}
#: Formats known by the file's suffix, read by their importer (not as JSON/TOML/YAML).
_SUFFIXES = {".config": "tfod", ".pbtxt": "tfod", ".py": "mmengine", ".sh": "megatron",
             ".bash": "megatron", ".slurm": "megatron"}


def _read(source: str, args: argparse.Namespace) -> tuple[Schedule, Any, str]:
    """The schedule in ``source``, its document and the format detected (a ``FORMATS`` key).
    A format other than lrkit's is said on stderr before it is read."""
    if source == "-":
        return from_config(_read_stdin()), {}, "lrkit"
    if _is_expression(source) and not source.startswith("hf:"):
        return from_config(source), {}, "lrkit"
    path = Path(source)
    kind, doc = "hf", {}  # type: tuple[str, Any]
    if not source.startswith("hf:"):
        suffix = path.suffix.lower()
        doc = {} if suffix in _SUFFIXES else load_file(source)
        kind = getattr(args, "input_format", None) or _SUFFIXES.get(suffix) or _format(doc)
    if kind == "lrkit":
        from .config import _from_document

        return _from_document(doc, path.name), doc, kind  # (the file is read once)
    if not kind:
        raise ConfigError(path.name, "not a format lrkit reads; it reads " + "; ".join(
            FORMATS.values()))
    if kind != "hf":  # (hf:NAME says it itself)
        print(f"lrkit: read {source} as {FORMATS[kind].split(' (')[0]}", file=sys.stderr)
    if kind == "hf":
        from .interop._hf import from_hf

        if getattr(args, "lr", None) is None:
            raise ScheduleError(f"{source}: a Hugging Face scheduler needs --lr (the "
                                "optimizer's learning rate)")
        s = from_hf(source[3:], args.warmup, args.total_steps, base_lr=args.lr,
                    **_kwargs(args.kwargs))
    elif kind == "tfod":
        from .interop._tfod import from_tf_object_detection

        s = from_tf_object_detection(path)
    elif kind == "keras":
        from .interop._keras import from_keras

        s = from_keras(doc)
    elif kind == "model garden":
        from .interop._tfmg import from_tf_model_garden

        s = from_tf_model_garden(source)
    elif kind == "timm":
        from .interop._timm import from_train_args

        try:
            s = from_train_args(doc, lr=getattr(args, "lr", None),
                                updates_per_epoch=int(getattr(args, "steps_per_epoch", 0) or 0))
        except ConfigError as e:
            raise ConfigError(f"{path.name}: {e.where}", e.message) from None
    else:
        s = _engine(kind, source, doc, args)
    return s, doc, kind


def _engine(kind: str, source: str, doc: Any, args: argparse.Namespace) -> Schedule:
    """A training engine's schedule (``FORMATS``' engines), from its file and the options."""
    lr, per_epoch, total = (getattr(args, key, None) for key in
                            ("lr", "steps_per_epoch", "total_steps"))
    if kind == "deepspeed":
        from .interop._deepspeed import from_deepspeed

        return from_deepspeed(source, total_steps=total)
    if kind == "megatron":
        from .config import read_text
        from .interop._megatron import from_megatron, script_arguments, updates

        words = doc or script_arguments(read_text(source))
        s = from_megatron(words)
        if total is None:  # the run is --train-iters (or samples): lint checks against it
            args.total_steps = updates(words)
        return s
    if kind == "mmengine":
        from .interop._mmengine import from_mmengine

        return from_mmengine(source, base_lr=lr, epoch_length=_whole(per_epoch))
    if kind == "detectron2":
        from .interop._detectron2 import from_detectron2

        return from_detectron2(source)
    if kind == "ultralytics":
        from .interop._ultralytics import from_ultralytics

        if per_epoch is None:
            raise ScheduleError(f"{source}: Ultralytics counts epochs; pass --steps-per-epoch "
                                "(batches per epoch)")
        groups = from_ultralytics(source, batches_per_epoch=_whole(per_epoch))  # type: ignore[arg-type]
        name = getattr(args, "group", None) or "weights"
        if name not in groups:
            raise ScheduleError(f"--group: Ultralytics' schedules are {', '.join(groups)}, got "
                                f"{name!r}")
        print(f"lrkit: the {name!r} group's schedule (of {', '.join(groups)}: --group NAME)",
              file=sys.stderr)
        return groups[name]
    from .interop._hf_trainer import from_hf_trainer, updates

    counts = dict(num_examples=getattr(args, "num_examples", None), steps_per_epoch=_whole(
        per_epoch), world_size=getattr(args, "world_size", None))
    s = from_hf_trainer(source, **counts)
    if total is None:  # the run is the Trainer's: lint checks the schedule against it
        args.total_steps = updates(source, **counts)
    return s


def _whole(x: float | None) -> int | None:
    """A count given as a number (``--steps-per-epoch``) as an int when it is whole."""
    return int(x) if x is not None and float(x).is_integer() else x  # type: ignore[return-value]


def _format(doc: Any) -> str:
    """Which of ``FORMATS`` a loaded document is, from its keys."""
    if not isinstance(doc, dict):
        return ""
    if "kind" in doc or "schedule" in doc:
        return "lrkit"
    if "class_name" in doc:
        return "keras"
    if "trainer" in doc or "optimizer_config" in doc or isinstance(
            doc.get("learning_rate"), dict) and "type" in doc["learning_rate"]:
        return "model garden"
    if "sched" in doc:
        return "timm"
    if isinstance(doc.get("scheduler"), dict) and "type" in doc["scheduler"]:
        return "deepspeed"
    if "SOLVER" in doc or "_BASE_" in doc:
        return "detectron2"
    if "lr0" in doc and "lrf" in doc:
        return "ultralytics"
    if "param_scheduler" in doc:
        return "mmengine"
    if "lr_decay_style" in doc or "lr-decay-style" in doc:
        return "megatron"
    if "lr_scheduler_type" in doc or "learning_rate" in doc and (
            "num_train_epochs" in doc or "max_steps" in doc):
        return "hf trainer"
    return ""


def _is_expression(text: str) -> bool:
    """One-line text rather than a path, decided without touching the file system."""
    return "(" in text or "\n" in text or len(os.fsencode(text)) > _NAME_MAX


def _read_stdin() -> Any:
    """A one-line expression or a JSON config from stdin (bytes, decoded as UTF-8)."""
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as e:
        raise ConfigError("stdin", f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
                          f"{e.start})") from None
    if not text:
        raise ConfigError("stdin", "empty; pipe in a one-line expression or a JSON config")
    if "(" in text:
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError("stdin", f"neither a one-line expression (no '(') nor valid JSON: "
                          f"{e.msg} at line {e.lineno}, column {e.colno}") from None


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
    # the schedule as written: lint reports what binding does to it (a rounded epoch, …)
    found = lint(info["unbound"], _total(s, info, "lint"),
                 steps_per_epoch=info.get("steps_per_epoch"),
                 samples_per_step=info.get("samples_per_step"),
                 tokens_per_step=info.get("tokens_per_step"))
    if args.format == "json":
        print(json.dumps([{"code": w.code, "name": w.name, "message": w.message, "fix": w.fix}
                          for w in found], indent=2))
    else:
        for w in found:
            print(w)
        if not found:
            print("no warnings")
    return 1 if found and args.strict else 0


def _check_output(output: str) -> None:
    """Refuse an ``-o`` matplotlib cannot write, before any computing."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise ScheduleError(f"plot: writing {output} needs matplotlib: pip install "
                            "'lrkit[plot]' (without -o, lrkit plots in the terminal)") from None
    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    path = Path(output)
    if path.suffix.lower()[1:] not in formats:
        raise ScheduleError(f"plot: -o {output!r} must end in one of "
                            f"{', '.join('.' + f for f in formats)}")
    parent = path.parent
    try:
        found = parent.is_dir()
    except OSError:  # e.g. a name too long for the file system
        found = False
    if not found:
        raise ScheduleError(f"plot: cannot write {output}: the directory {str(parent)!r} "
                            "does not exist")


def _cmd_plot(args: argparse.Namespace) -> None:
    if args.output is not None:
        _check_output(args.output)
    s, info = _load(args.schedule, args)
    log = {"auto": None, "on": True, "off": False}[args.log]
    if args.output is None:
        from ._plot import text_plot

        print(text_plot(s, info.get("total_steps"), log=log))
        return
    from ._plot import plot

    try:
        plot(s, total_steps=info.get("total_steps"),
             steps_per_epoch=info.get("steps_per_epoch"), log=log, path=args.output)
    except OSError as e:
        raise ScheduleError(f"plot: cannot write {args.output} ({e.strerror or e})") from None
    print(f"wrote {args.output}")


def _chunks(s: Schedule, steps: Sequence[int]) -> Iterator[list[tuple[int, float]]]:
    """``(step, value)`` pairs, computed and written a chunk at a time so a long run streams."""
    chunk = 65_536
    for i in range(0, len(steps), chunk):
        part = list(steps[i:i + chunk])
        yield list(zip(part, s.values(part).tolist()))


def _cmd_values(args: argparse.Namespace) -> None:
    s, info = _load(args.schedule, args)
    steps: Sequence[int]
    if args.at:
        try:
            steps = [int(x) for x in args.at.split(",") if x.strip()]
        except ValueError:
            raise ScheduleError(f"values: --at takes comma-separated steps, got {args.at!r}"
                                ) from None
        if any(k >= 2**63 for k in steps):
            raise ScheduleError(f"values: --at steps must be < 2**63, got {args.at!r}")
    else:
        total = _total(s, info, "values")
        if total > VALUES_LIMIT:
            raise ScheduleError(f"values: the run has {total} steps, more than the "
                                f"{VALUES_LIMIT} printed without --at; choose steps with "
                                f"--at, e.g. --at 0,{total // 2},{total - 1}")
        steps = range(total)
    out = sys.stdout
    if args.format == "json":  # the text json.dumps gives (values are finite: repr is JSON)
        sep = "["
        for pairs in _chunks(s, steps):
            out.write(sep + ", ".join(f'{{"step": {k}, "value": {v!r}}}'
                                      for k, v in pairs))
            sep = ", "
        out.write("[]\n" if sep == "[" else "]\n")
    else:
        out.write("step,value\n")
        for pairs in _chunks(s, steps):
            out.write("".join(f"{k},{v!r}\n" for k, v in pairs))


def _cmd_import(args: argparse.Namespace) -> None:
    s, _, _ = _read(args.source, args)
    print(json.dumps(s.to_config(), indent=2) if args.format == "json" else s)


def _foreign(p: argparse.ArgumentParser) -> None:
    """The options of the formats that need more than their file."""
    p.add_argument("--lr", type=_finite,
                   help="hf:NAME: the optimizer's learning rate; timm args.yaml: the LR when "
                   "its 'lr' is null; mmengine: the base LR when the config has none")
    p.add_argument("--warmup", type=_warmup,
                   help="hf:NAME: num_warmup_steps (a float < 1 is a share of --total)")
    p.add_argument("--kwargs", help="hf:NAME: scheduler_specific_kwargs as JSON")
    p.add_argument("--from", dest="input_format", choices=[k for k in FORMATS if k != "hf"],
                   metavar="FORMAT", help="read the file as this format (default: detected): "
                   + ", ".join(repr(k) for k in FORMATS if k != "hf"))
    p.add_argument("--group", help="ultralytics: the param group shown (weights, biases, "
                   "batchnorm) or momentum")
    p.add_argument("--num-examples", type=int, help="hf trainer: rows in the training set")
    p.add_argument("--world-size", type=int, help="hf trainer: processes training together")


def _kwargs(text: str | None) -> dict[str, Any]:
    """``--kwargs``: a JSON object of ``scheduler_specific_kwargs``."""
    if text is None:
        return {}
    example = """; e.g. --kwargs '{"num_cycles": 0.5}'"""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ScheduleError(f"import: --kwargs must be a JSON object, got {text!r} ({e.msg} "
                            f"at column {e.colno}){example}") from None
    if not isinstance(data, dict):
        raise ScheduleError(f"import: --kwargs must be a JSON object, got {text!r}{example}")
    return data


def _finite(text: str) -> float:
    """An argparse type: a finite number (argparse's own ``float`` takes 'nan' and 'inf')."""
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return x


def _warmup(text: str) -> int | float:
    """``--warmup``: a whole number of steps, or a share of --total below 1."""
    x = _finite(text)
    if x < 0 or (x >= 1 and not x.is_integer()):
        raise argparse.ArgumentTypeError(f"must be a whole number of steps >= 0 or a share "
                                         f"of --total below 1, got {text!r}")
    return x if x < 1 else int(x)


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
        mine = [line for line in EXAMPLES.splitlines() if line.startswith(f"  lrkit {name} ")]
        p = sub.add_parser(name, help=text, description=text,
                           epilog="examples:\n" + "\n".join(mine) if mine else None,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("schedule", help="a config file, a one-line expression, or - for stdin")
        p.add_argument("--steps-per-epoch", type=_finite, help="bind epoch units")
        p.add_argument("--total", type=int, dest="total_steps",
                       help="the run's length in steps (binds '%%')")
        p.add_argument("--batch-size", type=_finite, dest="samples_per_step",
                       help="samples per step (binds 'samples')")
        p.add_argument("--tokens-per-step", type=_finite, help="binds 'tokens'")
        _foreign(p)
        if fmt:
            p.add_argument("--format", choices=fmt, default=fmt[0])
        return p

    command("show", "print a schedule with its phase table and values at its boundaries")
    command("explain", "print the phase table", ("text", "markdown", "json"))
    p = command("lint", "warn about common mistakes", ("text", "json"))
    p.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    p = command("plot", "plot to a PNG/SVG file, or in the terminal")
    p.add_argument("-o", "--output",
                   help="a .png, .svg, .pdf, … file (default: the terminal)")
    p.add_argument("--log", nargs="?", const="on", default="auto", choices=("auto", "on", "off"),
                   help="a logarithmic value axis: on, off, or auto (default: when the values "
                   "span more than two decades)")
    p = command("values", "print values at steps", ("csv", "json"))
    p.add_argument("--at", help="comma-separated steps (default: every step of the run)")
    command("validate", "check a schedule; exit 2 with the reason if it is bad", ("text", "json"))
    sub.add_parser("schema", help="print the JSON schema of schedule configs")
    p = sub.add_parser("import", help="read a schedule from another library",
                       description="Read a schedule of another library and print it in "
                       "lrkit's syntax. The format is detected: " + "; ".join(FORMATS.values())
                       + ". show, explain, lint, plot, values and validate read them too.",
                       epilog="examples:\n  lrkit import examples/pipeline.config\n"
                       "  lrkit import hf:cosine --warmup 0.05 --total 10000 --lr 3e-4\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", help="a file of another library, or hf:NAME")
    p.add_argument("--total", type=int, dest="total_steps", help="hf: num_training_steps")
    p.add_argument("--steps-per-epoch", type=_finite, help="timm: updates_per_epoch")
    _foreign(p)
    p.add_argument("--format", choices=("text", "json"), default="text")

    handlers = {"show": _cmd_show, "explain": _cmd_explain, "lint": _cmd_lint,
                "plot": _cmd_plot, "values": _cmd_values, "validate": _cmd_validate,
                "import": _cmd_import}
    args = None
    try:
        args = parser.parse_args(argv)
        if args.command == "schema":
            print(json.dumps(json_schema(), indent=2))
            code = 0
        else:
            code = handlers[args.command](args) or 0
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except ScheduleError as e:  # ConfigError too
        message = _flags(str(e))
        if getattr(args, "command", None) == "validate" and getattr(args, "format", "") == "json":
            print(json.dumps({"ok": False, "error": message}))
        print(f"lrkit: error: {message}", file=sys.stderr)  # an expression adds a caret line
        return 2
    except BrokenPipeError:
        # The reader went away (`lrkit values … | head`): stop quietly, as Unix tools do.
        # stdout is pointed at devnull so the interpreter's final flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("lrkit: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if os.environ.get("LRKIT_DEBUG"):
            raise
        from . import __version__

        msg = str(e).replace("\n", " ")
        print(f"lrkit: internal error (this is a bug in lrkit {__version__}): "
              f"{type(e).__name__}: {msg}", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["main"]
