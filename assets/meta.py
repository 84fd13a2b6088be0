"""Catalogue metadata shared by every asset spec: who owns Kontor's assets and how the UI tags them.
(The models' descriptions and column schemas come from the dbt manifest, see assets/transforms.py.)"""

OWNERS = ["team:kontor-data"]  # shown in the Dagster UI; change to your team or an e-mail address


def layer_tags(layer: str, source: str) -> dict[str, str]:
    """Tags to filter the catalogue by layer (raw / staging / cdm / marts / quarantine) and source."""
    return {"layer": layer, "source": source}
