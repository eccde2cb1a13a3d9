"""RFC 6902 JSON Patch: the Appendix A examples, pointer rules (RFC 6901) and error messages."""

import copy
import json

import pytest

from app.protocol.json_patch import JsonPatchError, apply_patch

# RFC 6902 Appendix A: (target document, patch, resulting document).
APPENDIX_A_SUCCESS = [
    pytest.param(
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux"}],
        {"baz": "qux", "foo": "bar"},
        id="A.1-add-object-member",
    ),
    pytest.param(
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
        id="A.2-add-array-element",
    ),
    pytest.param(
        {"baz": "qux", "foo": "bar"},
        [{"op": "remove", "path": "/baz"}],
        {"foo": "bar"},
        id="A.3-remove-object-member",
    ),
    pytest.param(
        {"foo": ["bar", "qux", "baz"]},
        [{"op": "remove", "path": "/foo/1"}],
        {"foo": ["bar", "baz"]},
        id="A.4-remove-array-element",
    ),
    pytest.param(
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
        id="A.5-replace-value",
    ),
    pytest.param(
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
        id="A.6-move-value",
    ),
    pytest.param(
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
        id="A.7-move-array-element",
    ),
    pytest.param(
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2},
        ],
        {"baz": "qux", "foo": ["a", 2, "c"]},
        id="A.8-test-value-success",
    ),
    pytest.param(
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
        id="A.10-add-nested-member-object",
    ),
    pytest.param(
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"},
        id="A.11-ignore-unrecognized-elements",
    ),
    pytest.param(
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": 10}],
        {"/": 9, "~1": 10},
        id="A.14-tilde-escape-ordering",
    ),
    pytest.param(
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
        id="A.16-add-array-value",
    ),
]

# RFC 6902 Appendix A examples that must fail: (target document, patch, message).
APPENDIX_A_ERRORS = [
    pytest.param(
        {"baz": "qux"},
        [{"op": "test", "path": "/baz", "value": "bar"}],
        "operation 0 (test): path '/baz' does not have the value given in 'value'",
        id="A.9-test-value-error",
    ),
    pytest.param(
        {"foo": "bar"},
        [{"op": "add", "path": "/baz/bat", "value": "qux"}],
        "operation 0 (add): path '/baz/bat' is unreachable: '/baz' does not exist",
        id="A.12-add-to-nonexistent-target",
    ),
    pytest.param(
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": "10"}],
        "operation 0 (test): path '/~01' does not have the value given in 'value'",
        id="A.15-compare-string-and-number",
    ),
]


@pytest.mark.parametrize(("document", "patch", "expected"), APPENDIX_A_SUCCESS)
def test_appendix_a_examples(document, patch, expected):
    assert apply_patch(document, patch) == expected


@pytest.mark.parametrize(("document", "patch", "expected"), APPENDIX_A_SUCCESS)
def test_appendix_a_examples_given_as_json_text(document, patch, expected):
    assert apply_patch(document, json.dumps(patch)) == expected


@pytest.mark.parametrize(("document", "patch", "message"), APPENDIX_A_ERRORS)
def test_appendix_a_errors(document, patch, message):
    with pytest.raises(JsonPatchError) as raised:
        apply_patch(document, patch)
    assert str(raised.value) == message


def test_appendix_a_13_duplicate_op_member_is_rejected():
    # RFC 6902 A.13: the later "op" would silently turn "add" into "remove".
    patch = '[{ "op": "add", "path": "/baz", "value": "qux", "op": "remove" }]'
    with pytest.raises(JsonPatchError, match="duplicate member name 'op'"):
        apply_patch({"foo": "bar"}, patch)


def test_error_is_a_value_error():
    assert issubclass(JsonPatchError, ValueError)


# --- the input is never changed (RFC 6902 §5: a failed patch applies nothing) -----------------


@pytest.mark.parametrize(("document", "patch", "expected"), APPENDIX_A_SUCCESS)
def test_successful_patch_leaves_input_untouched(document, patch, expected):
    before = copy.deepcopy(document)
    apply_patch(document, patch)
    assert document == before


def test_failed_patch_leaves_input_untouched():
    document = {"a": {"b": {"c": "C"}}}
    patch = [
        {"op": "replace", "path": "/a/b/c", "value": 42},
        {"op": "test", "path": "/a/b/c", "value": "C"},
    ]
    with pytest.raises(JsonPatchError, match=r"^operation 1 \(test\): path '/a/b/c'"):
        apply_patch(document, patch)
    assert document == {"a": {"b": {"c": "C"}}}


def test_result_does_not_share_values_with_patch_or_input():
    value = {"nested": ["x"]}
    document = {"keep": ["y"]}
    result = apply_patch(document, [{"op": "add", "path": "/new", "value": value}])
    result["new"]["nested"].append("z")
    result["keep"].append("z")
    assert value == {"nested": ["x"]}
    assert document == {"keep": ["y"]}


