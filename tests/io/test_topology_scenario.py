"""Every shared Topology Zoo file becomes a valid Scenario, or fails with one line."""

import warnings
from pathlib import Path

import pytest

import workbench as wb
from workbench.errors import WorkbenchError, WorkbenchWarning
from workbench.io.topology_scenario import scenario_from_topology

ZOO = Path(__file__).resolve().parents[3] / "shared" / "data" / "topology-zoo"
FILES = sorted(ZOO.glob("*.graphml")) if ZOO.is_dir() else []
NO_COORDINATES = {"Harnet.graphml", "Nordu.graphml", "Opteglobe.graphml"}  # no node has Latitude/Longitude


@pytest.mark.skipif(not FILES, reason="../shared/data/topology-zoo not present")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_zoo_file_imports_as_scenario(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            sc = scenario_from_topology(path)
        except WorkbenchError as err:
            assert path.name in NO_COORDINATES
            assert "\n" not in str(err) and path.name in str(err)
            return
    assert path.name not in NO_COORDINATES
    assert sc["site"].sizes["site"] >= 1
    for w in caught:  # repairs are reported in a single warning naming the file
        assert issubclass(w.category, WorkbenchWarning) and path.name in str(w.message)
    assert not sc.validate()


@pytest.mark.skipif(not FILES, reason="../shared/data/topology-zoo not present")
def test_imported_topology_round_trips_and_routes(tmp_path):
    from workbench import latency

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        sc = scenario_from_topology(ZOO / "Chinanet.graphml")
    sc.to_netcdf(tmp_path / "cn.nc")
    assert wb.Scenario.from_netcdf(tmp_path / "cn.nc").identical(sc)
    site, link = sc["site"], sc["link"]
    ids = {s: i for i, s in enumerate(site["site"].values)}
    src = [ids[s] for s in link["src"].values]
    dst = [ids[d] for d in link["dst"].values]
    length = latency.route_length_km(site["lon"].values[src], site["lat"].values[src],
                                     site["lon"].values[dst], site["lat"].values[dst], route_factor=1.5)
    lat_ms = latency.shortest_latency_ms(len(ids), src, dst, latency.link_latency_ms(length),
                                         sources=[ids["Beijing"]]).reshape(-1)
    # Beijing -> Shanghai over China Telecom's backbone can be no faster than the great-circle floor
    # (1,067 km x 1.5 x 4.9 us/km = 7.85 ms) and is finite (the graph is connected).
    assert 7.8 < lat_ms[ids["Shanghai"]] < 40
