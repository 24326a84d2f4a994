"""Integration tests of the local SATUSEHAT simulator over loopback HTTP."""
