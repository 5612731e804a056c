"""Validate custom-action responses against a schema checked once, not on every action call.

Rasa 3.6 checks every response of the action server with ``jsonschema.validate(result, schema)``
(``RemoteAction._validate_action_result``). That function first validates the *schema itself* against
the JSON Schema meta-schema, every time: about 47 ms of CPU per action call on this project's machine,
close to half of what the Rasa server spent on a turn (py-spy on ``make bench``'s load). The schema
never changes, so here it is checked once and a ready validator is kept.

Every response is still validated against the same schema. A valid one passes at once; an invalid one
is handed to Rasa's own method, so the error raised (and its message) is exactly Rasa's.

The Rasa server imports this through ``components/__init__.py``: every model Beacon trains loads
``components`` (the safety net is in the pipeline), so ``rasa run``, ``rasa shell`` and ``rasa test``
all get it, and nothing else has to remember to.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Dict

from jsonschema import validators
from rasa.core.actions.action import RemoteAction

_PATCHED = "_beacon_schema_checked_once"


@lru_cache(maxsize=1)
def response_validator() -> Any:
    """A validator for Rasa's action-response schema, the schema checked against its meta-schema once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # what jsonschema.validate repeats on every call
    return validator_class(schema)


def _validate_with(original: Callable[[RemoteAction, Dict[str, Any]], bool]) -> Callable[..., bool]:
    def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        if response_validator().is_valid(result):
            return True
        return original(self, result)  # raises Rasa's own ValidationError, with its message

    setattr(validate_action_result, _PATCHED, True)
    validate_action_result.__doc__ = original.__doc__
    return validate_action_result


def install() -> None:
    """Replace ``RemoteAction._validate_action_result`` (once; installing again changes nothing)."""
    current = RemoteAction._validate_action_result
    if not getattr(current, _PATCHED, False):
        RemoteAction._validate_action_result = _validate_with(current)  # type: ignore[method-assign]
