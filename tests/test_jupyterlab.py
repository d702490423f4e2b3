"""After the README's install, ``jupyter lab`` opens a chapter's ``.md`` as a notebook.

The chapters are MyST markdown paired with an executed ``.ipynb`` (``jupytext.toml``).
Installing jupytext enables its server extension (``jupyterlab_jupytext``, through
``etc/jupyter/jupyter_server_config.d/jupytext.json`` in the environment), which
swaps in jupytext's contents manager; no configuration in the repository is needed.
The test starts JupyterLab from this environment on a free port, with its own
token and throw-away runtime, config and data folders (so neither the user's
``~/.jupyter`` nor a running server interferes), and asks its REST API for
``chapters/01_teacher.md`` as a notebook: it must come back as one, with code
cells and, from the paired ``.ipynb``, their outputs. The server is shut down
through its API, and killed if it does not go, whatever the test's outcome.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JUPYTER = Path(sys.executable).parent / "jupyter"
CHAPTER = "chapters/01_teacher.md"
START_TIMEOUT = 60  # seconds; a loaded 2-core machine starts it in about 5


def test_jupyterlab_is_installed():
    run = subprocess.run([JUPYTER, "lab", "--version"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().split(".")[0] == "4", f"expected JupyterLab 4, got {run.stdout!r}"


def request(url: str, token: str, method: str = "GET") -> tuple[int, bytes]:
    req = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab serving the repository: yields ``(base_url, token)``."""
    home = tmp_path_factory.mktemp("jupyter")
    runtime = home / "runtime"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
    }
    token = secrets.token_hex(16)
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [
            JUPYTER, "lab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", "--port=0",
            f"--ServerApp.root_dir={ROOT}",
            f"--IdentityProvider.token={token}",
            # offline: no news feed, no update check, no extension manager asking PyPI
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )

    def server_log() -> str:
        log.flush()
        return (home / "server.log").read_text()[-4000:]

    base = None
    try:
        # The server writes jpserver-<pid>.json, with the port it bound, once it listens.
        info_file = runtime / f"jpserver-{server.pid}.json"
        deadline = time.monotonic() + START_TIMEOUT
        while not info_file.is_file():
            assert server.poll() is None, f"jupyter lab exited with {server.returncode}:\n{server_log()}"
            assert time.monotonic() < deadline, f"jupyter lab did not start in {START_TIMEOUT} s:\n{server_log()}"
            time.sleep(0.2)
        while True:  # the file may be seen before it is completely written
            try:
                port = json.loads(info_file.read_text())["port"]
                break
            except (ValueError, KeyError):
                assert time.monotonic() < deadline, f"unreadable {info_file}:\n{server_log()}"
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        status, _ = request(f"{base}/api/status", token)
        assert status == 200, f"GET /api/status: HTTP {status}\n{server_log()}"
        yield base, token, server_log
    finally:
        if server.poll() is None:
            with_api = False
            if base:
                try:
                    with_api = request(f"{base}/api/shutdown", token, method="POST")[0] == 200
                except OSError:  # not answering
                    pass
            if not with_api:
                server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()


def test_chapter_markdown_opens_as_notebook(lab):
    base, token, server_log = lab
    status, body = request(f"{base}/api/contents/{CHAPTER}?type=notebook&content=1", token)
    assert status == 200, f"GET {CHAPTER} as notebook: HTTP {status} {body[:2000]!r}\n{server_log()}"
    model = json.loads(body)
    assert model["type"] == "notebook", f"{CHAPTER} served as {model['type']!r}"
    cells = model["content"]["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, f"{CHAPTER} opened as a notebook without code cells"
    # jupytext pairs the .md with the executed .ipynb, so the outputs come along
    assert any(c["outputs"] for c in code), f"{CHAPTER} opened without the outputs of its paired .ipynb"
    jupytext = model["content"]["metadata"].get("jupytext", {})
    assert "md:myst" in jupytext.get("formats", ""), f"{CHAPTER} not paired as MyST: {jupytext}"


def test_chapter_markdown_is_listed_as_notebook(lab):
    """The file browser shows the chapter with a notebook icon and opens it with a notebook viewer."""
    base, token, _ = lab
    status, body = request(f"{base}/api/contents/chapters?content=1", token)
    assert status == 200
    types = {entry["name"]: entry["type"] for entry in json.loads(body)["content"]}
    assert types[Path(CHAPTER).name] == "notebook", types


def test_lab_serves_the_jupytext_extension(lab):
    """The JupyterLab page loads, and jupytext's frontend plugin (its 'Open With' viewer) is installed."""
    base, token, _ = lab
    status, body = request(f"{base}/lab", token)
    assert status == 200 and b"JupyterLab" in body
    status, body = request(f"{base}/lab/api/settings/jupyterlab-jupytext:plugin", token)
    assert status == 200, f"jupyterlab-jupytext:plugin settings: HTTP {status} {body[:500]!r}"
