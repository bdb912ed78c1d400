"""classify: topic classification and annotation pipeline for Dutch parliamentary documents."""

__version__ = "0.1.0"
