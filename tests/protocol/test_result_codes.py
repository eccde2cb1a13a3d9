"""The result-code catalog (reference §4): well-formed, unique, complete for the code that uses it,
and each code's HTTP status agrees with its category digit."""

import io
import re
import tokenize
from pathlib import Path

import pytest

from app.protocol import result_codes as rc
from app.protocol.result_codes import CATALOG, ResultCode

APP = Path(__file__).resolve().parents[2] / "app"
CATALOG_MODULE = APP / "protocol" / "result_codes.py"
CODE_SHAPE = re.compile(r"^A\d{6}$")
CODE_IN_TEXT = re.compile(r"\bA\d{6}\b")
RC_REFERENCE = re.compile(r"\brc\.([A-Z_][A-Z0-9_]*)\b")
# Category = the digit after the three-digit group (reference §4).
STATUS_CLASS_BY_CATEGORY = {"0": 2, "1": 5, "2": 4, "3": 4, "6": 4}

NAMED_CODES = {name: value for name, value in vars(rc).items() if isinstance(value, ResultCode)}


def app_sources() -> list[Path]:
    sources = sorted(APP.rglob("*.py"))
    assert len(sources) > 10
    return sources


def string_literals(path: Path) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [token.string for token in tokens if token.type == tokenize.STRING]


@pytest.mark.parametrize("code", sorted(CATALOG), ids=str)
def test_code_shape_and_message(code):
    entry = CATALOG[code]
    assert CODE_SHAPE.match(code)
    assert entry.code == code
    assert entry.message(**_dummy_params(entry.template)).startswith(f"[{code}] ")


def _dummy_params(template: str) -> dict:
    return {name: "v" for name in re.findall(r"\{(\w+)\}", template)}


def test_every_named_code_is_in_the_catalog_once():
    assert len(NAMED_CODES) == len(CATALOG)
    codes = [entry.code for entry in NAMED_CODES.values()]
    assert len(set(codes)) == len(codes), "two names share a code"
    assert set(codes) == set(CATALOG)
    for entry in NAMED_CODES.values():
        assert CATALOG[entry.code] is entry


def test_defining_a_code_twice_is_refused():
    with pytest.raises(ValueError, match="A001101"):
        rc._define("A001101", "{path}, again.", 500)
    assert CATALOG["A001101"] is rc.SERVER_ERROR


@pytest.mark.parametrize("code", sorted(CATALOG), ids=str)
def test_category_matches_the_http_status_class(code):
    entry = CATALOG[code]
    category = code[4]
    assert category in STATUS_CLASS_BY_CATEGORY, f"{code}: unexpected category {category}"
    if entry.action:
        # Action APIs answer 200 whatever the outcome; the action carries it (reference §2.0).
        assert entry.status == 200, code
        return
    assert entry.status // 100 == STATUS_CLASS_BY_CATEGORY[category], (code, entry.status)


@pytest.mark.parametrize("code", sorted(CATALOG), ids=str)
def test_error_messages_start_with_the_api_path(code):
    """Reference §4: API-level messages put the API path first; success messages do not."""
    template = CATALOG[code].template
    if code[4] == "0" or CATALOG[code].action:
        assert "{path}" not in template
    else:
        assert template.startswith("{path}, ")


def test_every_rc_name_used_in_app_exists():
    referenced: dict[str, list[str]] = {}
    for path in app_sources():
        for name in RC_REFERENCE.findall(path.read_text()):
            referenced.setdefault(name, []).append(str(path.relative_to(APP.parent)))
    assert len(referenced) >= 20, "the scan found too few references to be meaningful"
    missing = {name: files for name, files in referenced.items() if name not in NAMED_CODES}
    assert not missing, f"result codes used but not defined: {missing}"


def test_result_codes_module_is_always_imported_as_rc():
    """The name scan above only sees `rc.NAME`; any other spelling would hide references."""
    import_line = re.compile(r"^\s*(from\s+app\.protocol(\.result_codes)?\s+import\s+.*|"
                             r"import\s+app\.protocol\.result_codes.*)$", re.MULTILINE)
    for path in app_sources():
        if path == CATALOG_MODULE:
            continue
        for statement in import_line.findall(path.read_text()):
            line = statement[0]
            if "result_codes" not in line:
                continue
            assert (line.strip() == "from app.protocol import result_codes as rc"
                    or line.strip() == "from app.protocol.result_codes import ResultCode"), \
                f"{path}: {line.strip()}"


def test_every_code_literal_in_app_is_in_the_catalog():
    found: dict[str, list[str]] = {}
    for path in app_sources():
        if path == CATALOG_MODULE:
            continue
        for literal in string_literals(path):
            for code in CODE_IN_TEXT.findall(literal):
                found.setdefault(code, []).append(str(path.relative_to(APP.parent)))
    unknown = {code: files for code, files in found.items() if code not in CATALOG}
    assert not unknown, f"code literals missing from the catalog: {unknown}"


def test_lookup():
    assert rc.lookup("A001311") is rc.TOO_MANY_REQUESTS
    with pytest.raises(KeyError):
        rc.lookup("A999999")
