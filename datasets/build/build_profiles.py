"""Rebuilds datasets/profiles/{demand_shapes,wind_shapes}.csv from the assumed shapes below.

No sourced hourly profile of Chinese inference demand or of Chinese wind output was available, so every
shape here is a team assumption (source key ``assumed``); the ``notes`` column of each row says what is
assumed. The script only normalises the hand-written anchor values:

* demand shapes: mean 1 over a week (5 weekdays + 2 weekend days), so a device group's ``demand`` stays its
  weekly average rate;
* wind shapes: mean 1 over a 365-day year (each month weighted by its hours), so the capacity factor is the
  annual mean (full-load hours / 8760 h, ``full_load_hours.csv``) times the multiplier.

Run: ``python datasets/build/build_profiles.py`` (deterministic; numpy and pandas only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "profiles"
HOURS = [f"h{h:02d}" for h in range(24)]
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])

# --- demand: hour-of-day anchors (00:00 ... 23:00; each value stands for the hour that starts there) -------
DEMAND = {
    "resident": {
        "notes": ("assumed: no sourced hourly profile of Chinese phone/PC inference demand; shape of a metro's "
                  "residents: low at 03:00-05:00 (~0.3 x mean), rising through the day, evening peak at 21:00 "
                  "(~1.5 x mean); the weekend starts later (trough 04:00-06:00, slow morning) and is flatter"),
        "weekday": [0.95, 0.65, 0.42, 0.31, 0.30, 0.34, 0.50, 0.78, 0.98, 1.04, 1.08, 1.12,
                    1.18, 1.10, 1.04, 1.04, 1.08, 1.14, 1.22, 1.32, 1.42, 1.52, 1.42, 1.20],
        "weekend": [1.05, 0.78, 0.52, 0.38, 0.33, 0.33, 0.38, 0.52, 0.70, 0.90, 1.04, 1.14,
                    1.20, 1.16, 1.12, 1.12, 1.14, 1.18, 1.24, 1.32, 1.40, 1.44, 1.40, 1.24],
    },
    "enterprise": {
        "notes": ("assumed: office hours, Monday-Friday: working day 09:00-18:00 with a lunch dip at 12:00, "
                  "little at night (~0.15 x the working-day level); weekends at a low background level"),
        "weekday": [0.15, 0.12, 0.12, 0.12, 0.12, 0.14, 0.25, 0.55, 1.10, 1.45, 1.50, 1.45,
                    1.10, 1.35, 1.50, 1.50, 1.45, 1.25, 0.80, 0.50, 0.40, 0.32, 0.25, 0.18],
        "weekend": [0.12, 0.10, 0.10, 0.10, 0.10, 0.10, 0.12, 0.15, 0.20, 0.25, 0.28, 0.28,
                    0.26, 0.26, 0.28, 0.28, 0.26, 0.24, 0.22, 0.20, 0.18, 0.16, 0.14, 0.12],
    },
    "robot": {
        "notes": ("assumed: two-shift factory 08:00-24:00 (shift change dip at 16:00), idle 00:00-08:00 "
                  "(~0.1 x the shift level: monitoring only); weekend: one day shift 08:00-16:00 at 60%"),
        "weekday": [0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.30, 1.00, 1.00, 1.00, 1.00,
                    0.90, 1.00, 1.00, 1.00, 0.80, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 0.90],
        "weekend": [0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.20, 0.60, 0.60, 0.60, 0.60,
                    0.55, 0.60, 0.60, 0.60, 0.20, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10],
    },
    "vehicle": {
        "notes": ("assumed: road traffic shape: weekday commute peaks 07:00-09:00 and 17:00-19:00, "
                  "moderate daytime, low 01:00-05:00; weekend one broad peak 10:00-18:00 and no commute"),
        "weekday": [0.35, 0.20, 0.15, 0.12, 0.15, 0.35, 0.95, 1.75, 1.85, 1.30, 1.10, 1.10,
                    1.10, 1.05, 1.10, 1.25, 1.50, 1.85, 1.80, 1.30, 1.00, 0.85, 0.65, 0.50],
        "weekend": [0.45, 0.28, 0.18, 0.14, 0.14, 0.20, 0.35, 0.60, 0.95, 1.25, 1.40, 1.45,
                    1.40, 1.35, 1.35, 1.40, 1.45, 1.45, 1.30, 1.10, 0.95, 0.80, 0.65, 0.55],
    },
    "flat": {
        "notes": "assumed: constant demand (no daily or weekly pattern); the reference shape",
        "weekday": [1.0] * 24,
        "weekend": [1.0] * 24,
    },
}

# --- wind: month and hour-of-day factors, multiplied ----------------------------------------------------
THREE_NORTH = ["Beijing", "Tianjin", "Hebei", "Shanxi", "Inner Mongolia", "Liaoning", "Jilin", "Heilongjiang",
               "Shaanxi", "Gansu", "Qinghai", "Ningxia", "Xinjiang"]
WIND = {
    "three_north": {
        "provinces": THREE_NORTH,
        "notes": ("assumed: shape for the 'Three North' (north, north-east, north-west China) where most wind "
                  "capacity stands: strongest in spring (Mar-May) and winter, weakest in Jul-Sep (month factor "
                  "1.25 ... 0.70); stronger at night than at midday (hour factor 1.20 at 01:00-03:00, 0.78 at "
                  "12:00-13:00); month x hour, normalised to mean 1 over the year"),
        "month": [1.10, 1.10, 1.25, 1.25, 1.15, 0.95, 0.75, 0.70, 0.80, 0.95, 1.05, 1.10],
        "hour": [1.18, 1.20, 1.20, 1.20, 1.17, 1.12, 1.05, 0.97, 0.88, 0.82, 0.80, 0.79,
                 0.78, 0.78, 0.82, 0.88, 0.95, 1.02, 1.08, 1.12, 1.15, 1.17, 1.18, 1.18],
    },
    "default": {
        "provinces": [],
        "notes": ("assumed: shape for every other province: weaker seasonal swing (month factor 1.15 in "
                  "winter ... 0.85 in summer) and a small diurnal swing (hour factor 1.08 at night, 0.92 at "
                  "midday); month x hour, normalised to mean 1 over the year"),
        "month": [1.15, 1.12, 1.08, 1.02, 0.95, 0.88, 0.85, 0.88, 0.92, 1.00, 1.08, 1.12],
        "hour": [1.08, 1.08, 1.08, 1.07, 1.06, 1.04, 1.02, 0.99, 0.96, 0.94, 0.93, 0.92,
                 0.92, 0.92, 0.93, 0.95, 0.97, 0.99, 1.01, 1.03, 1.05, 1.06, 1.07, 1.08],
    },
}


def demand_table() -> pd.DataFrame:
    rows = []
    for cls, spec in DEMAND.items():
        wd, we = np.asarray(spec["weekday"]), np.asarray(spec["weekend"])
        week_mean = (5 * wd.mean() + 2 * we.mean()) / 7
        for daytype, values in (("weekday", wd), ("weekend", we)):
            rows.append({"class": cls, "daytype": daytype,
                         **dict(zip(HOURS, np.round(values / week_mean, 4))),
                         "source": "assumed", "notes": spec["notes"] + "; mean 1 over a week (5 weekdays, 2 weekend days)"})
    return pd.DataFrame(rows)


def wind_table() -> pd.DataFrame:
    rows = []
    for region, spec in WIND.items():
        grid = np.outer(spec["month"], spec["hour"])
        grid /= (grid.mean(axis=1) * DAYS_IN_MONTH).sum() / DAYS_IN_MONTH.sum()
        for m in range(12):
            rows.append({"region": region, "provinces": ";".join(spec["provinces"]), "month": m + 1,
                         **dict(zip(HOURS, np.round(grid[m], 4))), "source": "assumed", "notes": spec["notes"]})
    return pd.DataFrame(rows)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    demand_table().to_csv(OUT / "demand_shapes.csv", index=False, lineterminator="\n")
    wind_table().to_csv(OUT / "wind_shapes.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
