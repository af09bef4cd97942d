from bankdesk.lib.errors import Conflict, InvalidInput


class InvalidDemoSize(InvalidInput):
    code = "invalid_demo_size"


class DemoBaseMissing(Conflict):
    """The synthetic bank needs the seeded teams, staff and case taxonomy first."""

    code = "demo_base_missing"
