-- Open payables per supplier as of marts.as_of, by days past due: bucket_0_30 holds documents not yet
-- due or up to 30 days past due (not_yet_due_amount shows the not-yet-due part), then 31-60, 61-90, 90+.
-- Counts open and partially paid purchase invoices; purchase credit notes are not netted here.
-- Vouchers on the collective supplier are grouped by their contact name (e.g. "Sammellieferant").
-- The payables ledger of marts.aging_by_party (party = supplier).
SELECT * EXCLUDE (ledger) RENAME (party_key AS supplier_key, party_name AS supplier_name)
FROM {{ ref('aging_by_party') }}
WHERE ledger = 'payables'
