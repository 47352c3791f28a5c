class Refused(Exception):
    """A service refused a change; the message says why, in words a person can act on.

    ``status_code`` tells the API what to answer: 409 for a wrong state, 403 for
    a wrong role.
    """

    def __init__(self, message: str, *, code: str = "refused", status_code: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
