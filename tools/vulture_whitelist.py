"""Names that `tools/dead_code.py` (vulture) sees no caller for, but something outside Python's
sight calls. Generic framework hooks (`Command`, `perform_create`, `@shared_task`, ...) are in
`[tool.vulture]` of pyproject.toml; this file lists the rest by name, grouped by who calls them.
Only the attribute names count: `_.name` keeps every definition called `name`.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# DRF SerializerMethodField reads `get_<field>` of its serializer.
_.get_current_result
_.get_payload
_.get_has_algorithm
_.get_judgements
_.get_choices
_.get_domains
_.get_preliminary
_.get_variants
_.get_licence
_.get_robvis_template
_.get_proposed
_.get_variant
_.get_schema
_.get_outcomes
_.get_warnings
_.get_deletion_progress
_.get_progress
_.get_votes
_.get_decisions
_.get_has_pdf

# Templates read these properties and methods.
_.preset_data  # analysis/analysis_list.html, analysis_detail.html
_.estimate_text  # analysis/_result.html, _dashboard_body.html, _sof_table.html
_.independent_done  # rob/assessments.html
_.has_algorithm  # rob/_assessment_form.html
_.doi_url  # screening/record_detail.html, _screen_record.html (and the record serializer)
_.pubmed_url  # screening/record_detail.html, _library_results.html (and the record serializer)

# Settings and the URLconf name these by dotted path.
_.RevokeApiTokensOnPasswordChange  # AUTH_PASSWORD_VALIDATORS
_.validate  # Django's password-validator protocol
_.password_changed
_.get_help_text
_.client_ip  # AXES_CLIENT_IP_CALLABLE
_.lockout_response  # AXES_LOCKOUT_CALLABLE
_.TolerantRedisCache  # CACHES
_.AnonThrottle  # DEFAULT_THROTTLE_CLASSES
_.UserThrottle
_.permission_denied  # handler403 in reviewapp/urls.py
_.page_not_found  # handler404
_.server_error  # handler500

# Found by subclassing: drf-spectacular registers every OpenApiAuthenticationExtension.
_.TokenScheme
_.get_security_definition

# Django's form field hook.
_.prepare_value

# Seams the tests use on purpose.
_.subscribers  # reviewapp/events.py: tests/test_architecture.py checks who subscribes
_.record_search_refresh  # builds the search vectors of factory-made records (no import)
_.sei  # analysis.stats result API, checked against metafor in test_published_values.py
