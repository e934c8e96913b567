"""The README's configuration table lists every setting, with its default."""

from __future__ import annotations

import re
from pathlib import Path

from enabley.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def documented() -> dict[str, str]:
    """The configuration table's variables and their defaults, as written."""
    text = README.read_text()
    table = text[text.index("### Configuration (environment variables)") :]
    table = table[: table.index("\n\n", table.index("| variable |"))]
    rows = re.findall(r"^\| `(ENABLEY_[A-Z0-9_]+)` \| ([^|]+) \|", table, re.M)
    return {name: default.strip().strip("`") for name, default in rows}


def shown(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_the_configuration_table_lists_every_setting_with_its_default():
    settings = {
        f"ENABLEY_{name.upper()}": shown(field.default) for name, field in Settings.model_fields.items()
    }
    assert documented() == settings
