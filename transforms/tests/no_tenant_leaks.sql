WITH ids AS (
    SELECT 'contacts' AS t, id, tenant_id, source_system FROM {{ ref('contacts') }}
    UNION ALL SELECT 'invoices', id, tenant_id, source_system FROM {{ ref('invoices') }}
    UNION ALL SELECT 'invoice_lines', id, tenant_id, source_system FROM {{ ref('invoice_lines') }}
    UNION ALL SELECT 'credit_notes', id, tenant_id, source_system FROM {{ ref('credit_notes') }}
    UNION ALL SELECT 'credit_note_lines', id, tenant_id, source_system FROM {{ ref('credit_note_lines') }}
    UNION ALL SELECT 'bills', id, tenant_id, source_system FROM {{ ref('bills') }}
    UNION ALL SELECT 'bill_lines', id, tenant_id, source_system FROM {{ ref('bill_lines') }}
    UNION ALL SELECT 'payments', id, tenant_id, source_system FROM {{ ref('payments') }}
),

refs AS (
    SELECT 'invoices.contact_id' AS ref, tenant_id, contact_id AS target FROM {{ ref('invoices') }}
    UNION ALL SELECT 'credit_notes.contact_id', tenant_id, contact_id FROM {{ ref('credit_notes') }}
    UNION ALL SELECT 'credit_notes.invoice_id', tenant_id, invoice_id FROM {{ ref('credit_notes') }}
    UNION ALL SELECT 'bills.contact_id', tenant_id, contact_id FROM {{ ref('bills') }}
    UNION ALL SELECT 'invoice_lines.invoice_id', tenant_id, invoice_id FROM {{ ref('invoice_lines') }}
    UNION ALL SELECT 'credit_note_lines.credit_note_id', tenant_id, credit_note_id FROM {{ ref('credit_note_lines') }}
    UNION ALL SELECT 'bill_lines.bill_id', tenant_id, bill_id FROM {{ ref('bill_lines') }}
    UNION ALL SELECT 'payments.document_id', tenant_id, document_id FROM {{ ref('payments') }}
    UNION ALL SELECT 'payments.contact_id', tenant_id, contact_id FROM {{ ref('payments') }}
)

SELECT t AS what, id, tenant_id FROM ids WHERE NOT starts_with(id, source_system || ':' || tenant_id || ':')
UNION ALL
SELECT r.ref, r.target, r.tenant_id FROM refs AS r JOIN ids AS i ON i.id = r.target
WHERE i.tenant_id <> r.tenant_id
