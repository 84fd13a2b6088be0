SELECT 'invoices' AS document_table, d.id, d.contact_id
FROM {{ ref('invoices') }} AS d LEFT JOIN {{ ref('contacts') }} AS c ON c.id = d.contact_id AND c.tenant_id = d.tenant_id
WHERE d.contact_id IS NOT NULL AND c.id IS NULL
UNION ALL
SELECT 'credit_notes', d.id, d.contact_id
FROM {{ ref('credit_notes') }} AS d LEFT JOIN {{ ref('contacts') }} AS c ON c.id = d.contact_id AND c.tenant_id = d.tenant_id
WHERE d.contact_id IS NOT NULL AND c.id IS NULL
UNION ALL
SELECT 'bills', d.id, d.contact_id
FROM {{ ref('bills') }} AS d LEFT JOIN {{ ref('contacts') }} AS c ON c.id = d.contact_id AND c.tenant_id = d.tenant_id
WHERE d.contact_id IS NOT NULL AND c.id IS NULL
