"""Sphinx configuration of the deap_nnprune documentation.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
    python -m sphinx -W --keep-going -b doctest docs docs/_build/doctest

Everything is local: no intersphinx inventories, nothing fetched.
"""

from __future__ import annotations

import doctest
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))  # the checkout's package, even without an install
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")  # as deap_nnprune sets it on import

import deap_nnprune  # noqa: E402

project = "deap_nnprune"
author = "deap_nnprune contributors"
copyright = "deap_nnprune contributors, MIT licence"
release = deap_nnprune.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "myst_parser",
    "module_doctests",  # docs/_ext/module_doctests.py
    "folder_links",  # docs/_ext/folder_links.py
    "api_coverage",  # docs/_ext/api_coverage.py
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "_ext",
    # run folders: tables and figures that pages link to, not pages
    "runs",
    "v0.1/runs",
    "v0.1/runs-explore",
]
suppress_warnings = [
    # docs/RESULTS.md's tables are written by `report --update` under "####" headings beneath "##"
    # sections (the page is generated and read-only here); myst flags the skipped level, a matter
    # of style only. This is the one warning type silenced; broken links are handled by
    # docs/_ext/folder_links.py and otherwise still fail the build.
    "myst.header",
]

# -- autodoc / napoleon -------------------------------------------------------
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "member-order": "bysource",
    "no-value": True,  # module constants such as PRESETS would print their whole repr
}
autodoc_typehints = "signature"
autoclass_content = "both"
# The modules whose __all__ the API reference must cover, name by name (docs/_ext/api_coverage.py).
api_coverage_modules = [
    "deap_nnprune",
    "deap_nnprune.algorithms",
    "deap_nnprune.schedules",
    "deap_nnprune.datasets",
    "deap_nnprune.export",
    "deap_nnprune.batched",
    "deap_nnprune.registry",
    "deap_nnprune.experiments.config",
    "deap_nnprune.experiments.presets",
    "deap_nnprune.experiments.report",
    "deap_nnprune.experiments.executors",
    "deap_nnprune.experiments.runner",
]
napoleon_google_docstring = False  # our prose has lines like "Returns ..." that are not Google sections
napoleon_numpy_docstring = True

# -- doctest --------------------------------------------------------------------
# The examples are run by the module-doctests directive on docs/doctests.rst, each in its module's
# globals, as pytest --doctest-modules runs them; the >>> blocks autodoc copies onto the API pages
# are the same examples and are not run a second time (they need their module's globals).
doctest_test_doctest_blocks = ""
doctest_default_flags = doctest.ELLIPSIS  # pytest's default doctest_optionflags
doctest_global_setup = ""

# -- myst -------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# -- html -------------------------------------------------------------------------
try:
    import furo  # noqa: F401
except ImportError:  # the docs extra installs furo; alabaster ships with Sphinx
    html_theme = "alabaster"
else:
    html_theme = "furo"
html_title = f"deap_nnprune {release}"
html_static_path: list[str] = []
