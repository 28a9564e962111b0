"""The palette lists the registry's kinds by category and starts NodeGraphQt-format drags."""

from __future__ import annotations

from app.editor import nodes as vnodes
from app.editor.palette import MIME_TYPE, TYPE_ROLE, Palette, library_entries
from app.model import registry


def test_categories_follow_the_registry_and_hide_internal_kinds(qtbot) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    tops = [palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())]
    expected = [c for c, kinds in registry.categories() if any(k.in_palette for k in kinds)]
    assert tops[: len(expected)] == expected
    types = {it.data(0, TYPE_ROLE) for it in palette.items()}
    assert vnodes.node_type_for("data.tensor") in types
    assert vnodes.node_type_for("pto.matmul") in types
    assert vnodes.node_type_for("scope.entry") not in types
    assert vnodes.node_type_for("kernel.param") not in types
    if library_entries():
        assert "Library" in tops


def test_search_filters_by_words(qtbot) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    palette.search.setText("matmul")
    visible = {it.data(0, TYPE_ROLE) for it in palette.visible_items()}
    assert vnodes.node_type_for("pto.matmul") in visible
    assert vnodes.node_type_for("data.tensor") not in visible
    palette.search.setText("")
    assert len(palette.visible_items()) == len(palette.items())


def test_drag_payload_is_nodegraphqt_node_urn(qtbot) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    item = palette.item_for_type(vnodes.node_type_for("data.tensor"))
    assert item is not None
    mime = palette.mime_data(item)
    assert mime.hasFormat(MIME_TYPE)
    payload = bytes(mime.data(MIME_TYPE).data()).decode()
    assert payload == "ngqt::node:pto.data.DataTensor"
    # the URN names a class NodeGraphQt can instantiate, and maps back to the kind
    assert vnodes.kind_by_node_type()[vnodes.parse_node_urn(payload)[0]] == "data.tensor"


def test_activation_emits_node_type(qtbot) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    item = palette.item_for_type(vnodes.node_type_for("axis.dense"))
    with qtbot.waitSignal(palette.node_activated) as blocker:
        palette.tree.itemActivated.emit(item, 0)
    assert blocker.args == [vnodes.node_type_for("axis.dense")]
