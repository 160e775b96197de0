"""Base map layers in the store: import, list, remove, and read for a map.

A stored layer replaces the shipped one of its kind (:data:`clic_geo.geo.basemap.BUILTIN`):
a force that imports its own roads sees its roads, and the shipped water until it
imports water too. Layers are kept as compact GeoJSON in WGS84 (see migration 0006)
and read once per process per change (they are reference data, not records: an
import does not change the data version, so no hotspot or priority is recomputed).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from clic_geo._errors import ConfigError
from clic_geo.geo import basemap as bm
from clic_geo.store import tables as T  # noqa: N812 - T.base_layers reads like SQL
from clic_geo.store.base import StoreBase

__all__ = ["StoreBaseLayers"]

_CACHE_LOCK = threading.Lock()


class StoreBaseLayers(StoreBase):
    """Base map layers, mixed into :class:`~clic_geo.store.Store`."""

    def import_base_layer(
        self,
        path: str | Path,
        *,
        kind: str | None = None,
        name: str | None = None,
        actor: str,
        attribution: str = "",
        bbox: Sequence[float] | None = None,
        simplify_m: float = 2.0,
    ) -> list[dict]:
        """Read a vector file (see :func:`clic_geo.geo.basemap.read_layer`) and store one
        layer per kind it holds. Nothing is stored if the file cannot be read.

        Returns the stored layers as :meth:`base_layers` rows.
        """
        p = Path(path)
        gdf = bm.read_layer(p, kind, bbox=bbox, simplify=simplify_m)
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        try:
            import pyogrio

            src_crs = (
                "EPSG:4326"
                if p.name.lower().endswith((".pbf", ".osm"))
                else str(pyogrio.read_info(p).get("crs") or "")
            )
        except Exception:  # the CRS is a note for people, not needed to draw
            src_crs = ""
        if not attribution and p.name.lower().endswith((".pbf", ".osm", ".osm.bz2")):
            attribution = bm.BUILTIN_ATTRIBUTION
        now = datetime.now().replace(microsecond=0)
        ids = []
        with self.engine.begin() as conn:
            for k, part in gdf.groupby("kind", sort=True):
                res = conn.execute(
                    T.base_layers.insert().values(
                        name=(name or p.stem)[:200],
                        kind=str(k),
                        file_name=p.name,
                        file_sha256=digest,
                        source_crs=src_crs,
                        features=len(part),
                        attribution=attribution,
                        imported_at=now,
                        actor=actor[:128],
                        geojson=bm.to_geojson(part),
                    )
                )
                ids.append(int(res.inserted_primary_key[0]))
        return [r for r in self.base_layers() if r["id"] in ids]

    def base_layers(self) -> list[dict]:
        """Every stored layer (without its features), oldest first."""
        t = T.base_layers
        cols = [c for c in t.c if c.name != "geojson"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*cols).order_by(t.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def remove_base_layer(self, layer_id: int) -> dict:
        """Delete a stored layer; returns what it was."""
        found = [r for r in self.base_layers() if r["id"] == int(layer_id)]
        if not found:
            raise ConfigError(f"no base layer with id {layer_id} (see clic-geo basemap list)")
        with self.engine.begin() as conn:
            conn.execute(T.base_layers.delete().where(T.base_layers.c.id == int(layer_id)))
        return found[0]

    def base_features(self, kinds: Sequence[str] = bm.KINDS) -> tuple[gpd.GeoDataFrame, str]:
        """The base map to draw: the stored layers of each kind, or the shipped layer
        of that kind where none is stored; and the attribution to show with it.
        """
        t = T.base_layers
        q = sa.select(t.c.id, t.c.kind, t.c.attribution).where(t.c.kind.in_(list(kinds)))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        key = tuple(sorted((int(r.id), r.kind) for r in rows))
        with _CACHE_LOCK:
            cache = self.__dict__.setdefault("_base_cache", {})
            hit = cache.get(tuple(kinds))
        if hit is not None and hit[0] == key:
            return hit[1]
        parts, credits = [], []
        stored = {r.kind for r in rows}
        builtin = bm.read_builtin()
        fallback = builtin[builtin["kind"].isin([k for k in kinds if k not in stored])]
        if len(fallback):
            parts.append(fallback)
            credits.append(bm.BUILTIN_ATTRIBUTION)
        for r in rows:
            with self.engine.connect() as conn:
                text = conn.execute(sa.select(t.c.geojson).where(t.c.id == r.id)).scalar_one()
            parts.append(bm.from_geojson(text))
            if r.attribution:
                credits.append(r.attribution)
        gdf = (
            gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=bm.geo.WGS84)
            if parts
            else bm.from_geojson('{"features": []}')
        )
        out = (gdf, "; ".join(dict.fromkeys(credits)))
        with _CACHE_LOCK:
            cache[tuple(kinds)] = (key, out)  # one entry per set of kinds asked for
        return out
