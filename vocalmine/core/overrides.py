"""`--set KEY=VALUE` overrides of a frozen config dataclass, parsed and coerced in one place."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence, TypeVar

from vocalmine.core.errors import ConfigError

Config = TypeVar("Config")

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


def parse_key_values(items: Sequence[str], *, example: str = "key=value") -> dict[str, str]:
    """``["a=1", "b-c=x"]`` -> ``{"a": "1", "b_c": "x"}``.

    Raises:
        ConfigError: for an item without ``=`` or with an empty key.
    """
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set {example}")
        out[key.strip().replace("-", "_")] = value.strip()
    return out


def coerce(section: str, key: str, value: Any, default: Any) -> Any:
    """``value`` (a CLI string or a YAML/JSON value) as the type of ``default``.

    Raises:
        ConfigError: naming the section, key, value and expected type.
    """
    kind = type(default)
    if isinstance(default, tuple):
        items = value.split(",") if isinstance(value, str) else value
        try:
            return tuple(type(d)(v) for d, v in zip(default, items, strict=True)) if default else tuple(items)
        except (TypeError, ValueError):
            raise ConfigError(f"{section}: {key}={value!r}, expected {len(default)} comma-separated values") from None
    if kind is bool:
        text = str(value).strip().lower()
        if isinstance(value, bool):
            return value
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ConfigError(f"{section}: {key}={value!r}, expected true or false")
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{section}: {key}={value!r}, expected a string")
        return value
    if isinstance(value, bool):
        raise ConfigError(f"{section}: {key}={value!r}, expected {kind.__name__}")
    try:
        number = float(value.strip()) if isinstance(value, str) else value
        if kind is int:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            return int(number)
        return kind(number)
    except (TypeError, ValueError, AttributeError):
        raise ConfigError(f"{section}: {key}={value!r}, expected {kind.__name__}") from None


def apply_overrides(config: Config, overrides: Mapping[str, Any], *, section: str) -> Config:
    """A copy of the dataclass ``config`` with ``overrides`` coerced and applied (None values ignored).

    Every unknown key is named in one message. The dataclass's own ``__post_init__``
    validates ranges.

    Raises:
        ConfigError: on unknown keys or values of the wrong type.
    """
    defaults = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ConfigError(f"{section}: unknown setting(s) {', '.join(map(repr, unknown))}; expected one of "
                          f"{sorted(defaults)}")
    values = {k: coerce(section, k, v, defaults[k]) for k, v in overrides.items() if v is not None}
    return dataclasses.replace(config, **values)
