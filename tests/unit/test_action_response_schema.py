"""The Rasa server validates action responses with a schema checked once, with Rasa's own verdicts."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Tuple

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

import components  # noqa: F401 - importing the package installs the validation
from actions.quiz import ActionQuizStart
from actions.safety import ActionCrisis
from actions.signposting import ActionHelplines
from components.action_response_schema import install, response_validator
from tests.helpers import run, tracker

SCHEMA = RemoteAction.action_response_format_spec()


def action_server_response(action: Any, track: Any) -> Dict[str, Any]:
    """What rasa-sdk's action server sends back for one action run."""
    messages, events = run(action, track)
    return {"events": events, "responses": messages}


@lru_cache(maxsize=1)
def beacon_responses() -> Tuple[Dict[str, Any], ...]:
    crisis = tracker("help", "crisis", slots={"country": "IT", "flow": "quiz"},
                     entities=[{"entity": "crisis_type", "value": "abuse"}],
                     parse_data={"safety_net": {"category": "abuse", "classifier_intent": "ask_signs_in_child"}})
    return (action_server_response(ActionCrisis(), crisis),
            action_server_response(ActionHelplines(), tracker("who can I call", "ask_helpline", slots={"country": "BE"})),
            action_server_response(ActionQuizStart(), tracker("/start_quiz", "start_quiz")),
            {"events": [], "responses": []}, {})


INVALID = [
    {"events": [{"name": "language", "value": "en"}]},  # an event without its type
    {"events": {"event": "slot"}},  # events not a list
    {"responses": ["hello"]},  # a response that is not an object
    {"events": [{"event": "slot", "name": 3}]},  # a slot name that is not a string
    [],
]


def remote_action() -> RemoteAction:
    return RemoteAction("action_crisis", EndpointConfig("http://127.0.0.1:9/webhook"))


def test_importing_components_installs_it_once():
    installed = RemoteAction._validate_action_result
    assert getattr(installed, "_beacon_schema_checked_once", False)
    install()
    assert RemoteAction._validate_action_result is installed  # not wrapped twice
    assert response_validator() is response_validator()  # the schema is checked once per process


@pytest.mark.parametrize("index", range(5))
def test_beacon_responses_pass_as_with_jsonschema_validate(index):
    result = beacon_responses()[index]
    jsonschema.validate(result, SCHEMA)  # Rasa's own check passes...
    assert remote_action()._validate_action_result(result) is True  # ...and so does this one


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_get_rasas_own_error(result):
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(result, SCHEMA)
    with pytest.raises(jsonschema.ValidationError) as raised:
        remote_action()._validate_action_result(result)
    assert raised.value.message.startswith(expected.value.message)
    assert "Failed to validate Action server response" in raised.value.message
