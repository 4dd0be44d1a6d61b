"""The documentation is current: docs/api.md matches the docstrings, every public name has a
non-empty section there, docs/index.md lists every page, relative links resolve, and (repository-wide)
no file cites reference notes that live outside the repository."""

import importlib.util
import inspect
import re
from pathlib import Path

import batchramp_theory as bt
from batchramp_theory import fsl

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"


def _gen_api():
    spec = importlib.util.spec_from_file_location("gen_api", DOCS / "gen_api.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _sections(text: str) -> dict[str, str]:
    """``{"expected_risk": body, "fsl.wsd": body, ...}`` from the ``## `bt.NAME` `` headings of api.md."""
    parts = re.split(r"^## `bt\.([A-Za-z0-9_.]+)`\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def _own_public(module) -> list[str]:
    """Public non-module names of ``module`` defined inside the package (independent of gen_api's filter)."""
    out = []
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        if str(getattr(obj, "__module__", "batchramp_theory")).startswith("batchramp_theory"):
            out.append(name)
    return out


def test_api_md_is_current():
    gen = _gen_api()
    assert (DOCS / "api.md").read_text() == gen.render(), "docs/api.md is stale: run `python docs/gen_api.py`"


def test_every_public_name_has_a_docstring_section():
    sections = _sections((DOCS / "api.md").read_text())
    top = _own_public(bt)
    wanted = top + [f"fsl.{n}" for n in _own_public(fsl) if n not in top]
    assert len(wanted) > 50  # guards against an import that silently found nothing
    empty = []
    for name in wanted:
        assert name in sections, f"bt.{name} has no section in docs/api.md"
        body = re.sub(r"```python.*?```", "", sections[name], flags=re.S)        # the signature block
        body = re.sub(r"^\*(class|function|constant)\* in `[\w.]+`$", "", body, flags=re.M)
        if not body.strip():
            empty.append(name)
    assert not empty, f"public names with an empty docstring section: {empty}"


def test_index_lists_every_page():
    index = (DOCS / "index.md").read_text()
    pages = sorted(p.name for p in DOCS.glob("*.md") if p.name != "index.md")
    missing = [p for p in pages if f"]({p})" not in index]
    assert not missing, f"docs/index.md does not link {missing}"


def test_relative_links_resolve():
    broken = []
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert not broken, f"broken relative links: {broken}"


# Notes outside the repository that the code once cited (this file, which names them, is skipped).
_OUTSIDE_NOTES = ["functional_scaling_law.md", "seesaw.md", "critical_batch_and_peers.md"]
_OUTSIDE_PATHS = ["../shared", "shared/reference"]
# A bare "seesaw.md" could end another file's name: match the note names only as whole names.
_CITATION = re.compile("|".join([rf"(?<![\w/.-]){re.escape(n)}" for n in _OUTSIDE_NOTES] + [re.escape(p) for p in _OUTSIDE_PATHS]))
# Section references that only make sense inside those notes ("pitfall 8(i).2", "notes Part 1", "notes §2.5").
_NOTE_SECTIONS = re.compile(r"pitfall 8\(|notes'? (Part \d|§|section \d)")
_SKIP_DIRS = {"__pycache__", "node_modules", "build", "dist", "figures_out", "sweep_out"}


def _repository_files():
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if any(part.startswith(".") or part in _SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts[:-1]):
            continue
        if path.is_file() and path.suffix in {".py", ".md", ".ipynb", ".toml"} and path.resolve() != Path(__file__).resolve():
            yield rel, path


def test_repository_cites_no_outside_notes():
    """REPOSITORY-WIDE GUARD (not only docs/): no .py, .md, .ipynb or .toml file anywhere in the repository
    cites the reference notes kept outside it, or a path into ``../shared``. A reader of the code cannot
    follow such a citation: cite the paper's equation or section, or a page under docs/ (``docs/fsl.md``,
    ``docs/equivalence.md``, ``docs/critical_batch.md``, ``docs/recursions.md``) and its heading."""
    hits = []
    for rel, path in _repository_files():
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for pattern in (_CITATION, _NOTE_SECTIONS):
                if m := pattern.search(line):
                    hits.append(f"{rel}:{lineno}: {m.group(0)}")
    assert not hits, "citations of notes outside the repository:\n" + "\n".join(hits)


# `docs/PAGE.md, "Heading"` (also with backticks, single quotes or a semicolon before the heading).
_HEADING_CITATION = re.compile(r"docs/([\w.-]+\.md)`?,\s*(?:section\s+)?[\"']([^\"'\n]+)[\"']")


def _headings(page: Path) -> list[str]:
    """Heading texts of a page, each with and without its leading section number ("2.2 ", "1. ")."""
    out = []
    for line in page.read_text().splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip()
            out += [text, re.sub(r"^\d+(\.\d+)*\.?\s+", "", text)]
    return out


def test_cited_doc_headings_exist():
    """Every ``docs/PAGE.md, "Heading"`` citation in the repository names an existing page and a heading of it
    (the cited text is the heading, or its start: ``"Finite-mode profiles"`` cites
    ``### Finite-mode profiles (Theorems 4.3-4.6)``)."""
    missing = []
    for rel, path in _repository_files():
        if rel.parts[0] == "docs" and rel.name == "api.md":
            continue  # generated from the docstrings, which are scanned themselves
        for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for page, heading in _HEADING_CITATION.findall(line):
                target = DOCS / page
                if not target.exists():
                    missing.append(f"{rel}:{lineno}: no page docs/{page}")
                elif not any(h.startswith(heading.strip()) for h in _headings(target)):
                    missing.append(f"{rel}:{lineno}: docs/{page} has no heading {heading!r}")
    assert not missing, "citations of missing docs headings:\n" + "\n".join(missing)
