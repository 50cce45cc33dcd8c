"""The public surface of ``catalogs`` and its import cost."""

from __future__ import annotations

import subprocess
import sys


def test_all_is_pinned() -> None:
    import nautilus_ext.catalogs as catalogs

    assert sorted(catalogs.__all__) == sorted(
        [
            "DEMO_VENUES",
            "BuildSummary",
            "CatalogInfo",
            "CatalogTarget",
            "SyntheticVenue",
            "build_catalog",
            "build_demo_catalog",
            "catalog_info",
            "mirror_to_local",
            "parse_target",
            "write_synthetic_tardis",
            "write_synthetic_trades",
        ]
    )
    for name in catalogs.__all__:
        assert getattr(catalogs, name) is not None


def test_importing_catalogs_does_not_import_nautilus_trader() -> None:
    code = (
        "import sys, nautilus_ext.catalogs, nautilus_ext.catalogs.cli; "
        "print('nautilus_trader' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
