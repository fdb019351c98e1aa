"""Loading `config.toml`: the file read (any bytes: one line naming what is wrong), parsed,
validated into `Config` strictly, and every refusal described in one line that names the
file, the line, the key, the value and what is allowed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from installation.errors import ConfigError
from installation.section import MAX_TEXT
from installation.show.config import Config


class EmptyConfigError(ConfigError):
    """The file is empty or only whitespace (an editor on a full disk saves zero bytes)."""


MAX_BYTES = 1 << 20  # a config file is at most 1 MiB (the shipped one is ~10 kB)
MAX_DEPTH = 8  # tables and arrays nest at most this deep (the shipped file: 4)
# The longest line, characters: a string holds at most MAX_TEXT, so no longer line can be a
# setting, and a key of thousands of dotted parts makes the TOML parser take time and
# memory that grow with the square of its length (100,000 parts: gigabytes).
MAX_LINE = 2 * MAX_TEXT


MAX_MESSAGE = 400  # characters of an error line


def load_config(path: Path | None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read and validate `path` (defaults only when None), then apply dotted-key overrides.

    `overrides` maps keys such as ``"source.uri"`` to values (from command-line flags).
    Whatever the file holds (any bytes, any nesting, any value), the outcome is a `Config`
    the show can run or a `ConfigError` of one short line that names the file: never
    another exception.
    """
    try:
        return _load(path, overrides)
    except ConfigError as exc:
        raise type(exc)(one_line(str(exc))) from None


def one_line(text: str) -> str:
    """`text` with control characters escaped (a key may hold a newline) and cut to
    `MAX_MESSAGE` characters: one line of a log or a terminal, whatever the file held."""
    clean = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return clean if len(clean) <= MAX_MESSAGE else clean[:MAX_MESSAGE - 3] + "..."


def _load(path: Path | None, overrides: Mapping[str, Any] | None) -> Config:
    text = ""
    raw: dict[str, Any] = {}
    if path is not None:
        text = read_text(path)
        raw = parse_toml(path, text)
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{path}: '{p}' must be a [{p}] section, not a value")
        node[leaf] = value
    try:
        # Strict, through JSON: "yes" is no boolean and "640" no integer, but TOML arrays
        # still fill tuples and integers still fill floats.
        cfg = Config.model_validate_json(json.dumps(raw, default=str), strict=True)
    except ValidationError as exc:
        raise ConfigError(describe_error(exc, path, text, overrides or {})) from None
    except (RecursionError, ValueError, OverflowError) as exc:  # no file gets here: belt
        raise ConfigError(f"{path or 'config'}: cannot be checked: {exc}") from None
    problem = cfg.cross_check()
    if problem is not None:
        loc, value, msg = problem
        where = _where(loc, path, text, overrides or {})
        raise ConfigError(f"{where}: key '{_dotted(loc)}' = {_shown(value)} is not accepted: "
                          f"{msg}")
    return cfg


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (a byte-order mark is allowed and dropped), at most
    `MAX_BYTES`, not empty. ConfigError in one line naming the file otherwise."""
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            # A pipe would block the reader for good; a device may never end.
            raise ConfigError(f"config file {path} is not a plain file (a pipe or a "
                              "device): give a config.toml")
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found: pass --config PATH or copy config.toml"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(
            f"config file {path} cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"config file {path} is larger than {MAX_BYTES // 1024} kB: "
                          "not a config file (the shipped one is about 10 kB)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"config file {path} is UTF-16 text: save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")  # a BOM (some Windows editors write one) is fine
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(
            f"config file {path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}): "
            "save it as UTF-8") from None
    longest = max(text.splitlines(), key=len, default="")
    if len(longest) > MAX_LINE:
        line = text.splitlines().index(longest) + 1
        raise ConfigError(f"config file {path}:{line}: a line of {len(longest)} characters; "
                          f"a config line has at most {MAX_LINE}")
    if not text.strip():
        raise EmptyConfigError(f"config file {path} is empty: restore it (or copy the shipped "
                          "config.toml); an empty file is never taken for the defaults")
    return text


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """`text` parsed as TOML, nested at most `MAX_DEPTH` deep; ConfigError in one line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not a config: tables or arrays nested too deeply "
                          f"(at most {MAX_DEPTH})") from None
    except Exception as exc:  # any parser failure is one line, not a trace
        raise ConfigError(f"{path}: cannot be read as TOML: {type(exc).__name__}") from None
    deepest = _depth(raw, MAX_DEPTH + 1)
    if deepest > MAX_DEPTH:
        raise ConfigError(f"{path}: not a config: tables or arrays nested more than "
                          f"{MAX_DEPTH} deep")
    return raw


