"""SourcingX provider sandbox: a local web server that imitates PhantomBuster, Crustdata, SalesQL,
OpenAI and Google Sheets with the documented request/response shapes, deterministic synthetic
people, rate limits and fault injection. Everything it returns is synthetic and labelled as such
(`X-Sandbox: true` on every answer, `"_sandbox": true` in person data, `.example` e-mail domains,
555-01xx phone numbers, "[sandbox]" in free text).
"""

from sandbox.app import create_sandbox_app

__all__ = ["create_sandbox_app"]
