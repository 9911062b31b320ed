"""Names a package loads on first use (PEP 562's module ``__getattr__``).

``tcl_garage`` and ``tcl_garage.experiment`` keep garage out of their
import: the names that need it are imported from their modules when first
read.
"""
import importlib
from typing import Callable, Mapping


def lazy_getattr(package: str,
                 modules: Mapping[str, str]) -> Callable[[str], object]:
    """A package's ``__getattr__`` that imports each name's module on first
    access.

    Args:
        package (str): The package's name, for the error.
        modules (Mapping[str, str]): Each lazy name's module (its full
            name).

    Returns:
        Callable[[str], object]: ``__getattr__(name)``, which raises
            AttributeError for other names (then ``from package import
            <submodule>`` imports the submodule).

    """
    def __getattr__(name: str) -> object:
        if name in modules:
            return getattr(importlib.import_module(modules[name]), name)
        raise AttributeError(f'module {package} has no attribute {name!r}')

    return __getattr__
