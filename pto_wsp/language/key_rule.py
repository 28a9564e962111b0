"""The names a schedule key's ``t.get(name)`` accepts for a workload (DESIGN §2 order).

In order of priority: a loop variable's name (a ``consume`` variable counts); the name of the
axis a loop iterates, or that name's singular (``heads`` -> ``head``); for a ``P.sel`` loop, the
name of the kernel its body calls. Pure (names in, names out) so that the two places that apply
it say the same thing: the DSL's key resolution (``pto_wsp.language.workload``) and the Studio's check of
a schedule sheet's keys (``app.model.validation``).
"""

from __future__ import annotations


def singular(name: str) -> str | None:
    """``heads`` -> ``head``, ``batches`` -> ``batch``, ``entries`` -> ``entry``; None when the
    name does not look plural."""
    if len(name) > 3 and name.endswith("ies"):
        return name[:-3] + "y"
    if len(name) > 3 and name.endswith(("ches", "shes", "sses", "xes")):
        return name[:-2]
    if len(name) > 1 and name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return None


__all__ = ["singular"]
