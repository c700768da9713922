"""Every catalogue value carries a unit and a source key that SOURCES.yaml defines."""

import numpy as np
import pytest
from workbench_optical import catalogues as cat

import workbench as wb

FILES = ("media.csv", "switches.csv", "chip_links.csv", "copper_reach.csv", "transport.csv",
         "transport_elements.csv", "published.csv")


@pytest.mark.parametrize("name", FILES)
def test_sources_resolve_and_assumed_values_are_explained(name):
    frame = cat.read_catalogue(name, index=None)
    keys = set(cat.sources())
    for rec in frame.to_dict("records"):
        cited = [k for k in rec["source"].split(";") if k]
        assert cited, f"{name}: row without a source: {rec}"
        assert set(cited) <= keys, f"{name}: unknown source keys {set(cited) - keys}"
        if "assumed" in cited:
            assert "assumed" in rec["notes"].lower(), f"{name}: 'assumed' row without a reason: {rec}"


def test_units_are_converted_at_the_boundary():
    media = cat.media()
    assert media.attrs["units"]["rate"] == "bit/s" and media.loc["dsp-800g", "rate"] == 800e9
    assert cat.switches().loc["eps-51.2t", "power"] == 913
    assert cat.chip_links().loc["gb200", "link_rate"] == 400e9
    # NVIDIA MMS4X00-NS: 16 W at 800 Gbit/s = 20 pJ/bit (FIGURES 4 [D])
    assert media.loc["dsp-800g", "power"] / media.loc["dsp-800g", "rate"] * 1e12 == pytest.approx(20.0)


def test_copper_reach_interpolates_between_sourced_points():
    reach = cat.copper_reach_m([25e9, 100e9, 200e9, 400e9])
    np.testing.assert_allclose(reach[:3], [7, 2, 2])  # Marvell 7 m at 25G, 2 m at 100G; Synopsys 2 m at 224G
    assert np.isnan(reach[3])
    # log-log midpoint between 25G (7 m) and 100G (2 m): sqrt(7 x 2) m at 50G
    np.testing.assert_allclose(cat.copper_reach_m(50e9), np.sqrt(14))


def test_catalogue_datasets_carry_units():
    ds = wb.load_dataset("optical-media")
    assert ds["power"].attrs["units"] == "W" and ds["reach"].attrs["units"] == "m"
    sw = wb.load_dataset("optical-switches")
    assert sw["ports"].attrs["units"] == "1" and sw["price"].attrs["units"] == "USD"