def test_copy_makes_an_independent_value():
    result = apply_patch({"a": [1]}, [{"op": "copy", "from": "/a", "path": "/b"}])
    result["b"].append(2)
    assert result == {"a": [1], "b": [1, 2]}


# --- operations ----------------------------------------------------------------------------

OPERATION_CASES = [
    pytest.param(
        {"a": 1}, [{"op": "add", "path": "/a", "value": 2}], {"a": 2}, id="add-replaces-member"
    ),
    pytest.param(
        {"a": [1, 2]},
        [{"op": "add", "path": "/a/2", "value": 3}],
        {"a": [1, 2, 3]},
        id="add-at-array-length-appends",
    ),
    pytest.param(
        {"a": 1},
        [{"op": "add", "path": "/b", "value": None}],
        {"a": 1, "b": None},
        id="add-null-value",
    ),
    pytest.param({"a": 1}, [{"op": "add", "path": "", "value": {"b": 2}}], {"b": 2}, id="add-root"),
    pytest.param(
        {"a": 1}, [{"op": "add", "path": "/", "value": 2}], {"a": 1, "": 2}, id="add-empty-name"
    ),
    pytest.param(
        {"a": 1},
        [{"op": "add", "path": "/x~1y~0z", "value": 2}],
        {"a": 1, "x/y~z": 2},
        id="add-escaped-name",
    ),
    pytest.param(
        {"a": 1, "b": 2, "c": 3},
        [{"op": "replace", "path": "/b", "value": 9}],
        {"a": 1, "b": 9, "c": 3},
        id="replace-keeps-member-order",
    ),
    pytest.param(
        {"a": [1, 2, 3]},
        [{"op": "replace", "path": "/a/0", "value": 9}],
        {"a": [9, 2, 3]},
        id="replace-array-element",
    ),
    pytest.param({"a": 1}, [{"op": "replace", "path": "", "value": {}}], {}, id="replace-root"),
    pytest.param(
        {"a": 1}, [{"op": "move", "from": "/a", "path": "/a"}], {"a": 1}, id="move-to-itself"
    ),
    pytest.param(
        {"a": {"b": 1}},
        [{"op": "copy", "from": "/a", "path": "/c"}],
        {"a": {"b": 1}, "c": {"b": 1}},
        id="copy-object",
    ),
    pytest.param(
        {"a": [1, 2]},
        [{"op": "copy", "from": "/a/0", "path": "/a/-"}],
        {"a": [1, 2, 1]},
        id="copy-to-array-end",
    ),
    pytest.param(
        {"a": 1},
        [{"op": "test", "path": "/a", "value": 1.0}],
        {"a": 1},
        id="test-numbers-equal-by-value",
    ),
    pytest.param(
        {"a": {"x": [1, {"y": None}], "z": True}},
        [{"op": "test", "path": "/a", "value": {"z": True, "x": [1, {"y": None}]}}],
        {"a": {"x": [1, {"y": None}], "z": True}},
        id="test-objects-ignore-member-order",
    ),
    pytest.param(
        {"a": 1},
        [
            {"op": "add", "path": "/b", "value": [1]},
            {"op": "add", "path": "/b/0", "value": 0},
            {"op": "remove", "path": "/a"},
        ],
        {"b": [0, 1]},
        id="operations-apply-in-order",
    ),
]


@pytest.mark.parametrize(("document", "patch", "expected"), OPERATION_CASES)
def test_operations(document, patch, expected):
    assert apply_patch(document, patch) == expected


# --- error messages name the operation index, op and pointer ----------------------------------

