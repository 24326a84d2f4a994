import reflex as rx

from klinikita.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="klinikita",
    db_url=settings.db_url,
    redis_url=settings.redis_url,
    # One backend process keeps the tabs' states in memory (the disk manager pickles every
    # state on every event); with Redis, states live there and several workers can serve.
    state_manager_mode="redis" if settings.redis_url else "memory",
    # Only pages at KLINIKITA_PUBLIC_URL may call the backend with credentials or open its
    # websocket (Reflex applies this list to CORS and to the websocket's Origin check).
    cors_allowed_origins=[settings.public_origin],
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal", radius="medium")),
    ],
)
