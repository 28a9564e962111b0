"""The node-kind registry as the editor, views and runner ask it: one import for every question
about kinds. It holds no logic; each name comes from the module that answers it:

- ``catalogue``: the kind table assembled from ``kinds/`` and what is derived from all of it
  (role sets, palette categories, DSL type -> kind, reference properties);
- ``kind_lookup``: one kind by id (``kind``, ``kind_of``, ``display_name``, ``node_label``);
- ``placement``: where a node may live (``place_problem``, ``allowed_in``);
- ``node_ports`` and ``connections``: a node's ports and whether a wire may be drawn;
- ``prop_checks`` and ``kernel_param``: property values and kernel parameters;
- ``creation``: new nodes, fresh ids, unique names, kernel parameter sync;
- ``kinds._base`` / ``kinds.*``: the vocabulary (port and property types, dtypes, op lists,
  schedule choices).

Modules inside ``app.model`` import those modules directly (this facade imports them all, so a
model module importing it would close a cycle); the app's other packages use this one name.
"""

from __future__ import annotations

from .catalogue import (
    CATEGORY_ORDER,
    DSL_KINDS,
    DYNAMIC_KINDS,
    FAMILIES,
    FRAME_KINDS,
    KERNEL_KINDS,
    KINDS,
    LOOP_KINDS,
    PROGRAM_KINDS,
    REFERENCE_PROPS,
    SCOPE_KINDS,
    SHEET_KINDS,
    categories,
    dsl_kind,
    field_applies,
    prop_fields,
    reference_kinds,
    reference_props,
    references,
)
from .connections import (
    can_connect,
    root_wire_problem,
)
from .creation import (
    IdAllocator,
    free_name,
    new_node,
    sync_kernel_params,
    unique_name,
)
from .kernel_param import (
    migrate_param,
    migrate_props,
    normalize_param,
)
from .kind_lookup import (
    NO_KIND,
    UnknownKind,
    display_name,
    is_frame,
    kind,
    kind_of,
    names_a_variable,
    node_label,
)
from .kinds._base import (
    DIRECTIONS,
    DTYPES,
    PARAM_DEFAULTS,
    PARAM_FIELDS,
    PARAM_KINDS,
    PORT_TYPES,
    PROP_TYPES,
    SCOPES,
    NodeKind,
    PortSpec,
    PropSpec,
)
from .kinds.kernels import (
    CALL_TASK_PORT,
    param_port_type,
)
from .kinds.layout import (
    REDUCE_OPS,
)
from .kinds.schedule import (
    DEFAULT_TARGET,
    DEPS_MODES,
    DISPATCH_POLICIES,
    READY_POLICIES,
    SHEET_NAMES,
    SHEET_PROPS,
    START_POLICIES,
    TARGETS,
    TIMING_POLICIES,
    TRACE_POLICIES,
    V1_SHEET,
    WINDOW_MODES,
    WINDOW_UNITS,
)
from .kinds.tile_ops import (
    BINARY_OPS,
    TILE_OPS,
    UNARY_OPS,
    VECTOR_OPS,
)
from .node_ports import (
    call_ports,
    dynamic_ports,
    find_port,
    ports_of,
    resolve_ref,
    types_compatible,
)
from .placement import (
    allowed_in,
    place_problem,
    scope_of_graph,
    scope_of_owner,
    scope_of_parent,
)
from .prop_checks import (
    node_prop_problem,
    prop_applies,
    prop_problem,
)

__all__ = [
    "FAMILIES",
    "KINDS",
    "DSL_KINDS",
    "dsl_kind",
    "CATEGORY_ORDER",
    "SCOPE_KINDS",
    "FRAME_KINDS",
    "KERNEL_KINDS",
    "PROGRAM_KINDS",
    "LOOP_KINDS",
    "SHEET_KINDS",
    "DYNAMIC_KINDS",
    "REFERENCE_PROPS",
    "reference_props",
    "reference_kinds",
    "references",
    "prop_fields",
    "field_applies",
    "categories",
    "UnknownKind",
    "NO_KIND",
    "kind",
    "kind_of",
    "is_frame",
    "display_name",
    "node_label",
    "names_a_variable",
    "scope_of_parent",
    "scope_of_graph",
    "scope_of_owner",
    "place_problem",
    "allowed_in",
    "normalize_param",
    "migrate_param",
    "migrate_props",
    "resolve_ref",
    "call_ports",
    "ports_of",
    "dynamic_ports",
    "find_port",
    "types_compatible",
    "can_connect",
    "root_wire_problem",
    "prop_problem",
    "prop_applies",
    "node_prop_problem",
    "IdAllocator",
    "free_name",
    "unique_name",
    "new_node",
    "sync_kernel_params",
    "PORT_TYPES",
    "PROP_TYPES",
    "SCOPES",
    "DTYPES",
    "DIRECTIONS",
    "PARAM_KINDS",
    "PARAM_FIELDS",
    "PARAM_DEFAULTS",
    "PortSpec",
    "PropSpec",
    "NodeKind",
    "param_port_type",
    "CALL_TASK_PORT",
    "REDUCE_OPS",
    "WINDOW_UNITS",
    "WINDOW_MODES",
    "DEPS_MODES",
    "READY_POLICIES",
    "START_POLICIES",
    "TRACE_POLICIES",
    "DISPATCH_POLICIES",
    "TIMING_POLICIES",
    "TARGETS",
    "DEFAULT_TARGET",
    "SHEET_PROPS",
    "SHEET_NAMES",
    "V1_SHEET",
    "TILE_OPS",
    "UNARY_OPS",
    "BINARY_OPS",
    "VECTOR_OPS",
]
