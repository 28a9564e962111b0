"""Random and mutated project files through load + validate + export (issue 12, item 11).

Whatever the file holds, the model answers with a ``ProjectError`` (load), diagnostics
(validate) or an ``ExportError`` (export), or writes a script that compiles; never another
exception, and never a script that cannot be stored.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.model import io
from app.model.export import ExportError, export_script
from app.model.validation import validate_document

from .kind_docs import SAMPLES

SAMPLE_DATA = [json.loads(p.read_text()) for p in SAMPLES]
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=20),
    st.sampled_from(["", "n1", "In", "f32", 't.get("b")', "b, h", "i + 9**9**9", "\x00", "\ud800"]),
)
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        _TEXT,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into ``value`` (dict keys and list indices)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _mutate(data: Any, path: tuple, op: str, new: Any) -> Any:
    if not path:
        return new
    holder = data
    for key in path[:-1]:
        holder = holder[key]
    last = path[-1]
    if op == "delete":
        del holder[last]
    elif op == "duplicate" and isinstance(holder, list):
        holder.insert(last, copy.deepcopy(holder[last]))
    else:
        holder[last] = new
    return data


def _through_the_model(text: str) -> None:
    try:
        doc = io.from_json(text)
    except io.ProjectError:
        return
    validate_document(doc)
    try:
        source = export_script(doc).source
    except ExportError as err:
        assert err.field or err.node_id or str(err), "an export error says nothing"
        return
    source.encode("utf-8")
    compile(source, "<exported>", "exec")


@SETTINGS
@given(data=st.data())
def test_mutated_samples_never_escape_the_model(data) -> None:
    doc = copy.deepcopy(data.draw(st.sampled_from(SAMPLE_DATA), label="sample"))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(_paths(doc)), label="path")
        op = data.draw(st.sampled_from(["replace", "delete", "duplicate"]), label="op")
        if not path and op != "replace":
            continue
        doc = _mutate(doc, path, op, data.draw(JSON, label="value"))
    _through_the_model(json.dumps(doc))


@SETTINGS
@given(st.one_of(st.text(max_size=200), JSON.map(json.dumps)))
def test_random_text_and_json_never_escape_the_model(text: str) -> None:
    _through_the_model(text)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.sampled_from(SAMPLE_DATA), st.integers(0, 10_000))
def test_truncated_files_are_project_errors(sample, cut) -> None:
    text = json.dumps(sample)
    cut = cut % len(text)
    try:
        io.from_json(text[:cut])
    except io.ProjectError:
        return
    raise AssertionError(f"a file cut at {cut} of {len(text)} loaded")
