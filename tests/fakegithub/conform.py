"""Fill the required response fields a handler left out, so every answer matches the schema.

Handlers render what the fake models (ids, bodies, refs, states); GitHub's schemas also
require dozens of fields nothing in ferrybot reads (`forks_count`, `archive_url`, ...).
Those get type-correct placeholders here instead of being spelled out in every handler.
"""

from __future__ import annotations

from typing import Any

PLACEHOLDER_TIME = "1970-01-01T00:00:00Z"
PLACEHOLDER_URL = "https://github.com/"


class ResponseFiller:
    """Fills required properties from the description's response schemas."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document
        # Placeholders depend only on the schema and answers are serialized at once: share them.
        self._placeholders: dict[int, Any] = {}

    def fill(self, schema: dict[str, Any], value: Any) -> Any:
        schema = self._resolve(schema)
        if "allOf" in schema:
            for part in schema["allOf"]:
                value = self.fill(part, value)
            return value
        if isinstance(value, list):
            items = schema.get("items")
            return [self.fill(items, item) for item in value] if items else value
        if not isinstance(value, dict) or schema.get("type", "object") != "object":
            return value
        properties = schema.get("properties", {})
        given = list(value.items())
        for name in schema.get("required", ()):
            if name not in value and name in properties:
                value[name] = self.placeholder(properties[name])
        for name, item in given:
            if name in properties and isinstance(item, dict | list):
                value[name] = self.fill(properties[name], item)
        return value

    def placeholder(self, schema: dict[str, Any]) -> Any:
        key = id(schema)
        if key not in self._placeholders:
            self._placeholders[key] = self._make_placeholder(schema)
        return self._placeholders[key]

    def _make_placeholder(self, schema: dict[str, Any]) -> Any:
        schema = self._resolve(schema)
        if schema.get("nullable"):
            return None
        for combinator in ("allOf", "oneOf", "anyOf"):
            if combinator in schema:
                return self.placeholder(schema[combinator][0])
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type", "object")
        if kind == "string":
            return {"date-time": PLACEHOLDER_TIME, "uri": PLACEHOLDER_URL}.get(
                schema.get("format", ""), ""
            )
        if kind in ("integer", "number"):
            return 0
        if kind == "boolean":
            return False
        if kind == "array":
            return []
        return self.fill(schema, {})

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            target: Any = self._document
            for part in schema["$ref"][2:].split("/"):
                target = target[part]
            schema = target
        return schema
