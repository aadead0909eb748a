"""Pages for people: one server-rendered HTML page per record, and an index per collection.

Built from the same read model as ``/v1`` (no second copy of the knowledge): :mod:`app.api.pages.render`
turns a record as ``/v1`` serves it into HTML, :mod:`app.api.pages.router` serves it at the stable path
``/pages/{collection}/{slug}``. No JavaScript; one stylesheet from the package.
"""
