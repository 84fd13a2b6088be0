-- An analyst's model (README, "Your own models and tests"): receivables open on marts.as_of per billing
-- city of the customer. Reads Kontor's models with ref(), like every model here.
SELECT
    b.tenant_id,
    coalesce(c.billing_city, 'unknown') AS billing_city,
    sum(b.open_amount) AS open_amount,
    count(*) AS open_documents
FROM {{ ref('document_balances') }} AS b
LEFT JOIN {{ ref('contacts') }} AS c ON c.id = b.contact_id
WHERE b.document_table IN ('invoices', 'credit_notes') AND b.open_amount > 0
GROUP BY b.tenant_id, coalesce(c.billing_city, 'unknown')
