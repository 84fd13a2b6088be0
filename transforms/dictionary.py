"""Generate ``docs/data-dictionary.md`` from the dbt YAML beside the models (via the parsed manifest):
``python -m transforms.dictionary`` rewrites it; ``--check`` exits 1 when the file is out of date."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from transforms.project import PROJECT_DIR, manifest_path, parse

DICTIONARY = PROJECT_DIR.parent / "docs" / "data-dictionary.md"
LAYERS = ("cdm", "marts", "quarantine")
HEADER = "<!-- Generated from the YAML in transforms/models/ by `python -m transforms.dictionary` -->"


def _yaml_order(model: Mapping[str, Any]) -> int:
    """Position of the model in its YAML file (the dictionary keeps the order the YAML gives)."""
    path = PROJECT_DIR / str(model["patch_path"]).split("://", 1)[-1]
    names = [m["name"] for m in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]]
    return names.index(model["name"])


def documented_models(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The cdm, marts and quarantine models, by layer, in their YAML's order."""
    models = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("schema") in LAYERS
    ]
    return sorted(models, key=lambda m: (LAYERS.index(m["config"]["schema"]), _yaml_order(m)))


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render(manifest: Mapping[str, Any]) -> str:
    """The data dictionary as Markdown: the overview, then one section per table with its columns."""
    overview = manifest["docs"]["doc.kontor.__overview__"]["block_contents"].strip()
    out = [HEADER, overview.replace("# Kontor models", "# Data dictionary", 1), ""]
    for model in documented_models(manifest):
        out += [f"## {model['config']['schema']}.{model['name']}", "", model["description"].strip(), ""]
        out += ["| column | type | meaning | source |", "|---|---|---|---|"]
        for col in model["columns"].values():
            source = col.get("meta", {}).get("source", "")
            out.append(
                f"| {col['name']} | {col.get('data_type') or ''} | {_cell(col['description'])} "
                f"| {_cell(source)} |"
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def load_manifest() -> dict[str, Any]:
    """Parse the project (``dbt parse``) and read the manifest."""
    parse()
    data: dict[str, Any] = json.loads(manifest_path().read_text(encoding="utf-8"))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when out of date")
    parser.add_argument("--output", type=Path, default=DICTIONARY)
    args = parser.parse_args(argv)
    text = render(load_manifest())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        stale = f"{args.output} is out of date: run python -m transforms.dictionary"
        print("up to date" if current == text else stale)
        return 0 if current == text else 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
