#!/usr/bin/env python3
"""Generate interoperability test vectors from the reference Python FlaskSimpleAuth.

Writes ``tests/data/interop.json`` (relative to the repository root) with
fsa tokens, realm simplifications, JWT tokens and bcrypt hashes, all produced
*and re-checked* by the real library (``FlaskSimpleAuth.Flask`` apps configured
with ``FSA_*`` directives, tokens verified through an actual test request).

Run (outside the repository for the venv)::

    python3 -m venv /tmp/fsavenv
    /tmp/fsavenv/bin/pip install 'FlaskSimpleAuth[password,jwt]==36.0'
    /tmp/fsavenv/bin/python scripts/interop/gen_vectors.py [output.json]

Token limits are fixed (2099 for valid tokens, 2001 for expired ones):
``create_token`` only takes a relative ``delay`` in minutes, so the delay is
computed so that ``now + delay`` truncates to the wanted second, and the
resulting limit is asserted.  bcrypt hashes are salted, so they change on
each run (they remain valid vectors).
"""

import base64
import datetime as dt
import hashlib
import json
import logging
import pathlib
import sys
from importlib.metadata import version

import bcrypt
import FlaskSimpleAuth as fsa

logging.getLogger("fsa").setLevel(logging.CRITICAL)

UTC = dt.timezone.utc
FUTURE = dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)
PAST = dt.datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)
SECRET = "interop-secret-0123456789abcdef"
JWT_SECRET = "interop-jwt-secret-" + "0123456789abcdef" * 3  # >= 64 bytes: no PyJWT key warning
ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "interop.json"


def make_app(**conf) -> fsa.Flask:
    """Token-authenticated app with a /who route returning user and scopes."""
    app = fsa.Flask("interop", FSA_AUTH="token", **conf)

    @app.get("/who", authz="AUTH")
    def who():
        return {"user": app.get_user(), "scopes": app._fsa._local.scopes}

    return app


def check(app, token: str):
    """Authenticate a request with the library: return (status, body)."""
    res = app.test_client().get("/who", headers={"Authorization": f"Bearer {token}"})
    return res.status_code, (res.get_json() if res.status_code == 200 else res.get_data(as_text=True))


def jwt_claims(token: str) -> tuple[dict, dict]:
    def dec(s):
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    header, claims, _ = token.split(".")
    return dec(header), dec(claims)


