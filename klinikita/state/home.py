"""Beranda: today's numbers of the person's work, by duty, with links; for admins the
branch's readiness and this week's SATUSEHAT compliance. One service call per load, and
again whenever a desk, an examination room or the worker changes a visit of the branch."""

from __future__ import annotations

import dataclasses

import reflex as rx

from klinikita.db import read_scope
from klinikita.services.permissions import Action, allows
from klinikita.services.reports.beranda import beranda
from klinikita.state import live
from klinikita.state.auth import AuthState


@dataclasses.dataclass
class FigureView:
    key: str = ""
    label: str = ""
    value: str = ""
    link: str = ""
    tone: str = "gray"


@dataclasses.dataclass
class GroupView:
    key: str = ""
    title: str = ""
    figures: list[FigureView] = dataclasses.field(default_factory=list)


class HomeState(AuthState):
    groups: list[GroupView] = []
    is_admin: bool = False
    readiness: list[dict[str, str]] = []  # {"key", "message", "link"}; empty: ready
    compliance: dict[str, str] = {}

    def _reload(self) -> None:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_BERANDA):
            self.groups, self.readiness, self.compliance, self.is_admin = [], [], {}, False
            return
        with read_scope() as session:
            found = beranda(session, actor)
        groups = [
            GroupView(
                g.key,
                g.title,
                [FigureView(f.key, f.label, str(f.value), f.link, f.tone) for f in g.figures],
            )
            for g in found.groups
        ]
        if groups != self.groups:  # an unchanged board is not sent to the browser again
            self.groups = groups
        self.is_admin = found.is_admin
        self.readiness = [
            {"key": r.key, "message": r.message, "link": r.link} for r in found.readiness
        ]
        c = found.compliance
        self.compliance = (
            {
                "week": c.week.label,
                "completed": str(c.week.visits_completed),
                "encounters": str(c.week.encounters_accepted),
                "share": c.share,
                "failed": str(c.failed_jobs),
                "dead": str(c.dead_jobs),
            }
            if c
            else {}
        )

    @rx.event
    def load(self):
        """on_load: the numbers, and a watch on the branch's boards to keep them live."""
        actor = self._current_actor()
        if actor is None:
            return
        self._reload()
        live.watch(live.branch_topic(actor.branch_id), self._client_token(), HomeState)

    @rx.event
    def refresh(self):
        self._authorize(Action.VIEW_BERANDA)
        self._reload()

    def _on_board_change(self, topic: str, changed: live.Changed) -> None:  # noqa: ARG002
        """A visit of the branch changed elsewhere (a registration, an examination, a send)."""
        self._reload()
