"""Every schema is a valid JSON Schema, and every example under payload_schemas/examples/ is judged as its name says."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from python_nodes import contracts

EXAMPLES = sorted((contracts.SCHEMA_DIR / "examples").glob("*.json"))


def _split(path):
    """``<schema>.<case>.<pass|fail>.json`` -> (schema, case, expected)."""
    stem, expected = path.name[: -len(".json")].rsplit(".", 1)
    schema, case = stem.rsplit(".", 1)
    return schema, case, expected


@pytest.mark.parametrize("name", sorted(contracts.schemas()))
def test_schema_is_valid_against_its_metaschema(name):
    schema = contracts.schemas()[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == contracts.ID_BASE + name + contracts.SCHEMA_SUFFIX


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example(path):
    schema, case, expected = _split(path)
    assert expected in ("pass", "fail"), f"{path.name}: name must end in .pass.json or .fail.json"
    assert schema in contracts.schemas(), f"{path.name}: no schema {schema!r}"
    found = contracts.problems(schema, json.loads(path.read_text()))
    if expected == "pass":
        assert found == [], f"{path.name} should pass: {found}"
    else:
        assert found, f"{path.name} should fail but validates"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_compiled_and_detailed_validators_agree(path):
    """The hot path trusts the compiled validator's "valid"; jsonschema must never find fault with what it passes."""
    schema, _, _ = _split(path)
    instance = json.loads(path.read_text())
    detailed = not list(contracts.validator(schema).iter_errors(instance))
    assert contracts.is_valid(schema, instance) == detailed


def test_every_schema_with_examples_has_both_kinds():
    kinds: dict[str, set] = {}
    for path in EXAMPLES:
        schema, _, expected = _split(path)
        kinds.setdefault(schema, set()).add(expected)
    lopsided = {name: sorted(k) for name, k in kinds.items() if k != {"pass", "fail"}}
    assert not lopsided, f"schemas with only passing or only failing examples: {lopsided}"
