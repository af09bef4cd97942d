from bankdesk.lib.errors import Conflict, InvalidInput, NotFound


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CustomerNumberTaken(Conflict):
    code = "customer_number_taken"


class IdentityTaken(Conflict):
    code = "identity_taken"


class InvalidIdentity(InvalidInput):
    code = "invalid_identity"


class InvalidHolding(InvalidInput):
    code = "invalid_holding"
