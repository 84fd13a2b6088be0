SELECT p.id, p.document_table, p.document_id
FROM {{ ref('payments') }} AS p
LEFT JOIN (
    SELECT id, tenant_id FROM {{ ref('invoices') }}
    UNION ALL SELECT id, tenant_id FROM {{ ref('credit_notes') }}
    UNION ALL SELECT id, tenant_id FROM {{ ref('bills') }}
) AS d ON d.id = p.document_id AND d.tenant_id = p.tenant_id
WHERE d.id IS NULL
