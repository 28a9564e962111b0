"""Lowering to the C++ IR, the schedule's applicability per target, and the cost tables.

Imports only ``pto_wsp.language`` (and the shared ``errors``); the backends build what it lowers.
"""
