"""The README's walkthrough, executed for real against the suite that `make run` starts.

Every ```sh block after a `<!-- walkthrough -->` marker runs, in order, in one bash session
(so variables carry over), with the documented URLs rewritten to the test suite's ports.
The ```text block after an `<!-- expect -->` marker is what the README promises the block
prints (its URLs rewritten the same way): each line must appear in order, `...` standing for
any text.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(
    r"<!-- walkthrough -->\s*```sh\n(?P<script>.*?)```"
    r"(?:\s*<!-- expect -->\s*```text\n(?P<expect>.*?)```)?",
    re.DOTALL,
)
MARK = "@@walkthrough-block@@"


@dataclass(frozen=True)
class Step:
    script: str
    expect: list[str]


def walkthrough_steps() -> list[Step]:
    text = (ROOT / "README.md").read_text()
    return [
        Step(m["script"], [line for line in (m["expect"] or "").splitlines() if line.strip()])
        for m in BLOCK.finditer(text)
    ]


def expectation(line: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in line.strip().split("...")]
    return re.compile(".*".join(parts))


def test_readme_has_a_walkthrough() -> None:
    steps = walkthrough_steps()
    assert len(steps) >= 6, "the README walkthrough markers are missing"
    assert sum(bool(step.expect) for step in steps) >= 6


def test_readme_walkthrough_runs(suite, tmp_path: Path) -> None:
    urls = {
        "http://127.0.0.1:8000": suite.issuer,
        "http://127.0.0.1:8001": suite.calendar,
        "http://127.0.0.1:8002": suite.geocoding,
    }
    script = ["set -euo pipefail"]
    for step in walkthrough_steps():
        body = step.script
        for documented, actual in urls.items():
            body = body.replace(documented, actual)
        script += [f"echo {MARK}", body]
    env = {**suite.env, "DEV_ISSUER_URL": suite.issuer + "/"}
    # The README runs from the repository folder; a scratch folder that sees the same .venv
    # keeps the files the walkthrough writes (event.json) out of the checkout.
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outputs = result.stdout.split(MARK + "\n")[1:]
    assert result.returncode == 0, f"walkthrough failed:\n{result.stdout}\n{result.stderr}"
    steps = walkthrough_steps()
    assert len(outputs) == len(steps)
    for number, (step, output) in enumerate(zip(steps, outputs, strict=True), start=1):
        remaining = output.splitlines()
        for documented_line in step.expect:
            line = documented_line
            for documented, actual in urls.items():
                line = line.replace(documented, actual)
            pattern = expectation(line)
            while remaining and not pattern.fullmatch(remaining[0].strip()):
                remaining.pop(0)
            if not remaining:
                pytest.fail(
                    f"walkthrough block {number} should print {line!r}; it printed:\n{output}"
                )
            remaining.pop(0)