ERROR_CASES = [
    pytest.param(
        {"foo": [1, 2, 3]},
        [{"op": "test", "path": "/foo/0", "value": 1}, {"op": "remove", "path": "/foo/3"}],
        "operation 1 (remove): path '/foo/3' does not exist (array index 3 >= length 3)",
        id="remove-index-out-of-range",
    ),
    pytest.param(
        {"foo": 1},
        [{"op": "remove", "path": "/bar"}],
        "operation 0 (remove): path '/bar' does not exist",
        id="remove-missing-member",
    ),
    pytest.param(
        {"foo": 1},
        [{"op": "remove", "path": ""}],
        "operation 0 (remove): path '' is the whole document, which cannot be removed",
        id="remove-root",
    ),
    pytest.param(
        {"foo": 1},
        [{"op": "replace", "path": "/bar", "value": 2}],
        "operation 0 (replace): path '/bar' does not exist",
        id="replace-missing-member",
    ),
    pytest.param(
        {"foo": [1]},
        [{"op": "add", "path": "/foo/2", "value": 2}],
        "operation 0 (add): path '/foo/2' is out of range (array index 2 > length 1)",
        id="add-index-beyond-length",
    ),
    pytest.param(
        {"foo": [1, 2]},
        [{"op": "test", "path": "/foo/01", "value": 2}],
        "operation 0 (test): path '/foo/01' has an invalid array index '01'",
        id="index-with-leading-zero",
    ),
    pytest.param(
        {"foo": [1, 2]},
        [{"op": "add", "path": "/foo/+1", "value": 2}],
        "operation 0 (add): path '/foo/+1' has an invalid array index '+1'",
        id="index-with-sign",
    ),
    pytest.param(
        {"foo": [1, 2]},
        [{"op": "replace", "path": "/foo/-", "value": 3}],
        "operation 0 (replace): path '/foo/-' does not exist ('-' is past the last array element)",
        id="dash-only-for-add",
    ),
    pytest.param(
        {"foo": "text"},
        [{"op": "add", "path": "/foo/bar", "value": 1}],
        "operation 0 (add): path '/foo/bar' is unreachable: '/foo' is not an object or array",
        id="add-below-a-string",
    ),
    pytest.param(
        {"foo": 1},
        [{"op": "add", "path": "foo", "value": 1}],
        "operation 0 (add): path 'foo' is not a JSON Pointer (must start with '/')",
        id="pointer-without-slash",
    ),
    pytest.param(
        {"foo": 1},
        [{"op": "test", "path": "/foo~2", "value": 1}],
        "operation 0 (test): path '/foo~2' has a '~' not followed by '0' or '1'",
        id="pointer-bad-escape",
    ),
    pytest.param(
        {"a": {"b": 1}},
        [{"op": "move", "from": "/a", "path": "/a/b/c"}],
        "operation 0 (move): path '/a/b/c' is inside from '/a': a value cannot move into itself",
        id="move-into-own-child",
    ),
    pytest.param(
        {"a": 1},
        [{"op": "copy", "from": "/missing", "path": "/b"}],
        "operation 0 (copy): from '/missing' does not exist",
        id="copy-from-missing",
    ),
    pytest.param(
        {"a": 1},
        [{"op": "move", "path": "/b"}],
        "operation 0 (move): missing or non-string 'from' member",
        id="move-without-from",
    ),
    pytest.param(
        {"a": 1},
        [{"op": "add", "path": "/b"}],
        "operation 0 (add): missing 'value' member",
        id="add-without-value",
    ),
    pytest.param(
        {"a": 1},
        [{"op": "remove"}],
        "operation 0 (remove): missing or non-string 'path' member",
        id="remove-without-path",
    ),
    pytest.param(
        {"a": 1},
        [{"path": "/a"}],
        "operation 0: missing or non-string 'op' member",
        id="missing-op",
    ),
    pytest.param(
        {"a": 1},
        [{"op": "merge", "path": "/a", "value": 1}],
        "operation 0 (merge): unknown operation",
        id="unknown-op",
    ),
    pytest.param(
        {"a": True},
        [{"op": "test", "path": "/a", "value": 1}],
        "operation 0 (test): path '/a' does not have the value given in 'value'",
        id="test-boolean-is-not-number",
    ),
    pytest.param(
        {"a": [1, 2]},
        [{"op": "test", "path": "/a", "value": [2, 1]}],
        "operation 0 (test): path '/a' does not have the value given in 'value'",
        id="test-array-order-matters",
    ),
    pytest.param(
        {"a": 1},
        [{"op": "replace", "path": "", "value": [1]}],
        "the patched document is no longer a JSON object",
        id="result-not-an-object",
    ),
]


@pytest.mark.parametrize(("document", "patch", "message"), ERROR_CASES)
def test_error_messages(document, patch, message):
    with pytest.raises(JsonPatchError) as raised:
        apply_patch(document, patch)
    assert str(raised.value) == message


# --- the patch document itself (RFC 6902 §3) ---------------------------------------------------

MALFORMED_PATCHES = [
    pytest.param("{", "the patch is not valid JSON", id="not-json"),
    pytest.param('{"op": "add"}', "must be a JSON array of operations", id="object-not-array"),
    pytest.param('["add"]', "operation 0: must be a JSON object", id="element-not-object"),
    pytest.param(
        [{"op": "test", "path": "", "value": {}}, 3],
        "operation 1: must be a JSON object",
        id="list-element-not-object",
    ),
    pytest.param(
        '[{"op": "add", "path": "/a", "value": NaN}]',
        "'NaN' is not a JSON value",
        id="nan-is-not-json",
    ),
    pytest.param({"op": "add"}, "must be a JSON array of operations", id="dict-not-list"),
]


@pytest.mark.parametrize(("patch", "message"), MALFORMED_PATCHES)
def test_malformed_patch(patch, message):
    with pytest.raises(JsonPatchError, match=message):
        apply_patch({}, patch)


def test_empty_patch_returns_equal_copy():
    document = {"a": [1]}
    result = apply_patch(document, "[]")
    assert result == document
    assert result is not document
