"""Executes notebooks top to bottom with nbclient and writes the executed copies to an
output folder; the committed notebooks are never modified.

    python notebooks/execute.py --out DIR notebooks/01_findings_overview.ipynb ...

Before running, every notebook is checked to have its outputs cleared (committed notebooks
carry no outputs). Each notebook runs in its own kernel with the notebook's folder as the
working directory, so `import cloudsift_nb` and the relative lake default work. The lake and
pipeline come from `CLOUDSIFT_LAKE` and `CLOUDSIFT_PIPELINE` in the environment.

Exit status: 0 when every notebook ran; 1 when a notebook was not clean or a cell raised,
with a line naming the notebook, the cell (index and first source line) and the error.
The executed copy (`<name>.executed.ipynb`) is written in every case, for inspection.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError


def dirty_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indexes of code cells that carry outputs or an execution count."""
    return [
        i for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]


def failing_cell(nb: nbformat.NotebookNode) -> tuple[int, str, str] | None:
    """(index, first source line, error) of the first cell whose output is an error."""
    for i, c in enumerate(nb.cells):
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                first = next((line for line in c.source.splitlines() if line.strip()), "")
                return i, first, f"{out.get('ename')}: {out.get('evalue')}"
    return None


def run(path: Path, out_dir: Path, timeout: int) -> bool:
    nb = nbformat.read(path, as_version=4)
    dirty = dirty_cells(nb)
    if dirty:
        print(f"FAIL {path}: committed notebook has outputs in cell(s) {dirty}; clear them "
              "(Jupyter: Edit > Clear Outputs of All Cells) before committing", file=sys.stderr)
        return False
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    started = time.monotonic()
    error = None
    try:
        client.execute()
    except CellTimeoutError as e:
        error = f"timed out after {timeout} s: {str(e).splitlines()[0] if str(e) else ''}"
    except CellExecutionError as e:
        error = str(e).strip().splitlines()[-1] if str(e).strip() else repr(e)
    target = out_dir / f"{path.stem}.executed.ipynb"
    nbformat.write(nb, target)
    took = time.monotonic() - started
    if error is None:
        print(f"ok   {path.name} ({took:.1f} s) -> {target}")
        return True
    where = failing_cell(nb)
    if where:
        i, first, err = where
        print(f"FAIL {path}: cell {i} (`{first}`): {err}\n     executed copy: {target}", file=sys.stderr)
    else:
        print(f"FAIL {path}: {error}\n     executed copy: {target}", file=sys.stderr)
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path, help="folder for the executed copies")
    ap.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell")
    ap.add_argument("notebooks", nargs="+", type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = [run(p, args.out, args.timeout) for p in args.notebooks]
    failed = results.count(False)
    print(f"notebooks: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
