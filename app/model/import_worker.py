"""Worker process of "Import Python": ``python -m app.model.import_worker SCRIPT``.

Runs the script (``pto_wsp.runtime.scripts.run_script``: runpy, not as ``__main__``), converts
the objects it built into a document (``importer.document_from_namespace``) and prints the
document's JSON on stdout. Whatever the script itself prints goes to stderr, so stdout carries only the JSON.
Notes for the user (e.g. tensor contents that a graph property cannot recreate) go to stderr
as ``note: ...`` lines. Exit 0 on success; 1 with a one-line message on stderr otherwise.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m app.model.import_worker SCRIPT.py", file=sys.stderr)
        return 2
    from pto_wsp.runtime.scripts import ScriptError, run_script

    from .importer import ScriptImportError, document_from_namespace
    from .io import to_json

    script = Path(args[0])
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = run_script(script)
            doc, notes = document_from_namespace(result.namespace, script.stem)
    except (ScriptError, ScriptImportError) as err:
        # one line, the last on stderr (the importer reports it): the message, without the
        # source excerpt some DSL errors append on the lines after it
        text = next((ln for ln in str(err).splitlines() if ln.strip()), type(err).__name__)
        print(f"{script}: {text}" if not text.startswith(str(script)) else text, file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    sys.stdout.write(to_json(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
