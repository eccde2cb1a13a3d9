"""The answer of an "action" API (reference §2.0): HTTP 200 with resultCode, resultMessage,
action, responseContent and API-specific members. Failures of the client's request are actions
too, never HTTP errors, so the SDK lets the front-end map them."""

from dataclasses import dataclass, field

from app.protocol.result_codes import ResultCode


@dataclass(frozen=True)
class ActionResult:
    action: str
    code: ResultCode
    params: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)
    response_content: str | None = None

    def body(self) -> dict:
        return {
            "resultCode": self.code.code,
            "resultMessage": self.code.message(**self.params),
            "action": self.action,
            "responseContent": self.response_content,
            **self.members,
        }


class ActionFailure(Exception):
    """Raised by a check; the API turns it into an ActionResult with `action`."""

    def __init__(self, action: str, code: ResultCode, **params: object) -> None:
        super().__init__(code.code)
        self.action = action
        self.code = code
        self.params = params

    def result(self, response_content: str | None = None) -> ActionResult:
        return ActionResult(self.action, self.code, self.params,
                            response_content=response_content)
