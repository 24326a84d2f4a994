"""The sidebar's menus and the action each needs. Pure data: the state filters it by duty."""

from __future__ import annotations

from dataclasses import dataclass

from klinikita import routes
from klinikita.services.permissions import Action, allows


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str
    route: str
    icon: str  # a lucide icon name
    action: Action


MENU: tuple[MenuItem, ...] = (
    MenuItem("beranda", "Beranda", routes.BERANDA, "house", Action.VIEW_BERANDA),
    MenuItem(
        "pendaftaran", "Pendaftaran", routes.PENDAFTARAN, "clipboard-list", Action.VIEW_PENDAFTARAN
    ),
    MenuItem(
        "pemeriksaan", "Pemeriksaan", routes.PEMERIKSAAN, "stethoscope", Action.VIEW_PEMERIKSAAN
    ),
    MenuItem("apotek", "Apotek", routes.APOTEK, "pill", Action.VIEW_APOTEK),
    MenuItem("kasir", "Kasir", routes.KASIR, "wallet", Action.VIEW_KASIR),
    MenuItem("resume", "Resume", routes.RESUME, "file-text", Action.VIEW_RESUME),
    MenuItem("kontak", "Kontak", routes.KONTAK, "contact", Action.VIEW_KONTAK),
    MenuItem("referensi", "Referensi", routes.REFERENSI, "building-2", Action.VIEW_REFERENSI),
    MenuItem("laporan", "Laporan", routes.LAPORAN, "chart-column", Action.VIEW_LAPORAN),
    MenuItem("pengaturan", "Pengaturan", routes.PENGATURAN, "settings", Action.VIEW_PENGATURAN),
)


def menu_for(duty: str) -> list[MenuItem]:
    return [item for item in MENU if allows(duty, item.action)]


def item_for_route(route: str) -> MenuItem | None:
    """The menu a page belongs to: its own route, or the menu route it sits under
    (/kontak/pasien belongs to Kontak), so sub-pages share their menu's permission."""
    path = route.rstrip("/") or "/"
    for item in MENU:
        if path == item.route or (item.route != "/" and path.startswith(item.route + "/")):
            return item
    return None
