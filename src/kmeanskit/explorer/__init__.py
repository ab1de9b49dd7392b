"""``kmeanskit explore``: a local web page that shows K-means half-step by half-step.

Every frame the page draws comes from :func:`kmeanskit.trace`; the page only draws.
"""

from kmeanskit.explorer.data import Store
from kmeanskit.explorer.server import ExplorerServer, export_page, serve

__all__ = ["ExplorerServer", "Store", "export_page", "serve"]
