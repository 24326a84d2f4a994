"""Worst-case content for every printable document kind (services/print_render.py's
registry), for the print-layout test: the longest names, addresses and texts the forms take.
A new kind (the nota, the etiket) adds its sample here."""

from __future__ import annotations

import base64
from typing import Any

from klinikita.services.letterhead import Letterhead

LONG_WORD = "Supercalifragilisticexpialidocious" * 3  # no break opportunity at all
LONG_TEXT = ("Pasien mengeluh demam tinggi naik turun sejak lima hari disertai nyeri kepala, "
             "mual, muntah dan nyeri otot. ") * 6 + LONG_WORD  # fmt: skip

# A 1x1 PNG: a valid letterhead logo.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

LETTERHEAD = Letterhead(
    name="Klinik Pratama Rawat Jalan Sehat Sentosa Bersama Cabang Utama Kota " + "X" * 40,
    address=(
        "Jl. Jenderal Sudirman Kav. 52-53 RT 001/RW 002, Kelurahan Senayan, Kecamatan "
        "Kebayoran Baru, Kota Administrasi Jakarta Selatan, DKI Jakarta 12190 "
    )
    * 2,  # fmt: skip
    phone="+62 (21) 5555-1234-5678-9012",
    license_number="503/1234/IZIN-KLINIK/DPMPTSP/XII/2026/" + "9" * 40,
    facility_type="klinik",
    # A 1x1 PNG, as the data URI the service embeds.
    logo="data:image/png;base64," + base64.b64encode(TINY_PNG).decode("ascii"),
)

_PATIENT = {
    "name": "Siti Nurhaliza Binti Abdullah Rahman Hakim Wijayakusuma Prawiranegara " * 2,
    "mrn": "RM-2026-000123",
    "birth_date": "17 September 1990",
    "age": "36 tahun",
    "sex": "Perempuan",
    "address": "Jl. Panjang Sekali Nomor 123 Gang Kenanga " * 7,
}
_DOCTOR = {"name": "dr. Ahmad Budiman Setiawan Kusumaningrat, Sp.PD-KGEH, FINASIM, M.Kes " * 2,
           "sip": "SIP/446/DINKES/1234/XII/2026/" + LONG_WORD}  # fmt: skip


def _diagnoses(n: int) -> list[dict[str, Any]]:
    return [
        {
            "code": f"A0{i}.{i}",
            "name": "Demam tifoid dengan komplikasi " + LONG_WORD,
            "primary": i == 0,
        }
        for i in range(n)
    ]


def _card(i: int) -> dict[str, Any]:
    return {
        "visit_id": i,
        "date_text": "25 Nov 2026",
        "time_text": "08:15-09:02",
        "unit": "Poli Penyakit Dalam " * 3,
        "room": "Ruang Periksa 12A " * 2,
        "doctor": _DOCTOR["name"],
        "payer": "Asuransi",
        "queue_number": 120,
        "status": "complete",
        "status_label": "Selesai",
        "encounter_id": "abc",
        "cancel_reason": "",
        "diagnoses": [
            {
                "code": d["code"],
                "display": d["name"],
                "primary": d["primary"],
                "condition_id": "",
                "english": "",
            }
            for d in _diagnoses(3)
        ],  # fmt: skip
        "vitals": [{"label": "Tekanan darah", "value": "120/80 mmHg"}] * 7,
        "soap": [
            {"label": "S (Subjektif)", "value": LONG_TEXT},
            {"label": "P (Rencana)", "value": LONG_TEXT},
        ],
        "procedures": ["89.03 Anamnesis dan pemeriksaan menyeluruh " + LONG_WORD] * 3,
        "prescriptions": ["Paracetamol 500 mg tablet, jumlah 10, 3 x sehari 1 tablet " + LONG_WORD]
        * 5,
    }


SAMPLES: dict[str, dict[str, Any]] = {
    "sks": {
        "patient": _PATIENT,
        "doctor": _DOCTOR,
        "exam_date": "8 Desember 2026",
        "issued_date": "8 Desember 2026",
        "start": "8 Desember 2026",
        "end": "6 Januari 2027",
        "start_iso": "2026-12-08",
        "end_iso": "2027-01-06",
        "days": 30,
        "days_words": "tiga puluh",
        "diagnoses": [f"{d['code']} {d['name']}" for d in _diagnoses(4)],
    },
    "rujukan": {
        "patient": _PATIENT,
        "doctor": _DOCTOR,
        "exam_date": "8 Desember 2026",
        "issued_date": "8 Desember 2026",
        "destination": "RSUD Dr. Cipto Mangunkusumo Jakarta Pusat " * 3,
        "destination_unit": "Poli Penyakit Dalam Subspesialis Gastroenterologi " * 2,
        "reason": LONG_TEXT,
        "diagnoses": _diagnoses(5),
        "anamnesis": LONG_TEXT,
        "exam": LONG_TEXT,
        "vitals": ["Tekanan darah 120/80 mmHg", "Nadi 88 x/menit", "Suhu 38,5 °C"] * 3,
        "therapy": ["Paracetamol 500 mg tablet, jumlah 10, 3 x sehari 1 tablet " + LONG_WORD] * 6,
    },
    "resume": {
        "patient": _PATIENT,
        "issued_date": "8 Desember 2026",
        "page": 1,
        "page_count": 3,
        "total": 25,
        "scope_note": "",
        "cards": [_card(i) for i in range(10)],
    },
}