def create_at(app, login: str, when: dt.datetime, jwt: bool, **kwargs) -> str:
    """app.create_token with an absolute (second-truncated) expiration."""
    for _ in range(5):
        delay = ((when - dt.datetime.now(UTC)).total_seconds() + 0.5) / 60.0
        with app.test_request_context("/"):
            app.preprocess_request()  # sets the per-request token realm
            token = app.create_token(login, delay=delay, **kwargs)
        if jwt:
            got = dt.datetime.fromtimestamp(jwt_claims(token)[1]["exp"], tz=UTC)
        else:
            got = dt.datetime.strptime(token.rsplit(":", 2)[1], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        if got == when:
            return token
    raise RuntimeError(f"could not hit fixed expiration {when}")


def fsa_token(realm, login, issuer=None, algo="blake2s", length=16, secret=SECRET, expired=False):
    conf = dict(FSA_REALM=realm, FSA_TOKEN_SECRET=secret, FSA_TOKEN_ALGO=algo, FSA_TOKEN_LENGTH=length)
    if issuer:
        conf["FSA_TOKEN_ISSUER"] = issuer
    app = make_app(**conf)
    when = PAST if expired else FUTURE
    token = create_at(app, login, when, jwt=False)
    trealm, tlogin, limit, sig = token.split(":")
    # independent re-computation of the documented signing rule
    data = f"{trealm}:{tlogin}:{limit}"
    ref = hashlib.new(algo, f"{data}:{secret}".encode("utf-8")).digest()[:length].hex()
    assert sig == ref == app._fsa._am._tm._cmp_sig(data, secret), token
    status, body = check(app, token)
    if expired:
        assert status == 401 and "expired" in body, (token, status, body)
    else:
        assert status == 200 and body["user"] == login, (token, status, body)
    entry = {"realm": trealm.split("/")[0], "issuer": issuer, "login": login, "secret": secret,
             "algo": algo, "length": length, "limit": limit, "token": token}
    if realm != entry["realm"]:
        entry["config_realm"] = realm
    if expired:
        entry["expired"] = True
    return entry


def fsa_reject(token, status, reason, realm="interop", issuer=None):
    """A token the library rejects, with the observed HTTP status."""
    conf = dict(FSA_REALM=realm, FSA_TOKEN_SECRET=SECRET)
    if issuer:
        conf["FSA_TOKEN_ISSUER"] = issuer
    got, body = check(make_app(**conf), token)
    assert got == status, (token, got, body)
    return {"realm": realm, "issuer": issuer, "secret": SECRET, "algo": "blake2s", "length": 16,
            "token": token, "status": status, "reason": reason, "message": body}


def jwt_token(realm, login, algo="HS256", issuer=None, scope=None, secret=JWT_SECRET, expired=False):
    conf = dict(FSA_TOKEN_TYPE="jwt", FSA_REALM=realm, FSA_TOKEN_SECRET=secret, FSA_TOKEN_ALGO=algo)
    if issuer:
        conf["FSA_TOKEN_ISSUER"] = issuer
    app = make_app(**conf)
    when = PAST if expired else FUTURE
    token = create_at(app, login, when, jwt=True, scope=scope)
    header, claims = jwt_claims(token)
    status, body = check(app, token)
    if expired:
        assert status == 401 and "expired" in body, (token, status, body)
    else:
        assert status == 200 and body == {"user": login, "scopes": scope or None}, (token, status, body)
    entry = {"secret": secret, "algo": algo, "realm": realm, "issuer": issuer, "login": login,
             "scope": scope, "exp": claims["exp"], "token": token, "header": header, "claims": claims}
    if expired:
        entry["expired"] = True
    return entry


def realm_simplification(realm):
    app = make_app(FSA_REALM=realm, FSA_TOKEN_SECRET=SECRET)
    with app.test_request_context("/"):
        app.preprocess_request()
        token = app.create_token("x")
    return {"input": realm, "realm": token.split(":")[0]}


def bcrypt_vectors():
    out = []
    pwds = ["hello", "été", "pâssw0rd ünïcödé ✓", "", "x" * 72, "correct horse battery staple"]
    # via the library: default (2b, cost 4) and FSA_PASSWORD_OPTS variants
    for opts in (None, {"rounds": 5, "prefix": b"2b"}, {"rounds": 4, "prefix": b"2a"}, {"rounds": 5, "prefix": b"2a"}):
        conf = {"FSA_PASSWORD_OPTS": opts} if opts else {}
        app = fsa.Flask("interop", FSA_AUTH="password", **conf)
        for pwd in (pwds if opts is None else pwds[1:3]):
            h = app.hash_password(pwd)
            assert app.check_password(pwd, h) and not app.check_password(pwd + "!", h)
            out.append({"password": pwd, "hash": h, "source": "hash_password" + (f" {opts}" if opts else "")})
    # $2y$ (and more $2a$): same algorithm, prefix substituted on a bcrypt-module hash
    app = fsa.Flask("interop", FSA_AUTH="password")
    for pwd, cost, prefix in [("été", 4, "2y"), ("hello", 5, "2y"), ("pâssw0rd ünïcödé ✓", 4, "2y"), ("hello", 4, "2a")]:
        h = bcrypt.hashpw(pwd.encode(), bcrypt.gensalt(rounds=cost)).decode()
        h = f"${prefix}$" + h[4:]
        assert app.check_password(pwd, h)
        out.append({"password": pwd, "hash": h, "source": f"bcrypt module, prefix substituted to {prefix}"})
    # negatives: "password" verifies, "wrong" must not
    for pwd, wrong in [("hello", "Hello"), ("été", "ete"), ("été", "e\u0301te\u0301"), ("hello", "hello "),
                       ("x" * 72, "x" * 71), ("", " ")]:
        h = next(e["hash"] for e in out if e["password"] == pwd)
        assert app.check_password(pwd, h) and not app.check_password(wrong, h)
        out.append({"password": pwd, "wrong": wrong, "hash": h, "source": "negative"})
    for e in out:
        e["prefix"], e["cost"] = e["hash"][1:3], int(e["hash"][4:6])
    return out


def main():
    fsa_tokens = [
        fsa_token("interop", "calvin"),
        fsa_token("interop", "été"),
        fsa_token("interop", "用户", issuer="auth.example.com"),
        fsa_token("interop", "hobbes@example.com", length=8),
        fsa_token("interop", "susie", length=32),
        fsa_token("interop", "calvin", algo="sha256"),
        fsa_token("interop", "été", algo="sha512", length=32, issuer="iss"),
        fsa_token("interop", "calvin", algo="md5"),
        fsa_token("interop", "calvin", algo="md5", length=32),  # truncation beyond digest: 16 bytes only
        fsa_token("interop", "calvin", algo="sha3_256"),
        fsa_token("interop", "calvin", algo="blake2b"),
        fsa_token("interop", "o'neil de la forêt", secret="sécret-ünïcode-0123456789"),
        fsa_token("Demo App!", "calvin", issuer="fsa"),
        fsa_token("interop", "calvin", expired=True),
        fsa_token("interop", "été", algo="sha256", length=8, issuer="iss", expired=True),
    ]
    good = fsa_tokens[0]["token"]
    fsa_rejects = [
        fsa_reject(good.replace("calvin", "hobbes"), 401, "bad signature"),
        fsa_reject(good[:-1] + ("0" if good[-1] != "0" else "1"), 401, "bad signature"),
        fsa_reject(good, 401, "wrong realm", realm="other"),
        fsa_reject(good, 401, "missing issuer in token realm", issuer="iss"),
        fsa_reject("interop:calvin:2099:00", 400, "limit not 14 digits (400, not 401!)"),
        fsa_reject("interop:calvin:20991331000000:00", 401, "14 digits but invalid date"),
        fsa_reject("interop:calvin", 401, "not exactly 3 colons"),
        fsa_reject(create_at(make_app(FSA_REALM="interop", FSA_TOKEN_SECRET=SECRET), "a:b", FUTURE, jwt=False),
                   401, "login containing ':' (create_token accepts it, checker rejects)"),
    ]
    jwt_tokens = [
        jwt_token("interop", "calvin"),
        jwt_token("interop", "calvin", issuer="auth.example.com", scope=["read", "write"]),
        jwt_token("Demo App!", "été", algo="HS512", scope=["admin"]),
        jwt_token("interop", "用户", algo="HS512", issuer="iss"),
        jwt_token("interop", "calvin", algo="HS384", scope=[]),
        jwt_token("interop", "calvin", issuer="iss", expired=True),
    ]
    realms = [realm_simplification(r) for r in
              ["interop", "Demo App!", "  my--app__v2  ", "a.b.c", "été", "Été 2024: spécial", "UPPER-lower-123", "!!!"]]
    out = {
        "generator": f"scripts/interop/gen_vectors.py with FlaskSimpleAuth {version('FlaskSimpleAuth')}",
        "fsa_tokens": fsa_tokens,
        "fsa_rejects": fsa_rejects,
        "realm_simplification": realms,
        "jwt_tokens": jwt_tokens,
        "bcrypt": bcrypt_vectors(),
        "verify_from_rust": [],
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}: {len(fsa_tokens)} fsa, {len(fsa_rejects)} rejects, {len(jwt_tokens)} jwt, "
          f"{len(realms)} realms, {len(out['bcrypt'])} bcrypt")


if __name__ == "__main__":
    main()
