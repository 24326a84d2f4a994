import reflex as rx

from klinikita.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="klinikita",
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

# Reflex is not given the database. Klinikita does not use Reflex's database layer (rx.Model,
# rx.session, `reflex db`): klinikita/db.py owns the engine and `python -m klinikita prestart`
# runs the project's own Alembic environment. With a db_url, `reflex run` compares the database
# with rx.Model's registry, which is empty here, and reports every table as a schema change
# ("Detected database schema changes. Run reflex db makemigrations"; a makemigrations would
# write a migration dropping them all). REFLEX_DB_URL, which names the database for
# klinikita.settings, would set it again from the environment, so it is cleared after.
config.db_url = None
config.async_db_url = None
