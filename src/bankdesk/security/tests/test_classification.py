"""Every field of customer data declares its class, and C2/C3 fields are encrypted at rest."""

from __future__ import annotations

import json
import logging

import pytest

from bankdesk.customers.models import Customer, Holding, Identity
from bankdesk.feedback.models import FollowUp, FollowUpAttempt, SurveyResponse
from bankdesk.lib.jsonlog import JsonFormatter
from bankdesk.security.classification import PFIClass
from bankdesk.security.fields import EncryptedTextField


@pytest.mark.parametrize(
    "model", [Customer, Identity, Holding, FollowUp, FollowUpAttempt, SurveyResponse]
)
def test_every_customer_field_is_classified_and_c2_c3_are_encrypted(model):
    fields = {f.name: f for f in model._meta.concrete_fields}
    assert set(model.PFI_CLASSES) == set(fields), "classify every field (PFI_CLASSES)"
    for name, pfi_class in model.PFI_CLASSES.items():
        if pfi_class.is_encrypted_at_rest:
            assert isinstance(fields[name], EncryptedTextField), name
            assert fields[name].pfi_class == pfi_class, name
        else:
            assert not isinstance(fields[name], EncryptedTextField), name
    assert PFIClass.C1 in model.PFI_CLASSES.values()


def test_authentication_data_never_reaches_a_log_line():
    record = logging.LogRecord(
        "bankdesk",
        logging.INFO,
        __file__,
        1,
        "customer said: card %s, CVV %s",
        ("4111111111111111", "123"),
        None,
    )
    line = json.loads(JsonFormatter().format(record))
    assert "4111111111111111" not in line["message"]
    assert "CVV ***" in line["message"]
