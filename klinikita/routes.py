"""Route constants, so links are never hand-formatted."""

LOGIN = "/login"
BERANDA = "/"
PENDAFTARAN = "/pendaftaran"
PEMERIKSAAN = "/pemeriksaan"
RESUME = "/resume"
KONTAK = "/kontak"
REFERENSI = "/referensi"
LAPORAN = "/laporan"
APOTEK = "/apotek"  # the dispensing queue
APOTEK_OBAT = "/apotek/obat"  # the drug master (Obat & BHP)
APOTEK_STOK = "/apotek/stok"  # stock: receipts, adjustments, stock-take, low and near-expiry
APOTEK_ETIKET = "/apotek/etiket"  # labels of one prescription: ?resep=<id>&ukuran=kecil|a4
KASIR = "/kasir"  # bills waiting for payment today, the bill, the payment
KASIR_TARIF = "/kasir/tarif"  # tariffs per payer from a date, and insurers
KASIR_SHIFT = "/kasir/shift"  # the cashier's shift: open, close, the close report
KASIR_NOTA = "/kasir/nota"  # the nota's print page (?tagihan=<id>&kertas=58|80|a5)
PENGATURAN = "/pengaturan"
KONTAK_KARYAWAN = "/kontak/karyawan"
KONTAK_PASIEN = "/kontak/pasien"
REFERENSI_UNIT = "/referensi/unit"
REFERENSI_RUANGAN = "/referensi/ruangan"
PENGATURAN_PENGGUNA = "/pengaturan/pengguna"
LAPORAN_AKTIVITAS = "/laporan/aktivitas"
LAPORAN_SATUSEHAT = "/laporan/satusehat"
LAPORAN_DASHBOARD = "/laporan/dashboard-satusehat"
LUPA_SANDI = "/lupa-kata-sandi"
RESET_SANDI = "/reset-kata-sandi"
GANTI_SANDI = "/ganti-kata-sandi"
LAPORAN_DINKES = "/laporan/dinkes"
LAPORAN_PENDAPATAN = "/laporan/pendapatan"  # revenue, shift reports, unpaid bills
CETAK = "/cetak"  # a printed document: ?dok=<issued document id>
PENGATURAN_LAYAR = "/pengaturan/layar-antrean"  # the waiting-room TVs' display tokens
ANTREAN_TAMPIL = "/antrean/tampil"  # the waiting-room TV (public: ?token=<display token>)

# The Apotek menu's tabs (components/tables.subnav), in the order a pharmacist uses them.
APOTEK_TABS = [("Resep", APOTEK), ("Obat & BHP", APOTEK_OBAT), ("Stok", APOTEK_STOK)]
KASIR_TABS = [("Tagihan", KASIR), ("Shift", KASIR_SHIFT), ("Tarif", KASIR_TARIF)]

# The Pengaturan menu's tabs.
PENGATURAN_TABS = [
    ("Cabang", PENGATURAN),
    ("Pengguna", PENGATURAN_PENGGUNA),
    ("Layar antrean", PENGATURAN_LAYAR),
]
