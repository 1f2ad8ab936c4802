"""The config file's contract: the JSON schema (``config/schema.yaml``), defaults, readable errors.

The schema is the one source of defaults: :func:`validate` fills them in while it checks the
config, as Snakemake's ``snakemake.utils.validate`` does, and returns one message per problem,
each naming the offending key in dotted form (``experiments.dense10.training.epochs``).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import jsonschema
import yaml
from jsonschema import validators

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "schema.yaml"
NESTED_HINT = (
    "; --config sets top-level keys only (its values arrive as strings): put nested settings in an "
    "overlay file and pass it with --configfile FILE"
)


@functools.cache
def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    """Return the JSON schema stored as YAML at ``path`` (cached: the schema never changes in a run)."""
    return yaml.safe_load(Path(path).read_text())


def _is_float_type(schema: dict) -> bool:
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types or []
    return "number" in types and "integer" not in types


def _as_float(value):
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _extend_with_defaults(validator_class):
    """A validator class that fills in each property's ``default`` before checking it, and writes
    whole numbers of ``type: number`` settings as floats (``dropout: 0`` is the default ``0.0``)."""
    check_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
                if name not in instance:
                    continue
                if _is_float_type(subschema):
                    instance[name] = _as_float(instance[name])
                elif isinstance(instance[name], list) and _is_float_type(subschema.get("items") or {}):
                    instance[name] = [_as_float(v) for v in instance[name]]
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


DefaultFillingValidator = _extend_with_defaults(jsonschema.Draft202012Validator)


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
        hint = NESTED_HINT if isinstance(error.instance, str) and "object" in str(error.validator_value) else ""
        return f"config key {where}: {error.instance!r} has the wrong type, expected {error.validator_value}{hint}"
    if error.validator == "propertyNames":
        return f"config key {where}: invalid name {error.instance!r} ({error.message})"
    return f"config key {where}: {error.message}"


def validate(config: dict, schema: dict | None = None) -> tuple[dict, list[str]]:
    """Return (a copy of ``config`` with the schema's defaults filled in, one message per problem).

    ``config`` itself is not changed. The message list is empty when the config is valid.
    """
    schema = load_schema() if schema is None else schema
    filled = copy.deepcopy(config)
    validator = DefaultFillingValidator(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(map(str, e.absolute_path)))
    messages = []
    for error in errors:
        # for oneOf/anyOf, the most specific sub-error names the key best
        leaf = jsonschema.exceptions.best_match([error]) if error.context else error
        messages.append(_describe(leaf))
    return filled, list(dict.fromkeys(messages))


def config_errors(config: dict, schema: dict | None = None) -> list[str]:
    """Return one readable message per schema violation in ``config`` (empty when valid)."""
    return validate(config, schema)[1]
