"""The waiting-room display's handlers: Panggil on Pemeriksaan, the TV page (its token read
from the address on every load and update) and Pengaturan -> Layar antrean."""

from __future__ import annotations

import reflex as rx
from sqlmodel import select

from klinikita import routes
from klinikita.models import DisplayToken, QueueCall, Room, ServiceUnit
from klinikita.models.enums import Duty
from klinikita.services import display_tokens
from klinikita.services.audit import Actor
from klinikita.state import live
from klinikita.state.examination import ExaminationState
from klinikita.state.queue_display import INVALID_TOKEN, DisplayTokenState, QueueDisplayState
from tests.factories import make_clinic, make_patient, make_user, make_visit
from tests.state.conftest import logged_in, substate, tab_at


def _clinic(db):  # noqa: ANN001, ANN202
    branch, unit, room, doctor, patient = make_clinic(db)
    make_user(db, "perawat1", branches=[branch], main_duty=Duty.PERAWAT)
    admin = make_user(db, "admin1", branches=[branch], main_duty=Duty.ADMIN)
    first = make_visit(db, branch, unit, room, doctor, patient, queue_number=1, minutes_ago=40)
    other = make_patient(db, branch, 1)
    second = make_visit(db, branch, unit, room, doctor, other, queue_number=2, minutes_ago=20)
    created = display_tokens.create_token(
        db, Actor(admin.id, "admin1", "Admin1", Duty.ADMIN, branch.id), "TV", ""
    )
    db.commit()
    return branch, first, second, created.token


def _tv(root: rx.State, token: str, tab: str = "tv-1") -> QueueDisplayState:
    tab_at(root, tab, f"{routes.ANTREAN_TAMPIL}?token={token}")
    return substate(root, QueueDisplayState)


def test_panggil_calls_the_next_number_and_the_tv_follows(db, root):
    branch, first, second, token = _clinic(db)
    tv_root = rx.State()
    tv = _tv(tv_root, token)
    tv.load()
    topic = live.branch_topic(branch.id)
    assert tv.valid and tv.clinic_name == "Klinik Simulator" and tv.current == {}
    assert tv.units == [
        {"letter": "A", "unit_name": "Poli Umum", "waiting": "A 1 · A 2", "more": ""}
    ]
    assert live.watchers(topic) == {"tv-1": QueueDisplayState}

    tab_at(root, "nurse-tab", routes.PEMERIKSAAN)
    exam = logged_in(db, root, ExaminationState, "perawat1")
    exam.check_login()  # every page's first load: who this is
    exam.load()
    assert exam.can_call and exam.called_ids == []
    assert exam.queue_letters == {"Poli Umum": "A"}  # the buttons say "Panggil A 1"
    before = live._VERSIONS[topic]
    toast = exam.call_next()
    assert "Memanggil A 1 ke Ruang Periksa 1" in str(toast)
    assert exam.called_ids == [str(first.id)]
    assert live._VERSIONS[topic] == before + 1  # published: the TVs and the rooms reload
    assert live.watchers(topic)["nurse-tab"] is ExaminationState

    tv._on_board_change(topic, frozenset({first.id}))  # what the board delivers
    assert tv.current["label"] == "A 1" and tv.current["room_name"] == "Ruang Periksa 1"
    assert tv.current["speech"] == "Nomor antrean A 1, silakan ke Ruang Periksa 1"
    assert tv.units[0]["waiting"] == "A 2"
    assert "Ardianto" not in str(tv.dict())  # no patient names on the TV

    toast = exam.call_visit(str(first.id))  # Panggil ulang
    assert "Memanggil ulang A 1" in str(toast)
    assert len(db.exec(select(QueueCall)).all()) == 2


def test_the_tv_refuses_a_wrong_or_revoked_token(db, root):
    branch, *_, token = _clinic(db)
    wrong = _tv(rx.State(), "salah", "tv-wrong")
    wrong.load()
    assert not wrong.valid and wrong.message == INVALID_TOKEN and wrong.clinic_name == ""
    assert "tv-wrong" not in live.watchers(live.branch_topic(branch.id))

    tv = _tv(root, token)
    tv.load()
    assert tv.valid
    row = db.exec(select(DisplayToken)).one()
    db.commit()
    admin = make_user(db, "admin2", branches=[branch], main_duty=Duty.ADMIN)
    display_tokens.revoke_token(
        db, Actor(admin.id, "admin2", "Admin2", Duty.ADMIN, branch.id), row.id
    )
    db.commit()
    tv._on_board_change(live.branch_topic(branch.id), frozenset())
    assert not tv.valid and tv.units == [] and tv.clinic_name == ""
    assert "tv-1" not in live.watchers(live.branch_topic(branch.id))


def test_the_desk_cannot_call(db, root):
    branch, first, *_ = _clinic(db)
    make_user(db, "daftar1", branches=[branch], main_duty=Duty.PENDAFTARAN)
    tab_at(root, "desk", routes.PEMERIKSAAN)
    exam = logged_in(db, root, ExaminationState, "daftar1")
    exam.check_login()
    assert not exam.can_call
    try:
        exam.call_visit(str(first.id))
    except Exception as refused:  # noqa: BLE001
        assert "memanggil nomor antrean" in str(refused)
    assert db.exec(select(QueueCall)).all() == []


def test_an_admin_makes_a_link_shown_once_and_revokes_it(db, root):
    branch, unit, room, doctor, patient = make_clinic(db)
    gigi = ServiceUnit(branch_id=branch.id, name="Poli Gigi")
    db.add(gigi)
    db.flush()
    db.add(Room(branch_id=branch.id, unit_id=gigi.id, name="Ruang Gigi"))
    make_user(db, "admin1", branches=[branch], main_duty=Duty.ADMIN)
    tab_at(root, "admin-tab", routes.PENGATURAN_LAYAR)
    page = logged_in(db, root, DisplayTokenState, "admin1")
    page.load()
    assert page.can_manage
    assert [o["label"] for o in page.unit_options] == ["A - Poli Umum", "B - Poli Gigi"]
    assert page.create({"name": "", "unit_id": "semua"}) is None
    assert "name" in page.errors
    events = page.create({"name": "TV gigi", "unit_id": str(gigi.id)})
    row = db.exec(select(DisplayToken)).one()
    db.commit()  # the test's own read ends (SQLite: it holds the write lock)
    assert row.unit_id == gigi.id and page.url_shown
    script = str(events[0])
    assert "/antrean/tampil?token=" in script
    token = script.split("?token=")[1].split('"')[0].split("\\")[0]
    assert display_tokens.hash_token(token) == row.token_hash
    assert token not in str(root.dict())  # the link is in no state var
    assert [(t["name"], t["unit_name"], t["revoked"]) for t in page.tokens] == [
        ("TV gigi", "Poli Gigi", "")
    ]
    page.revoke(str(row.id))
    db.refresh(row)
    assert row.revoked_at is not None and page.tokens[0]["revoked"]
