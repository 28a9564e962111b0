"""The Qt-free graph document of PTO-WSP Studio (node kinds, ports, edges, load/save, export).

Nothing here may import Qt: the import-linter contract in pyproject.toml enforces it.
The contract with the exporter, importer and editor is docs/graph-model.md.
"""

from .catalogue import KINDS  # first: binds the kind table every helper asks (kind_lookup)
from .connections import can_connect
from .creation import new_node
from .document import (
    FORMAT_VERSION,
    Backdrop,
    Diagnostic,
    Document,
    Edge,
    Graph,
    Node,
    PortRef,
)
from .events import DocumentEvents, Signal
from .kind_lookup import kind
from .kinds._base import NodeKind, PortSpec, PropSpec
from .node_ports import ports_of

__all__ = [
    "FORMAT_VERSION",
    "Backdrop",
    "Diagnostic",
    "Document",
    "Edge",
    "Graph",
    "Node",
    "PortRef",
    "DocumentEvents",
    "Signal",
    "KINDS",
    "NodeKind",
    "PortSpec",
    "PropSpec",
    "can_connect",
    "kind",
    "new_node",
    "ports_of",
]
