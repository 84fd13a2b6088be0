WITH src AS (
    SELECT
        r.tenant_id, r.source_system, r.id AS remote_id, r.version AS raw_version, r.is_deleted, l.inserted_at AS loaded_at,
        {{ json_parse('r.raw', '{
            "version": "VARCHAR",
            "roles": {"customer": {"number": "VARCHAR"}, "vendor": {"number": "VARCHAR"}},
            "company": {"name": "VARCHAR", "taxNumber": "VARCHAR", "vatRegistrationId": "VARCHAR",
                        "allowTaxFreeInvoices": "BOOLEAN",
                        "contactPersons": [{"salutation": "VARCHAR", "firstName": "VARCHAR",
                                            "lastName": "VARCHAR", "primary": "BOOLEAN",
                                            "emailAddress": "VARCHAR", "phoneNumber": "VARCHAR"}]},
            "person": {"salutation": "VARCHAR", "firstName": "VARCHAR", "lastName": "VARCHAR"},
            "addresses": {
                "billing": [{"supplement": "VARCHAR", "street": "VARCHAR", "zip": "VARCHAR",
                             "city": "VARCHAR", "countryCode": "VARCHAR"}],
                "shipping": [{"supplement": "VARCHAR", "street": "VARCHAR", "zip": "VARCHAR",
                              "city": "VARCHAR", "countryCode": "VARCHAR"}]},
            "emailAddresses": {"business": ["VARCHAR"], "office": ["VARCHAR"], "private": ["VARCHAR"],
                               "other": ["VARCHAR"]},
            "phoneNumbers": {"business": ["VARCHAR"], "office": ["VARCHAR"], "mobile": ["VARCHAR"],
                             "private": ["VARCHAR"], "fax": ["VARCHAR"], "other": ["VARCHAR"]},
            "note": "VARCHAR",
            "archived": "BOOLEAN"
        }') }} AS j
    FROM {{ source('raw_lexware', 'contacts') }} AS r
    LEFT JOIN {{ source('raw_lexware', '_dlt_loads') }} AS l ON l.load_id = r._dlt_load_id
),

typed AS (
    SELECT
        tenant_id,
        source_system,
        remote_id,
        coalesce({{ try_cast(json_text('j', 'version'), 'BIGINT') }}, raw_version) AS remote_version,
        coalesce(is_deleted, FALSE) AS is_deleted,
        loaded_at,
        CASE WHEN {{ json_text('j', 'company') }} IS NOT NULL THEN 'company'
            WHEN {{ json_text('j', 'person') }} IS NOT NULL THEN 'person' END
            AS contact_type,
        nullif(trim(coalesce(
            {{ json_text('j', 'company.name') }},
            concat_ws(' ', {{ json_text('j', 'person.firstName') }}, {{ json_text('j', 'person.lastName') }})
        )), '') AS name,
        {{ json_text('j', 'person.salutation') }} AS salutation,
        {{ json_text('j', 'person.firstName') }} AS first_name,
        {{ json_text('j', 'person.lastName') }} AS last_name,
        {{ json_text('j', 'roles.customer') }} IS NOT NULL AS is_customer,
        {{ json_text('j', 'roles.vendor') }} IS NOT NULL AS is_supplier,
        {{ try_cast(json_text('j', 'roles.customer.number'), 'BIGINT') }} AS customer_number,
        {{ try_cast(json_text('j', 'roles.vendor.number'), 'BIGINT') }} AS supplier_number,
        {{ json_text('j', 'company.vatRegistrationId') }} AS vat_id,
        {{ json_text('j', 'company.taxNumber') }} AS tax_number,
        coalesce({{ json_bool('j', 'company.allowTaxFreeInvoices') }}, FALSE) AS allows_tax_free_invoices,
        {{ json_text_list('j', ['emailAddresses.business', 'emailAddresses.office',
            'emailAddresses.private', 'emailAddresses.other']) }} AS email_addresses,
        {{ json_text_list('j', ['phoneNumbers.business', 'phoneNumbers.office', 'phoneNumbers.mobile',
            'phoneNumbers.private', 'phoneNumbers.fax', 'phoneNumbers.other']) }} AS phone_numbers,
        coalesce(
            {{ json_find(json_get('j', 'company.contactPersons'), 'p', json_bool('p', 'primary')) }},
            {{ json_get('j', 'company.contactPersons.0') }}
        ) AS primary_person,
        {{ json_get('j', 'addresses.billing.0') }} AS billing,
        {{ json_get('j', 'addresses.shipping.0') }} AS shipping,
        {{ json_get('j', 'addresses.billing') }} AS _billing_all,
        {{ json_get('j', 'addresses.shipping') }} AS _shipping_all,
        {{ json_text('j', 'note') }} AS note,
        coalesce({{ json_bool('j', 'archived') }}, FALSE) AS is_archived
    FROM src
)

SELECT
    tenant_id,
    source_system,
    remote_id,
    remote_version,
    is_deleted,
    loaded_at,
    contact_type,
    name,
    salutation,
    first_name,
    last_name,
    is_customer,
    is_supplier,
    customer_number,
    supplier_number,
    vat_id,
    tax_number,
    allows_tax_free_invoices,
    note,
    is_archived,
    coalesce(email_addresses[1], {{ json_text('primary_person', 'emailAddress') }}) AS email,
    email_addresses,
    coalesce(phone_numbers[1], {{ json_text('primary_person', 'phoneNumber') }}) AS phone,
    phone_numbers,
    nullif(concat_ws(' ', {{ json_text('primary_person', 'firstName') }}, {{ json_text('primary_person', 'lastName') }}), '')
        AS contact_person_name,
    {{ json_text('billing', 'supplement') }} AS billing_supplement,
    {{ json_text('billing', 'street') }} AS billing_street,
    {{ json_text('billing', 'zip') }} AS billing_postal_code,
    {{ json_text('billing', 'city') }} AS billing_city,
    upper({{ json_text('billing', 'countryCode') }}) AS billing_country_code,
    {{ json_text('shipping', 'supplement') }} AS shipping_supplement,
    {{ json_text('shipping', 'street') }} AS shipping_street,
    {{ json_text('shipping', 'zip') }} AS shipping_postal_code,
    {{ json_text('shipping', 'city') }} AS shipping_city,
    upper({{ json_text('shipping', 'countryCode') }}) AS shipping_country_code,
    {% call issue_list() %}
        {{ issue(
            "name IS NULL",
            "company.name|person.lastName", "missing required field", "NULL", "TRUE"
        ) }},
        {{ issue(
            "NOT is_customer AND NOT is_supplier",
            "roles", "missing required field", "NULL", "FALSE"
        ) }},
        {{ issue(
            json_array_length('_billing_all') ~ " > 1",
            "addresses.billing", "more addresses than the CDM models: first kept", json_to_text('_billing_all'), "FALSE"
        ) }},
        {{ issue(
            json_array_length('_shipping_all') ~ " > 1",
            "addresses.shipping", "more addresses than the CDM models: first kept", json_to_text('_shipping_all'), "FALSE"
        ) }}
    {% endcall %} AS _issues
FROM typed
