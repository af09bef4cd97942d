"""Channel endpoints kept from the console: switched on and off, their name and plain
settings changed, their secrets replaced whole (written, never read back). Audited."""

from __future__ import annotations

import json

from django.db import transaction

from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.services import _storable
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.text import one_line
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User

ENDPOINT_NAME_MAX = 120
ENDPOINT_SETTINGS_MAX = 20_000  # characters of JSON: addresses, ids and URLs, never documents


@transaction.atomic
def channel_endpoint_active_set(
    *, endpoint: ChannelEndpoint, is_active: bool, actor: User
) -> ChannelEndpoint:
    """Switch a way in and out on or off: a switched-off endpoint takes and sends nothing."""
    endpoint = ChannelEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.is_active != is_active:
        endpoint.is_active = is_active
        endpoint.save(update_fields=["is_active"])
        audit_record(actor=actor, action="intake.endpoint", target=endpoint, fields=["is_active"])
    return endpoint


@transaction.atomic
def channel_endpoint_update(
    *,
    endpoint: ChannelEndpoint,
    name: str,
    settings: dict[str, object],
    secrets: dict[str, object] | None,
    actor: User,
) -> ChannelEndpoint:
    """Change an endpoint's name and plain settings; `secrets`, when given, replace the stored
    ones whole (None keeps them). Secrets are written, never read back to anyone."""
    name = one_line(name)
    if not 0 < len(name) <= ENDPOINT_NAME_MAX:
        raise InvalidInput(f"name is 1 to {ENDPOINT_NAME_MAX} characters", field="name")
    if not isinstance(settings, dict) or not _storable(settings):
        raise InvalidInput("settings must be a JSON object", field="settings")
    if len(json.dumps(settings, ensure_ascii=False)) > ENDPOINT_SETTINGS_MAX:
        raise InvalidInput("settings are too long", field="settings")
    if secrets is not None and (
        not isinstance(secrets, dict) or not secrets or not _storable(secrets)
    ):
        raise InvalidInput("secrets must be a non-empty JSON object", field="secrets")
    endpoint = ChannelEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    changed: list[str] = []
    if endpoint.name != name:
        endpoint.name, changed = name, [*changed, "name"]
    if endpoint.settings != settings:
        endpoint.settings, changed = settings, [*changed, "settings"]
    if secrets is not None:
        endpoint.secrets, changed = json.dumps(secrets), [*changed, "secrets"]
    if changed:
        endpoint.save(update_fields=changed)
        audit_record(actor=actor, action="intake.endpoint", target=endpoint, fields=changed)
    return endpoint
