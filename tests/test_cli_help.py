"""Every command's help: quick (the server is imported only by the commands that run), in words
rather than Python types; ``enabley remote`` imports nothing of the server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from enabley.cli import app

SRC = Path(__file__).resolve().parents[1] / "src"
SERVER_SIDE = re.compile(
    r"^(enabley\.(?!client\b|client\.|cli\b|cli\.)|fastapi|starlette|sqlalchemy|alembic|uvicorn)"
)
HEAVY = re.compile(r"^(enabley\.client|httpx2|pydantic_settings)\b")
PYTHON_TYPES = re.compile(r"<(str|int|float|bool|list|Path|dict)\b|\brange>|<[a-z]+\[")


def command_paths() -> list[list[str]]:
    """Every command and group of ``enabley``, as the words that name it."""
    paths: list[list[str]] = []

    def walk(command, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def loaded_modules(*runs: list[str]) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``enabley`` with each of ``runs``."""
    code = (
        "import json, sys\n"
        "from enabley.cli import app\n"
        f"for args in {runs!r}:\n"
        "    try:\n"
        "        app(args, prog_name='enabley')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.__stderr__)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    env = {k: v for k, v in env.items() if not k.startswith("ENABLEY_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_the_walk_sees_every_command():
    names = {" ".join(path) for path in command_paths()}
    assert {"serve", "db upgrade", "accounts list", "remote upload", "remote export", "remote call"} <= names


def test_help_loads_nothing_of_the_server_nor_the_sdk():
    loaded = loaded_modules(*[[*path, "--help"] for path in command_paths()])
    assert "enabley.cli.server" in loaded, "the walk ran"
    assert [name for name in loaded if SERVER_SIDE.match(name) or HEAVY.match(name)] == []


def test_a_remote_command_imports_nothing_of_the_server():
    options = ["--url", "http://127.0.0.1:9", "--client-key", "k", "--secret", "s"]
    loaded = loaded_modules(
        ["remote", *options, "call", "GET", "/api/v2/users"], ["remote", "export", "users", *options]
    )
    assert "enabley.client" in loaded, "the commands ran"
    assert [name for name in loaded if SERVER_SIDE.match(name)] == []


def test_help_names_values_in_words_not_python_types():
    runner = CliRunner()
    for path in command_paths():
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert not PYTHON_TYPES.search(result.output), (path, result.output)
    upload = runner.invoke(app, ["remote", "upload", "--help"]).output
    assert "FILE..." in upload
    serve = runner.invoke(app, ["serve", "--help"]).output
    assert re.search(r"--port\s+INTEGER", serve), serve
