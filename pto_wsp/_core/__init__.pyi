"""
PTO-WSP C++ backend: IR, code generation and the cycle-level simulator
"""
from __future__ import annotations
from . import ir
from . import runtime
from . import sim
from . import codegen
from . import ascend
from . import csp
from . import textrows
__all__: list[str] = ['BACKEND_VERSION', 'ascend', 'codegen', 'csp', 'ir', 'runtime', 'sim', 'textrows']
BACKEND_VERSION: str = '0.1.0'
