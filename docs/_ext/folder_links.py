"""Markdown links to a *folder* of the source tree, shown as the folder's path instead of a dead link.

``docs/RESULTS.md`` and ``docs/v0.1/RESULTS.md`` link to run folders
(``[docs/runs/](runs/)``), which a repository browser shows as a listing.
The site has no page for a folder (the run folders are not part of the
build), and myst would warn ``myst.xref_missing`` for each such link. This
transform replaces exactly those links, the ones whose target is an existing
directory under the source folder, by the folder's path in the repository
as literal text (``docs/runs/``). Every other unresolved link still warns.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx import addnodes


def unlink_folders(app, doctree) -> None:
    srcdir = Path(app.srcdir)
    repo = srcdir.parent
    for node in list(doctree.findall(addnodes.pending_xref)):
        if node.get("reftype") != "myst" or node.get("refdomain"):
            continue
        target = str(node.get("reftarget", "")).split("#", 1)[0]
        if not target or "://" in target:
            continue
        base = (srcdir / node["refdoc"]).parent
        folder = (base / target).resolve()
        if folder.is_dir() and folder.is_relative_to(repo):
            path = folder.relative_to(repo).as_posix() + "/"
            node.replace_self(nodes.literal(path, path))


def setup(app):
    app.connect("doctree-read", unlink_folders)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
