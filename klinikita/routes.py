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
PENGATURAN_LAYAR = "/pengaturan/layar-antrean"  # the waiting-room TVs' display tokens
ANTREAN_TAMPIL = "/antrean/tampil"  # the waiting-room TV (public: ?token=<display token>)

# The Apotek menu's tabs (components/tables.subnav), in the order a pharmacist uses them.
APOTEK_TABS = [("Resep", APOTEK), ("Obat & BHP", APOTEK_OBAT), ("Stok", APOTEK_STOK)]

# The Pengaturan menu's tabs.
PENGATURAN_TABS = [
    ("Cabang", PENGATURAN),
    ("Pengguna", PENGATURAN_PENGGUNA),
    ("Layar antrean", PENGATURAN_LAYAR),
]
