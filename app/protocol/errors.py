"""The one error type of the engine: a result code plus the values its message names."""

from app.protocol.result_codes import ResultCode


class ApiError(Exception):
    """An API-level failure: answered with `code.status` and {resultCode, resultMessage}."""

    def __init__(self, code: ResultCode, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(code.code)

    def message(self, path: str) -> str:
        return self.code.message(path=path, **self.params)

    def body(self, path: str) -> dict:
        return {"resultCode": self.code.code, "resultMessage": self.message(path)}
