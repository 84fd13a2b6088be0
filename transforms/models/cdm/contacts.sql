-- Customers and suppliers: one row per contact with role flags (a contact may be both).
-- Rows rejected in staging (see quarantine.issues) are left out.
SELECT
    source_system || ':' || tenant_id || ':' || remote_id AS id,
    tenant_id,
    source_system,
    remote_id,
    remote_version,
    NULL::TIMESTAMPTZ AS remote_created_at,
    NULL::TIMESTAMPTZ AS remote_updated_at,
    loaded_at,
    is_deleted,
    'raw_lexware.contacts' AS raw_table,
    contact_type,
    name,
    salutation,
    first_name,
    last_name,
    contact_person_name,
    is_customer,
    is_supplier,
    customer_number,
    supplier_number,
    vat_id,
    tax_number,
    allows_tax_free_invoices,
    email,
    email_addresses,
    phone,
    phone_numbers,
    billing_supplement,
    billing_street,
    billing_postal_code,
    billing_city,
    billing_country_code,
    shipping_supplement,
    shipping_street,
    shipping_postal_code,
    shipping_city,
    shipping_country_code,
    note,
    CASE WHEN is_archived THEN 'archived' ELSE 'active' END AS status,
    is_archived,
    NOT is_deleted AS changeable_at_source
FROM {{ ref('stg_lexware__contacts') }}
WHERE NOT {{ has_blocking_issue('_issues') }}
UNION ALL
SELECT
    source_system || ':' || tenant_id || ':' || remote_id,
    tenant_id, source_system, remote_id, NULL::BIGINT, remote_created_at, remote_updated_at, loaded_at, is_deleted,
    'raw_sevdesk.contacts', contact_type, name, salutation, first_name, last_name, contact_person_name,
    is_customer, is_supplier, customer_number, supplier_number, vat_id, tax_number, allows_tax_free_invoices,
    email, email_addresses, phone, phone_numbers,
    NULL::VARCHAR, billing_street, billing_postal_code, billing_city, billing_country_code,
    NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR,
    note, 'active', FALSE, NOT is_deleted
FROM {{ ref('stg_sevdesk__contacts') }}
WHERE NOT {{ has_blocking_issue('_issues') }}
