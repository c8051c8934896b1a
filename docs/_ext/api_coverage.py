"""Every public name has a place in the API reference, and short constants show their value.

* ``api_coverage_modules`` (in ``conf.py``) lists modules whose ``__all__`` is
  public. Once every page is read, each name in those ``__all__`` lists must be
  a documented Python object (a submodule: a documented module); a missing one
  is a warning, which ``-W`` makes an error, naming what to add.
* ``.. automodule::`` documents the functions, classes and exceptions;
  ``.. autoconstants:: MODULE``, after it, documents every constant of
  ``MODULE.__all__`` with ``autodata``: with its ``#:`` comment, or, for a
  constant re-exported from another module of the package (where automodule
  would find no comment and skip it), the comment of the module defining it.
* ``conf.py`` sets ``no-value`` for autodoc (``PRESETS`` would print its whole
  repr); a constant whose repr is short (at most ``api_value_max_chars``) gets
  its value back as a line of its description, and a constant without a
  comment is not given its type's docstring (dict's, tuple's).
"""

from __future__ import annotations

import importlib
import inspect
import sys

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.pycode import ModuleAnalyzer, PycodeError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


def attr_docs(module_name: str) -> dict[str, list[str]]:
    try:
        docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
    except PycodeError:
        return {}
    return {name: list(lines) for (scope, name), lines in docs.items() if scope == ""}


def is_constant(obj) -> bool:
    return not (inspect.ismodule(obj) or isinstance(obj, type) or inspect.isroutine(obj))


def defining_comment(module_name: str, name: str, obj) -> list[str]:
    """The ``#:`` comment of *name* in the package module that binds the same object with one."""
    package = module_name.split(".")[0]
    for other_name, other in sorted(sys.modules.items()):
        if other_name == module_name or not (other_name == package or other_name.startswith(package + ".")):
            continue
        if getattr(other, name, None) is obj and (lines := attr_docs(other_name).get(name)):
            return lines
    return []


class AutoConstants(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        module_name = self.arguments[0]
        module = importlib.import_module(module_name)
        own = attr_docs(module_name)
        lines: list[str] = []
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if not is_constant(obj):
                continue  # automodule documents it
            lines += [f".. autodata:: {module_name}.{name}", ""]
            if name not in own:  # autodata finds a comment of this module by itself
                lines += ["   " + line if line.strip() else "" for line in defining_comment(module_name, name, obj)]
            lines += [""]
        container = nodes.section()
        self.state.nested_parse(StringList(lines, source=f"<autoconstants {module_name}>"),
                                self.content_offset, container)
        return container.children


def home(obj) -> str:
    """Where a function or class is defined: a re-export documented there counts (runner.under_scoop)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if isinstance(module, str) and isinstance(qualname, str) else ""


def check_coverage(app, env) -> None:
    domain = env.get_domain("py")
    documented = set(domain.objects)
    modules = set(domain.modules)
    for module_name in app.config.api_coverage_modules:
        module = importlib.import_module(module_name)
        missing = []
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                if obj.__name__ not in modules:
                    missing.append(f"{name} (a module: give it a page, docs/api/{name}.rst, in docs/api/index.rst)")
            elif f"{module_name}.{name}" not in documented and home(obj) not in documented:
                missing.append(name)
        if missing:
            logger.warning("the API reference misses public names of %s: %s (is '.. autoconstants:: %s' "
                           "on its page?)", module_name, ", ".join(missing), module_name,
                           type="api", subtype="coverage")


def skip_constants(app, what, name, obj, skip, options):
    """``automodule`` leaves constants to ``autoconstants`` (which shows no long reprs)."""
    if what == "module" and is_constant(obj):
        return True
    return None


def short_value(app, what, name, obj, options, lines) -> None:
    if what != "data":
        return
    inherited = (getattr(obj, "__doc__", None), type(obj).__doc__)
    if lines and any(isinstance(doc, str) and lines == inspect.cleandoc(doc).splitlines() for doc in inherited):
        lines[:] = []  # a constant without a #: comment gets its type's docstring (dict's, tuple's): drop it
    text = repr(obj)
    if len(text) <= app.config.api_value_max_chars:
        lines += ["", f"Value: ``{text}``"]


def setup(app):
    app.add_config_value("api_coverage_modules", [], "env")
    app.add_config_value("api_value_max_chars", 80, "env")
    app.add_directive("autoconstants", AutoConstants)
    app.connect("env-check-consistency", check_coverage)
    app.connect("autodoc-process-docstring", short_value)
    app.connect("autodoc-skip-member", skip_constants)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
