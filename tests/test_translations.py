"""The Indonesian catalogues are complete and their compiled .mo files match the .po sources."""
import os

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LC = os.path.join(ROOT, "admin_app", "translations", "id", "LC_MESSAGES")


def _plain(text):
    return tuple(text) if isinstance(text, (list, tuple)) else text


@pytest.mark.parametrize("domain", ["messages", "admin", "wtforms"])
def test_catalogue_is_complete_and_compiled(domain):
    with open(os.path.join(LC, f"{domain}.po"), "rb") as handle:
        source = read_po(handle)
    with open(os.path.join(LC, f"{domain}.mo"), "rb") as handle:
        compiled = read_mo(handle)
    for message in source:
        if not message.id:
            continue
        assert message.string and (not isinstance(message.string, tuple) or all(message.string)), message.id
        assert "fuzzy" not in message.flags, message.id
        assert compiled.get(message.id) is not None, f"{domain}.mo is older than {domain}.po: run make translations"
        assert _plain(compiled[message.id].string) == _plain(message.string), message.id


def test_every_ui_string_in_the_code_is_in_the_catalogue():
    with open(os.path.join(ROOT, "babel.cfg")) as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}
    in_code = {message[2] if isinstance(message[2], str) else message[2][0]
               for message in extract_from_dir(ROOT, method_map, options_map, keywords=keywords)
               if not message[0].startswith(("tests", ".venv"))}
    with open(os.path.join(LC, "messages.po"), "rb") as handle:
        catalogued = {message.id if isinstance(message.id, str) else message.id[0] for message in read_po(handle)}
    assert sorted(in_code - catalogued) == []
