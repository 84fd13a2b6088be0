WITH src AS (
    {{ sevdesk_document_source('credit_notes', {'source_status': 'status'}) }}
),

typed AS (
    SELECT
        {{ sevdesk_document_keys('credit_notes') }},
        {{ json_raw_text('s.raw', 'bookingCategory') }} AS source_type,
        'credit_note' AS document_family,
        'credit_note' AS document_kind,
        {{ json_raw_text('s.raw', 'creditNoteNumber') }} AS document_number,
        s.source_status,
        CASE s.source_status
            WHEN '100' THEN 'draft' WHEN '200' THEN 'open' WHEN '750' THEN 'partially_paid' WHEN '1000' THEN 'paid'
            ELSE 'unknown'
        END AS status,
        {{ berlin_date(json_raw_text('s.raw', 'creditNoteDate')) }} AS issue_date,
        CAST({{ try_decimal(json_raw_text('s.raw', 'timeToPay'), '9, 0') }} AS INTEGER) AS payment_term_days,
        {{ berlin_date(json_raw_text('s.raw', 'deliveryDate')) }} AS service_date,
        {{ berlin_date(json_raw_text('s.raw', 'payDate')) }} AS paid_on,
        {{ json_raw_text('s.raw', 'contact.id') }} AS contact_remote_id,
        {{ json_raw_text('s.raw', 'addressName') }} AS contact_name,
        {{ sevdesk_currency_and_tax() }},
        {{ try_decimal(json_raw_text('s.raw', 'sumNet')) }} AS net_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumTax')) }} AS tax_amount,
        {{ try_decimal(json_raw_text('s.raw', 'sumGross')) }} AS gross_amount,
        coalesce({{ try_decimal(json_raw_text('s.raw', 'sumDiscounts')) }}, 0) AS discount_amount,
        coalesce(
            CASE WHEN {{ json_raw_text('s.raw', 'refSrcInvoice.objectName') }} = 'Invoice'
                THEN {{ json_raw_text('s.raw', 'refSrcInvoice.id') }} END,
            CASE WHEN {{ json_raw_text('s.raw', 'origin.objectName') }} = 'Invoice'
                THEN {{ json_raw_text('s.raw', 'origin.id') }} END
        ) AS related_invoice_remote_id,
        {{ json_raw_text('s.raw', 'enshrined') }} IS NOT NULL AS is_enshrined,
        {{ json_raw_text('s.raw', 'header') }} AS title,
        {{ json_raw_text('s.raw', 'customerInternalNote') }} AS memo,
        s.raw AS _raw
    FROM src AS s
)

SELECT
    tenant_id, source_system, remote_id, raw_table, remote_created_at, remote_updated_at, loaded_at, is_deleted,
    source_type, document_family, document_kind, document_number, source_status, status, issue_date,
    CAST(NULL AS DATE) AS due_date, service_date, paid_on, contact_remote_id, contact_name,
    currency_code, tax_rule_id, source_tax_type, is_net_priced, net_amount, tax_amount, gross_amount,
    discount_amount, CAST(NULL AS DECIMAL(18, 2)) AS source_paid_amount, related_invoice_remote_id,
    payment_term_days, is_enshrined, title, memo,
    {% call issue_list() %}
        {{ issue(
            json_raw_text('_raw', 'creditNoteDate') ~ " IS NULL", "creditNoteDate", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            json_raw_text('_raw', 'creditNoteDate') ~ " IS NOT NULL AND issue_date IS NULL",
            "creditNoteDate", "malformed date", json_raw_text('_raw', 'creditNoteDate'), "TRUE"
        ) }},
        {{ issue(
            "gross_amount IS NULL", "sumGross", "missing or malformed number", json_raw_text('_raw', 'sumGross'), "TRUE"
        ) }},
        {{ issue("status = 'unknown'", "status", "unknown enum value", "source_status", "FALSE") }}
    {% endcall %} AS _issues
FROM typed
