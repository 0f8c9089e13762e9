"""Google Sheets v4 `spreadsheets.values.get`: read a range, e.g. a team's filter lists.

Authenticates with the configured API key (public sheets) or a user's OAuth token. Both travel in
headers (`x-goog-api-key` / `Authorization`), never in the URL, because request URLs are logged.
Google limits reads per user and per project, so both limits are enforced before sending.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.providers import http
from services.providers.base import Metered, Operation, ProviderClient
from services.providers.errors import (
    BadRequest,
    MalformedResponse,
    ProviderAuthError,
    ProviderError,
    register_secret,
)
from services.providers.metering import CallContext


class ValueRange(BaseModel):
    model_config = ConfigDict(extra="allow")

    range: str
    majorDimension: Literal["ROWS", "COLUMNS"] = "ROWS"  # noqa: N815 - the API's field name
    # Google drops trailing empty cells and omits `values` for an empty range.
    values: list[list[Any]] = Field(default_factory=list)
    sandbox: bool = False


def _explain(error: ProviderError, response: Any, with_oauth: bool) -> ProviderError:
    """A 403 PERMISSION_DENIED to a key means a private sheet, not a wrong key (that is a 400/401)."""
    if response.status_code != 403 or "PERMISSION_DENIED" not in response.text[:2000]:
        return error
    if with_oauth:
        message = "your Google account has no access to this sheet: ask its owner to share it"
    else:
        message = (
            "the sheet is private: share it as 'anyone with the link can view', or use a"
            " service account the sheet is shared with"
        )
    return ProviderAuthError(
        error.provider, f"{message} (Google: HTTP 403 PERMISSION_DENIED)", http_status=403
    )


class SheetsClient(ProviderClient):
    provider = "sheets"

    def _headers(self, oauth_token: str | None) -> dict[str, str]:
        if oauth_token:
            register_secret(oauth_token)
            return {"Authorization": f"Bearer {oauth_token}", "accept": "application/json"}
        return {"x-goog-api-key": self.config.api_key, "accept": "application/json"}

    def get_values(
        self,
        ctx: CallContext,
        spreadsheet_id: str,
        a1_range: str,
        *,
        major_dimension: Literal["ROWS", "COLUMNS"] = "ROWS",
        value_render_option: Literal["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"] = (
            "FORMATTED_VALUE"
        ),
        oauth_token: str | None = None,
    ) -> ValueRange:
        """The cells of `a1_range` (e.g. `Filters!A1:C`) as a ValueRange."""
        if not spreadsheet_id or "/" in spreadsheet_id:
            raise BadRequest(self.provider, "spreadsheet id must be the id, not a URL")
        sheet, cells = quote(spreadsheet_id, safe=""), quote(a1_range, safe="")
        url = f"{self.base_url}/spreadsheets/{sheet}/values/{cells}"
        params: dict[str, str] = {
            "majorDimension": major_dimension,
            "valueRenderOption": value_render_option,
        }
        headers = self._headers(oauth_token)

        def call() -> Metered[ValueRange]:
            response = http.send(self.config, "GET", url, headers=headers, params=params)
            if (error := http.classify(self.config, response)) is not None:
                raise _explain(error, response, oauth_token is not None)
            value_range = _value_range(self.provider, http.json_body(self.config, response))
            value_range.sandbox = response.headers.get("x-sandbox") == "true"
            return Metered(value_range, units=1.0, http_status=200)

        subject = f"{spreadsheet_id}!{a1_range}"[:200]
        return self.execute(ctx, Operation("values_get", subject=subject, estimate=1.0), call)

    def read_list(
        self, ctx: CallContext, spreadsheet_id: str, a1_range: str, *, skip_header: bool = True
    ) -> list[str]:
        """The non-empty cells of the range's first column, trimmed and de-duplicated in order."""
        rows = self.get_values(ctx, spreadsheet_id, a1_range).values
        seen: dict[str, None] = {}
        for row in rows[1:] if skip_header else rows:
            if row and str(row[0]).strip():
                seen.setdefault(str(row[0]).strip(), None)
        return list(seen)


def _value_range(provider: str, body: Any) -> ValueRange:
    try:
        return ValueRange.model_validate(body)
    except ValidationError as exc:
        raise MalformedResponse(
            provider,
            f"ValueRange has a wrong shape ({exc.error_count()} error(s))",
            http_status=200,
        ) from None
