"""Provider service layer: typed clients for PhantomBuster, Crustdata, SalesQL, OpenAI and Google
Sheets, sharing one pipeline (budget → shared rate limit → concurrency cap → HTTP → typed errors →
metering → retries). See `base.py` for the pipeline and `errors.py` for what callers can catch.
"""

from services.providers.metering import CallContext

__all__ = ["CallContext"]
