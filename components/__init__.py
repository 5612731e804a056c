"""Beacon's Rasa components (NLU pipeline, safety net).

Importing the package also makes the Rasa server check custom-action responses against a schema
validated once instead of on every call (see ``components/action_response_schema.py``).
"""

from components.action_response_schema import install as _install_action_response_schema

_install_action_response_schema()
