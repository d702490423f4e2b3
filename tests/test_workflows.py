"""The GitHub Actions workflows are valid and do what the README says, checked offline.

``check-jsonschema`` validates them against its built-in (vendored, so no
network) GitHub-workflow schema; then: CI runs ``.ci/run`` inside a Debian
container, and Pages builds with the README's command, deploys with the
standard upload-pages-artifact / deploy-pages pair and keeps the offline
archive (``python -m book.archive``) as a download.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
BUILD = "pip install -r requirements.txt && pip install -e . && jupyter-book build . -W -n --keep-going"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean True
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses(job: dict) -> list[str]:
    return [step["uses"].split("@")[0] for step in steps(job) if "uses" in step]


def runs(job: dict) -> list[str]:
    return [step["run"].strip() for step in steps(job) if "run" in step]


def test_workflows_match_the_github_schema():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"ci.yml", "pages.yml"}
    check = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True, text=True, timeout=120,
    )
    assert check.returncode == 0, f"{check.stdout}\n{check.stderr}"


def test_ci_runs_ci_run_in_a_debian_container():
    workflow = load("ci.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    (job,) = workflow["jobs"].values()
    container = job["container"]
    image = container["image"] if isinstance(container, dict) else container
    assert image.startswith("python:3.11-") and "bookworm" in image, image
    assert "actions/checkout" in uses(job)
    assert runs(job) == [".ci/run"]
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111, ".ci/run is not executable"


def test_ci_run_reads_shared_mnist_only_when_it_exists():
    """Without ../shared (GitHub), MNIST_NPZ must stay unset so Keras downloads MNIST."""
    script = (ROOT / ".ci" / "run").read_text()
    export = next(line for line in script.splitlines() if "export MNIST_NPZ" in line)
    assert export.startswith((" ", "\t")), "MNIST_NPZ exported unconditionally"
    assert 'if [ -f "$SHARED_MNIST" ]' in script
    assert subprocess.run(["bash", "-n", ROOT / ".ci" / "run"]).returncode == 0


def test_pages_builds_deploys_and_keeps_the_offline_archive():
    workflow = load("pages.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["group"]
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert BUILD in runs(build), "the Pages build is not the README's build command"
    assert "python -m book.archive --no-build" in runs(build)
    assert "actions/upload-pages-artifact" in uses(build)
    pages_artifact = next(s for s in steps(build) if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert pages_artifact["with"]["path"] == "_build/html"
    archive = next(s for s in steps(build) if s.get("uses", "").startswith("actions/upload-artifact"))
    assert archive["with"]["path"] == "_build/knowledge-distillation-html.zip"
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert "actions/deploy-pages" in uses(deploy)


def test_pages_publishes_the_book_as_one_pdf():
    """python -m book.pdf prints the book, and the PDF goes into the uploaded site as book.pdf."""
    build = load("pages.yml")["jobs"]["build"]
    names = [s.get("run", s.get("uses", "")).strip() for s in steps(build)]
    pdf = next(i for i, n in enumerate(names) if n.startswith("python -m book.pdf"))
    assert "cp _build/pdf/book.pdf _build/html/book.pdf" in names[pdf]
    assert names.index(BUILD) < pdf < next(i for i, n in enumerate(names) if n.startswith("actions/upload-pages-artifact"))
