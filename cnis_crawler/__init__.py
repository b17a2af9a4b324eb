"""cnis-crawler: the news of the China National Institute of Standardization as clean JSON lines."""

__version__ = "0.1.0"