# The nota: a long visit bill of an insured patient, a discount, and a split payment.
_NOTA = {
    "nota_number": "20261208-0123",
    "paid_at": "08/12/2026 10:15",
    "cashier": "Dewi Kusumawardhani Prameswari Putri Ayu Lestari " * 2,
    "customer": _PATIENT["name"] + " · No. RM RM-2026-000123",
    "visit_line": "Poli Penyakit Dalam · " + _DOCTOR["name"] + " · antrean 120",
    "payer": "Asuransi",
    "insurer": "PT Asuransi Jiwa dan Kesehatan Sejahtera Abadi Nusantara Tbk " + LONG_WORD,
    "bpjs_number": "0001234567890",
    "lines": [
        {
            "description": f"{i}. Amoxicillin 500 mg kapsul (generik) strip isi 10 " + LONG_WORD,
            "quantity": 1000,
            "unit_price": "Rp 1.250.000",
            "amount": "Rp 1.250.000.000",
        }
        for i in range(25)
    ],
    "subtotal": "Rp 31.250.000.000",
    "covered_label": "Ditanggung PT Asuransi Jiwa dan Kesehatan Sejahtera Abadi Nusantara",
    "covered_total": "Rp 20.000.000.000",
    "discount": "15% (Rp 1.687.500.000)",
    "total": "Rp 999.562.500.000",
    "words": (
        "sembilan ratus sembilan puluh sembilan miliar lima ratus enam puluh dua juta "
        "lima ratus ribu rupiah"
    ),
    "payments": [
        {
            "method": "Tunai",
            "amount": "Rp 500.000.000.000",
            "reference": "",
            "cash_received": "Rp 500.000.000.000",
            "change": "Rp 0",
        },
        {
            "method": "QRIS",
            "amount": "Rp 499.562.500.000",
            "reference": "QRIS-REF-" + LONG_WORD,
            "cash_received": "",
            "change": "",
        },
        {
            "method": "Debit/Kredit",
            "amount": "Rp 1",
            "reference": "1234 5678 9012 3456",
            "cash_received": "",
            "change": "",
        },
    ],  # fmt: skip
    "void_reason": "Salah input pembayaran oleh kasir " + LONG_WORD,
    "print_count": 1,
}
SAMPLES["nota-58"] = _NOTA
SAMPLES["nota-80"] = _NOTA
SAMPLES["nota-a5"] = _NOTA

# The etiket: several lines, the longest names and instructions.
_ETIKET = {
    "labels": [
        {
            "patient": _PATIENT["name"],
            "mrn": "RM-2026-000123",
            "date": "08/12/2026",
            "item": "Amoxicillin 500 mg kapsul (generik) " + LONG_WORD,
            "quantity": "1000 kapsul",
            "instructions": "3 x sehari 1 kapsul sesudah makan, dihabiskan " + LONG_WORD,
        }
        for _ in range(7)
    ]
}
SAMPLES["etiket-kecil"] = _ETIKET
SAMPLES["etiket-a4"] = _ETIKET

# The resep: many lines, a racikan of many ingredients, the longest names and signa.
_RESEP_ITEM = {
    "compound": False,
    "item": "Amoxicillin trihydrate 500 mg kapsul (generik, PT Kimia Farma) " + LONG_WORD,
    "quantity": "No. MMMDCCCLXXXVIII (3888)",
    "signa": "S. 3 x sehari 1 kapsul sesudah makan, dihabiskan " + LONG_WORD,
    "ingredients": [],
    "make": "",
}
_RACIKAN = {
    "compound": True,
    "item": "Puyer batuk pilek anak dengan demam dan alergi " + LONG_WORD,
    "quantity": "",
    "signa": "S. 3 x sehari 1 bungkus sesudah makan, dilarutkan dalam air " + LONG_WORD,
    "ingredients": [
        {"name": "Paracetamol 500 mg tablet " + LONG_WORD, "amount": "125 mg " + LONG_WORD}
    ]
    * 10,
    "make": "m.f. pulv. dtd No. MMMDCCCLXXXVIII (3888)",
}
SAMPLES["resep"] = {
    "patient": _PATIENT,
    "doctor": _DOCTOR,
    "exam_date": "8 Desember 2026",
    "issued_date": "8 Desember 2026",
    "weight": "120,5 kg",
    "allergies": "; ".join(["Amoxicillin (gatal, ruam kulit di seluruh badan, berat)"] * 6),
    "lines": [{**_RESEP_ITEM, "no": i} for i in range(1, 13)]
    + [{**_RACIKAN, "no": i} for i in range(13, 16)],
}
