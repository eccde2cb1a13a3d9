"""JSON Patch (RFC 6902) over JSON Pointer (RFC 6901).

Used by the discovery API (`/service/configuration` with `patch`) to let a front-end adjust the
generated metadata document. The patch is atomic (RFC 6902 §5): it is applied to a deep copy, so a
failing operation leaves the caller's document untouched.

Operations are numbered from 0, like the elements of the patch array, in error messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonPatchError", "apply_patch"]


class JsonPatchError(ValueError):
    """The patch is malformed, or one of its operations cannot be applied (RFC 6902 §5)."""


class _OperationFailure(Exception):
    """Why one operation failed; apply_patch prefixes it with the operation index and op."""


# RFC 6901 §4: an array index is "0" or digits without a leading zero.
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
# RFC 6901 §3: "~" may only be followed by "0" or "1".
_BAD_ESCAPE = re.compile(r"~(?![01])")
# RFC 6901 §4: "-" names the (nonexistent) element after the last array element.
_END_OF_ARRAY = "-"


def apply_patch(document: dict, patch: list | str) -> dict:
    """Return a new document: `document` with every operation of `patch` applied in order."""
    operations = _parse_patch(patch)
    result: Any = _fresh_copy(document)
    for index, operation in enumerate(operations):
        result = _apply_operation(result, index, operation)
    if not isinstance(result, dict):
        raise JsonPatchError("the patched document is no longer a JSON object")
    return result


# --- the patch document (RFC 6902 §3) ---------------------------------------------------------


def _parse_patch(patch: list | str) -> list:
    if isinstance(patch, str):
        patch = _load_json(patch)
    if not isinstance(patch, list):
        raise JsonPatchError("a JSON Patch document must be a JSON array of operations")
    for index, operation in enumerate(patch):
        if not isinstance(operation, dict):
            raise JsonPatchError(f"operation {index}: must be a JSON object")
    return patch


def _load_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_members, parse_constant=_reject_constant)
    except ValueError as error:
        raise JsonPatchError(f"the patch is not valid JSON: {error}") from None


def _unique_members(pairs: list[tuple[str, Any]]) -> dict:
    # RFC 6902 Appendix A.13: a duplicated member such as a second "op" makes the operation
    # ambiguous; RFC 8259 §4 leaves duplicates undefined, so refuse instead of guessing.
    members: dict = {}
    for name, value in pairs:
        if name in members:
            raise ValueError(f"duplicate member name '{name}'")
        members[name] = value
    return members


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259 §6) although Python's parser accepts them.
    raise ValueError(f"'{name}' is not a JSON value")


def _apply_operation(document: Any, index: int, operation: dict) -> Any:
    op = operation.get("op")
    if not isinstance(op, str):
        raise JsonPatchError(f"operation {index}: missing or non-string 'op' member")
    apply = _OPERATIONS.get(op)
    if apply is None:
        raise JsonPatchError(f"operation {index} ({op}): unknown operation")
    try:
        return apply(document, operation)
    except _OperationFailure as failure:
        raise JsonPatchError(f"operation {index} ({op}): {failure}") from None


def _value_member(operation: dict) -> Any:
    # RFC 6902 §4.1/§4.3/§4.6: "value" is required; null is a legitimate value.
    if "value" not in operation:
        raise _OperationFailure("missing 'value' member")
    return _fresh_copy(operation["value"])


# --- JSON Pointer (RFC 6901) ------------------------------------------------------------------


@dataclass(frozen=True)
class _Pointer:
    member: str  # "path" or "from": the operation member the pointer came from
    text: str
    tokens: tuple[str, ...]

    def failure(self, why: str) -> _OperationFailure:
        return _OperationFailure(f"{self.member} '{self.text}' {why}")

    def parent(self) -> _Pointer:
        parent_text = self.text[: self.text.rfind("/")]
        return _Pointer(self.member, parent_text, self.tokens[:-1])


def _pointer_member(operation: dict, member: str) -> _Pointer:
    text = operation.get(member)
    if not isinstance(text, str):
        raise _OperationFailure(f"missing or non-string '{member}' member")
    return _parse_pointer(member, text)


def _parse_pointer(member: str, text: str) -> _Pointer:
    # RFC 6901 §3: "" is the whole document; otherwise "/"-prefixed reference tokens.
    if text == "":
        return _Pointer(member, text, ())
    if not text.startswith("/"):
        raise _OperationFailure(f"{member} '{text}' is not a JSON Pointer (must start with '/')")
    if _BAD_ESCAPE.search(text):
        raise _OperationFailure(f"{member} '{text}' has a '~' not followed by '0' or '1'")
    return _Pointer(member, text, tuple(_unescape(token) for token in text[1:].split("/")))


def _unescape(token: str) -> str:
    # RFC 6901 §4: "~1" first, then "~0", so that "~01" becomes "~1" and not "/".
    return token.replace("~1", "/").replace("~0", "~")


def _resolve(document: Any, pointer: _Pointer) -> Any:
    """The value `pointer` refers to; it must exist (RFC 6901 §4)."""
    value = document
    for token in pointer.tokens:
        value = _child(value, token, pointer)
    return value


def _child(container: Any, token: str, pointer: _Pointer) -> Any:
    if isinstance(container, dict) and token in container:
        return container[token]
    if isinstance(container, list):
        return container[_existing_index(container, token, pointer)]
    raise pointer.failure("does not exist")


def _array_index(token: str, pointer: _Pointer) -> int:
    if not _ARRAY_INDEX.fullmatch(token):
        raise pointer.failure(f"has an invalid array index '{token}'")
    return int(token)


def _existing_index(array: list, token: str, pointer: _Pointer) -> int:
    if token == _END_OF_ARRAY:
        raise pointer.failure("does not exist ('-' is past the last array element)")
    index = _array_index(token, pointer)
    if index >= len(array):
        raise pointer.failure(f"does not exist (array index {index} >= length {len(array)})")
    return index


def _container_of(document: Any, pointer: _Pointer) -> Any:
    """The object or array that holds the last reference token of `pointer`."""
    parent = pointer.parent()
    try:
        container = _resolve(document, parent)
    except _OperationFailure:
        raise pointer.failure(f"is unreachable: '{parent.text}' does not exist") from None
    if not isinstance(container, dict | list):
        raise pointer.failure(f"is unreachable: '{parent.text}' is not an object or array")
    return container


# --- operations (RFC 6902 §4) -----------------------------------------------------------------


def _add_value(document: Any, pointer: _Pointer, value: Any) -> Any:
    # RFC 6902 §4.1: the root is replaced; a member is added or replaced; an array element is
    # inserted before the given index, which may equal the array length ("-" appends).
    if not pointer.tokens:
        return value
    container = _container_of(document, pointer)
    token = pointer.tokens[-1]
    if isinstance(container, dict):
        container[token] = value
    else:
        container.insert(_insertion_index(container, token, pointer), value)
    return document


def _insertion_index(array: list, token: str, pointer: _Pointer) -> int:
    if token == _END_OF_ARRAY:
        return len(array)
    index = _array_index(token, pointer)
    if index > len(array):
        raise pointer.failure(f"is out of range (array index {index} > length {len(array)})")
    return index


def _remove_value(document: Any, pointer: _Pointer) -> Any:
    # RFC 6902 §4.2: the target location MUST exist; array elements after it shift left.
    if not pointer.tokens:
        raise pointer.failure("is the whole document, which cannot be removed")
    container = _container_of(document, pointer)
    token = pointer.tokens[-1]
    if isinstance(container, dict):
        if token not in container:
            raise pointer.failure("does not exist")
        del container[token]
    else:
        del container[_existing_index(container, token, pointer)]
    return document


def _add(document: Any, operation: dict) -> Any:
    pointer = _pointer_member(operation, "path")
    return _add_value(document, pointer, _value_member(operation))


def _remove(document: Any, operation: dict) -> Any:
    return _remove_value(document, _pointer_member(operation, "path"))


def _replace(document: Any, operation: dict) -> Any:
    # RFC 6902 §4.3: like "remove" then "add", but the target MUST exist; assigning in place
    # keeps the member's position in the object.
    pointer = _pointer_member(operation, "path")
    value = _value_member(operation)
    _resolve(document, pointer)
    if not pointer.tokens:
        return value
    container = _container_of(document, pointer)
    token = pointer.tokens[-1]
    key = token if isinstance(container, dict) else _existing_index(container, token, pointer)
    container[key] = value
    return document


def _move(document: Any, operation: dict) -> Any:
    # RFC 6902 §4.4: "from" MUST exist and MUST NOT be a proper prefix of "path".
    source = _pointer_member(operation, "from")
    target = _pointer_member(operation, "path")
    value = _resolve(document, source)
    if source.tokens == target.tokens:
        return document
    if target.tokens[: len(source.tokens)] == source.tokens:
        raise target.failure(f"is inside from '{source.text}': a value cannot move into itself")
    return _add_value(_remove_value(document, source), target, value)


def _copy(document: Any, operation: dict) -> Any:
    # RFC 6902 §4.5: "from" MUST exist; its value is added at "path".
    source = _pointer_member(operation, "from")
    target = _pointer_member(operation, "path")
    value = _fresh_copy(_resolve(document, source))
    return _add_value(document, target, value)


def _test(document: Any, operation: dict) -> Any:
    # RFC 6902 §4.6: the value at "path" MUST equal "value"; a mismatch is an error (§5).
    pointer = _pointer_member(operation, "path")
    expected = _value_member(operation)
    if not _json_equal(_resolve(document, pointer), expected):
        raise pointer.failure("does not have the value given in 'value'")
    return document


_OPERATIONS: dict[str, Callable[[Any, dict], Any]] = {
    "add": _add,
    "remove": _remove,
    "replace": _replace,
    "move": _move,
    "copy": _copy,
    "test": _test,
}


def _fresh_copy(value: Any) -> Any:
    # Unlike copy.deepcopy, shares nothing: a list referenced twice in the input becomes two
    # lists, so patching one location can never change another.
    if isinstance(value, dict):
        return {name: _fresh_copy(member) for name, member in value.items()}
    if isinstance(value, list):
        return [_fresh_copy(element) for element in value]
    return value


# --- JSON equality (RFC 6902 §4.6) ------------------------------------------------------------


def _json_equal(left: Any, right: Any) -> bool:
    # Booleans are literals, not numbers: Python's True == 1 must not count as equal.
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right  # numbers compare by value: 1 equals 1.0
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            _json_equal(left[name], right[name]) for name in left
        )
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return type(left) is type(right) and left == right
