-- Open payables per supplier as of marts.as_of, by days past due: bucket_0_30 holds documents not yet
-- due or up to 30 days past due (not_yet_due_amount shows the not-yet-due part), then 31-60, 61-90, 90+.
-- Counts open and partially paid purchase invoices; purchase credit notes are not netted here.
-- Vouchers on the collective supplier are grouped by their contact name (e.g. "Sammellieferant").
-- grain: tenant_id, supplier_key
WITH open_docs AS (
    SELECT
        i.tenant_id,
        coalesce(i.contact_id, 'name:' || coalesce(i.contact_name, '?')) AS supplier_key,
        i.contact_id,
        coalesce(c.name, i.contact_name) AS supplier_name,
        i.open_amount,
        a.as_of_date,
        a.as_of_date - coalesce(i.due_date, i.issue_date) AS days_past_due
    FROM cdm.bills AS i
    CROSS JOIN marts.as_of AS a
    LEFT JOIN cdm.contacts AS c ON c.id = i.contact_id
    WHERE i.status IN ('open', 'partially_paid') AND NOT i.is_deleted AND i.open_amount > 0
        AND i.document_kind = 'purchase_invoice'
        AND i.issue_date <= a.as_of_date
)

SELECT
    tenant_id,
    supplier_key,
    any_value(contact_id) AS contact_id,
    any_value(supplier_name) AS supplier_name,
    any_value(as_of_date) AS as_of_date,
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
GROUP BY tenant_id, supplier_key
