#!/usr/bin/env python3
"""Validate OCSF event JSON lines against a schema compiled from the OCSF sources.

    scripts/ocsf/validate.py SCHEMA_DIR FILE.jsonl [--class detection_finding]

SCHEMA_DIR is a checkout of the ocsf-schema repository (e.g. ../shared/data/ocsf-schema-1.8.0).
Nothing is fetched: the schema is built from those sources by maintained tools,

1. ``ocsf-lib`` (the OCSF project's Python library, ``ocsf.compile``) compiles the repository
   (includes, ``extends``, profiles, dictionary merge, uid enumerations) into the same
   shape as the OCSF server's ``/export/schema``;
2. ``ocsf-json-schema`` turns one class of it, with the profiles an event declares in
   ``metadata.profiles``, into a JSON Schema (draft 2020-12) with every referenced object
   embedded, ``additionalProperties: false``, required attributes, enum ids and the type
   regexes / ranges of OCSF's data types;
3. ``jsonschema`` validates each line against it.

Two adapters sit between 1 and 2, both bringing ocsf-lib's output to the OCSF server's
export form that ocsf-json-schema reads: ocsf-lib 0.10.4's "set object types" step compares
``type[:-2] == "_t"`` (always false), so object-typed attributes keep the object's name as
their type; they are rewritten to ``object_t`` + ``object_type``. And ocsf-lib writes every
unset property as ``null`` (``"regex": null``, ``"@deprecated": null``) where the server
leaves it out; ocsf-json-schema reads presence as set, so ``null`` properties are dropped.
A third corrects a compile error: ocsf-lib lets a parent's ``constraints`` (``_entity``'s
``at_least_one: [name, uid]``) replace the child's own (``network_endpoint``'s ``[ip, uid,
name, hostname, ...]``); the server keeps the child's, so each core record's own
``constraints`` (or its nearest ancestor's) are put back. With the three, the compiled
constraints of all 260 core 1.8.0 records equal those of the OCSF server's 1.8.0 export
that ocsf-json-schema ships (the windows extension's ``win_service`` keeps ``_entity``'s).

Sibling captions (``severity`` for ``severity_id`` ...) are not part of the JSON Schema;
they are checked here against the enum caption, as the OCSF server's validator does.

Exit codes: 0 every line valid; 1 a violation (each printed as ``LINE:PATH: message``, e.g.
``3:finding_info.analytic.type_id: 7 is not one of [0, 1, 2, ...]``); 2 usage or unreadable
input.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from jsonschema import Draft202012Validator
from ocsf.compile.compiler import Compilation
from ocsf.compile.options import CompilationOptions
from ocsf.repository import EventDefn, ObjectDefn, read_repo
from ocsf.schema import to_dict
from ocsf_json_schema import OcsfJsonSchemaEmbedded


def compile_schema(schema_dir: Path) -> dict[str, Any]:
    """Compiles the repository at ``schema_dir`` with ocsf-lib (all profiles and extensions)."""
    repo = read_repo(str(schema_dir), preserve_raw_data=False)
    # Compilation edits the repository's definitions in place: take the records' own
    # constraints and parents first.
    own: dict[tuple[str, str], dict[str, list[str]]] = {}
    parent: dict[tuple[str, str], tuple[str, str]] = {}
    for f in repo.files():
        d = f.data
        if isinstance(d, (ObjectDefn, EventDefn)) and d.name and not str(f.path).startswith("extensions"):
            kind = "objects" if isinstance(d, ObjectDefn) else "classes"
            if d.constraints is not None:
                own[(kind, d.name)] = dict(d.constraints)
            if d.extends:
                parent[(kind, d.name)] = (kind, d.extends)
    compiled = _drop_nulls(to_dict(Compilation(repo, CompilationOptions()).build()))
    _set_object_types(compiled)
    for kind in ("objects", "classes"):
        for name, record in compiled.get(kind, {}).items():
            node = (kind, name)
            while node in parent and node not in own:
                node = parent[node]
            if node not in own or record.get("constraints") == own[node]:
                continue
            # Replace only an ancestor's constraints that overwrote the record's own, and
            # keep what an extension added to them.
            up, inherited = parent.get(node), []
            while up is not None:
                inherited.append(own.get(up))
                up = parent.get(up)
            if record.get("constraints") in inherited:
                record["constraints"] = own[node]
    return compiled


def _drop_nulls(value: Any) -> Any:
    """Removes ``null`` properties at every level (see the module doc)."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _set_object_types(compiled: dict[str, Any]) -> None:
    """Rewrites attributes typed by an object name to ``object_t`` (see the module doc)."""
    objects = compiled.get("objects", {})
    holders = list(compiled.get("classes", {}).values()) + list(objects.values())
    if isinstance(compiled.get("base_event"), dict):
        holders.append(compiled["base_event"])
    for holder in holders:
        for attr in (holder.get("attributes") or {}).values():
            t = attr.get("type")
            if t in objects:
                attr["type"] = "object_t"
                attr["object_type"] = t
                attr["object_name"] = objects[t].get("caption")


