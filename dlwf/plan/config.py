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

# PyYAML's safe loader, parsed by libyaml when PyYAML has it (several times faster on a large config)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "schema.yaml"
NESTED_HINT = (
    "; --config sets top-level keys only (its values arrive as strings): put nested settings in an "
    "overlay file and pass it with --configfile FILE"
)
TEXT_HINT = (
    " (given with --config? Values nested inside --config key={...} arrive as text: put nested settings in an "
    "overlay file and pass it with --configfile FILE)"
)


@functools.cache
def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    """Return the JSON schema stored as YAML at ``path`` (cached: the schema never changes in a run)."""
    loader = SAFE_LOADER(Path(path).read_text())
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _is_float_type(schema: dict) -> bool:
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types or []
    return "number" in types and "integer" not in types


def _as_float(value):
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _float_items(values: list, items: dict) -> list:
    """Whole numbers of a list of ``type: number`` items as floats. Items that may also be text or
    booleans (a tuner's choice values) become floats only when decimal numbers are among them, so
    ``[0, 0.5]`` is ``[0.0, 0.5]`` (one type, as keras-tuner's Choice needs) and ``[1, 2]`` stays whole."""
    types = items.get("type")
    types = [types] if isinstance(types, str) else types or []
    only_numbers = set(types) <= {"number", "null"}
    mixed = all(_is_number(v) for v in values) and any(isinstance(v, float) for v in values)
    return [_as_float(v) for v in values] if only_numbers or mixed else values


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
                    instance[name] = _float_items(instance[name], subschema["items"])
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


DefaultFillingValidator = _extend_with_defaults(jsonschema.Draft202012Validator)


def _dotted(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _types(schema_value) -> list[str]:
    return [schema_value] if isinstance(schema_value, str) else list(schema_value or [])


def _as_yaml_value(text: str):
    """What YAML makes of ``text`` written in a file (``'2'`` -> 2, ``'null'`` -> None)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _text_for_other_type(error: jsonschema.ValidationError) -> bool:
    """Whether ``error`` is a string standing for a number, boolean or null the schema wants (what
    Snakemake's --config makes of values inside key={...})."""
    if not isinstance(error.instance, str):
        return False
    meant = _as_yaml_value(error.instance)
    if isinstance(meant, str):
        return False
    if error.validator == "type":
        return "string" not in _types(error.validator_value)
    if error.validator in ("enum", "const"):
        allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
        return meant in allowed
    return False


def _describe(error: jsonschema.ValidationError) -> str:
    where = _dotted(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        keys = ", ".join(f"{where}.{k}" if where != "<top level>" else k for k in unexpected)
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        dotted = [k for k in unexpected if "." in str(k)]
        if dotted:
            hint += "; a dotted name is not a path: write the nesting in an overlay file (--configfile FILE)"
        return f"config key {keys}: unknown key{hint}"
    text_hint = TEXT_HINT if _text_for_other_type(error) else ""
    if error.validator == "type":
        nested = isinstance(error.instance, str) and "object" in str(error.validator_value)
        hint = NESTED_HINT if nested else text_hint
        return f"config key {where}: {error.instance!r} has the wrong type, expected {error.validator_value}{hint}"
    if error.validator == "propertyNames":
        return f"config key {where}: invalid name {error.instance!r} ({error.message})"
    return f"config key {where}: {error.message}{text_hint}"


def _one_of_keys(error: jsonschema.ValidationError) -> list[str] | None:
    """The alternative keys of a ``oneOf`` whose branches each require one key (``url`` or ``path``)."""
    if error.validator != "oneOf" or not isinstance(error.instance, dict):
        return None
    keys = [branch.get("required") for branch in error.validator_value]
    if not all(isinstance(k, list) and len(k) == 1 for k in keys):
        return None
    return [k[0] for k in keys]


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
        choice = _one_of_keys(error)
        if choice:
            messages.append(f"config key {_dotted(error.absolute_path)}: give exactly one of {choice}")
            continue
        # for oneOf/anyOf, the most specific sub-error names the key best
        leaf = jsonschema.exceptions.best_match([error]) if error.context else error
        messages.append(_describe(leaf))
    return filled, list(dict.fromkeys(messages))


def config_errors(config: dict, schema: dict | None = None) -> list[str]:
    """Return one readable message per schema violation in ``config`` (empty when valid)."""
    return validate(config, schema)[1]


class _DuplicateKeyLoader(SAFE_LOADER):
    """A YAML loader that records every mapping key written twice (PyYAML keeps the last silently)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, tuple[int, int], int]] = []  # (key, (line, column), line of the first)

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
            except yaml.YAMLError:
                continue
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key; PyYAML reports it itself
                continue
            line = key_node.start_mark.line + 1
            if first is not None:
                self.duplicates.append((str(key), (line, key_node.start_mark.column), first))
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _paths(node, prefix=()) -> dict[tuple[int, int], str]:
    """{(line, column) of a key: its dotted path} for every key of a composed YAML mapping tree."""
    found: dict[tuple[int, int], str] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, str(getattr(key_node, "value", "?")))
            found[(key_node.start_mark.line + 1, key_node.start_mark.column)] = ".".join(path)
            found.update(_paths(value_node, path))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.update(_paths(item, (*prefix, str(i))))
    return found


def _json_duplicates(path: Path, text: str) -> list[str]:
    """Messages for keys written twice in one object of a JSON file ([] when it is not JSON either)."""
    import json

    found: list[str] = []

    def pairs(items):
        names = [k for k, _ in items]
        found.extend(sorted({k for k in names if names.count(k) > 1}))
        return dict(items)

    try:
        json.loads(text, object_pairs_hook=pairs)
    except ValueError:
        return []
    return [
        f"config file {path}: key {key!r} is written twice in one object; JSON readers keep only the last one, "
        "so the first would be ignored silently: merge the two into one"
        for key in found
    ]


def config_file_problems(path: str | Path) -> list[str]:
    """One message per key written twice in the YAML (or JSON) config file ``path``, naming the file, both
    lines and the key: YAML keeps only the last, so the first block would be dropped silently."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"config file {path}: cannot be read ({exc})"]
    loader = _DuplicateKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            loader.construct_document(node)
    except yaml.YAMLError:
        # Snakemake read the file (as JSON, or YAML with templates); look for duplicates the JSON way
        return _json_duplicates(path, text)
    finally:
        loader.dispose()
    paths = _paths(node) if node is not None else {}
    return [
        f"config file {path}, line {mark[0]}: key {paths.get(mark, key)!r} is written twice (first at line {first}); "
        "YAML keeps only the last one, so the first would be ignored silently: merge the two into one"
        for key, mark, first in loader.duplicates
    ]
