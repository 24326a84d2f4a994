"""The outbox worker: sends the queued SATUSEHAT jobs (`worker.py`) and listens for jobs
queued by the app on PostgreSQL (`job_signal.py`). It calls the services and the SATUSEHAT
client; nothing below it imports it."""
