{#- Models land in the schema their folder names (staging, cdm, marts, quarantine, analyst), not in
    "<target schema>_<folder>" as dbt's default would name it. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{- (custom_schema_name or target.schema) | trim -}}
{%- endmacro %}
