"""The one base error type. The CLI turns these into exit code 1 and a message."""


class GeneratorError(Exception):
    """An expected failure caused by the user's input or environment."""


class InventoryError(GeneratorError):
    """A problem in the inventory file, located by file, line and key path."""

    def __init__(self, file: str, line: int | None, path: str, message: str):
        self.file = file
        self.line = line
        self.path = path
        self.message = message
        where = f"{file}:{line}" if line else file
        at = f" {printable(path)}:" if path else ""
        super().__init__(f"{where}:{at} {message}")


def printable(text: str) -> str:
    """Text safe to print on any terminal: control characters and lone surrogates shown as escapes."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in str(text))


class InventoryErrors(GeneratorError):
    """Every problem found in one inventory, reported together."""

    def __init__(self, errors: list[InventoryError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class CatalogError(GeneratorError):
    """A query asked for a metric the engine version does not expose."""
