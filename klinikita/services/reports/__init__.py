"""Laporan: one module per report, plain functions over a `Session`, per branch.

- `days`: typed dates of the filters and the branch's local day bounds (UTC in the tables)
- `audit_log`: Laporan aktivitas (the audit trail)
- `sync_log`: Log server SATUSEHAT (every exchange)
- `dashboard`: Dashboard SATUSEHAT (weekly sending, failed jobs, resend all)
- `dinkes`, `lb1`, `dinkes_view`: Laporan Dinkes (visits, diagnoses, LB1)
- `revenue`: Laporan pendapatan (revenue, shift reports, unpaid bills)

Lists are paged on the server; the CSV exports run the same filtered statement without the
page and come back as a `CsvFile` named with the branch's local date.
"""
