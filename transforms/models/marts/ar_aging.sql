-- Open receivables per customer as of marts.as_of, by days past due: bucket_0_30 holds documents not yet
-- due or up to 30 days past due (not_yet_due_amount shows the not-yet-due part), then 31-60, 61-90, 90+.
-- Counts open and partially paid invoices (both kinds); credit notes are netted in customer_balances.
-- Documents without a contact (one-time address) are grouped by their address name.
-- The receivables ledger of marts.aging_by_party (party = customer).
SELECT
    tenant_id, party_key AS customer_key, contact_id, party_name AS customer_name, as_of_date, total_open_amount,
    not_yet_due_amount, overdue_amount, bucket_0_30, bucket_31_60, bucket_61_90, bucket_90_plus,
    open_document_count, overdue_document_count, max_days_past_due
FROM {{ ref('aging_by_party') }}
WHERE ledger = 'receivables'
