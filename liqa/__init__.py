"""liqa: meeting-event extraction from Arabic, Persian and English news.

    extract = liqa.load()          # the shipped model (liqa.load("DIR") for another)
    extract("...article...")       # -> the dict predict.py writes for it

`import liqa` is cheap: torch and transformers are imported by `load` (or `import liqa.model`,
which also registers the "liqa" model type with transformers' AutoConfig and AutoModel).
"""
from liqa.api import Extractor, default_model, load

__version__ = "0.1.0"
__all__ = ["Extractor", "default_model", "load", "__version__"]
