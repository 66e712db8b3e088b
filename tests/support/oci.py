"""Seed an OCI registry without a docker daemon: push a small image (a config blob, one gzipped
tar layer and a manifest) through the Distribution API with plain ``httpx``.

The image is real enough for any client to pull: the layer is a gzipped tar holding one file,
and the default config lists that layer's uncompressed digest in ``rootfs.diff_ids``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
# What a client must send on a manifest HEAD/GET: without the OCI types, a 2.8 registry
# answers 404 for an OCI manifest (see shared/API-NOTES.md, "OCI registries").
MANIFEST_ACCEPT = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST))

# The config and layer media types that go with each manifest type.
_PARTS = {
    OCI_MANIFEST: ("application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip"),
    DOCKER_MANIFEST: (
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ),
}


class PushError(Exception):
    """The registry refused a step of a push (the message holds its status and error body)."""


def push_image(
    registry_url: str,
    repository: str,
    tag: str,
    *,
    auth: tuple[str, str] | httpx.Auth | None = None,
    media_type: str = OCI_MANIFEST,
    config: bytes | None = None,
    layer_text: str | None = None,
) -> str:
    """Push ``repository:tag`` and return its manifest digest (``sha256:...``).

    The layer holds one file whose text is ``layer_text`` (default ``"<repository>:<tag>"``,
    so every tag gets its own digest); ``config`` replaces the generated image config.
    ``media_type`` is :data:`OCI_MANIFEST` or :data:`DOCKER_MANIFEST`. ``auth`` is Basic
    credentials or any ``httpx.Auth`` (a token flow).
    """
    if media_type not in _PARTS:
        raise ValueError(f"media_type must be one of {', '.join(_PARTS)}, not {media_type!r}")
    config_type, layer_type = _PARTS[media_type]
    tar = _tar_of(f"{repository}:{tag}\n" if layer_text is None else layer_text)
    layer = gzip.compress(tar, mtime=0)
    if config is None:
        config = _json(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [_digest(tar)]},
            }
        )
    manifest = _json(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": _descriptor(config_type, config),
            "layers": [_descriptor(layer_type, layer)],
        }
    )
    with httpx.Client(base_url=registry_url, auth=auth, timeout=30) as client:
        for blob in (config, layer):
            _upload_blob(client, repository, blob)
        response = client.put(
            f"/v2/{repository}/manifests/{tag}", content=manifest, headers={"Content-Type": media_type}
        )
        _check(response, f"PUT manifest {repository}:{tag}")
    digest, stored_as = _digest(manifest), response.headers.get("Docker-Content-Digest")
    if stored_as != digest:
        raise PushError(f"the registry stored {repository}:{tag} as {stored_as}, not {digest}")
    return digest


def _upload_blob(client: httpx.Client, repository: str, blob: bytes) -> None:
    """A monolithic upload: POST opens a session whose ``Location`` (absolute or relative,
    often already with a query string) takes the blob in one PUT naming its digest."""
    started = client.post(f"/v2/{repository}/blobs/uploads/")
    _check(started, f"POST blob upload to {repository}")
    location = started.headers.get("Location")
    if not location:
        raise PushError(f"POST blob upload to {repository}: HTTP {started.status_code} without a Location")
    target = client.base_url.join(location).copy_merge_params({"digest": _digest(blob)})
    finished = client.put(target, content=blob, headers={"Content-Type": "application/octet-stream"})
    _check(finished, f"PUT blob {_digest(blob)} to {repository}")


def _check(response: httpx.Response, action: str) -> None:
    if not response.is_success:
        raise PushError(f"{action}: HTTP {response.status_code} {response.text[:500]}")


def _tar_of(text: str) -> bytes:
    """A tar archive with one file, byte-for-byte the same for the same text."""
    data = text.encode()
    member = tarfile.TarInfo("pkglist-seed.txt")
    member.size, member.mode, member.mtime = len(data), 0o644, 0
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def _descriptor(media_type: str, content: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": _digest(content), "size": len(content)}


def _digest(content: bytes) -> str:
    return f"sha256:{hashlib.sha256(content).hexdigest()}"


def _json(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
