"""The documentation is checked, not just written: the generated reference pages are current, the README is short
and its links resolve, every help text names the Benchmarks section holding its evidence, the design page names
every module, the strict site build fails on a dead link, and the getting-started page's shell examples run.

The site is opened in a real browser in tests/serve/test_docs_browser.py.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from ragtune.cli import reference as cli_reference
from ragtune.config import Config
from ragtune.config import reference as config_reference

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def slug(heading: str) -> str:
    """The anchor MkDocs' toc extension gives a heading (Python-Markdown's default slugify)."""
    text = unicodedata.normalize("NFKD", heading.replace("`", "")).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE)}


def dead_links(page: Path) -> list[str]:
    """Relative links of a Markdown file whose file or heading does not exist (web addresses are not fetched)."""
    dead = []
    for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            dead.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            dead.append(f"{target}: no heading with anchor #{fragment}")
    return dead


def stale_message(page: str, command: str) -> str:
    return f"{page} is stale: the code generates something else. Run `make docs-reference` ({command}) and commit it."


def test_configuration_reference_is_current() -> None:
    committed = (DOCS / "reference" / "configuration.md").read_text(encoding="utf-8")
    assert committed == config_reference.render(), stale_message(
        "docs/reference/configuration.md", "python -m ragtune.config.reference docs/reference/configuration.md"
    )


def test_cli_reference_is_current() -> None:
    committed = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert committed == cli_reference.render(), stale_message(
        "docs/reference/cli.md", "python -m ragtune.cli.reference docs/reference/cli.md"
    )


def test_configuration_reference_lists_every_setting_with_its_default() -> None:
    page = config_reference.render()
    config = Config()
    for section in dataclasses.fields(Config):
        value = getattr(config, section.name)
        if not dataclasses.is_dataclass(value):
            continue
        for f in dataclasses.fields(value):
            assert f"| `{section.name}.{f.name}` |" in page
    assert "| `retrieval.top_k` | int | `5` | >= 1 |" in page
    assert '| `retrieval.mode` | str | `"hybrid"` | `dense` \\| `bm25` \\| `hybrid` |' in page


def test_readme_is_short_keeps_the_two_commands_and_its_links_resolve() -> None:
    readme = ROOT / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; move detail into docs/"
    text = "\n".join(lines)
    assert "make demo" in text and "make test" in text  # CI greps for them
    assert dead_links(readme) == []
    linked = {t.partition("#")[0] for t in LINK.findall(text)}
    assert {"docs/getting-started.md", "docs/models.md", "docs/guides/compare.md"} <= linked


def test_docs_pages_links_resolve() -> None:
    """The strict build checks this too; this names every dead link at once, without building."""
    assert {str(p.relative_to(DOCS)): dead_links(p) for p in DOCS.rglob("*.md") if dead_links(p)} == {}


def benchmark_sections() -> set[str]:
    text = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    part = text.split("## Measurements behind the defaults", 1)[1]
    return set(re.findall(r"^### (.+?)\s*$", part, re.MULTILINE))


def every_setting() -> list[tuple[str, str]]:
    config = Config()
    out = [(f.name, f.metadata["help"]) for f in dataclasses.fields(Config) if "help" in f.metadata]
    for section in dataclasses.fields(Config):
        value = getattr(config, section.name)
        if dataclasses.is_dataclass(value):
            out += [(f"{section.name}.{f.name}", f.metadata["help"]) for f in dataclasses.fields(value)]
    return out


def test_help_texts_are_short_and_name_an_existing_benchmarks_section() -> None:
    sections = benchmark_sections()
    assert {"Generation", "QA suite", "Tune", "Compare", "Synth"} <= sections
    for name, text in every_setting():
        assert len(text) <= 400, f"{name}: help of {len(text)} characters; move measurements to docs/benchmarks.md"
        for cited in re.findall(r"Benchmarks › ([A-Za-z][\w ]*?)(?=[).,;]|$)", text):
            assert cited in sections, f"{name} cites 'Benchmarks › {cited}', not a section of docs/benchmarks.md"


def test_design_page_names_every_module() -> None:
    page = (DOCS / "design.md").read_text(encoding="utf-8")
    src = ROOT / "src" / "ragtune"
    missing = []
    for path in sorted(src.rglob("*.py")):
        if path.name in {"__init__.py", "__main__.py"} or "samples" in path.parts:
            continue
        name = path.name if path.parent == src or path.parent.parent == src else path.parent.name + "/"
        if not re.search(rf"(?<![\w/]){re.escape(name)}", page):
            missing.append(str(path.relative_to(src)))
    assert missing == [], "docs/design.md does not name these modules; add them to its package map"


def mkdocs_build(docs_root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mkdocs", reason="the docs extra is missing: pip install -e '.[docs]'")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(command, cwd=docs_root, capture_output=True, text=True, env=env, timeout=300)


def test_strict_site_build_passes_and_fails_on_a_dead_link(tmp_path: Path) -> None:
    ok = mkdocs_build(ROOT, tmp_path / "site")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "site" / "search" / "search_index.json").is_file()
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    shutil.copytree(DOCS, copy / "docs")
    with (copy / "docs" / "design.md").open("a", encoding="utf-8") as page:
        page.write("\nSee [the gone page](no-such-page.md).\n")
    broken = mkdocs_build(copy, tmp_path / "broken-site")
    assert broken.returncode != 0
    assert "no-such-page.md" in broken.stderr and "strict mode" in broken.stdout + broken.stderr


def shell_blocks(page: Path) -> list[str]:
    return [body for lang, body in FENCE.findall(page.read_text(encoding="utf-8")) if lang == "bash"]


def run_block(block: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """One ```bash block of a page, as a user runs it with the virtual environment activated."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("RAGTUNE_WORKSPACE", None)
    script = "set -euo pipefail\n" + block
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


GETTING_STARTED = DOCS / "getting-started.md"


def test_getting_started_has_shell_examples() -> None:
    blocks = shell_blocks(GETTING_STARTED)
    assert len(blocks) >= 3 and any("ragtune compare" in b for b in blocks)


@pytest.mark.slow
def test_getting_started_examples_run(tmp_path: Path) -> None:
    """Every bash block but the comparison, in order, in one folder (the later ones use what the first ingested)."""
    outputs = []
    for block in shell_blocks(GETTING_STARTED):
        if "ragtune compare" in block:
            continue
        result = run_block(block, tmp_path)
        assert result.returncode == 0, f"this example failed:\n{block}\n{result.stdout}\n{result.stderr}"
        outputs.append(result.stdout)
    assert "added 45" in outputs[0] and "warranty.html" in outputs[0]
    assert "3 years" in outputs[0]
    assert "unchanged 45" in outputs[1] and '"answer"' in outputs[1]


@pytest.mark.slow
def test_getting_started_comparison_runs(tmp_path: Path) -> None:
    """The page's `ragtune compare --quick` on the bundled sample: minutes, so run once, on its own."""
    (block,) = [b for b in shell_blocks(GETTING_STARTED) if "ragtune compare" in b]
    result = run_block(block, tmp_path)
    assert result.returncode == 0, f"this example failed:\n{block}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert {"report.html", "report.md", "results.json"} <= set(result.stdout.split())
