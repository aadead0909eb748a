"""ldn-kb: a sourced knowledge base about naltrexone and low-dose naltrexone."""

__version__ = "0.1.0"
