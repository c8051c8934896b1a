"""``.. module-doctests:: PACKAGE``: every docstring example of a package, for ``sphinx -b doctest``.

``pytest --doctest-modules`` runs each docstring's examples in a fresh copy of
its module's globals, and most of our examples rely on that (they call the
module's functions without importing them). Sphinx's doctest builder runs
the ``>>>`` blocks of a page in one shared, empty namespace, so the blocks
autodoc puts on the API pages would fail there and would miss the private
modules' examples. This directive instead finds the very tests pytest finds
(``doctest.DocTestFinder`` over every module of the package) and emits each
as a ``doctest`` block in a group of its own whose ``testsetup`` loads the
module's globals: the doctest builder then runs the same examples as pytest,
under the same flags (``doctest_default_flags`` in ``conf.py``).

Under any other builder it emits one paragraph saying so, so the HTML site
does not list the examples twice. The output depends on the builder: keep
the doctest and html builds' doctree folders apart (the default of
``sphinx -b NAME docs OUT``, each under its own OUT).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

BUILDER = {"name": None}


def module_names(package: str) -> list[str]:
    root = importlib.import_module(package)
    names = [package]
    if hasattr(root, "__path__"):
        names += sorted(info.name for info in pkgutil.walk_packages(root.__path__, package + "."))
    return names


def indented(text: str, indent: str = "   ") -> list[str]:
    return [indent + line if line.strip() else "" for line in text.splitlines()]


class ModuleDoctests(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        package = self.arguments[0]
        if BUILDER["name"] != "doctest":
            text = (f"This page holds every docstring example of ``{package}`` for "
                    "``python -m sphinx -b doctest``; the examples themselves are on the API pages.")
            return [nodes.paragraph(text, text)]
        lines: list[str] = []
        finder = doctest.DocTestFinder()
        for name in module_names(package):
            module = importlib.import_module(name)
            self.env.note_dependency(inspect.getsourcefile(module) or "")
            for test in sorted(finder.find(module, name), key=lambda t: t.name):
                if not test.examples:
                    continue
                group = test.name
                lines += [f".. testsetup:: {group}", "",
                          f"   import importlib as _importlib",
                          f"   globals().update(vars(_importlib.import_module({name!r})))", "",
                          f".. doctest:: {group}", ""]
                lines += indented(inspect.cleandoc(test.docstring or "")) + [""]
        container = nodes.section()
        self.state.nested_parse(StringList(lines, source=f"<module-doctests {package}>"),
                                self.content_offset, container)
        return container.children


def builder_inited(app) -> None:
    BUILDER["name"] = app.builder.name


def setup(app):
    app.add_directive("module-doctests", ModuleDoctests)
    app.connect("builder-inited", builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
