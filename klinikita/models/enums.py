"""Closed vocabularies stored as short strings (no database enums: they migrate badly)."""

from __future__ import annotations

from enum import StrEnum


class FacilityType(StrEnum):
    KLINIK = "klinik"
    PMD = "pmd"
    APOTEK = "apotek"
    RS = "rs"
    LAB = "lab"

    @property
    def label(self) -> str:
        return FACILITY_LABELS[self]


FACILITY_LABELS = {
    FacilityType.KLINIK: "Klinik",
    FacilityType.PMD: "Praktik Dokter Mandiri",
    FacilityType.APOTEK: "Apotek",
    FacilityType.RS: "Rumah Sakit",
    FacilityType.LAB: "Laboratorium",
}


class BranchTimeZone(StrEnum):
    """Indonesia's three zones, stored as IANA names."""

    WIB = "Asia/Jakarta"
    WITA = "Asia/Makassar"
    WIT = "Asia/Jayapura"

    @property
    def label(self) -> str:
        return self.name


class Duty(StrEnum):
    """A user's duty (tugas). Permissions hang off the active duty."""

    ADMIN = "admin"
    LOGIN_KLINIK = "login_klinik"
    LOGIN_PRAKTIK = "login_praktik"
    PENDAFTARAN = "pendaftaran"
    KASIR = "kasir"
    PENDAFTARAN_KASIR = "pendaftaran_kasir"
    PERAWAT = "perawat"
    BIDAN = "bidan"
    DOKTER_UMUM = "dokter_umum"
    DOKTER_SPESIALIS = "dokter_spesialis"
    DOKTER_GIGI = "dokter_gigi"
    DOKTER_MCU = "dokter_mcu"
    APOTEKER = "apoteker"
    ASISTEN_APOTEKER = "asisten_apoteker"

    @property
    def label(self) -> str:
        return DUTY_LABELS[self]


DUTY_LABELS = {
    Duty.ADMIN: "Admin",
    Duty.LOGIN_KLINIK: "Login klinik",
    Duty.LOGIN_PRAKTIK: "Login praktik dokter",
    Duty.PENDAFTARAN: "Pendaftaran",
    Duty.KASIR: "Kasir",
    Duty.PENDAFTARAN_KASIR: "Pendaftaran & kasir",
    Duty.PERAWAT: "Perawat",
    Duty.BIDAN: "Bidan",
    Duty.DOKTER_UMUM: "Dokter umum",
    Duty.DOKTER_SPESIALIS: "Dokter spesialis",
    Duty.DOKTER_GIGI: "Dokter gigi",
    Duty.DOKTER_MCU: "Dokter MCU",
    Duty.APOTEKER: "Apoteker",
    Duty.ASISTEN_APOTEKER: "Asisten apoteker",
}

DOCTOR_DUTIES = frozenset(
    {Duty.DOKTER_UMUM, Duty.DOKTER_SPESIALIS, Duty.DOKTER_GIGI, Duty.DOKTER_MCU}
)


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"

    @property
    def label(self) -> str:
        return "Laki-laki" if self is Sex.MALE else "Perempuan"


class SatusehatEnvironment(StrEnum):
    SIMULATOR = "simulator"
    SANDBOX = "sandbox"
    PRODUCTION = "production"
    CUSTOM = "custom"


class SyncStatus(StrEnum):
    """Where a row stands with SATUSEHAT; shown as a badge next to its IHS id."""

    NOT_SENT = "not_sent"
    SENDING = "sending"
    SENT = "sent"
    NOT_FOUND = "not_found"
    FAILED = "failed"
