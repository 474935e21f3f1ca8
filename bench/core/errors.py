"""The errors normbench turns into one-line messages and a non-zero exit instead of a traceback."""


class NormbenchError(Exception):
    """A problem the user can fix (bad input, missing run); the CLI prints it and exits 2."""


class WorkerStartFailed(NormbenchError):
    """A worker process died or raised while loading its framework: that backend cannot run here."""


class SuiteError(NormbenchError):
    """A suite file that cannot run, located by file and field.

    ``str()`` gives the one line the CLI prints, e.g.
    ``suites/eps.yaml: grid.epsilon[2]: must be > 0, got -1``.
    """

    def __init__(self, source: str, field: str, message: str):
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}: " if field else f"{source}: "
        super().__init__(one_line(where + message))


def one_line(text: str) -> str:
    """Escape newlines and other control characters (a YAML key may hold any of them)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class FieldError(ValueError):
    """A bad value at a field path; the suite loader adds the file name and re-raises as SuiteError."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ImplementationUnavailable(Exception):
    """A normalizer implementation this environment cannot import (tensorflow-addons outside the
    legacy environment); its case is recorded ``skipped`` with this reason, not ``failed``."""
