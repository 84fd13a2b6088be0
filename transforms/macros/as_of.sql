{#- The marts' as-of date: KONTOR_AS_OF (yyyy-mm-dd; Kontor's launchers set it, see transforms/project.py),
    else the dbt var `as_of` (`dbt build --vars '{as_of: 2025-12-31}'` by hand), else today. An environment
    variable, not a var, for the launchers: dbt re-parses the whole project whenever a var changes, but only
    the models that read a changed environment variable (here marts/as_of.sql). -#}
{% macro as_of_date() -%}
    {%- set as_of = env_var('KONTOR_AS_OF', '') or var('as_of', none) -%}
    {%- if as_of -%} CAST('{{ as_of }}' AS DATE) {%- else -%} current_date {%- endif -%}
{%- endmacro %}
