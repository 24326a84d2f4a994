"""The region list: loaded complete and once, read one level at a time."""

from __future__ import annotations

from sqlalchemy import func, select

from klinikita.models import Region
from klinikita.services import regions
from tests.patients_support import add_regions


def test_loader_inserts_the_whole_official_list_once(db):
    conn = db.connection()
    assert regions.load_regions(conn) == 91_599
    db.commit()
    counts = dict(db.execute(select(Region.level, func.count()).group_by(Region.level)).all())
    assert counts == {1: 38, 2: 514, 3: 7_285, 4: 83_762}
    # Idempotent: a second run adds nothing.
    assert regions.load_regions(db.connection()) == 0
    assert db.execute(select(func.count()).select_from(Region)).scalar_one() == 91_599
    # Parents follow the codes.
    tebet = db.get(Region, "31.74.01")
    assert (tebet.name, tebet.level, tebet.parent_code) == ("Tebet", 3, "31.74")
    names = [r.name for r in regions.children(db, "31.74.01")]
    assert "Tebet Barat" in names and names == sorted(names)
    assert len(regions.children(db, None)) == 38


def test_a_village_must_lie_in_the_district_above_it(db):
    add_regions(db)
    assert regions.chain_problem(db, ["31", "31.71", "31.71.01", "31.71.01.1001"]) is None
    assert regions.chain_problem(db, ["", "", "", ""]) is None
    assert regions.chain_problem(db, ["32", "31.71", "", ""])[0] == "city_code"
    assert regions.chain_problem(db, ["31", "", "31.71.01", ""])[0] == "city_code"
    assert regions.chain_problem(db, ["31", "31.71", "31.71.09", ""])[0] == "district_code"
