"""Sphinx configuration of the lowbit documentation site (``make docs``).

The pages are Markdown (MyST); the API reference is generated from the docstrings
(autodoc + autosummary, NumPy style through napoleon). ``make test`` builds the site with
warnings as errors (``tests/test_docs.py``).
"""

from importlib.metadata import version as _version

project = "lowbit"
author = "the lowbit authors"
copyright = "the lowbit authors, Apache-2.0"
release = _version("lowbit")

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

# Markdown: ::: fences for directives, header anchors for in-page links.
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# API reference: members in source order, documented members only, no imports resolved at
# build time beyond lowbit's own (every dependency is installed with lowbit).
autosummary_generate = True
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# Components document their ports in a "Members" section, as Amaranth's standard library does.
napoleon_custom_sections = [("Members", "params_style")]

# Docstrings name attributes such as ``shape`` that several classes have; an ambiguous
# cross-reference links to one of them instead of failing the -W build.
suppress_warnings = ["ref.python"]

html_theme = "furo"
html_title = f"lowbit {release}"
