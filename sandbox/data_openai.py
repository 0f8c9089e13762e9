"""OpenAI structured answers: a JSON schema filled deterministically from the prompt.

Scores, fits and levels grow with the word overlap between the instructions (the criteria) and
the last user message (the candidate), so a screening run over synthetic people ranks them in a
stable, explainable order; everything else is drawn from a generator seeded by the request.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.data_people import rng_for

_WORD = re.compile(r"[a-z][a-z0-9+#]{3,}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


class _Answerer:
    """Fills a JSON schema deterministically from the prompt: numbers named like scores grow with
    the overlap between the instructions (criteria) and the last user message (the candidate)."""

    def __init__(self, schema: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        self.root = schema
        texts = [str(m.get("content") or "") for m in messages]
        self.candidate = texts[-1] if texts else ""
        criteria = " ".join(texts[:-1]) or self.candidate
        self.criteria_words = _words(criteria)
        self.common = sorted(self.criteria_words & _words(self.candidate))
        ratio = len(self.common) / max(1, len(self.criteria_words))
        self.match = min(1.0, ratio * 3)  # a third of the criteria words present = a full match
        self.rng = rng_for("openai", json.dumps(messages, sort_keys=True), json.dumps(schema))

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part]
            return self.resolve(target)
        return node

    def value(self, node: dict[str, Any], name: str) -> Any:
        node = self.resolve(node)
        for key in ("anyOf", "oneOf"):
            if key in node:
                branches = [self.resolve(b) for b in node[key]]
                usable = [b for b in branches if b.get("type") != "null"] or branches
                return self.value(usable[0], name)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return (
                node["enum"][int(self.match * (len(node["enum"]) - 1) + 0.5)]
                if ("score" in name or "level" in name or "fit" in name)
                else self.rng.choice(node["enum"])
            )
        kind = node.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            props = node.get("properties", {})
            return {k: self.value(v, k) for k, v in props.items()}
        if kind == "array":
            first = int(node.get("minItems", 1))
            last = int(node.get("maxItems", max(first, 3)))
            n = max(first, min(last, 1 + len(self.common) % 3))
            return [self.value(node.get("items", {"type": "string"}), name) for _ in range(n)]
        if kind in ("integer", "number"):
            low = float(node.get("minimum", 0))
            high = float(node.get("maximum", 10 if kind == "integer" else 1))
            if any(w in name.lower() for w in ("score", "match", "fit", "confidence", "rating")):
                raw = low + (high - low) * self.match
            else:
                raw = self.rng.uniform(low, high)
            return round(raw) if kind == "integer" else round(raw, 3)
        if kind == "boolean":
            return self.match >= 0.5
        if kind == "null":
            return None
        return self.text(name)

    def text(self, name: str) -> str:
        if self.common:
            shown = ", ".join(self.common[:5])
            return f"[sandbox] {name}: matches {len(self.common)} criteria terms ({shown})."
        return f"[sandbox] {name}: no overlap between the criteria and the candidate."


def structured_answer(schema: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(_Answerer(schema, messages).value(schema, "answer"))
