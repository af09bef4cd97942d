"""branch channel: branch walk-ins and self-service terminal faults.

Branch systems and terminals report through the intake API (`intake.api`:
POST /api/v1/intake/branch-visits), authenticated as a staff integration user; /intake/branch/
has no webhook of its own.
"""