class Validator:
    """Validates OCSF events of one compiled schema; JSON Schemas are cached per
    (class, profiles)."""

    def __init__(self, compiled: dict[str, Any]):
        self.compiled = compiled
        self.generator = OcsfJsonSchemaEmbedded(compiled)
        self.by_uid = {c["uid"]: name for name, c in compiled["classes"].items()}

    @lru_cache(maxsize=64)
    def _validator(self, class_name: str, profiles: tuple[str, ...]) -> Draft202012Validator:
        schema = self.generator.get_class_schema(class_name=class_name, profiles=list(profiles))
        Draft202012Validator.check_schema(schema)
        return Draft202012Validator(schema)

    def errors(self, event: Any, class_name: str | None = None) -> list[tuple[str, str]]:
        """``(attribute path, message)`` for each violation of ``event``; empty when valid."""
        if not isinstance(event, dict):
            return [("", "an event is a JSON object")]
        if class_name is None:
            uid = event.get("class_uid")
            class_name = self.by_uid.get(uid) if isinstance(uid, int) else None
            if class_name is None:
                return [("class_uid", f"{uid!r} is not a class of OCSF {self.compiled.get('version')}")]
        profiles = (event.get("metadata") or {}).get("profiles") or []
        known = set(self.compiled.get("profiles", {}))
        out = [(f"metadata.profiles[{i}]", f"unknown profile {p!r}") for i, p in enumerate(profiles) if p not in known]
        profiles = tuple(sorted(p for p in profiles if p in known))
        for e in sorted(self._validator(class_name, profiles).iter_errors(event), key=lambda e: list(map(str, e.absolute_path))):
            out.append((_path(e.absolute_path), e.message))
        attrs = self.compiled["classes"][class_name]["attributes"]
        out.extend(self._sibling_errors(event, attrs, ""))
        return out

    def _sibling_errors(self, value: dict[str, Any], attrs: dict[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
        """Captions of enum siblings must match their id's caption (except for 99 Other)."""
        for name, attr in attrs.items():
            if name not in value:
                continue
            v = value[name]
            enum, sibling = attr.get("enum"), attr.get("sibling")
            if enum and sibling and sibling in value and isinstance(v, int) and str(v) in enum and v != 99:
                want = enum[str(v)].get("caption")
                if value[sibling] != want:
                    yield (f"{prefix}{sibling}", f"{value[sibling]!r} is not the caption of {name} {v} ({want!r})")
            obj = attr.get("object_type")
            if attr.get("type") == "object_t" and obj in self.compiled["objects"]:
                sub = self.compiled["objects"][obj].get("attributes") or {}
                items = v if isinstance(v, list) else [v]
                for i, item in enumerate(items):
                    if isinstance(item, dict):
                        idx = f"[{i}]" if isinstance(v, list) else ""
                        yield from self._sibling_errors(item, sub, f"{prefix}{name}{idx}.")


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<event>"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("schema_dir", type=Path, help="ocsf-schema repository sources")
    ap.add_argument("file", type=Path, help="JSON lines, one OCSF event per line ('-' for stdin)")
    ap.add_argument("--class", dest="class_name", help="validate every line as this class (default: from class_uid)")
    args = ap.parse_args(argv)
    if not (args.schema_dir / "version.json").is_file():
        print(f"error: {args.schema_dir} is not an ocsf-schema repository (no version.json)", file=sys.stderr)
        return 2
    try:
        lines = sys.stdin.read().splitlines() if str(args.file) == "-" else args.file.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        print(f"error: cannot read {args.file}: {e}", file=sys.stderr)
        return 2
    validator = Validator(compile_schema(args.schema_dir))
    bad = checked = 0
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        checked += 1
        try:
            event = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"{args.file}:{n}: <event>: not JSON: {e}")
            bad += 1
            continue
        errs = validator.errors(event, args.class_name)
        for path, msg in errs:
            print(f"{args.file}:{n}: {path}: {msg}")
        bad += bool(errs)
    version = validator.compiled.get("version")
    print(f"{checked - bad} of {checked} events valid against OCSF {version} compiled from {args.schema_dir}", file=sys.stderr)
    if checked == 0:
        print("error: no events to validate", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
