"""Loaded into the schemathesis CLI by the API contract test (SCHEMATHESIS_HOOKS).

CPython 3.11's AST constructor is not safe across threads: two of schemathesis's
workers describing hypothesis strategies at once can fail with "SystemError: AST
constructor recursion depth mismatch" (python/cpython#106905, fixed in 3.12).
One lock around ``ast.parse`` keeps both workers and takes the race away.
"""

import ast
import threading

_parse = ast.parse
_lock = threading.Lock()


def _locked_parse(*args, **kwargs):
    with _lock:
        return _parse(*args, **kwargs)


ast.parse = _locked_parse
