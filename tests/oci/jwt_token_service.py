"""A token service for a real docker-registry in ``auth.token`` mode: it checks Basic credentials
and issues RS256 JWTs whose ``x5c`` header holds its self-signed certificate, which the registry
trusts through its ``rootcertbundle``. Served on loopback by ``pkglist.testing.serve``.

Anonymous callers get a token with no access (the registry then refuses them), as registries
that allow anonymous token requests do for private repositories.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from pkglist.testing import Request, Response

SERVICE = "pkglist-test-registry"
ISSUER = "pkglist-test-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class JwtTokenService:
    credentials: Mapping[str, str] = {}  # the emulator protocol wants it; the service checks its own users

    def __init__(self, users: Mapping[str, str], directory: Path) -> None:
        self.users = dict(users)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.certificate = directory / "token-issuer.pem"
        self.certificate.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self.issued: list[tuple[str | None, tuple[str, ...]]] = []  # (user, scopes) per token
        self._lock = threading.Lock()

    def registry_settings(self, url: str) -> dict[str, str]:
        """docker-registry's ``auth.token`` settings for this service served at ``url``."""
        return {
            "realm": f"{url}/token",
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(self.certificate),
        }

    def handle(self, request: Request) -> Response:
        if request.path != "/token" or request.method != "GET":
            return Response.json({"errors": [{"code": "NOT_FOUND", "message": "no such route"}]}, 404)
        if request.param("service") != SERVICE:
            return Response.json({"errors": [{"code": "INVALID", "message": "unknown service"}]}, 400)
        user = self._user(request.headers.get("authorization", ""))
        if user is False:
            return Response.json({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}, 401)
        scopes = tuple(request.params("scope"))
        with self._lock:
            self.issued.append((user or None, scopes))
        access = [_access(scope) for scope in scopes] if user else []
        token = self._sign(
            {
                "iss": ISSUER,
                "sub": user or "",
                "aud": SERVICE,
                "exp": int(time.time()) + 300,
                "nbf": int(time.time()) - 30,
                "iat": int(time.time()),
                "jti": secrets.token_hex(8),
                "access": access,
            }
        )
        return Response.json({"token": token, "expires_in": 300})

    def _user(self, header: str) -> str | bool:
        """The user of valid Basic credentials, ``""`` without any, ``False`` for wrong ones."""
        scheme, _, value = header.partition(" ")
        if not scheme:
            return ""
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        known = self.users.get(user)
        return user if known is not None and secrets.compare_digest(known, password) else False

    def _sign(self, claims: dict[str, Any]) -> str:
        der = self._cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode("ascii")]}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


def _access(scope: str) -> dict[str, Any]:
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return {"type": kind, "name": name, "actions": actions.split(",")}
