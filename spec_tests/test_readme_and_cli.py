"""The README's example runs as written, and the bgfetch command's demo succeeds."""

import pathlib
import re
import subprocess
import sys

import pytest

from bgfetch import cli

README = pathlib.Path(__file__).parent.parent / "README.md"


def readme_example(*, edition: str = "current") -> tuple[str, dict[str, object]]:
    """The README's podcast example, and the namespace to run it in: as written, or
    under the 2017-10-12 draft with the README's handler for the draft's event (and
    ``bgfetch.open_user_agent`` opening that edition)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(block for block in blocks if "trio.run(main" in block)
    namespace: dict[str, object] = {"__name__": "readme"}
    if edition == "current":
        return example, namespace
    draft = next(block for block in blocks if '@worker.on("backgroundfetched")' in block)
    program, run = example.split("trio.run(main")
    return program + draft + "trio.run(main" + run, namespace


@pytest.mark.parametrize("edition", ["current", "2017-10-12"])
def test_readme_example_runs_as_written(capsys, monkeypatch, edition):
    """Caches the episode in the completion handler, tells the page through clients,
    updates the display: issue 11's podcast example, under both editions."""
    import bgfetch

    example, namespace = readme_example(edition=edition)
    opened = bgfetch.open_user_agent
    monkeypatch.setattr(
        bgfetch, "open_user_agent", lambda **kwargs: opened(**kwargs, edition=edition)
    )
    exec(compile(example, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "the worker says {'ready': 'episode-5'}" in out
    assert "playing https://example.test/ep-5.mp3 3000000 bytes, from the cache" in out
    assert "the display says Episode 5 is ready to play" in out
    assert "downloaded 3000007" in out


@pytest.mark.parametrize(
    ("edition", "event"),
    [("current", "backgroundfetchsuccess"), ("2017-10-12", "backgroundfetched")],
)
def test_cli_demo_downloads_every_byte_and_exits_zero(capsys, edition, event):
    assert cli.main(["demo", "--instant", "--edition", edition]) == 0
    out = capsys.readouterr().out
    assert f"service worker: {event}" in out
    assert "6,291,456 bytes" in out
    assert "done" in out


def test_cli_rejects_an_unknown_edition(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["demo", "--edition", "1999"])
    assert exit.value.code == 2
    assert "1999" in capsys.readouterr().err


def test_readme_pytest_example_passes_in_a_project_of_its_own(tmp_path):
    """The plugin reaches a service-worker author's project through its pytest11 entry
    point: the README's pytest example, alone in a fresh directory, passes."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(block for block in blocks if "async def test_" in block)
    (tmp_path / "test_example.py").write_text(example)
    (tmp_path / "pytest.ini").write_text("[pytest]\ntrio_mode = true\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
