"""The last pipeline stage: how a workload becomes a ``Program`` (``compile.py``: schedule check,
the target's backend, the program of what it built) and what the program does when it runs:
``Program``, the trace and its one model (lanes, critical path, utilisation, waits), the runner
protocol of exported scripts, and the child-process isolation that keeps a crashing kernel from
taking its caller down.
"""
