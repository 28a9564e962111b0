"""What users write: types, tensors, axes, layouts, kernels and ``pto`` ops, workloads and ``P``,
CSP, schedules, slots and scalar expressions.

The first stage of the pipeline (language -> compiler -> backends -> runtime): nothing here imports a
later stage. The public names are re-exported by ``pto_wsp/__init__``.
"""
