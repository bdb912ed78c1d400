"""The project's error types.

Every error a user can cause (a bad file, a bad export, a wrong token) is raised as a
``ClassifyError`` whose message names the input and the reason; the CLI prints it as one line.
"""


class ClassifyError(Exception):
    """Base class of all errors a user can cause; the message is shown as-is on one line."""


class ReadError(ClassifyError):
    """A source document could not be read (missing, unsupported, corrupt, no text)."""


class ExportError(ClassifyError):
    """An annotation export or dataset file is malformed."""


class ModelError(ClassifyError):
    """A model artifact is missing, tampered with or incompatible."""


class LabelStudioError(ClassifyError):
    """Label Studio could not be reached or refused the request."""
