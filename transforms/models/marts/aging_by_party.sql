-- Open items per customer and per supplier as of marts.as_of, by days past due: one row per ledger
-- ("receivables": invoices of both kinds; "payables": purchase invoices of cdm.bills) and party, counting
-- the documents still open on the as-of date (marts.document_balances: gross minus the payments dated on
-- or before it, so a document paid later is open here; documents without payment items keep today's
-- open_amount). bucket_0_30 holds documents not yet due or up to 30 days past due (not_yet_due_amount
-- shows the not-yet-due part), then 31-60, 61-90, 90+. Credit notes are not netted.
-- Documents without a contact (one-time address, collective supplier) are grouped by their contact name.
-- marts.ar_aging and marts.ap_aging are the two ledgers under their own column names.
WITH open_items AS (
    SELECT
        CASE document_table WHEN 'invoices' THEN 'receivables' ELSE 'payables' END AS ledger,
        tenant_id, contact_id, contact_name, as_of_date, days_past_due, open_amount
    FROM {{ ref('document_balances') }}
    WHERE open_amount > 0
        AND (document_table = 'invoices' OR (document_table = 'bills' AND document_kind = 'purchase_invoice'))
),

open_docs AS (
    SELECT
        i.tenant_id,
        i.ledger,
        coalesce(i.contact_id, 'name:' || coalesce(i.contact_name, '?')) AS party_key,
        i.contact_id,
        coalesce(c.name, i.contact_name) AS party_name,
        i.open_amount,
        i.as_of_date,
        i.days_past_due
    FROM open_items AS i
    LEFT JOIN {{ ref('contacts') }} AS c ON c.id = i.contact_id
)

SELECT
    tenant_id,
    ledger,
    party_key,
    min(contact_id) AS contact_id,
    min(party_name) AS party_name,
    min(as_of_date) AS as_of_date,
    sum(open_amount)::DECIMAL(18, 2) AS total_open_amount,
    coalesce(sum(open_amount) FILTER (WHERE days_past_due <= 0), 0)::DECIMAL(18, 2) AS not_yet_due_amount,
    coalesce(sum(open_amount) FILTER (WHERE days_past_due > 0), 0)::DECIMAL(18, 2) AS overdue_amount,
    coalesce(sum(open_amount) FILTER (WHERE days_past_due <= 30), 0)::DECIMAL(18, 2) AS bucket_0_30,
    coalesce(sum(open_amount) FILTER (WHERE days_past_due BETWEEN 31 AND 60), 0)::DECIMAL(18, 2) AS bucket_31_60,
    coalesce(sum(open_amount) FILTER (WHERE days_past_due BETWEEN 61 AND 90), 0)::DECIMAL(18, 2) AS bucket_61_90,
    coalesce(sum(open_amount) FILTER (WHERE days_past_due > 90), 0)::DECIMAL(18, 2) AS bucket_90_plus,
    count(*) AS open_document_count,
    count(*) FILTER (WHERE days_past_due > 0) AS overdue_document_count,
    max(days_past_due) AS max_days_past_due
FROM open_docs
GROUP BY tenant_id, ledger, party_key
