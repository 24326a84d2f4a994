"""`@page(...)`: a page function registered with its route, title and on_load, wrapped in
the app shell. `add_pages(app)` adds every registered page to the app."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import reflex as rx

from klinikita.components.shell import app_shell
from klinikita.state import page_loads
from klinikita.state.auth import AuthState

SITE = "Klinikita"


@dataclass(frozen=True)
class Page:
    render: Callable[[], rx.Component]
    route: str
    title: str
    on_load: list[Any]


_REGISTERED: list[Page] = []


def page(
    *,
    route: str,
    title: str,
    shell: str | None = None,
    on_load: Any | Sequence[Any] = (),  # noqa: ANN401 (event handlers)
    public: bool = False,
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Register the decorated page function at `route`.

    `shell` is the heading of the app shell around the page (None: a page of its own, such
    as the login). Unless `public`, the login is checked before `on_load` runs (a logged
    out tab goes to the login page); the page's own loads decide what the duty may see."""
    loads = list(on_load) if isinstance(on_load, list | tuple) else [on_load]
    if not public:
        loads.insert(0, AuthState.check_login)

    def decorator(content: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        if shell is None:
            render = content
        else:

            def render() -> rx.Component:
                return app_shell(shell, content())

            render.__name__ = content.__name__
            render.__doc__ = content.__doc__
        _REGISTERED.append(Page(render, route, f"{title} | {SITE}", loads))
        page_loads.register(route, loads)
        return render

    return decorator


def registered() -> list[Page]:
    return list(_REGISTERED)


def add_pages(app: rx.App) -> None:
    for p in _REGISTERED:
        app.add_page(p.render, route=p.route, title=p.title, on_load=p.on_load)
