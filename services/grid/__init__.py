"""Service layer of the Profiles grid: allow-listed filters/sort/search compiled to SQL, blocks
served by keyset or deferred join, cached counts (estimated first when slow), streamed CSV export
and profile detail.

The Dash page calls only what is re-exported here.
"""

from services.grid.columns import COLUMNS, ROW_KEYS, Column
from services.grid.counting import ViewCount, view_count
from services.grid.detail import ProfileDetail, profile_detail
from services.grid.errors import GridQueryError
from services.grid.export import export_csv
from services.grid.pages import BlockResult, count_rows, fetch_block
from services.grid.query import GridQuery, parse_grid_query
from services.grid.urlstate import query_to_url_params, url_params_to_query

__all__ = [
    "COLUMNS",
    "ROW_KEYS",
    "BlockResult",
    "Column",
    "GridQuery",
    "GridQueryError",
    "ProfileDetail",
    "ViewCount",
    "count_rows",
    "export_csv",
    "fetch_block",
    "parse_grid_query",
    "profile_detail",
    "query_to_url_params",
    "url_params_to_query",
    "view_count",
]