def _depth(value: object, limit: int) -> int:
    """How deep tables and arrays nest in `value` (a scalar: 0), looking no deeper than
    `limit` (iterative: no recursion limit to meet)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth + 1)
            if depth + 1 < limit:
                stack.extend((v, depth + 1) for v in
                             (node.values() if isinstance(node, dict) else node))
    return deepest


def describe_error(
    exc: ValidationError, path: Path | None, text: str, overrides: Mapping[str, Any]
) -> str:
    """One line for the first validation error: where, which key, which value, what is allowed."""
    errors = exc.errors()
    err = errors[0]
    if len(errors) > 1 and _dotted(err["loc"]) != _dotted(tuple(map(str, err["loc"]))):
        # A union (a style: an index or a table): the branch that got furthest says most.
        same = [e for e in errors if _dotted(e["loc"]).startswith(_dotted(err["loc"]))]
        err = max(same, key=lambda e: len(e["loc"]))
    loc = err["loc"]
    key = _dotted(loc)
    where = _where(loc, path, text, overrides)
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"{where}: unknown key '{key}'; allowed keys here: {', '.join(allowed)}"
    if err["type"] == "missing":
        return f"{where}: key '{key}' is required"
    msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    if err["type"] == "literal_error":
        msg = f"allowed: {err['ctx']['expected']}"
    shown = _shown(value)
    return f"{where}: key '{key}' = {shown} is not accepted: {msg}"


def _where(
    loc: tuple[Any, ...], path: Path | None, text: str, overrides: Mapping[str, Any]
) -> str:
    """Where a key came from: its command-line flag, or the file and line."""
    flag = _flag_for(_dotted(loc), overrides)
    if flag:
        return flag
    where = str(path) if path else "config"
    line = _find_line(text, loc)
    return f"{where}:{line}" if line else where


def _shown(value: object) -> str:
    """A value as the error line shows it: its repr, a long one shortened."""
    text = repr(value)
    if len(text) < 60:
        return text
    return "..." if isinstance(value, dict | list) else text[:40] + "..."




def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "int" or str(part).startswith(("function-", "dict[")):
            continue  # pydantic's union-branch labels, not keys
        else:
            out += f".{part}" if out else str(part)
    return out


def _flag_for(key: str, overrides: Mapping[str, Any]) -> str:
    for dotted in overrides:
        if key == dotted or key.startswith(dotted + "."):
            return {"source.uri": "--source", "start_scene": "--scene"}.get(dotted, dotted)
    return ""


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int) or str(part) not in model.model_fields:
            continue
        inner = _model_in(model.model_fields[str(part)].annotation)
        if inner is not None:
            model = inner
    return sorted(model.model_fields)


def _model_in(ann: Any) -> type[BaseModel] | None:
    """The section type inside an annotation: `X`, `list[X]`, `list[X] | None`."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _find_line(text: str, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the key at `loc` in the TOML text, or 0 when not found.

    Handles `[section]` tables and `[[scenes]]` arrays of tables, which is all our file uses.
    """
    if not text:
        return 0
    lines = text.splitlines()
    names = [p for p in loc if isinstance(p, str)]
    index = next((p for p in loc if isinstance(p, int)), None)
    if not names:
        return 0
    if len(names) == 1:
        header, key = None, names[0]
    else:
        header, key = names[0], names[1]
    start, end = 0, len(lines)
    if header is not None:
        heads = [
            i for i, ln in enumerate(lines)
            if re.match(rf"\s*\[\[?\s*{re.escape(header)}\s*\]\]?\s*(#.*)?$", ln)
        ]
        if not heads:
            return 0
        pick = heads[index] if index is not None and index < len(heads) else heads[0]
        if header == "scenes" and index is not None and index >= len(heads):
            return 0
        start = pick + 1
        nxt = [i for i, ln in enumerate(lines) if i >= start and re.match(r"\s*\[", ln)]
        end = nxt[0] if nxt else len(lines)
    else:
        nxt = [i for i, ln in enumerate(lines) if re.match(r"\s*\[", ln)]
        end = nxt[0] if nxt else len(lines)
    for i in range(start, end):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start if header is not None else 0
