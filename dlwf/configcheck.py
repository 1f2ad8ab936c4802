"""Config validation messages that name the offending key in dotted form."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml


def load_schema(path: str | Path) -> dict:
    """Return the JSON schema stored as YAML at ``path``."""
    return yaml.safe_load(Path(path).read_text())


def _dotted(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _dotted(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        keys = ", ".join(f"{where}.{k}" if where != "<top level>" else k for k in unexpected)
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"config key {keys}: unknown key{hint}"
    if error.validator == "type":
        return f"config key {where}: {error.instance!r} has the wrong type, expected {error.validator_value}"
    if error.validator == "propertyNames":
        return f"config key {where}: invalid name {error.instance!r} ({error.message})"
    return f"config key {where}: {error.message}"


def config_errors(config: dict, schema: dict) -> list[str]:
    """Return one readable message per schema violation in ``config`` (empty when valid)."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    messages = []
    for error in errors:
        # for oneOf/anyOf, the most specific sub-error names the key best
        leaf = jsonschema.exceptions.best_match([error]) if error.context else error
        messages.append(_describe(leaf))
    return list(dict.fromkeys(messages))
