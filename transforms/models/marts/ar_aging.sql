-- Open receivables per customer as of marts.as_of, by days past due: bucket_0_30 holds documents not yet
-- due or up to 30 days past due (not_yet_due_amount shows the not-yet-due part), then 31-60, 61-90, 90+.
-- Counts open and partially paid invoices (both kinds); credit notes are netted in customer_balances.
-- Documents without a contact (one-time address) are grouped by their address name.
-- The receivables ledger of marts.aging_by_party (party = customer).
SELECT * EXCLUDE (ledger) RENAME (party_key AS customer_key, party_name AS customer_name)
FROM {{ ref('aging_by_party') }}
WHERE ledger = 'receivables'
