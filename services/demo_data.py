"""The demo data's former home, kept for the benchmarks and scripts that import it: the profile
generator lives in `services.demo.profiles`, the team history in `services.demo`."""

from __future__ import annotations

from services.demo import DemoReport, seed_demo
from services.demo.profiles import (
    COPY_COLUMNS,
    EPOCH,
    RAW_FROM_COLUMNS,
    SeedResult,
    generate_rows,
    seed_profiles,
)

__all__ = [
    "COPY_COLUMNS",
    "EPOCH",
    "RAW_FROM_COLUMNS",
    "DemoReport",
    "SeedResult",
    "generate_rows",
    "seed_demo",
    "seed_profiles",
]
