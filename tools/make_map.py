"""Build the map drawdown ships (``src/drawdown/report/assets/europe.geojson``) from Natural Earth.

Run once by a developer, never at run time (drawdown fetches nothing):

    npm pack world-atlas@2.0.2 topojson-client@3.1.0      # Natural Earth 4.1.0 as TopoJSON (public domain data)
    node -e "..."  (topojson-client's feature(): countries-50m.json -> countries-50m.geojson)
    python tools/make_map.py countries-50m.geojson          # needs shapely (a development tool only)

It keeps the countries that reach into Europe, clips them to the map's frame, simplifies to about 2 km, rounds
coordinates, and tags each with its ISO3 code from drawdown's nations table (by name).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shapely.geometry import box, mapping, shape

FRAME = (-25.0, 34.0, 50.0, 72.0)  # lon/lat: the Atlantic to the Urals' foothills, North Africa's coast to the Arctic
TOLERANCE = 0.02  # degrees
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "drawdown" / "report" / "assets" / "europe.geojson"

#: Natural Earth names that differ from drawdown's nations table.
NAMES = {"Bosnia and Herz.": "BIH", "Czechia": "CZE", "Macedonia": "MKD", "North Macedonia": "MKD",
         "Kosovo": "XKX", "United Kingdom": "GBR", "Russia": "RUS", "Moldova": "MDA", "Serbia": "SRB",
         "Montenegro": "MNE", "Belarus": "BLR", "Ukraine": "UKR", "Turkey": "TUR", "Cyprus": "CYP",
         "N. Cyprus": "CYN", "Georgia": "GEO", "Armenia": "ARM", "Azerbaijan": "AZE", "Ireland": "IRL",
         "Switzerland": "CHE", "Austria": "AUT", "Malta": "MLT", "Tunisia": "TUN", "Algeria": "DZA",
         "Morocco": "MAR", "Libya": "LBY", "Egypt": "EGY", "Syria": "SYR", "Iraq": "IRQ", "Iran": "IRN",
         "Lebanon": "LBN", "Israel": "ISR", "Jordan": "JOR", "Kazakhstan": "KAZ", "Faeroe Is.": "FRO",
         "Greenland": "GRL", "Liechtenstein": "LIE", "Andorra": "AND", "San Marino": "SMR", "Monaco": "MCO",
         "Vatican": "VAT", "Palestine": "PSE", "Saudi Arabia": "SAU", "Turkmenistan": "TKM", "Uzbekistan": "UZB"}


def main(source: str) -> None:
    import csv

    nations = {r["name"]: r["iso3"] for r in csv.DictReader(open(ROOT / "src/drawdown/data/tables/nations.csv"))}
    frame = box(*FRAME)
    features = []
    for f in json.load(open(source))["features"]:
        geometry = shape(f["geometry"])
        if not geometry.is_valid:
            geometry = geometry.buffer(0)  # a few Natural Earth rings self-touch (Russia across the antimeridian)
        if not geometry.intersects(frame):
            continue
        clipped = geometry.intersection(frame).simplify(TOLERANCE, preserve_topology=True)
        if clipped.is_empty or clipped.area < 1e-4:
            continue
        name = f["properties"]["name"]
        iso3 = nations.get(name) or NAMES.get(name)
        rounded = json.loads(json.dumps(mapping(clipped)), parse_float=lambda x: round(float(x), 3))
        features.append({"type": "Feature", "properties": {"name": name, "iso3": iso3}, "geometry": rounded})
    document = {"type": "FeatureCollection",
                "source": "Natural Earth 4.1.0 Admin 0 countries, 1:50m (public domain), via world-atlas 2.0.2; "
                          "clipped to lon -25..50, lat 34..72, simplified to 0.02 degrees by tools/make_map.py",
                "features": features}
    OUT.write_text(json.dumps(document, separators=(",", ":")))
    print(f"{len(features)} countries, {OUT.stat().st_size / 1024:.0f} KB -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
