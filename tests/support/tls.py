"""A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost."""

from __future__ import annotations

from pathlib import Path

import trustme


def issue_server_certificate(folder: Path) -> tuple[trustme.CA, Path, Path, Path]:
    """A new CA and a certificate it signs for 127.0.0.1 and localhost, written to ``folder``:
    the CA, the certificate chain, its private key and the CA's certificate (files PEM)."""
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    chain, key, ca_file = folder / "chain.pem", folder / "key.pem", folder / "ca.pem"
    certificate.private_key_and_cert_chain_pem.write_to_path(str(chain))
    certificate.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca_file))
    return authority, chain, key, ca_file
