"""Per-dataset reports: the run that makes reports/<dataset>.html (and reports/<episode>.html).

The notebooks under notebooks/ only read result files: each builds a :class:`dlwf.report.page.Page`
from its parameters and calls its methods. ``render`` executes a notebook with papermill in the
workflow's own Python (a kernel spec written to a private directory, whatever else is on the
Jupyter path), keeps the executed copy and converts it to an HTML page without code cells that
loads nothing from the internet.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import atomic_path
from dlwf.core.markup import escape

# the papermill parameters every report notebook's `parameters` cell defines (Plan.report_parameters)
PARAMETERS = ("dataset", "episode", "description", "exploration", "views", "data", "sources", "experiments")
# A page may link to other sites, but must not need them to display: these tags load things.
_LOADING_TAG = re.compile(
    r"<(script|link|img|iframe|embed|source)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?((?:https?:)?//[^\s\"'>]+)",
    re.IGNORECASE,
)
REPO = Path(__file__).resolve().parents[2]
KERNEL_NAME = "dlwf-workflow-python"


def external_resources(html: str) -> list[str]:
    """Return the URLs of other sites a page loads (scripts, stylesheets, images, frames)."""
    return [match.group(2) for match in _LOADING_TAG.finditer(html)]


def check_parameters_cell(notebook: str | os.PathLike, names=None) -> None:
    """Refuse a notebook without a cell tagged ``parameters`` (papermill would put the parameters
    above the notebook's own defaults, which then win: an empty page), or one whose parameters
    cell does not set every name in ``names``."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        what = "no cell is" if not tagged else f"{len(tagged)} cells are"
        raise WorkflowInputError(
            f"{notebook}: {what} tagged 'parameters'; papermill needs exactly one, holding the defaults of "
            f"{list(names or PARAMETERS)}. In Jupyter select that cell and add the tag 'parameters' "
            "(property inspector, or View > Cell Toolbar > Tags), then run snakemake again"
        )
    source = "".join(tagged[0]["source"]) if isinstance(tagged[0]["source"], list) else tagged[0]["source"]
    assigned = set(re.findall(r"^([A-Za-z_]\w*)\s*=", source, re.MULTILINE))
    missing = [n for n in (names or []) if n not in assigned]
    if missing:
        raise WorkflowInputError(
            f"{notebook}: the cell tagged 'parameters' does not set {missing}; give each parameter a default there"
        )


def write_kernel_spec(directory: str | os.PathLike, python: str = sys.executable) -> Path:
    """Write a kernel spec that runs ``python`` (the workflow's own interpreter) with this
    repository importable into ``directory``/kernels/; return that kernels directory."""
    kernels = Path(directory) / "kernels"
    spec_dir = kernels / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    spec = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "dlwf workflow Python",
        "language": "python",
        "env": {"PYTHONPATH": pythonpath},
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return kernels


@contextlib.contextmanager
def private_kernel(python: str = sys.executable):
    """Within the block, the kernel spec :data:`KERNEL_NAME` runs ``python``: it is written to a
    private temporary directory put first on ``JUPYTER_PATH`` (the highest-priority place Jupyter
    looks), so neither an HPC site's `python3` spec nor one of the same name elsewhere is used."""
    previous = os.environ.get("JUPYTER_PATH")
    with tempfile.TemporaryDirectory(prefix="dlwf-kernel-") as private:
        write_kernel_spec(private, python)
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [private, previous]))
        try:
            yield KERNEL_NAME
        finally:
            if previous is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = previous


def render(
    notebook: str | os.PathLike,
    executed: str | os.PathLike,
    html: str | os.PathLike,
    parameters: dict,
    template: str | os.PathLike,
    show_code: bool = False,
    timeout: int = 600,
) -> None:
    """Execute ``notebook`` with ``parameters``, write the executed notebook and its HTML page.

    The kernel is the Python running this function (its environment's packages), from a kernel
    spec written to a private temporary directory (:func:`private_kernel`); it starts in the current directory with this
    repository importable. A notebook without a tagged parameters cell is refused before anything
    runs. The page shows no code cells unless ``show_code``. ``template`` is an nbconvert template
    file that leaves out the lab template's CDN scripts (MathJax, require.js, mermaid). Both files
    are written only once complete."""
    import papermill
    from nbconvert import HTMLExporter

    from . import page  # noqa: F401  (the notebooks run it: it is among the report rules' code inputs)

    check_parameters_cell(notebook, sorted(parameters))
    template = Path(template)
    with private_kernel() as kernel:
        with atomic_path(executed, suffix=".ipynb") as tmp_notebook, atomic_path(html, suffix=".html") as tmp_html:
            node = papermill.execute_notebook(
                str(notebook),
                str(tmp_notebook),
                parameters=parameters,
                kernel_name=kernel,
                progress_bar=False,
                execution_timeout=timeout,
                cwd=os.getcwd(),
            )
            exporter = HTMLExporter(
                template_name="lab",
                template_file=template.name,
                extra_template_paths=[str(template.parent)],
                exclude_input=not show_code,
            )
            page = parameters.get("episode") or parameters.get("dataset", Path(html).stem)
            title = f"{page}: results of the workflow"
            body, _ = exporter.from_notebook_node(node, resources={"metadata": {"name": escape(title)}})
            external = external_resources(body)
            if external:
                raise RuntimeError(
                    f"{html}: the page would load {external[:3]} from the internet; check the template {template}"
                )
            tmp_html.write_text(body, encoding="utf-8")
