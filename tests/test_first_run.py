"""The README, followed by a new user: every example, in order, against a real server on a fresh
database, printing what the README shows.

The server is started as ``make run`` starts it (``serve``, which migrates the schema, and
``demo``) in a scratch directory that stands for the checkout: ``./demo.env`` is written there,
``.venv/bin/python`` and ``.venv/bin/enabley`` run this tree's code, and the examples' files land
there. Every ``sh`` block then runs, in order, in one shell session (what one block exports, the
next one has). The blocks that install, test or need what a test can't have are left out: those
with a ``make``, ``pytest`` or ``pip install`` command (the production one also needs PostgreSQL).
A block followed by an unlabelled block is compared with it: a line ``...`` stands for any lines,
``...`` inside a line for any text, and a timestamp for any timestamp.

Select it alone with ``pytest -m readme``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SRC = ROOT / "src"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
MARKER = "@@ README block {} done at $EPOCHREALTIME @@"
SPLIT = re.compile(r"^@@ README block \d+ done at ([\d.]+) @@\n", re.M)

pytestmark = [
    pytest.mark.readme,
    pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl"),
]


@dataclass
class Example:
    number: int
    heading: str
    script: str
    shown: str | None
    """What the README shows the example prints, when it shows it."""


def examples(text: str) -> list[Example]:
    """The README's ``sh`` blocks in order, each with the output block that follows it, if any."""
    found: list[Example] = []
    heading = ""
    blocks = list(re.finditer(r"^```(\w*)\n(.*?)^```\n", text, re.S | re.M))
    for i, block in enumerate(blocks):
        before = text[blocks[i - 1].end() if i else 0 : block.start()]
        headings = re.findall(r"^#+ (.*)$", before, re.M)
        heading = headings[-1] if headings else heading
        language, body = block.group(1), block.group(2)
        if language == "" and found and not before.strip():
            found[-1].shown = body
        if language != "sh" or not runnable(body):
            continue
        found.append(Example(len(found) + 1, heading, body, None))
    return found


def runnable(script: str) -> bool:
    lines = [line.strip() for line in script.splitlines() if line.strip() and not line.startswith("#")]
    # The command of each line, after any VARIABLE=value assignments before it.
    commands = [re.sub(r"^(\w+=\S*\s+)*", "", line) for line in lines]
    # Installing, testing and benchmarking are left out (make, pip install, pytest itself).
    return not any(re.match(r"(make|pip install|(\S*/)?pytest)\b", command) for command in commands)


def pattern(shown: str) -> re.Pattern[str]:
    parts: list[str] = []
    for line in shown.rstrip("\n").splitlines():
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        pieces = re.split(r"(\.\.\.|" + TIMESTAMP.pattern + ")", line.rstrip())
        parts.append(
            "".join(
                "[^\n]*?"
                if piece == "..."
                else TIMESTAMP.pattern
                if TIMESTAMP.fullmatch(piece)
                else re.escape(piece)
                for piece in pieces
            )
            + r"[ \t]*\n"
        )
    return re.compile("".join(parts))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory):
    """A scratch directory standing for the checkout after ``make run``, and the server's process."""
    home = tmp_path_factory.mktemp("checkout")
    venv = home / ".venv" / "bin"
    venv.mkdir(parents=True)
    for name, command in (("python", '"$@"'), ("enabley", '-m enabley "$@"')):
        (venv / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" {command}\n')
        (venv / name).chmod(0o755)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENABLEY_")}
    env.update(
        PYTHONPATH=str(SRC),
        ENABLEY_DATABASE_URL="sqlite:///./enabley.db",
        ENABLEY_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        ENABLEY_ACCESS_LOG="false",
        # As the README's webhook example asks: its receiver listens on 127.0.0.1.
        ENABLEY_WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
    )
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(
        [venv / "enabley", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (home / "server.log").read_text()
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        # make run's `db upgrade` is left to serve, which migrates before it serves; then the demo.
        subprocess.run(
            [venv / "enabley", "demo"], cwd=home, env=env, check=True, capture_output=True, timeout=120
        )
        # The user's second terminal: none of the server's settings, only the checkout's tools.
        shell = {k: v for k, v in env.items() if not k.startswith("ENABLEY_")}
        yield home, shell
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_the_readme_shows_what_its_examples_print(checkout):
    home, env = checkout
    steps = examples(README.read_text())
    assert len(steps) >= 8, "the walk must see the README's examples"
    script = f'exec 2>&1\necho "{MARKER.format(0)}"\n' + "".join(
        f'{step.script}\necho "{MARKER.format(step.number)}"\n' for step in steps
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=home, env=env, capture_output=True, text=True, timeout=300
    )
    (home / "walkthrough.log").write_text(done.stdout)
    parts = SPLIT.split(done.stdout)
    outputs, ends = parts[2:-1:2], [float(end) for end in parts[1::2]]
    assert len(outputs) == len(steps), f"the examples stopped; see {home / 'walkthrough.log'}"
    durations = {step.number: round(end - start, 1) for step, start, end in zip(steps, ends, ends[1:])}
    print(f"README examples, seconds each: {durations}")
    for step, printed in zip(steps, outputs, strict=True):
        if step.shown is None:
            continue
        assert pattern(step.shown).fullmatch(printed), (
            f"README example {step.number} ({step.heading}) printed:\n{printed}\nwhere the README shows:\n"
            f"{step.shown}"
        )


def test_the_readme_example_comparison_accepts_elisions_and_timestamps():
    shown = '{\n  "a": 1,\n  ...\n}\nuser ana-1 at 2026-11-27T09:12:44.120Z {"x": ...}\n'
    assert pattern(shown).fullmatch(
        '{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}\nuser ana-1 at 2027-01-02T03:04:05.678Z {"x": [1]}\n'
    )
    assert not pattern(shown).fullmatch('{\n  "a": 2,\n}\nuser ana-1 at now {"x": 1}\n')
