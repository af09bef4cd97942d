"""Typed readers for settings that come from the environment.

Each reader fails loudly on a value it cannot parse, and every secret can also come from
`<NAME>_FILE` (a path), so container secrets never have to sit in the environment itself.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class SettingError(RuntimeError):
    """A setting in the environment has a value bankdesk cannot use."""


def env_str(name: str, default: str = "") -> str:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingError(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_secret(name: str) -> str | None:
    """A secret from `<NAME>_FILE` or `<NAME>`, or None when neither is set.

    Unlike env_str, "not configured" stays distinguishable from "configured but empty": a key
    source someone set up must never be mistaken for one nobody did.
    """
    if os.environ.get(f"{name}_FILE") or os.environ.get(name):
        return env_str(name)
    return None


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingError(f"{name}={raw!r} is not a whole number") from exc
    if minimum is not None and value < minimum:
        raise SettingError(f"{name}={value} is below the minimum {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_generated_secret(name: str, *, generated_at: Path, minimum_length: int = 32) -> str:
    """A secret from `name` or `<name>_FILE`; when neither is set, one generated once into
    `generated_at` (owner-only) and read from there at every start.

    A secret that is configured but unusable (a file that cannot be read, an empty or short
    value) stops bankdesk: generating a new one in its place would quietly cut every record
    made under the old one loose from it.
    """
    configured = env_secret(name)
    if configured is not None:
        value = configured
        source = f"{name}_FILE" if os.environ.get(f"{name}_FILE") else name
    else:
        value = private_file_secret(generated_at, nbytes=48)
        source = str(generated_at)
    if len(value) < minimum_length:
        raise SettingError(
            f"{source} holds a secret of {len(value)} characters; at least {minimum_length} "
            "are needed"
        )
    return value


def private_file_secret(path: Path, *, nbytes: int = 48) -> str:
    """Read a generated secret from `path`, creating it (owner-only) on first use.

    Used for values that must never have a hard-coded default but should survive restarts.
    A file that is there but cannot be read is an error, never a reason to make a new one.
    """
    try:
        exists = path.exists()
        value = path.read_text(encoding="utf-8").strip() if exists else ""
    except (OSError, UnicodeError) as exc:
        raise SettingError(
            f"{path} cannot be read ({exc}); fix it rather than delete it, unless nothing "
            "made with it is worth keeping"
        ) from exc
    if exists:
        if not value:
            raise SettingError(f"{path} is empty; delete it to have bankdesk generate a new one")
        return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    # Written whole under a private name, then linked into place: if two processes start at
    # once, exactly one link succeeds and the other reads it, never a half-written file.
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
        os.link(draft, path)
    except FileExistsError:
        return private_file_secret(path, nbytes=nbytes)
    finally:
        draft.unlink(missing_ok=True)
    return value
