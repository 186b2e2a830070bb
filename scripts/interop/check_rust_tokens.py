#!/usr/bin/env python3
"""Check tokens produced by another implementation (the Rust port) with the Python library.

Input: a JSON file holding a list of items, or an object with a ``tokens`` or
``verify_from_rust`` list.  Each item::

    {"realm", "issuer" (or null), "login", "secret", "algo", "length", "token"}

plus optional ``"type"`` (``fsa``/``jwt``; default: ``jwt`` if algo starts with
``HS``, else ``fsa``), ``"expired": true`` (token must be rejected as expired),
and ``"scope"`` (jwt only: list the library must report).  ``realm`` is the
``FSA_REALM`` setting; for fsa tokens the library simplifies it (non
``[-A-Za-z0-9]`` chars → ``-``), so give an already simple realm.

Each token is checked by a real request on a ``FlaskSimpleAuth.Flask`` app
configured with the matching ``FSA_*`` directives.  Prints ``N passed, M failed``
and exits non-zero on failure.

Run (outside the repository for the venv)::

    python3 -m venv /tmp/fsavenv
    /tmp/fsavenv/bin/pip install 'FlaskSimpleAuth[password,jwt]==36.0'
    /tmp/fsavenv/bin/python scripts/interop/check_rust_tokens.py tokens.json
"""

import json
import logging
import sys

import FlaskSimpleAuth as fsa

logging.getLogger("fsa").setLevel(logging.CRITICAL)


def check(item: dict) -> str|None:
    """Return None if the library agrees with the item, else an explanation."""
    typ = item.get("type") or ("jwt" if item["algo"].upper().startswith("HS") else "fsa")
    conf = dict(FSA_AUTH="token", FSA_TOKEN_TYPE=typ, FSA_REALM=item["realm"],
                FSA_TOKEN_SECRET=item["secret"], FSA_TOKEN_ALGO=item["algo"])
    if typ == "fsa":
        conf["FSA_TOKEN_LENGTH"] = item.get("length", 16)
    if item.get("issuer"):
        conf["FSA_TOKEN_ISSUER"] = item["issuer"]
    app = fsa.Flask("interop", **conf)

    @app.get("/who", authz="AUTH")
    def who():
        return {"user": app.get_user(), "scopes": app._fsa._local.scopes}

    res = app.test_client().get("/who", headers={"Authorization": f"Bearer {item['token']}"})
    if item.get("expired"):
        body = res.get_data(as_text=True)
        return None if res.status_code == 401 and "expired" in body else f"expected expired, got {res.status_code} {body}"
    if res.status_code != 200:
        return f"{res.status_code} {res.get_data(as_text=True)}"
    got = res.get_json()
    if got["user"] != item["login"]:
        return f"login mismatch: {got['user']!r} != {item['login']!r}"
    if typ == "jwt" and "scope" in item and got["scopes"] != (item["scope"] or None):
        return f"scope mismatch: {got['scopes']!r} != {item['scope']!r}"
    return None


def main(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    items = data if isinstance(data, list) else data.get("tokens", data.get("verify_from_rust", []))
    failed = 0
    for item in items:
        error = check(item)
        if error:
            failed += 1
            print(f"FAIL {item['token']}: {error}")
    print(f"{len(items) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} tokens.json")
    sys.exit(main(sys.argv[1]))
