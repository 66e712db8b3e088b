"""One Metabind package object to a :class:`pkglist.Package`.

Metabind packages have no name, type or state: the name is the project the
package belongs to and the scope ``organization/project``. What a package
bundles is kept in ``extra``: its components, asset count and dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pkglist
from pkglist import items as fields

__all__ = ["normalize_package"]


def normalize_package(
    raw: Any, *, provider: str, listing: str, organization: str, project: str
) -> pkglist.Package:
    """Normalize one item of ``data``.

    >>> package = normalize_package(
    ...     {"id": "pkg1", "projectId": "proj123", "version": "1.0.0",
    ...      "components": [{"id": "comp123", "name": "ProductCard", "type": "view", "version": 1}],
    ...      "dependencies": [{"projectId": "proj456", "version": "2.0.0"}],
    ...      "createdAt": "2024-03-20T10:00:00Z"},
    ...     provider="metabind", listing="packages", organization="org123", project="proj123")
    >>> package.name, package.scope, package.extra["dependencies"]
    ('proj123', 'org123/proj123', [{'project_id': 'proj456', 'version': '2.0.0'}])
    """
    item = fields.as_object(raw)
    project_id = fields.optional_str(item, "projectId") or project
    metadata = fields.optional_object(item, "metadata")
    components = [
        _component(value, index) for index, value in enumerate(fields.optional_list(item, "components"))
    ]
    assets = fields.optional_list(item, "assets")
    dependencies = [
        _dependency(value, index) for index, value in enumerate(fields.optional_list(item, "dependencies"))
    ]
    return pkglist.Package(
        provider=provider,
        listing=listing,
        id=fields.require_str(item, "id"),
        name=project_id,
        version=fields.optional_str(item, "version"),
        scope=f"{organization}/{project_id}",
        created_at=fields.optional_timestamp(item, "createdAt"),
        updated_at=fields.optional_timestamp(item, "updatedAt"),
        extra={
            "author": _nested(fields.optional_str, metadata, "metadata", "author"),
            "description": _nested(fields.optional_str, metadata, "metadata", "description"),
            "tags": _tags(metadata),
            "component_count": len(components),
            "components": components,
            "asset_count": len(assets),
            "dependencies": dependencies,
        },
    )


def _nested(read: Any, holder: Mapping[str, Any], where: str, key: str) -> Any:
    """``read(holder, key)`` with the error naming the full path (``metadata.author``)."""
    try:
        return read(holder, key)
    except pkglist.InvalidItemError as exc:
        raise pkglist.InvalidItemError(exc.message.replace(f"{key!r}", f"'{where}.{key}'", 1)) from None


def _tags(metadata: Mapping[str, Any]) -> list[str]:
    tags = _nested(fields.optional_list, metadata, "metadata", "tags")
    if not all(isinstance(tag, str) for tag in tags):
        raise pkglist.InvalidItemError("field 'metadata.tags' must be a list of strings")
    return list(tags)


def _component(raw: Any, index: int) -> dict[str, Any]:
    where = f"components[{index}]"
    component = fields.as_object(raw, f"field {where!r}")
    version = component.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, (int, str))):
        raise pkglist.InvalidItemError(f"field '{where}.version' must be an integer or a string")
    return {
        "id": _nested(fields.optional_str, component, where, "id"),
        "name": _nested(fields.optional_str, component, where, "name"),
        "type": _nested(fields.optional_str, component, where, "type"),
        "version": version,
    }


def _dependency(raw: Any, index: int) -> Any:
    """``{projectId, version}`` as ``{project_id, version}``; a plain reference string as given."""
    if isinstance(raw, str):
        return raw
    dependency = fields.as_object(raw, f"field 'dependencies[{index}]'")
    return {fields.snake_case(str(key)): value for key, value in dependency.items()}
