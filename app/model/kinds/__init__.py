"""The node kinds, one module per kind family (issue 13): each defines ``KINDS``, a list of
``NodeKind`` built from the data classes of ``_base``.

This package module imports none of the families: ``app.model.catalogue`` assembles them (in its
``FAMILIES`` order), so importing ``kinds._base`` alone (as ``kind_lookup`` does) loads no family
and no title function, and the families may use the helpers that ask the kind table.
"""
