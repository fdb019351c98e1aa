"""The web console's command body: JSON `{"command": NAME, "value": VALUE}` → `Command`.

NAME is a command name of `installation.commands` (the OSC address without its prefix:
`scene`, `style/step`, `walk/idle_speed`); VALUE is what that command takes, as JSON:
nothing or null for a trigger or to flip a toggle, true / false for a toggle, a number or a
string, a list of numbers for style weights (26 weights, or index, weight pairs) or an
object {index: weight}. Anything else is a ValueError saying what is wrong; NaN and the
infinities are refused before they reach a number.
"""

from __future__ import annotations

import json
from typing import Any

from installation import commands
from installation.commands import TOGGLES, Command, Name

MAX_BODY = 4096  # bytes: the largest command (26 weights) takes under 1 kB


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number the console takes")


def decode(body: bytes) -> dict[str, Any]:
    """The JSON object in `body`; ValueError when it is not one."""
    if len(body) > MAX_BODY:
        raise ValueError(f"the body is over {MAX_BODY} bytes")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON ({exc.msg})") from None
    except RecursionError:  # [[[[... under MAX_BODY
        raise ValueError("the body is nested too deep") from None
    if not isinstance(data, dict):
        raise ValueError('give a JSON object: {"command": NAME, "value": VALUE}')
    return data


def command(data: dict[str, Any], source: str = "web") -> Command:
    """The command a decoded body asks for; ValueError saying what is wrong."""
    extra = set(data) - {"command", "value"}
    if extra:
        raise ValueError(f"unknown field {sorted(extra)[0]!r}: give command and value")
    name = data.get("command")
    if not isinstance(name, str) or not commands.known(name):
        raise ValueError(f"unknown command {str(name)[:40]!r}; GET /api/addresses lists them")
    if name == Name.QUIT.value:
        raise ValueError("quit is not taken over the network")
    return commands.parse(name, _args(name, data.get("value")), source=source)


def _args(name: str, value: Any) -> list[Any]:
    """The raw arguments `commands.parse` takes for a JSON value."""
    if value is None:
        return []
    if isinstance(value, bool):
        if name in {t.value for t in TOGGLES}:
            return [int(value)]
        raise ValueError("true / false only switch a toggle")
    if isinstance(value, list):
        return value
    if isinstance(value, dict):  # style weights as {index: weight}
        pairs: list[Any] = []
        for index, weight in value.items():
            try:
                pairs += [int(index), weight]
            except ValueError:
                raise ValueError(f"style index {index[:20]!r} is not a whole number") from None
        return pairs
    return [value]
