SELECT cn.id, cn.invoice_id
FROM {{ ref('credit_notes') }} AS cn LEFT JOIN {{ ref('invoices') }} AS i ON i.id = cn.invoice_id AND i.tenant_id = cn.tenant_id
WHERE cn.invoice_id IS NOT NULL AND i.id IS NULL
