"""voice channel: phone/IVR call records and recordings.

The contact-centre platform reports calls through the intake API (`intake.api`:
POST /api/v1/intake/calls and /api/v1/intake/calls/{call_id}/recording), authenticated as a
staff integration user; /intake/voice/ has no webhook of its own.
"""
