"""Why a document cannot be read: errors every reader raises, with messages a user can act on."""


class DocumentError(ValueError):
    """A document that cannot be read; the message says why, in words a user can act on."""


class DocumentTooLarge(DocumentError):
    """A document over a size limit: its bytes, what it unpacks to, or what parsing it takes."""


class UnsupportedFormat(DocumentError):
    """Bytes of a type policyqa does not read; the message lists what it reads."""
