"""Domain rules as plain functions over a database session. No Reflex imports here."""
